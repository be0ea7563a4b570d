package clientscan

import (
	"bytes"
	"image"
	"image/color"
	"io"
	"math/rand/v2"
	"testing"

	"scanlab"
	"scanlab/perceptual"
)

// TestVisualDerivative: deterministic, 1024 bytes, the same for the same
// grey pixels whatever the image type, defined for tiny, empty, offset and
// nil images, and different for different pictures.
func TestVisualDerivative(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 70, 45))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	rgba := image.NewRGBA(g.Bounds())
	nrgba := image.NewNRGBA(g.Bounds())
	paletted := image.NewPaletted(g.Bounds(), color.Palette(grayPalette()))
	for y := range 45 {
		for x := range 70 {
			v := g.GrayAt(x, y)
			rgba.Set(x, y, v)
			nrgba.Set(x, y, v)
			paletted.Set(x, y, v)
		}
	}
	want := VisualDerivative(g)
	if len(want) != DerivativeSize {
		t.Fatalf("%d bytes", len(want))
	}
	for name, im := range map[string]image.Image{"rgba": rgba, "nrgba": nrgba, "paletted": paletted, "gray-again": g} {
		if got := VisualDerivative(im); !bytes.Equal(got, want) {
			t.Errorf("%s: derivative differs from the grey image's", name)
		}
	}
	// A sub-image with a non-zero origin is its own picture.
	sub := g.SubImage(image.Rect(10, 5, 60, 40))
	copyG := image.NewGray(image.Rect(0, 0, 50, 35))
	for y := range 35 {
		for x := range 50 {
			copyG.SetGray(x, y, g.GrayAt(10+x, 5+y))
		}
	}
	if !bytes.Equal(VisualDerivative(sub), VisualDerivative(copyG)) {
		t.Error("sub-image derivative differs from its copy's")
	}
	for name, im := range map[string]image.Image{
		"1x1":   image.NewGray(image.Rect(0, 0, 1, 1)),
		"3x100": image.NewGray(image.Rect(0, 0, 3, 100)),
		"empty": image.NewGray(image.Rectangle{}),
		"nil":   nil,
	} {
		if got := VisualDerivative(im); len(got) != DerivativeSize {
			t.Errorf("%s: %d bytes", name, len(got))
		}
	}
	// Different pictures, different derivatives; a decoded canary gives the
	// same bytes every time.
	a, _ := perceptual.DecodeImage(testImage(1, 0), 0)
	b, _ := perceptual.DecodeImage(testImage(2, 0), 0)
	a2, _ := perceptual.DecodeImage(testImage(1, 0), 0)
	if bytes.Equal(VisualDerivative(a), VisualDerivative(b)) || !bytes.Equal(VisualDerivative(a), VisualDerivative(a2)) {
		t.Error("derivatives do not tell pictures apart, or are not deterministic")
	}
	// A flat region gives its own value.
	flat := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range flat.Pix {
		flat.Pix[i] = 77
	}
	for _, v := range VisualDerivative(flat) {
		if v != 77 {
			t.Fatalf("flat image cell %d", v)
		}
	}
}

func grayPalette() []color.Color {
	p := make([]color.Color, 256)
	for i := range p {
		p[i] = color.Gray{uint8(i)}
	}
	return p
}

// TestSyntheticVouchers: with synthetic vouchers on, the provider's match
// count below the threshold mixes real and synthetic matches; the reveal
// opens only real matches, never a synthetic or benign one.
func TestSyntheticVouchers(t *testing.T) {
	const th = 3
	listed := newFixture(t, seeds(1, 12)...)
	benign := newFixture(t, seeds(100, 6)...)
	m := fullMode(t, Options{List: listed.hashes, Threshold: th, SyntheticRate: 0.3,
		Coins: func(scanlab.UserID) io.Reader { return rand.NewChaCha8([32]byte{1}) }})
	w := newWorld(t, m)
	for i := range benign.data {
		w.send(t, img(benign.data[i]))
	}
	synth := w.alice.Synthetics()
	if v := w.srv.Account("alice"); v.Matches != synth || v.Revealed {
		t.Fatalf("after benign images: view %+v, %d synthetic", v, synth)
	}
	if synth == 0 {
		t.Fatal("the seed gives no synthetic voucher; pick another")
	}
	matching := map[string]bool{}
	for i := range listed.data {
		matching[w.send(t, img(listed.data[i]))] = true
		if len(hashDetections(w.r)) > 0 {
			break
		}
	}
	dets := hashDetections(w.r)
	if len(dets) < th+1 {
		t.Fatalf("%d detections after %d matching images", len(dets), len(matching))
	}
	for id := range dets {
		if !matching[id] {
			t.Fatalf("detection of non-matching %s", id)
		}
	}
	v := w.srv.Account("alice")
	if v.Real != len(dets) || v.Matches != v.Real+w.alice.Synthetics() {
		t.Fatalf("view %+v, %d detections, %d synthetic", v, len(dets), w.alice.Synthetics())
	}
	for i := range benign.data {
		if len(w.view.holds(t, benign.derivative[i])) != 0 {
			t.Fatal("benign derivative opened")
		}
	}
}
