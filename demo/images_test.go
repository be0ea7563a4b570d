package demo

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"scanlab/perceptual"
)

var update = flag.Bool("update", false, "rewrite the stand-in photos and golden files")

// standInSeeds are the landscape seeds of the listed photos, chosen for a
// PDQ quality well above perceptual.MinQuality.
var standInSeeds = map[string]uint64{"photo-1.jpg": 1, "photo-2.jpg": 2, "photo-3.jpg": 4}

// TestStandIns checks what the listed-image scenario relies on: every
// photo decodes with a usable PDQ quality, the listed ones are far apart,
// and the edited copy lies within the match threshold of its original
// without being equal to it (so server-side matching catches it and exact
// PSI does not). With -update it first redraws them.
func TestStandIns(t *testing.T) {
	if *update {
		writeStandIns(t)
	}
	hashes := map[string]perceptual.Hash{}
	for _, p := range Photos {
		b, err := os.ReadFile(filepath.Join("images", p.Name))
		if err != nil {
			t.Fatal(err)
		}
		if shipped, err := PhotoBytes(p.Name); !*update && (err != nil || !bytes.Equal(shipped, b)) {
			t.Fatalf("%s: the embedded photo differs from the file (err %v)", p.Name, err)
		}
		s, err := perceptual.ScanImage(b)
		if err != nil || !s.Usable() {
			t.Fatalf("%s: quality %d, err %v", p.Name, s.Quality, err)
		}
		hashes[p.Name] = s.Hash
	}
	for _, p := range Photos {
		for _, q := range Photos {
			d := perceptual.Distance(hashes[p.Name], hashes[q.Name])
			switch {
			case p.Original == q.Name:
				t.Logf("%s is %d bits from %s", p.Name, d, q.Name)
				if d == 0 || d > perceptual.MatchThreshold {
					t.Errorf("%s is %d bits from %s: want 1..%d", p.Name, d, q.Name, perceptual.MatchThreshold)
				}
			case p.Listed && q.Listed && p.Name != q.Name && d <= 3*perceptual.MatchThreshold:
				t.Errorf("listed %s and %s are only %d bits apart", p.Name, q.Name, d)
			}
		}
	}
}

func writeStandIns(t *testing.T) {
	t.Helper()
	for name, seed := range standInSeeds {
		img := landscape(seed, 256)
		writeJPEG(t, name, img)
		for _, p := range Photos {
			if p.Original == name {
				writeJPEG(t, p.Name, brighten(img, 6))
			}
		}
	}
}

func writeJPEG(t *testing.T, name string, img image.Image) {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("images", name), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// landscape draws a sky, a sun and three rows of hills with fine noise.
func landscape(seed uint64, size int) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 7))
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	sky := [3]float64{80 + rng.Float64()*100, 120 + rng.Float64()*100, 200 + rng.Float64()*55}
	sunX, sunY, sunR := rng.Float64()*float64(size), rng.Float64()*float64(size)/3, float64(size)*(0.06+0.06*rng.Float64())
	type hill struct {
		amp, freq, phase, base float64
		col                    [3]float64
	}
	hills := make([]hill, 3)
	for i := range hills {
		hills[i] = hill{float64(size) * (0.05 + 0.1*rng.Float64()), 1 + 4*rng.Float64(), rng.Float64() * 6, float64(size) * (0.45 + 0.15*float64(i)),
			[3]float64{30 + rng.Float64()*60, 90 + rng.Float64()*100 - 20*float64(i), 30 + rng.Float64()*50}}
	}
	for y := range size {
		for x := range size {
			t := float64(y) / float64(size)
			px := [3]float64{sky[0] * (1 - t/2), sky[1] * (1 - t/3), sky[2]}
			if math.Hypot(float64(x)-sunX, float64(y)-sunY) < sunR {
				px = [3]float64{255, 230, 120}
			}
			for _, h := range hills {
				top := h.base - h.amp*math.Sin(h.freq*float64(x)/float64(size)*2*math.Pi+h.phase)
				if float64(y) > top {
					shade := 1 - 0.3*(float64(y)-top)/float64(size)
					px = [3]float64{h.col[0] * shade, h.col[1] * shade, h.col[2] * shade}
				}
			}
			n := rng.Float64()*10 - 5
			img.Set(x, y, color.RGBA{clamp(px[0] + n), clamp(px[1] + n), clamp(px[2] + n), 255})
		}
	}
	return img
}

// brighten returns a copy of img with every channel raised by d.
func brighten(img *image.RGBA, d int) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	for i := range out.Pix {
		if i%4 != 3 {
			out.Pix[i] = uint8(min(255, int(out.Pix[i])+d))
		}
	}
	return out
}

func clamp(v float64) uint8 { return uint8(math.Max(0, math.Min(255, v))) }
