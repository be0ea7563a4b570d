package corpus

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"

	"golang.org/x/image/draw"
)

// ToRGBA returns img as an *image.RGBA with Min (0, 0): img itself when it
// already is one, otherwise a converted copy. Callers that modify the
// result must copy it first (see [Transform.Apply], which never modifies
// its input).
func ToRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok && m.Rect.Min == (image.Point{}) && m.Stride == 4*m.Rect.Dx() {
		return m
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	return out
}

func copyRGBA(src *image.RGBA) *image.RGBA {
	out := image.NewRGBA(src.Rect)
	copy(out.Pix, src.Pix)
	return out
}

// ResizeLongSide scales img so its longer side is n pixels, keeping the
// aspect ratio (the shorter side is rounded, at least 1), with Catmull-Rom
// resampling.
func ResizeLongSide(img image.Image, n int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w >= h {
		h = max(1, int(math.Round(float64(h)*float64(n)/float64(w))))
		w = n
	} else {
		w = max(1, int(math.Round(float64(w)*float64(n)/float64(h))))
		h = n
	}
	return resizeTo(img, w, h)
}

func resizeTo(img image.Image, w, h int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, max(1, w), max(1, h)))
	draw.CatmullRom.Scale(out, out.Bounds(), img, img.Bounds(), draw.Src, nil)
	return out
}

// JPEGRoundTrip encodes img as a JPEG at quality q (1..100, Go's encoder:
// baseline, 4:2:0 chroma subsampling, the IJG quantisation tables scaled
// as libjpeg scales them) and decodes it again.
func JPEGRoundTrip(img image.Image, q int) *image.RGBA {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: max(1, min(q, 100))}); err != nil {
		panic("corpus: jpeg encode: " + err.Error()) // only on writer errors
	}
	dec, err := jpeg.Decode(&b)
	if err != nil {
		panic("corpus: jpeg decode of own output: " + err.Error())
	}
	return ToRGBA(dec)
}

// imgaugJPEGQuality is the JPEG quality imgaug's JpegCompression uses for a
// compression strength s (imgaug 0.4.0, augmenters/arithmetic.py,
// compress_jpeg): round(1 + 99·(1 − s/101)) — the same formula in
// imgaug 0.2.9 and 0.3.0.
func imgaugJPEGQuality(s float64) int {
	return int(math.Round(1 + 99*(1-s/101)))
}

func applyJPEGStrength(src *image.RGBA, s float64, _ *rand.Rand) *image.RGBA {
	return JPEGRoundTrip(src, imgaugJPEGQuality(s))
}

func applyJPEGQuality(src *image.RGBA, q float64, _ *rand.Rand) *image.RGBA {
	return JPEGRoundTrip(src, int(math.Round(q)))
}

// imgaugBlurKernelSize is the Gaussian kernel size imgaug 0.4.0 gives
// cv2.GaussianBlur for σ (augmenters/blur.py,
// _compute_gaussian_blur_ksize): 3.3σ below σ = 3, 2.9σ below 5, 2.6σ
// above, truncated, at least 5, made odd. σ = 2 gives 7.
func imgaugBlurKernelSize(sigma float64) int {
	var k float64
	switch {
	case sigma < 3:
		k = 3.3 * sigma
	case sigma < 5:
		k = 2.9 * sigma
	default:
		k = 2.6 * sigma
	}
	n := max(int(k), 5)
	if n%2 == 0 {
		n++
	}
	return n
}

// reflect101 maps an index outside [0, n) as OpenCV's BORDER_REFLECT_101
// does: -1 → 1, n → n-2.
func reflect101(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		}
		if i >= n {
			i = 2*n - 2 - i
		}
	}
	return i
}

// applyBlur is imgaug's GaussianBlur: OpenCV's separable Gaussian with the
// kernel of cv2.getGaussianKernel(ksize, σ), reflect-101 borders, per
// channel, rounded to 8 bits.
func applyBlur(src *image.RGBA, sigma float64, _ *rand.Rand) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	ks := imgaugBlurKernelSize(sigma)
	k := make([]float64, ks)
	var sum float64
	for i := range k {
		d := float64(i - (ks-1)/2)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	half := ks / 2
	tmp := make([]float64, 3*w*h)
	for y := range h {
		row := src.Pix[y*src.Stride:]
		for x := range w {
			var a [3]float64
			for j, kj := range k {
				p := row[4*reflect101(x+j-half, w):]
				a[0] += kj * float64(p[0])
				a[1] += kj * float64(p[1])
				a[2] += kj * float64(p[2])
			}
			copy(tmp[3*(y*w+x):], a[:])
		}
	}
	out := image.NewRGBA(src.Rect)
	for y := range h {
		for x := range w {
			var a [3]float64
			for j, kj := range k {
				p := tmp[3*(reflect101(y+j-half, h)*w+x):]
				a[0] += kj * p[0]
				a[1] += kj * p[1]
				a[2] += kj * p[2]
			}
			q := out.Pix[y*out.Stride+4*x:]
			q[0], q[1], q[2], q[3] = clampByte(float32(a[0])), clampByte(float32(a[1])), clampByte(float32(a[2])), 255
		}
	}
	return out
}

// applyCrop is imgaug's Crop(percent=s on each side, keep_size=False):
// round(s·H) rows off the top and the bottom, round(s·W) columns off the
// left and the right.
func applyCrop(src *image.RGBA, s float64, _ *rand.Rand) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dx := min(int(math.Round(s*float64(w))), (w-1)/2)
	dy := min(int(math.Round(s*float64(h))), (h-1)/2)
	out := image.NewRGBA(image.Rect(0, 0, w-2*dx, h-2*dy))
	for y := range out.Rect.Dy() {
		copy(out.Pix[y*out.Stride:(y+1)*out.Stride], src.Pix[(y+dy)*src.Stride+4*dx:])
	}
	return out
}

// applyPad is imgaug's Pad(percent=((s,s),(0,0),(s,s),(0,0)),
// keep_size=False) with the default constant black: round(s·H) black rows
// at the top and at the bottom, none on the sides.
func applyPad(src *image.RGBA, s float64, _ *rand.Rand) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dy := int(math.Round(s * float64(h)))
	out := image.NewRGBA(image.Rect(0, 0, w, h+2*dy))
	for i := 3; i < len(out.Pix); i += 4 {
		out.Pix[i] = 255
	}
	for y := range h {
		copy(out.Pix[(y+dy)*out.Stride:(y+dy+1)*out.Stride], src.Pix[y*src.Stride:])
	}
	return out
}

// applyGamma is imgaug's GammaContrast: a lookup table 255·(v/255)^γ,
// truncated to 8 bits.
func applyGamma(src *image.RGBA, g float64, _ *rand.Rand) *image.RGBA {
	var lut [256]uint8
	for v := range lut {
		lut[v] = uint8(math.Min(255, 255*math.Pow(float64(v)/255, g)))
	}
	out := copyRGBA(src)
	for i := 0; i < len(out.Pix); i += 4 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = lut[out.Pix[i]], lut[out.Pix[i+1]], lut[out.Pix[i+2]]
	}
	return out
}

// applyNoise is imgaug's AdditiveGaussianNoise(scale=s·255) with
// per_channel=False: one N(0, s·255) sample per pixel, rounded, clipped to
// ±255, added to R, G and B, the sums clipped to [0, 255].
func applyNoise(src *image.RGBA, s float64, r *rand.Rand) *image.RGBA {
	out := copyRGBA(src)
	sigma := s * 255
	for i := 0; i < len(out.Pix); i += 4 {
		n := math.Max(-255, math.Min(255, math.Round(sigma*r.NormFloat64())))
		for c := range 3 {
			out.Pix[i+c] = uint8(math.Max(0, math.Min(255, float64(out.Pix[i+c])+n)))
		}
	}
	return out
}

// applyResize scales both sides by s (rounded, at least 1 pixel) with
// Catmull-Rom resampling. Thorn's resize0.5 is not defined in any public
// revision of perception; this is the definition the harness uses for it:
// a ×0.5 bicubic-family downscale, about 128 px on the long side of a
// 256-px reference.
func applyResize(src *image.RGBA, s float64, _ *rand.Rand) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	return resizeTo(src, int(math.Round(s*float64(w))), int(math.Round(s*float64(h))))
}

// applyRotate is imgaug's Affine(rotate=deg) with its defaults: rotation
// about the image centre ((w−1)/2, (h−1)/2), bilinear sampling, the same
// canvas (corners cut off) and black fill where the source does not reach.
// Positive angles turn the picture clockwise as displayed.
func applyRotate(src *image.RGBA, deg float64, _ *rand.Rand) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	out := image.NewRGBA(src.Rect)
	th := deg * math.Pi / 180
	c, s := math.Cos(th), math.Sin(th)
	cx, cy := float64(w-1)/2, float64(h-1)/2
	for y := range h {
		for x := range w {
			// Inverse map: rotate the output point back by −θ.
			dx, dy := float64(x)-cx, float64(y)-cy
			sx := c*dx + s*dy + cx
			sy := -s*dx + c*dy + cy
			q := out.Pix[y*out.Stride+4*x:]
			q[3] = 255
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			var acc [3]float64
			for j := range 2 {
				for i := range 2 {
					xi, yj := x0+i, y0+j
					if xi < 0 || yj < 0 || xi >= w || yj >= h {
						continue // black (constant 0) outside
					}
					wt := (1 - math.Abs(float64(i)-fx)) * (1 - math.Abs(float64(j)-fy))
					p := src.Pix[yj*src.Stride+4*xi:]
					acc[0] += wt * float64(p[0])
					acc[1] += wt * float64(p[1])
					acc[2] += wt * float64(p[2])
				}
			}
			q[0], q[1], q[2] = clampByte(float32(acc[0])), clampByte(float32(acc[1])), clampByte(float32(acc[2]))
		}
	}
	return out
}

// applyFlip mirrors the image left to right.
func applyFlip(src *image.RGBA) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	out := image.NewRGBA(src.Rect)
	for y := range h {
		for x := range w {
			copy(out.Pix[y*out.Stride+4*x:y*out.Stride+4*x+4], src.Pix[y*src.Stride+4*(w-1-x):])
		}
	}
	return out
}

// applyGrayscale replaces each pixel by its BT.601 luma
// 0.299R + 0.587G + 0.114B, rounded, in all three channels.
func applyGrayscale(src *image.RGBA) *image.RGBA {
	out := copyRGBA(src)
	for i := 0; i < len(out.Pix); i += 4 {
		y := clampByte(float32(0.299*float64(out.Pix[i]) + 0.587*float64(out.Pix[i+1]) + 0.114*float64(out.Pix[i+2])))
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = y, y, y
	}
	return out
}

// applyVignette is the vignette of Thorn's benchmark: the image times the
// outer product of Gaussian windows cv2.getGaussianKernel(H, f·H) and
// (W, f·W), normalised to 1 at the centre (f = 0.5 in the benchmark:
// about 0.61 at mid-edge and 0.37 in the corners).
func applyVignette(src *image.RGBA, f float64, _ *rand.Rand) *image.RGBA {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	win := func(n int) []float64 {
		g := make([]float64, n)
		sig := f * float64(n)
		for i := range g {
			d := float64(i) - float64(n-1)/2
			g[i] = math.Exp(-d * d / (2 * sig * sig))
		}
		return g
	}
	gx, gy := win(w), win(h)
	out := copyRGBA(src)
	for y := range h {
		for x := range w {
			k := gx[x] * gy[y]
			p := out.Pix[y*out.Stride+4*x:]
			for c := range 3 {
				p[c] = clampByte(float32(float64(p[c]) * k))
			}
		}
	}
	return out
}
