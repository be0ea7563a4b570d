package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateImageDeterministic(t *testing.T) {
	for _, tc := range []struct {
		seed     uint64
		min, max int
	}{{1, 64, 128}, {2, 16, 16}, {99, 100, 300}} {
		t.Run(fmt.Sprintf("seed=%d/side=%d-%d", tc.seed, tc.min, tc.max), func(t *testing.T) {
			a := GenerateImage(ImageStream(tc.seed, "known", 0), tc.min, tc.max)
			b := GenerateImage(ImageStream(tc.seed, "known", 0), tc.min, tc.max)
			if !bytes.Equal(a.Pix, b.Pix) || a.Rect != b.Rect {
				t.Fatal("same seed gave different images")
			}
			c := GenerateImage(ImageStream(tc.seed+1, "known", 0), tc.min, tc.max)
			if a.Rect == c.Rect && bytes.Equal(a.Pix, c.Pix) {
				t.Fatal("different seeds gave the same image")
			}
			d := GenerateImage(ImageStream(tc.seed, "known", 1), tc.min, tc.max)
			if a.Rect == d.Rect && bytes.Equal(a.Pix, d.Pix) {
				t.Fatal("different items gave the same image")
			}
			w, h := a.Rect.Dx(), a.Rect.Dy()
			long, short := max(w, h), min(w, h)
			if a.Rect.Min != (image.Point{}) || long < tc.min || long > tc.max || short < 8 || 2*short < long-1 {
				t.Fatalf("size %dx%d outside [%d, %d] or aspect beyond 2:1", w, h, tc.min, tc.max)
			}
		})
	}
}

// A generated image must not be flat: photographs have spread-out pixel
// values and edges.
func TestGenerateImageHasStructure(t *testing.T) {
	for i := range 20 {
		img := GenerateImage(ImageStream(7, "structure", i), 96, 160)
		var sum, sum2, grad float64
		n := float64(len(img.Pix) / 4)
		for p := 0; p < len(img.Pix); p += 4 {
			y := 0.299*float64(img.Pix[p]) + 0.587*float64(img.Pix[p+1]) + 0.114*float64(img.Pix[p+2])
			sum += y
			sum2 += y * y
			if p+4 < len(img.Pix) {
				grad += abs(int(img.Pix[p+5]) - int(img.Pix[p+1]))
			}
		}
		std := sum2/n - (sum/n)*(sum/n)
		if std < 25 { // variance of luma
			t.Errorf("image %d: luma variance %.1f: nearly flat", i, std)
		}
		if grad/n < 0.5 {
			t.Errorf("image %d: mean horizontal gradient %.2f: no detail", i, grad/n)
		}
	}
}

func abs(v int) float64 {
	if v < 0 {
		return float64(-v)
	}
	return float64(v)
}

func TestGenerateImagesClasses(t *testing.T) {
	photos, err := BundledPhotos()
	if err != nil {
		t.Fatal(err)
	}
	cfg := ImageConfig{Seed: 3, Known: 4, Novel: 2, Benign: 3, Memes: 2, MinSide: 48, MaxSide: 96,
		Transforms: []Transform{MustTransform("blur2"), MustTransform("flip")}, Photos: photos[:1]}
	c, err := GenerateImages(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{KnownImage: 4, TransformedImage: 8, NovelImage: 2, BenignImage: 3, PoliticalMeme: 2}
	for _, class := range ImageClasses {
		if got := len(c.Class(class)); got != want[class] {
			t.Errorf("class %s: %d items, want %d", class, got, want[class])
		}
	}
	if got := len(c.Listed()); got != 6 {
		t.Errorf("%d listed items, want 6 (known and memes)", got)
	}
	if c.Items[0].Label.Photo != photos[0].Name {
		t.Errorf("first known image is %q, want the photo %q", c.Items[0].Label.Photo, photos[0].Name)
	}
	for _, it := range c.Class(TransformedImage) {
		if it.Label.Source == "" || it.Label.Transform == "" || !it.Label.Harmful {
			t.Errorf("%s: incomplete label %+v", it.ID, it.Label)
		}
	}
	for _, it := range append(c.Class(BenignImage), c.Class(PoliticalMeme)...) {
		if it.Label.Harmful {
			t.Errorf("%s: labelled harmful", it.ID)
		}
	}
	again, _ := GenerateImages(cfg)
	for i := range c.Items {
		if c.Items[i].ID != again.Items[i].ID || !bytes.Equal(c.Items[i].Image.Pix, again.Items[i].Image.Pix) {
			t.Fatalf("item %d differs between two runs with the same config", i)
		}
	}
	if _, err := GenerateImages(ImageConfig{Known: -1}); err == nil {
		t.Error("negative count accepted")
	}
}

func TestBundledPhotos(t *testing.T) {
	ps, err := BundledPhotos()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 8 {
		t.Fatalf("%d bundled photos, want at least 8", len(ps))
	}
	for _, p := range ps {
		b := p.Image.Bounds()
		if b.Dx() < 100 || b.Dy() < 100 || max(b.Dx(), b.Dy()) > 512 {
			t.Errorf("%s: %v", p.Name, b)
		}
	}
}

func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.RGBA{1, 2, 3, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hugePNG is a valid PNG header that declares width×height pixels, followed
// by nothing: a decompression bomb's first bytes.
func hugePNG(width, height uint32) []byte {
	var b bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	png.Encode(&b, img)
	data := b.Bytes()
	// IHDR data starts at byte 16: width, height big-endian.
	put := func(off int, v uint32) {
		data[off], data[off+1], data[off+2], data[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	put(16, width)
	put(20, height)
	return data // the CRC is now wrong, but the limit is checked first
}

func TestLoadPhotos(t *testing.T) {
	for _, tc := range []struct {
		name      string
		files     map[string]any // string: raw bytes; [2]int: a PNG of that size
		wantErr   error
		photos    int
		skipped   []string
		errSubstr string
	}{
		{name: "good", files: map[string]any{"a.png": [2]int{20, 10}, "b.PNG": [2]int{5, 5}, "notes.txt": "hello"}, photos: 2},
		{name: "empty", files: map[string]any{}, wantErr: ErrNoPhotos, errSubstr: "no .jpg"},
		{name: "only-text", files: map[string]any{"readme.md": "x"}, wantErr: ErrNoPhotos},
		{name: "corrupt-skipped", files: map[string]any{"a.png": [2]int{8, 8}, "broken.jpg": "not a jpeg"}, photos: 1, skipped: []string{"broken.jpg"}},
		{name: "truncated-skipped", files: map[string]any{"a.png": [2]int{8, 8}, "cut.png": "trunc"}, photos: 1, skipped: []string{"cut.png"}},
		{name: "huge-skipped", files: map[string]any{"a.png": [2]int{8, 8}, "bomb.png": hugePNG(100000, 100000)}, photos: 1, skipped: []string{"bomb.png"}},
		{name: "all-bad", files: map[string]any{"x.jpg": "nope", "y.webp": "nope"}, wantErr: ErrNoPhotos, skipped: []string{"x.jpg", "y.webp"}, errSubstr: "2 image files skipped"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, f := range tc.files {
				switch f := f.(type) {
				case string:
					data := []byte(f)
					if f == "trunc" {
						var b bytes.Buffer
						png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 30, 30)))
						data = b.Bytes()[:b.Len()/2]
					}
					os.WriteFile(filepath.Join(dir, name), data, 0o644)
				case []byte:
					os.WriteFile(filepath.Join(dir, name), f, 0o644)
				case [2]int:
					writePNG(t, filepath.Join(dir, name), f[0], f[1])
				}
			}
			set, err := LoadPhotos(dir)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if tc.errSubstr != "" && !strings.Contains(err.Error(), tc.errSubstr) {
					t.Errorf("error %q does not say %q", err, tc.errSubstr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if set == nil {
				return
			}
			if len(set.Photos) != tc.photos {
				t.Errorf("%d photos, want %d", len(set.Photos), tc.photos)
			}
			if len(set.Skipped) != len(tc.skipped) {
				t.Fatalf("skipped %v, want %v", set.Skipped, tc.skipped)
			}
			for i, s := range set.Skipped {
				if s.Name != tc.skipped[i] || !strings.Contains(s.String(), s.Name) || s.Reason == "" {
					t.Errorf("skipped[%d] = %q, want a warning naming %s", i, s, tc.skipped[i])
				}
			}
		})
	}
	if _, err := LoadPhotos(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing folder accepted")
	}
}

func BenchmarkGenerateImage(b *testing.B) {
	px := 0
	for i := 0; b.Loop(); i++ {
		img := GenerateImage(ImageStream(1, "bench", i), DefaultMinSide, DefaultMaxSide)
		px += img.Rect.Dx() * img.Rect.Dy()
	}
	b.ReportMetric(float64(px)/float64(b.N), "px/op")
}
