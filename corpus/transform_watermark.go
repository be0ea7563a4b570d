package corpus

import (
	"image"
	"math"
	"math/rand/v2"
)

// The watermark of Thorn's benchmark (docs/examples/benchmarking.rst at
// a30815de) writes "TEST" with OpenCV's FONT_HERSHEY_SIMPLEX, thickness 5,
// the font scale chosen so the text is 20% of the image width, its
// baseline origin at (text height, H − text height), in black at opacity
// 200/255. The glyphs below approximate the Hershey simplex T, E and S
// (coordinates in Hershey units: cap top at y = −12, baseline at y = 9;
// advances 16, 19 and 20); they are drawn as thick polylines with hard
// edges, as cv2.putText draws without anti-aliasing.

type glyph struct {
	advance float64
	strokes [][][2]float64
}

var hersheyT = glyph{16, [][][2]float64{{{1, -12}, {15, -12}}, {{8, -12}, {8, 9}}}}

var hersheyE = glyph{19, [][][2]float64{
	{{4, -12}, {4, 9}}, {{4, -12}, {17, -12}}, {{4, -2}, {12, -2}}, {{4, 9}, {17, 9}},
}}

var hersheyS = glyph{20, [][][2]float64{{
	{17, -9}, {15, -11}, {12, -12}, {8, -12}, {5, -11}, {3, -9}, {3, -7}, {4, -5}, {5, -4}, {7, -3},
	{13, -1}, {15, 0}, {16, 1}, {17, 3}, {17, 6}, {15, 8}, {12, 9}, {8, 9}, {5, 8}, {3, 6},
}}}

var watermarkText = []glyph{hersheyT, hersheyE, hersheyS, hersheyT}

const (
	hersheyCapHeight = 21 // units from cap top to baseline
	watermarkAlpha   = 200
	watermarkStroke  = 5 // pixels at the default width fraction 0.2
)

func applyWatermark(src *image.RGBA, frac float64, _ *rand.Rand) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	var units float64
	for _, g := range watermarkText {
		units += g.advance
	}
	scale := frac * float64(w) / units
	textH := math.Round(hersheyCapHeight * scale)
	thick := math.Max(1, math.Round(watermarkStroke*frac/0.2))
	ox, oy := textH, float64(h)-textH // baseline origin, as in the benchmark
	var segs [][4]float64
	pen := ox
	for _, g := range watermarkText {
		for _, st := range g.strokes {
			for i := 1; i < len(st); i++ {
				segs = append(segs, [4]float64{
					pen + st[i-1][0]*scale, oy + (st[i-1][1]-9)*scale,
					pen + st[i][0]*scale, oy + (st[i][1]-9)*scale,
				})
			}
		}
		pen += g.advance * scale
	}
	out := copyRGBA(src)
	r := thick / 2
	x0, x1 := max(0, int(ox-r-1)), min(w, int(pen+r+2))
	y0, y1 := max(0, int(oy-textH-r-1)), min(h, int(oy+r+2))
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			px, py := float64(x), float64(y)
			hit := false
			for _, s := range segs {
				if segDist2(px, py, s) <= r*r {
					hit = true
					break
				}
			}
			if !hit {
				continue
			}
			p := out.Pix[y*out.Stride+4*x:]
			for c := range 3 {
				p[c] = uint8(int(p[c]) * (255 - watermarkAlpha) / 255)
			}
		}
	}
	return out
}

// segDist2 is the squared distance from (px, py) to the segment s.
func segDist2(px, py float64, s [4]float64) float64 {
	dx, dy := s[2]-s[0], s[3]-s[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((px-s[0])*dx+(py-s[1])*dy)/l))
	}
	ex, ey := s[0]+t*dx-px, s[1]+t*dy-py
	return ex*ex + ey*ey
}
