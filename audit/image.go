package audit

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
)

// Image draws a unique photo-like test image from rng: a smooth
// two-colour gradient with soft discs and fine noise, so its PDQ quality is
// high and its bytes are unique. It returns PNG bytes.
func Image(rng *rand.Rand, size int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	c0 := [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
	c1 := [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
	angle := rng.Float64() * 2 * math.Pi
	type disc struct{ x, y, r, c float64 }
	discs := make([]disc, 6)
	for i := range discs {
		discs[i] = disc{rng.Float64() * float64(size), rng.Float64() * float64(size), float64(size) * (0.05 + 0.2*rng.Float64()), rng.Float64()*160 - 80}
	}
	for y := range size {
		for x := range size {
			t := (math.Cos(angle)*float64(x) + math.Sin(angle)*float64(y)) / float64(size)
			t = math.Max(0, math.Min(1, 0.5+t/2))
			var px [3]float64
			for k := range px {
				px[k] = c0[k]*(1-t) + c1[k]*t
			}
			for _, d := range discs {
				dist := math.Hypot(float64(x)-d.x, float64(y)-d.y)
				if dist < d.r {
					w := 1 - dist/d.r
					for k := range px {
						px[k] += d.c * w
					}
				}
			}
			n := rng.Float64()*16 - 8
			img.Set(x, y, color.RGBA{clamp(px[0] + n), clamp(px[1] + n), clamp(px[2] + n), 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func clamp(v float64) uint8 { return uint8(math.Max(0, math.Min(255, v))) }
