package corpus

import (
	"image"
	"math"
	"math/rand/v2"
)

// SyntheticImages is true: the images [GenerateImage] draws are procedural
// scenes made from the seed, not photographs of anything. Items of the
// harmful classes are such scenes labelled harmful; no image in this
// package depicts abuse. Experiments print it beside results computed on
// generated images.
const SyntheticImages = true

// The default size range of generated images, in pixels per side.
const (
	DefaultMinSide = 160
	DefaultMaxSide = 480
)

// GenerateImage draws one photo-like image from r: its size (each side in
// [minSide, maxSide], aspect ratio between 1:2 and 2:1), a layered colour
// gradient for the background (sky and ground), fractal value-noise texture
// at several scales, soft-edged shapes (discs, ellipses, bars) with their
// own shading and texture, a directional light, and on some images
// high-frequency detail (stripes, a checked patch, fine grain) — the
// structure that the perceptual hashes see in photographs, without copying
// any.
//
// The result depends on r alone: the same stream state gives the same
// pixels on a given architecture. minSide and maxSide are clamped to
// [16, 4096]; the image's Min is (0, 0).
func GenerateImage(r *rand.Rand, minSide, maxSide int) *image.RGBA {
	minSide = max(16, min(minSide, 4096))
	maxSide = max(minSide, min(maxSide, 4096))
	long := minSide + r.IntN(maxSide-minSide+1)
	aspect := 1 + r.Float64() // 1..2
	short := max(minSide/2, min(long, int(math.Round(float64(long)/aspect))))
	short = max(short, 8)
	w, h := long, short
	if r.IntN(3) == 0 { // portrait
		w, h = short, long
	}
	s := newScene(r, w, h)
	s.background(r)
	s.texture(r)
	n := 3 + r.IntN(10)
	for range n {
		s.shape(r)
	}
	if r.IntN(3) == 0 {
		s.detail(r)
	}
	s.light(r)
	return s.quantise(r)
}

// scene is a float RGB canvas, channel values nominally in [0, 255].
type scene struct {
	w, h int
	px   []float32 // 3 per pixel
}

func newScene(_ *rand.Rand, w, h int) *scene {
	return &scene{w: w, h: h, px: make([]float32, 3*w*h)}
}

type rgb [3]float64

func randomColour(r *rand.Rand) rgb {
	// Photographs are seldom saturated: draw a base luminance and a
	// moderate tint.
	l := 20 + 215*r.Float64()
	sat := 0.15 + 0.6*r.Float64()*r.Float64()
	var c rgb
	for k := range c {
		c[k] = l * (1 + sat*(2*r.Float64()-1))
	}
	return c
}

// background paints two or three colour stops along a random direction,
// with a smooth horizon between them.
func (s *scene) background(r *rand.Rand) {
	stops := 2 + r.IntN(2)
	cols := make([]rgb, stops)
	for i := range cols {
		cols[i] = randomColour(r)
	}
	angle := r.Float64() * 2 * math.Pi
	if r.IntN(2) == 0 { // mostly near-vertical gradients, like sky over ground
		angle = math.Pi/2 + 0.4*(r.Float64()-0.5)
	}
	ca, sa := math.Cos(angle), math.Sin(angle)
	horizon := 0.3 + 0.4*r.Float64()
	soft := 0.05 + 0.3*r.Float64()
	diag := math.Hypot(float64(s.w), float64(s.h))
	for y := range s.h {
		for x := range s.w {
			t := 0.5 + ((float64(x)-float64(s.w)/2)*ca+(float64(y)-float64(s.h)/2)*sa)/diag
			var c rgb
			if stops == 2 {
				u := smoothstep((t - horizon + soft) / (2 * soft))
				for k := range c {
					c[k] = cols[0][k]*(1-u) + cols[1][k]*u
				}
			} else {
				u := math.Max(0, math.Min(1, t)) * 2
				i := min(int(u), 1)
				f := smoothstep(u - float64(i))
				for k := range c {
					c[k] = cols[i][k]*(1-f) + cols[i+1][k]*f
				}
			}
			p := s.px[3*(y*s.w+x):]
			p[0], p[1], p[2] = float32(c[0]), float32(c[1]), float32(c[2])
		}
	}
}

func smoothstep(t float64) float64 {
	if t <= 0 {
		return 0
	}
	if t >= 1 {
		return 1
	}
	return t * t * (3 - 2*t)
}

// valueNoise is fractal (fBm) value noise: random values on square
// lattices of halving cell size, interpolated with smoothstep and summed
// with halving amplitude. Sample with at(x, y) after prepare.
type valueNoise struct {
	octaves []noiseOctave
}

type noiseOctave struct {
	amp    float64
	gw     int       // lattice columns
	grid   []float64 // (gw)*(gh) values in [-1, 1]
	ix, iy []int32   // per pixel column/row: lattice cell
	fx, fy []float64 // per pixel column/row: smoothstepped offset in cell
}

func newValueNoise(r *rand.Rand, w, h int, cell float64, octaves int) *valueNoise {
	n := &valueNoise{}
	amp := 1.0
	for range octaves {
		cell = math.Max(cell, 2)
		gw := int(float64(w)/cell) + 2
		gh := int(float64(h)/cell) + 2
		o := noiseOctave{amp: amp, gw: gw, grid: make([]float64, gw*gh)}
		for i := range o.grid {
			o.grid[i] = 2*r.Float64() - 1
		}
		o.ix, o.fx = noiseAxis(w, cell)
		o.iy, o.fy = noiseAxis(h, cell)
		n.octaves = append(n.octaves, o)
		amp *= 0.5
		cell *= 0.5
	}
	return n
}

func noiseAxis(n int, cell float64) ([]int32, []float64) {
	idx := make([]int32, n)
	frac := make([]float64, n)
	for i := range n {
		u := float64(i) / cell
		c := math.Floor(u)
		idx[i] = int32(c)
		frac[i] = smoothstep(u - c)
	}
	return idx, frac
}

func (n *valueNoise) at(x, y int) float64 {
	var v float64
	for i := range n.octaves {
		o := &n.octaves[i]
		ix, iy := int(o.ix[x]), int(o.iy[y])
		fx, fy := o.fx[x], o.fy[y]
		g := o.grid[iy*o.gw+ix:]
		g2 := o.grid[(iy+1)*o.gw+ix:]
		a := g[0] + (g[1]-g[0])*fx
		b := g2[0] + (g2[1]-g2[0])*fx
		v += o.amp * (a + (b-a)*fy)
	}
	return v
}

// texture modulates brightness and, more weakly, hue with fractal noise.
func (s *scene) texture(r *rand.Rand) {
	cell := float64(max(s.w, s.h)) / (2 + 6*r.Float64())
	lum := newValueNoise(r, s.w, s.h, cell, 3+r.IntN(3))
	hue := newValueNoise(r, s.w, s.h, cell*2, 2)
	strength := 20 + 50*r.Float64()
	tint := rgb{r.Float64() - 0.5, r.Float64() - 0.5, r.Float64() - 0.5}
	for y := range s.h {
		for x := range s.w {
			l := strength * lum.at(x, y)
			hv := 25 * hue.at(x, y)
			p := s.px[3*(y*s.w+x):]
			for k := range 3 {
				p[k] += float32(l + hv*tint[k])
			}
		}
	}
}

// shape blends one soft-edged disc, ellipse or bar into the scene, shaded
// along its own direction and, half the time, textured.
func (s *scene) shape(r *rand.Rand) {
	W, H := float64(s.w), float64(s.h)
	cx, cy := W*r.Float64(), H*r.Float64()
	size := math.Min(W, H) * (0.05 + 0.35*r.Float64())
	rx, ry := size, size*(0.3+0.7*r.Float64())
	if r.IntN(4) == 0 { // a bar: a long thin ellipse-like rectangle
		rx, ry = size*(1.5+2*r.Float64()), size*(0.08+0.15*r.Float64())
	}
	box := r.IntN(4) == 0 // rounded rectangle rather than ellipse
	rot := r.Float64() * math.Pi
	cr, sr := math.Cos(rot), math.Sin(rot)
	edge := 0.5 + size*(0.01+0.2*r.Float64()*r.Float64()) // softness in pixels
	col := randomColour(r)
	shade := 0.4 * (r.Float64() - 0.2) // brightness change across the shape
	opacity := 0.6 + 0.4*r.Float64()
	var tex *valueNoise
	reach := math.Max(rx, ry) + 3*edge
	x0, x1 := max(0, int(cx-reach)), min(s.w, int(cx+reach)+1)
	y0, y1 := max(0, int(cy-reach)), min(s.h, int(cy+reach)+1)
	if x0 >= x1 || y0 >= y1 {
		return
	}
	texAmp := 0.0
	if r.IntN(2) == 0 {
		tex = newValueNoise(r, x1-x0, y1-y0, math.Max(3, size/(2+4*r.Float64())), 3)
		texAmp = 10 + 30*r.Float64()
	}
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			u := (dx*cr + dy*sr) / rx
			v := (-dx*sr + dy*cr) / ry
			var d float64 // signed distance in pixels, roughly
			if box {
				d = (math.Max(math.Abs(u), math.Abs(v)) - 1) * math.Min(rx, ry)
			} else {
				d = (math.Hypot(u, v) - 1) * math.Min(rx, ry)
			}
			a := opacity * smoothstep(0.5-d/(2*edge))
			if a <= 0 {
				continue
			}
			k := 1 + shade*v
			t := 0.0
			if tex != nil {
				t = texAmp * tex.at(x-x0, y-y0)
			}
			p := s.px[3*(y*s.w+x):]
			for c := range 3 {
				p[c] = float32(float64(p[c])*(1-a) + (col[c]*k+t)*a)
			}
		}
	}
}

// detail adds high-frequency content to part of the image: stripes (a
// fence, fabric), a checked patch (tiles, a board), or fine grain.
func (s *scene) detail(r *rand.Rand) {
	W, H := s.w, s.h
	x0, y0 := r.IntN(W/2+1), r.IntN(H/2+1)
	x1, y1 := min(W, x0+W/4+r.IntN(W/2+1)), min(H, y0+H/4+r.IntN(H/2+1))
	amp := float32(15 + 40*r.Float64())
	period := 2 + r.Float64()*6
	angle := r.Float64() * math.Pi
	ca, sa := math.Cos(angle), math.Sin(angle)
	kind := r.IntN(3)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			var v float32
			switch kind {
			case 0:
				v = amp * float32(math.Sin(2*math.Pi*(float64(x)*ca+float64(y)*sa)/period))
			case 1:
				p := int(period)
				if (x/p+y/p)%2 == 0 {
					v = amp
				} else {
					v = -amp
				}
			default:
				v = amp * float32(2*r.Float64()-1)
			}
			p := s.px[3*(y*s.w+x):]
			p[0] += v
			p[1] += v
			p[2] += v
		}
	}
}

// light multiplies the scene by a smooth directional falloff and adds
// sensor-like grain when quantising.
func (s *scene) light(r *rand.Rand) {
	angle := r.Float64() * 2 * math.Pi
	ca, sa := math.Cos(angle), math.Sin(angle)
	amount := 0.35 * r.Float64()
	diag := math.Hypot(float64(s.w), float64(s.h))
	for y := range s.h {
		for x := range s.w {
			t := ((float64(x)-float64(s.w)/2)*ca + (float64(y)-float64(s.h)/2)*sa) / diag
			k := float32(1 + amount*t*2)
			p := s.px[3*(y*s.w+x):]
			p[0] *= k
			p[1] *= k
			p[2] *= k
		}
	}
}

// quantise rounds the canvas to 8 bits with a little grain.
func (s *scene) quantise(r *rand.Rand) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, s.w, s.h))
	grain := 1 + 3*r.Float64()
	seed := r.Uint64()
	g := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 0; i < s.w*s.h; i++ {
		n := float32(grain * g.NormFloat64())
		p := s.px[3*i:]
		q := img.Pix[4*i:]
		q[0] = clampByte(p[0] + n)
		q[1] = clampByte(p[1] + n)
		q[2] = clampByte(p[2] + n)
		q[3] = 255
	}
	return img
}

// clampByte rounds v to the nearest integer in [0, 255].
func clampByte(v float32) uint8 {
	switch {
	case v <= 0 || v != v:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
