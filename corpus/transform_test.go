package corpus

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"testing"
)

// testInputs are images of several types, sizes and bounds.
func testInputs() map[string]image.Image {
	gen := GenerateImage(ImageStream(5, "transform-test", 0), 40, 60)
	offset := image.NewRGBA(image.Rect(10, 20, 10+37, 20+23))
	for i := range offset.Pix {
		offset.Pix[i] = uint8(i * 7)
	}
	gray := image.NewGray(image.Rect(-3, -3, 30, 17))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i)
	}
	ycc := image.NewYCbCr(image.Rect(0, 0, 33, 21), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i * 3)
	}
	nrgba := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for i := range nrgba.Pix {
		nrgba.Pix[i] = uint8(i)
	}
	one := image.NewRGBA(image.Rect(0, 0, 1, 1))
	one.Set(0, 0, color.RGBA{200, 100, 50, 255})
	return map[string]image.Image{"generated": gen, "offset-rgba": offset, "gray": gray, "ycbcr": ycc, "nrgba": nrgba, "1x1": one, "3x2": image.NewRGBA(image.Rect(0, 0, 3, 2))}
}

// allTransforms returns every family at every sweep strength, plus the
// Thorn set and the bare names.
func allTransforms(t *testing.T) []Transform {
	var out []Transform
	for _, f := range TransformNames() {
		s, err := Sweep(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s...)
	}
	return append(out, ThornV0()...)
}

func TestTransformBoundsAndType(t *testing.T) {
	for name, in := range testInputs() {
		for _, tr := range allTransforms(t) {
			t.Run(fmt.Sprintf("input=%s/transform=%s", name, tr.Name), func(t *testing.T) {
				before := snapshot(in)
				out := tr.Apply(in, ImageStream(1, tr.Name, 0))
				if out == nil {
					t.Fatal("nil image")
				}
				b := out.Bounds()
				if b.Min != (image.Point{}) || b.Dx() < 1 || b.Dy() < 1 {
					t.Fatalf("bounds %v", b)
				}
				if len(out.Pix) != 4*b.Dx()*b.Dy() || out.Stride != 4*b.Dx() {
					t.Fatalf("pixel buffer %d bytes, stride %d for %v", len(out.Pix), out.Stride, b)
				}
				for i := 3; i < len(out.Pix); i += 4 {
					if out.Pix[i] != 255 {
						t.Fatalf("alpha %d at %d: not opaque", out.Pix[i], i/4)
					}
				}
				iw, ih := in.Bounds().Dx(), in.Bounds().Dy()
				if w, h, ok := wantSize(tr, iw, ih); ok && (b.Dx() != w || b.Dy() != h) {
					t.Fatalf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
				}
				if !bytes.Equal(before, snapshot(in)) {
					t.Fatal("input modified")
				}
				// Thorn's pipeline: the JPEG round trip keeps the size.
				tj := ThornApply(tr, in, ImageStream(1, tr.Name, 0))
				if tj.Bounds() != b {
					t.Fatalf("ThornApply bounds %v, want %v", tj.Bounds(), b)
				}
			})
		}
	}
}

func snapshot(img image.Image) []byte {
	b := img.Bounds()
	var out []byte
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, a := img.At(x, y).RGBA()
			out = append(out, byte(r>>8), byte(g>>8), byte(bb>>8), byte(a>>8))
		}
	}
	return out
}

// wantSize is the output size a geometric transform must give.
func wantSize(tr Transform, w, h int) (int, int, bool) {
	round := func(v float64) int { return int(v + 0.5) }
	switch tr.Family {
	case "crop":
		dx, dy := min(round(tr.Strength*float64(w)), (w-1)/2), min(round(tr.Strength*float64(h)), (h-1)/2)
		return w - 2*dx, h - 2*dy, true
	case "pad":
		return w, h + 2*round(tr.Strength*float64(h)), true
	case "resize":
		return max(1, round(tr.Strength*float64(w))), max(1, round(tr.Strength*float64(h))), true
	}
	return w, h, true
}

func TestThornDefinitions(t *testing.T) {
	if q := imgaugJPEGQuality(95); q != 7 {
		t.Errorf("jpeg95 is quality %d, want 7 (imgaug strength 95)", q)
	}
	if q := imgaugJPEGQuality(0); q != 100 {
		t.Errorf("jpeg0 is quality %d, want 100", q)
	}
	for _, tc := range []struct {
		sigma float64
		k     int
	}{{2, 7}, {0.5, 5}, {1, 5}, {3, 9}, {4, 11}, {6, 15}} {
		if k := imgaugBlurKernelSize(tc.sigma); k != tc.k {
			t.Errorf("blur σ=%g kernel %d, want %d", tc.sigma, k, tc.k)
		}
	}
	flat := image.NewRGBA(image.Rect(0, 0, 100, 50))
	for i := range flat.Pix {
		flat.Pix[i] = 128
	}
	// pad0.2: 10 black rows on top and bottom, none at the sides.
	p := MustTransform("pad0.2").Apply(flat, nil)
	if p.Bounds().Dx() != 100 || p.Bounds().Dy() != 70 {
		t.Fatalf("pad0.2 of 100x50 is %v", p.Bounds())
	}
	if p.RGBAAt(50, 0).R != 0 || p.RGBAAt(50, 69).R != 0 || p.RGBAAt(0, 35).R != 128 || p.RGBAAt(99, 10).R != 128 {
		t.Error("pad0.2 padded the wrong sides")
	}
	// gamma2: 255·(128/255)² = 64.25 → 64.
	if v := MustTransform("gamma2").Apply(flat, nil).RGBAAt(3, 3).R; v != 64 {
		t.Errorf("gamma2 of 128 = %d, want 64", v)
	}
	// rotate4: black corners, centre kept.
	r := MustTransform("rotate4").Apply(flat, nil)
	if r.RGBAAt(0, 0).R != 0 || r.RGBAAt(50, 25).R != 128 {
		t.Errorf("rotate4: corner %d centre %d", r.RGBAAt(0, 0).R, r.RGBAAt(50, 25).R)
	}
	// watermark: darkens some pixels near the bottom left to 0.216·v.
	w := MustTransform("watermark").Apply(flat, nil)
	dark := 0
	for y := 0; y < 50; y++ {
		for x := 0; x < 100; x++ {
			if v := w.RGBAAt(x, y).R; v != 128 {
				if v != 27 || x > 50 || y < 25 {
					t.Fatalf("watermark pixel (%d,%d) = %d", x, y, v)
				}
				dark++
			}
		}
	}
	if dark < 30 {
		t.Errorf("watermark darkened %d pixels", dark)
	}
	// noise0.2 is random but reproducible for a stream.
	a := MustTransform("noise0.2").Apply(flat, ImageStream(1, "n", 0))
	b := MustTransform("noise0.2").Apply(flat, ImageStream(1, "n", 0))
	c := MustTransform("noise0.2").Apply(flat, ImageStream(2, "n", 0))
	if !bytes.Equal(a.Pix, b.Pix) || bytes.Equal(a.Pix, c.Pix) {
		t.Error("noise is not reproducible per stream")
	}
	if a.Pix[0] != a.Pix[1] || a.Pix[1] != a.Pix[2] {
		t.Error("noise0.2 differs across channels (imgaug per_channel=False)")
	}
	// flip twice is the identity; grayscale has equal channels.
	g := GenerateImage(ImageStream(1, "flip", 0), 30, 40)
	if ff := MustTransform("flip").Apply(MustTransform("flip").Apply(g, nil), nil); !bytes.Equal(ff.Pix, g.Pix) {
		t.Error("flip∘flip is not the identity")
	}
	gr := MustTransform("grayscale").Apply(g, nil)
	for i := 0; i < len(gr.Pix); i += 4 {
		if gr.Pix[i] != gr.Pix[i+1] || gr.Pix[i] != gr.Pix[i+2] {
			t.Fatal("grayscale has unequal channels")
		}
	}
	ref := ThornReference(g)
	if max(ref.Bounds().Dx(), ref.Bounds().Dy()) != ThornSide {
		t.Errorf("Thorn reference is %v, want long side %d", ref.Bounds(), ThornSide)
	}
}

func TestParseTransform(t *testing.T) {
	for _, tc := range []struct {
		in       string
		family   string
		strength float64
		bad      bool
	}{
		{in: "blur2", family: "blur", strength: 2},
		{in: "crop0.05", family: "crop", strength: 0.05},
		{in: "jpeg95", family: "jpeg", strength: 95},
		{in: "jpegq50", family: "jpegq", strength: 50},
		{in: "watermark", family: "watermark", strength: 0.2},
		{in: "watermark0.4", family: "watermark", strength: 0.4},
		{in: "vignette", family: "vignette", strength: 0.5},
		{in: "rotate-4", family: "rotate", strength: -4},
		{in: "flip", family: "flip"},
		{in: "grayscale", family: "grayscale"},
		{in: "blur", bad: true},
		{in: "blurx", bad: true},
		{in: "flip2", bad: true},
		{in: "crop0.6", bad: true},
		{in: "jpegq0", bad: true},
		{in: "sharpen1", bad: true},
		{in: "", bad: true},
	} {
		t.Run("name="+tc.in, func(t *testing.T) {
			tr, err := ParseTransform(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted as %+v", tr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.Family != tc.family || tr.Strength != tc.strength || tr.Name != tc.in {
				t.Fatalf("got %+v", tr)
			}
		})
	}
	for _, n := range ThornV0Names {
		if tr := MustTransform(n); tr.Name != n {
			t.Errorf("%s round-trips as %s", n, tr.Name)
		}
	}
	for _, f := range TransformNames() {
		s, _ := Sweep(f)
		for _, tr := range s {
			back, err := ParseTransform(tr.Name)
			if err != nil || back != tr {
				t.Errorf("sweep name %s parses as %+v, %v", tr.Name, back, err)
			}
		}
	}
}
