// Package testimg draws deterministic test pictures for the scanners' tests.
//
// # Who sees what
//
// Nothing secret: the pictures are synthetic and made from a seed.
package testimg

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// Rectangles returns a PNG of size×size grey pixels: 40 overlapping
// rectangles (energy spread over many low frequencies, like a photo, so its
// PDQ quality is high). noise > 0 adds a pseudo-random perturbation of that
// amplitude to every pixel: the same picture, slightly altered.
func Rectangles(seed, noise, size int) []byte {
	img := image.NewGray(image.Rect(0, 0, size, size))
	r := uint32(seed*7919 + 1)
	next := func(m int) int { r = r*1664525 + 1013904223; return int(r>>8) % m }
	for range 40 {
		x0, y0 := next(size), next(size)
		w, h, g := size/16+next(size*3/8), size/16+next(size*3/8), next(256)
		for y := y0; y < min(size, y0+h); y++ {
			for x := x0; x < min(size, x0+w); x++ {
				img.SetGray(x, y, color.Gray{uint8(g)})
			}
		}
	}
	if noise > 0 {
		for i := range img.Pix {
			img.Pix[i] = uint8(max(0, min(255, int(img.Pix[i])+next(2*noise+1)-noise)))
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}
