package perceptual

import (
	"image"
	"image/color"
)

// The luma coefficients of the PDQ reference (ITU-R BT.601, "From Wikipedia:
// standard RGB to luminance" in facebook/ThreatExchange
// pdq/cpp/downscaling/downscaling.cpp), held as float32 variables so every
// product is a float32 product as in the reference.
var (
	lumaR float32 = 0.299
	lumaG float32 = 0.587
	lumaB float32 = 0.114
)

// rgbLuma is the reference's float32 luma of one pixel: three float32
// products summed left to right. The conversions to float32 forbid the
// compiler to fuse a product into an addition (Go spec, "Floating-point
// operators"), which would change the low bits on FMA machines.
//
// The three products are looked up in tables built with the same float32
// multiplications, which gives the same values without the conversions and
// multiplications per pixel.
func rgbLuma(r, g, b uint8) float32 {
	return lumaTab[0][r] + lumaTab[1][g] + lumaTab[2][b]
}

// lumaTab[c][v] is the float32 product of colour c's coefficient and v.
var lumaTab = func() (t [3][256]float32) {
	for v := range 256 {
		t[0][v] = float32(lumaR * float32(v))
		t[1][v] = float32(lumaG * float32(v))
		t[2][v] = float32(lumaB * float32(v))
	}
	return t
}()

// fillLuma writes the float32 luma of img into dst (row-major, len(xs)
// columns and len(ys) rows): dst[i*len(xs)+j] is the luma of the pixel at
// column xs[j] and row ys[i], both relative to img.Bounds().Min. Taking the
// pixels through index tables serves both the full-resolution hash (identity
// tables) and the reference tool's nearest-neighbour squash to 512×512.
//
// Alpha is ignored: the colour under it is used un-premultiplied, with no
// compositing, as the reference (which drops the alpha channel) does. A
// one-channel grey image gives Y equal to the grey value, as in the
// reference's fillFloatLumaFromGrey; every other colour model goes through
// the RGB formula.
func fillLuma(dst []float32, img image.Image, xs, ys []int) {
	b := img.Bounds()
	w := len(xs)
	switch m := img.(type) {
	case *image.RGBA:
		for i, y := range ys {
			row := m.Pix[(y)*m.Stride:]
			out := dst[i*w : i*w+w]
			for j, x := range xs {
				p := row[4*x : 4*x+3 : 4*x+3]
				out[j] = rgbLuma(p[0], p[1], p[2])
			}
		}
	case *image.NRGBA:
		for i, y := range ys {
			row := m.Pix[(y)*m.Stride:]
			out := dst[i*w : i*w+w]
			for j, x := range xs {
				p := row[4*x : 4*x+3 : 4*x+3]
				out[j] = rgbLuma(p[0], p[1], p[2])
			}
		}
	case *image.Gray:
		for i, y := range ys {
			row := m.Pix[(y)*m.Stride:]
			out := dst[i*w : i*w+w]
			for j, x := range xs {
				out[j] = float32(row[x])
			}
		}
	case *image.Gray16:
		for i, y := range ys {
			row := m.Pix[(y)*m.Stride:]
			out := dst[i*w : i*w+w]
			for j, x := range xs {
				out[j] = float32(row[2*x]) // high byte, as an 8-bit decoder keeps
			}
		}
	case *image.YCbCr:
		for i, y := range ys {
			out := dst[i*w : i*w+w]
			for j, x := range xs {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				out[j] = rgbLuma(r, g, bb)
			}
		}
	case *image.CMYK:
		for i, y := range ys {
			row := m.Pix[(y)*m.Stride:]
			out := dst[i*w : i*w+w]
			for j, x := range xs {
				p := row[4*x : 4*x+4 : 4*x+4]
				r, g, bb := color.CMYKToRGB(p[0], p[1], p[2], p[3])
				out[j] = rgbLuma(r, g, bb)
			}
		}
	case *image.Paletted:
		var pal [256]float32
		for k, c := range m.Palette {
			if k == len(pal) {
				break
			}
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[k] = rgbLuma(n.R, n.G, n.B)
		}
		for i, y := range ys {
			row := m.Pix[(y)*m.Stride:]
			out := dst[i*w : i*w+w]
			for j, x := range xs {
				out[j] = pal[row[x]]
			}
		}
	default:
		for i, y := range ys {
			out := dst[i*w : i*w+w]
			for j, x := range xs {
				c := img.At(b.Min.X+x, b.Min.Y+y)
				if g, ok := c.(color.Gray); ok {
					out[j] = float32(g.Y)
					continue
				}
				n := color.NRGBAModel.Convert(c).(color.NRGBA)
				out[j] = rgbLuma(n.R, n.G, n.B)
			}
		}
	}
}

// identity fills t with 0, 1, ..., len(t)-1 and returns it.
func identity(t []int) []int {
	for i := range t {
		t[i] = i
	}
	return t
}

// squash fills t with the source index of each of len(t) nearest-neighbour
// samples over n source pixels: output i takes source ⌊i·n/len(t)⌋, the
// mapping of CImg's resize with interpolation 1 that the reference tool uses
// (pdq/cpp/io/pdqio.cpp; CImg computes the same quotient in double precision,
// which is exact here).
func squash(t []int, n int) []int {
	for i := range t {
		t[i] = i * n / len(t)
	}
	return t
}
