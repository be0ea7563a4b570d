package perceptual

import (
	"fmt"
	"image"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// naivePHash computes the documented pHash definition directly, for an
// image whose sides are multiples of 64 (so area averaging is a plain box
// mean): an independent check of PHash's separable implementation.
func naivePHash(img image.Image) Hash {
	b := img.Bounds()
	fx, fy := b.Dx()/64, b.Dy()/64
	var g [64][64]float64
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, gg, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			g[y/fy][x/fx] += float64(rgbLuma(uint8(r>>8), uint8(gg>>8), uint8(bb>>8))) / float64(fx*fy)
		}
	}
	var c [256]float64
	for u := 0; u < 16; u++ {
		for v := 0; v < 16; v++ {
			var s float64
			for y := 0; y < 64; y++ {
				for x := 0; x < 64; x++ {
					s += g[y][x] * math.Cos(math.Pi*float64(2*y+1)*float64(u)/128) * math.Cos(math.Pi*float64(2*x+1)*float64(v)/128)
				}
			}
			c[u*16+v] = s
		}
	}
	sorted := slices.Clone(c[:])
	slices.Sort(sorted)
	med := (sorted[127] + sorted[128]) / 2
	var h Hash
	for k := range c {
		if c[k] > med {
			h.setBit(k)
		}
	}
	return h
}

func TestPHashDefinition(t *testing.T) {
	for _, file := range []string{"bridge-mods/square-128x128.png", "reg-test-input/labelme-subset/q1050.png", "bridge-mods/square-512x512.png"} {
		img := decodeVector(t, filepath.Join(vectorDir, "decoded"), file)
		got, want := PHash(img), naivePHash(img)
		// Summation order differs, so a coefficient next to the median
		// could in principle flip; allow one bit.
		if d := Distance(got, want); d > 1 {
			t.Errorf("file=%s: PHash %v, definition %v (%d bits)", file, got, want, d)
		}
	}
}

// gradient returns a w×h grey image brightening left to right (or right
// to left).
func gradient(w, h int, rising bool) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := x * 255 / (w - 1)
			if !rising {
				v = 255 - v
			}
			img.Pix[y*img.Stride+x] = uint8(v)
		}
	}
	return img
}

func TestDHashGradient(t *testing.T) {
	var ones Hash
	for i := range ones {
		ones[i] = 0xff
	}
	for _, size := range []int{17, 170, 1000} {
		if got := DHash(gradient(size, 40, true)); got != ones {
			t.Errorf("width=%d rising: %v, want all ones", size, got)
		}
		if got := DHash(gradient(size, 40, false)); !got.IsZero() {
			t.Errorf("width=%d falling: %v, want all zeros", size, got)
		}
	}
}

// TestBaselinesNearDuplicates: edits of one photo stay close, different
// photos are far, for both baselines (loose bounds: a sanity check of the
// hashes' usefulness, not a benchmark).
func TestBaselinesNearDuplicates(t *testing.T) {
	dir := filepath.Join(vectorDir, "images")
	orig := decodeVector(t, dir, "bridge-mods/aaa-orig.jpg")
	for _, algo := range []struct {
		name string
		hash func(image.Image) Hash
	}{{"phash", PHash}, {"dhash", DHash}} {
		h0 := algo.hash(orig)
		for _, f := range []string{"bridge-mods/blur-a-little.jpg", "bridge-mods/high-contrast.jpg", "bridge-mods/shrink-a-lot.jpg", "bridge-mods/square-512x512.jpg"} {
			if d := Distance(h0, algo.hash(decodeVector(t, dir, f))); d > 40 {
				t.Errorf("algo=%s/file=%s: near-duplicate at %d bits", algo.name, f, d)
			}
		}
		for _, f := range []string{"reg-test-input/labelme-subset/q0122.jpg", "reg-test-input/labelme-subset/q2821.jpg"} {
			if d := Distance(h0, algo.hash(decodeVector(t, dir, f))); d < 70 {
				t.Errorf("algo=%s/file=%s: unrelated image at only %d bits", algo.name, f, d)
			}
		}
	}
}

func TestBaselinesSmall(t *testing.T) {
	for _, size := range [][2]int{{1, 1}, {2, 3}, {16, 16}, {17, 16}, {65, 63}} {
		t.Run(fmt.Sprintf("size=%dx%d", size[0], size[1]), func(t *testing.T) {
			img := gradient(size[0]+1, size[1], true).SubImage(image.Rect(1, 0, size[0]+1, size[1]))
			PHash(img)
			DHash(img)
		})
	}
	empty := image.NewGray(image.Rect(0, 0, 0, 0))
	if !PHash(empty).IsZero() || !DHash(empty).IsZero() {
		t.Error("empty image: non-zero baseline hash")
	}
}

func TestAreaTaps(t *testing.T) {
	for _, nm := range [][2]int{{64, 64}, {128, 64}, {100, 64}, {30, 64}, {1, 17}, {1000, 17}} {
		taps := areaTaps(nm[0], nm[1])
		covered := make([]float64, nm[0])
		for i, ts := range taps {
			var sum float64
			for _, tp := range ts {
				sum += tp.w
				covered[tp.src] += tp.w * float64(nm[0]) / float64(nm[1])
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Errorf("n=%d/m=%d: output %d weights sum to %v", nm[0], nm[1], i, sum)
			}
		}
		for p, c := range covered {
			if math.Abs(c-1) > 1e-9 {
				t.Errorf("n=%d/m=%d: input %d covered %v times", nm[0], nm[1], p, c)
			}
		}
	}
}
