package perceptual

import (
	"image"
	"math"
	"slices"
)

// The baselines below are the classic DCT and gradient hashes at 256 bits,
// so their distances are on the same 0..256 scale as PDQ's. They follow
// the definitions of Thorn's perception library (thorn-oss/perception,
// hashers PHash and DHash with hash_size=16, as used in its published
// benchmark) step by step, in float64 and without the uint8 rounding of
// OpenCV's intermediate images, so hashes agree with perception's in
// definition, not bit for bit.

const (
	phashSide  = 64 // pHash resizes to 64×64 (hash_size 16 × highfreq_factor 4)
	phashBlock = 16 // and keeps the 16×16 lowest frequencies
	dhashRows  = 16 // dHash resizes to 17 columns × 16 rows
	dhashCols  = 17
)

// PHash returns the 256-bit DCT perceptual hash of img:
//
//  1. luma Y = 0.299R + 0.587G + 0.114B (alpha ignored, as for [PDQ]);
//  2. resize to 64×64 by area averaging (each output pixel is the mean of
//     the source area it covers, fractional pixels weighted by overlap: what
//     OpenCV's INTER_AREA computes when shrinking);
//  3. 2-D DCT-II, C(u,v) = Σ_y Σ_x Y(y,x)·cos(π(2y+1)u/128)·cos(π(2x+1)v/128),
//     for u, v = 0..15, the DC term included (the scale factor does not
//     matter: only comparisons with the median follow);
//  4. bit 16u+v (the numbering of [Hash.Bit]) is set when C(u,v) is greater
//     than the median of the 256 coefficients, the mean of the two middle
//     values.
//
// An image with no pixels gives the zero hash. PHash has no quality
// measure.
func PHash(img image.Image) Hash {
	g, ok := areaGrey(img, phashSide, phashSide)
	if !ok {
		return Hash{}
	}
	// Separable DCT restricted to the first 16 frequencies on each axis.
	var rowsT [phashSide * phashBlock]float64 // rowsT[y*16+v] = Σ_x g[y][x]·c[v][x]
	for y := 0; y < phashSide; y++ {
		row := g[y*phashSide : y*phashSide+phashSide]
		for v := 0; v < phashBlock; v++ {
			c := phashCos[v*phashSide : v*phashSide+phashSide]
			var s float64
			for x, p := range row {
				s += p * c[x]
			}
			rowsT[y*phashBlock+v] = s
		}
	}
	var coef [phashBlock * phashBlock]float64
	for u := 0; u < phashBlock; u++ {
		c := phashCos[u*phashSide : u*phashSide+phashSide]
		for v := 0; v < phashBlock; v++ {
			var s float64
			for y := 0; y < phashSide; y++ {
				s += c[y] * rowsT[y*phashBlock+v]
			}
			coef[u*phashBlock+v] = s
		}
	}
	sorted := coef
	slices.Sort(sorted[:])
	med := (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	var h Hash
	for k, c := range coef {
		if c > med {
			h.setBit(k)
		}
	}
	return h
}

// phashCos[u*64+x] = cos(π(2x+1)u/128).
var phashCos = func() (c [phashBlock * phashSide]float64) {
	for u := 0; u < phashBlock; u++ {
		for x := 0; x < phashSide; x++ {
			c[u*phashSide+x] = math.Cos(math.Pi * float64(2*x+1) * float64(u) / (2 * phashSide))
		}
	}
	return c
}()

// DHash returns the 256-bit difference hash of img: luma as in [PHash],
// area-averaged to 17 columns × 16 rows, and bit 16r+c set when pixel
// (r, c+1) is brighter than pixel (r, c), for r, c = 0..15: the horizontal
// gradient's sign. An image with no pixels gives the zero hash. DHash has
// no quality measure.
func DHash(img image.Image) Hash {
	g, ok := areaGrey(img, dhashCols, dhashRows)
	if !ok {
		return Hash{}
	}
	var h Hash
	for r := 0; r < dhashRows; r++ {
		for c := 0; c < dhashCols-1; c++ {
			if g[r*dhashCols+c+1] > g[r*dhashCols+c] {
				h.setBit(r*(dhashCols-1) + c)
			}
		}
	}
	return h
}

// tap is one source pixel's weight in an area-averaged output pixel.
type tap struct {
	src int
	w   float64
}

// areaTaps returns, for each of m outputs over n inputs, the inputs it
// covers and their weights: output i spans [i·n/m, (i+1)·n/m) in input
// coordinates, each input pixel weighs its overlap with that span, and the
// weights are divided by the span's length, so they sum to 1.
func areaTaps(n, m int) [][]tap {
	taps := make([][]tap, m)
	scale := float64(n) / float64(m)
	for i := range taps {
		lo, hi := float64(i)*scale, float64(i+1)*scale
		for p := int(lo); p < n && float64(p) < hi; p++ {
			ov := math.Min(hi, float64(p+1)) - math.Max(lo, float64(p))
			if ov > 0 {
				taps[i] = append(taps[i], tap{p, ov / scale})
			}
		}
	}
	return taps
}

// areaGrey returns img's luma area-averaged to w×h (row-major), or false
// if img has no pixels.
func areaGrey(img image.Image, w, h int) ([]float64, bool) {
	b := img.Bounds()
	cols, rows := b.Dx(), b.Dy()
	if cols <= 0 || rows <= 0 {
		return nil, false
	}
	st := getState()
	defer putState(st)
	st.xs = identity(grow(st.xs, cols))
	st.ys = identity(grow(st.ys, rows))
	st.buf1 = grow(st.buf1, rows*cols)
	fillLuma(st.buf1, img, st.xs, st.ys)
	xt, yt := areaTaps(cols, w), areaTaps(rows, h)
	// Shrink each row to w values, then combine rows.
	narrow := make([]float64, rows*w)
	for y := 0; y < rows; y++ {
		src := st.buf1[y*cols : y*cols+cols]
		for x, ts := range xt {
			var s float64
			for _, t := range ts {
				s += float64(src[t.src]) * t.w
			}
			narrow[y*w+x] = s
		}
	}
	out := make([]float64, w*h)
	for y, ts := range yt {
		for _, t := range ts {
			row := narrow[t.src*w : t.src*w+w]
			for x, v := range row {
				out[y*w+x] += v * t.w
			}
		}
	}
	return out, true
}
