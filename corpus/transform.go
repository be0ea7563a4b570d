package corpus

import (
	"fmt"
	"image"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Transform is a benign image edit of a named family at a named strength:
// "blur2" is the blur family at σ = 2. Each family's strength is described
// in [TransformFamilies].
//
// The names of Thorn's perception benchmark v0 (blur2, crop0.05, gamma2,
// jpeg95, noise0.2, pad0.2, resize0.5, rotate4, vignette, watermark; see
// [ThornV0]) mean what they meant when Thorn's published recall table was
// made: the imgaug 0.4.0 augmenters of thorn-oss/perception
// docs/examples/benchmarking.rst at commit a30815de. In particular jpeg95
// is imgaug's JPEG compression *strength* 95, which is JPEG quality 7,
// not quality 95; real quality levels are the jpegq family.
type Transform struct {
	// Name is the family followed by the strength in Go's shortest 'g'
	// format ("crop0.05"), or the family alone for families without a
	// strength and for the default strength of watermark and vignette.
	Name string
	// Family is one of the keys of [TransformFamilies].
	Family string
	// Strength is the family's parameter; 0 for flip, grayscale and noop.
	Strength float64
}

// TransformFamily describes one family of transforms.
type TransformFamily struct {
	Name string
	// Strength says what the strength number means, with its unit.
	Strength string
	// Default is the strength of the family's bare name, or 0 when a
	// strength must be given (blur, crop...) or the family has none.
	Default float64
	// Sweep lists strengths from weak to strong for robustness curves.
	Sweep []float64
	apply func(src *image.RGBA, s float64, r *rand.Rand) *image.RGBA
}

// TransformFamilies lists the transform families, keyed by name.
var TransformFamilies = map[string]TransformFamily{
	"noop":      {Strength: "none: a copy", apply: func(s *image.RGBA, _ float64, _ *rand.Rand) *image.RGBA { return copyRGBA(s) }},
	"blur":      {Strength: "Gaussian σ in pixels (imgaug GaussianBlur: kernel size from σ, reflect-101 border)", Sweep: []float64{0.5, 1, 2, 3, 4}, apply: applyBlur},
	"crop":      {Strength: "fraction of the height cut from top and bottom and of the width from left and right, not resized back", Sweep: []float64{0.02, 0.05, 0.1, 0.2}, apply: applyCrop},
	"gamma":     {Strength: "exponent γ of out = 255·(in/255)^γ", Sweep: []float64{0.5, 0.75, 1.5, 2, 3}, apply: applyGamma},
	"jpeg":      {Strength: "imgaug JpegCompression strength 0..100: JPEG quality round(1 + 99·(1 − s/101)), so 95 is quality 7", Sweep: []float64{50, 80, 90, 95, 99}, apply: applyJPEGStrength},
	"jpegq":     {Strength: "JPEG quality 1..100 (Go's encoder, 4:2:0)", Sweep: []float64{10, 30, 50, 75, 90}, apply: applyJPEGQuality},
	"noise":     {Strength: "Gaussian noise σ as a fraction of 255, one sample per pixel for all channels (imgaug AdditiveGaussianNoise)", Sweep: []float64{0.05, 0.1, 0.2, 0.3, 0.4}, apply: applyNoise},
	"pad":       {Strength: "fraction of the height added as black rows at the top and at the bottom (not left or right), not resized back", Sweep: []float64{0.05, 0.1, 0.2, 0.4}, apply: applyPad},
	"resize":    {Strength: "scale factor of both sides, Catmull-Rom resampling", Sweep: []float64{0.25, 0.5, 0.75, 1.5}, apply: applyResize},
	"rotate":    {Strength: "degrees clockwise as displayed, about the centre, bilinear, same canvas, black corners", Sweep: []float64{1, 2, 4, 8, 15}, apply: applyRotate},
	"watermark": {Strength: "width of the black \"TEST\" caption as a fraction of the image width (opacity 200/255, bottom left)", Default: 0.2, Sweep: []float64{0.1, 0.2, 0.3, 0.5}, apply: applyWatermark},
	"vignette":  {Strength: "σ of the Gaussian falloff as a fraction of each side (smaller is darker corners)", Default: 0.5, Sweep: []float64{1, 0.5, 0.3, 0.2}, apply: applyVignette},
	"flip":      {Strength: "none: mirror left to right", apply: func(s *image.RGBA, _ float64, _ *rand.Rand) *image.RGBA { return applyFlip(s) }},
	"grayscale": {Strength: "none: BT.601 luma in all three channels", apply: func(s *image.RGBA, _ float64, _ *rand.Rand) *image.RGBA { return applyGrayscale(s) }},
}

func init() {
	for name, f := range TransformFamilies {
		f.Name = name
		TransformFamilies[name] = f
	}
}

// ThornV0Names are the transform names of Thorn's perception benchmark v0
// table, in its order (noop aside).
var ThornV0Names = []string{"blur2", "crop0.05", "gamma2", "jpeg95", "noise0.2", "pad0.2", "resize0.5", "rotate4", "vignette", "watermark"}

// ThornV0 returns the transforms of [ThornV0Names].
func ThornV0() []Transform {
	out := make([]Transform, len(ThornV0Names))
	for i, n := range ThornV0Names {
		out[i] = MustTransform(n)
	}
	return out
}

// TransformNames returns the family names, sorted.
func TransformNames() []string {
	var n []string
	for k := range TransformFamilies {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

// Sweep returns the transforms of family at each of its sweep strengths,
// from weak to strong, or the family's single transform when it has no
// strength.
func Sweep(family string) ([]Transform, error) {
	f, ok := TransformFamilies[family]
	if !ok {
		return nil, fmt.Errorf("corpus: unknown transform family %q", family)
	}
	if len(f.Sweep) == 0 {
		return []Transform{{Name: family, Family: family}}, nil
	}
	var out []Transform
	for _, s := range f.Sweep {
		out = append(out, NewTransform(family, s))
	}
	return out, nil
}

// NewTransform returns the transform of family at strength s. It panics if
// the family does not exist; use [ParseTransform] for names from users.
func NewTransform(family string, s float64) Transform {
	f, ok := TransformFamilies[family]
	if !ok {
		panic("corpus: unknown transform family " + family)
	}
	name := family
	if len(f.Sweep) > 0 && (f.Default == 0 || s != f.Default) {
		name += strconv.FormatFloat(s, 'g', -1, 64)
	}
	if len(f.Sweep) == 0 {
		s = 0
	}
	return Transform{Name: name, Family: family, Strength: s}
}

// ParseTransform parses a transform name: a family name followed by a
// strength ("blur1.5", "jpegq50", "rotate-4"), or a family alone when it
// has no strength or a default one ("flip", "watermark").
func ParseTransform(name string) (Transform, error) {
	fam, rest := "", ""
	for k := range TransformFamilies {
		if strings.HasPrefix(name, k) && len(k) > len(fam) {
			fam, rest = k, name[len(k):]
		}
	}
	if fam == "" {
		return Transform{}, fmt.Errorf("corpus: unknown transform %q (families: %s)", name, strings.Join(TransformNames(), ", "))
	}
	f := TransformFamilies[fam]
	if rest == "" {
		if len(f.Sweep) > 0 && f.Default == 0 {
			return Transform{}, fmt.Errorf("corpus: transform %q needs a strength: %s", name, f.Strength)
		}
		return NewTransform(fam, f.Default), nil
	}
	if len(f.Sweep) == 0 {
		return Transform{}, fmt.Errorf("corpus: transform %s takes no strength, got %q", fam, name)
	}
	s, err := strconv.ParseFloat(rest, 64)
	if err != nil {
		return Transform{}, fmt.Errorf("corpus: transform %q: bad strength %q", name, rest)
	}
	if err := checkStrength(fam, s); err != nil {
		return Transform{}, fmt.Errorf("corpus: transform %q: %w", name, err)
	}
	t := NewTransform(fam, s)
	t.Name = name // keep the caller's spelling
	return t, nil
}

func checkStrength(fam string, s float64) error {
	bad := s != s
	switch fam {
	case "blur", "gamma", "resize", "vignette", "watermark":
		bad = bad || s <= 0 || s > 100
	case "crop":
		bad = bad || s < 0 || s >= 0.5
	case "pad", "noise":
		bad = bad || s < 0 || s > 10
	case "jpeg":
		bad = bad || s < 0 || s > 100
	case "jpegq":
		bad = bad || s < 1 || s > 100
	case "rotate":
		bad = bad || s < -360 || s > 360
	}
	if bad {
		return fmt.Errorf("strength %g out of range (%s)", s, TransformFamilies[fam].Strength)
	}
	return nil
}

// MustTransform is [ParseTransform] that panics on error, for names written
// in code.
func MustTransform(name string) Transform {
	t, err := ParseTransform(name)
	if err != nil {
		panic(err)
	}
	return t
}

// Apply returns the transformed copy of img; img is not modified. r is
// used by random transforms (noise) and may be nil for the others. The
// result is a new *image.RGBA with Min (0, 0), at least 1×1 and opaque.
func (t Transform) Apply(img image.Image, r *rand.Rand) *image.RGBA {
	f, ok := TransformFamilies[t.Family]
	if !ok {
		panic("corpus: unknown transform family " + t.Family)
	}
	if r == nil {
		r = rand.New(rand.NewPCG(0, 0))
	}
	return f.apply(opaque(ToRGBA(img)), t.Strength, r)
}

// opaque returns src, or a copy of it with every alpha set to 255 when it
// has transparent pixels: the image as composited over black, which is
// what the hashes see (they ignore alpha and read premultiplied colour).
func opaque(src *image.RGBA) *image.RGBA {
	for i := 3; i < len(src.Pix); i += 4 {
		if src.Pix[i] != 255 {
			out := copyRGBA(src)
			for j := 3; j < len(out.Pix); j += 4 {
				out.Pix[j] = 255
			}
			return out
		}
	}
	return src
}

// ThornSide is the long side, in pixels, of the reference images of Thorn's
// benchmark, and ThornQuality the JPEG quality every image there is saved
// at (OpenCV's default).
const (
	ThornSide    = 256
	ThornQuality = 95
)

// ThornReference prepares an original as Thorn's benchmark prepares its
// reference ("noop") images: resize so the long side is [ThornSide]
// pixels, keeping the aspect ratio (Catmull-Rom, where imgaug used OpenCV's
// bicubic), then a JPEG round trip at [ThornQuality].
func ThornReference(img image.Image) *image.RGBA {
	return JPEGRoundTrip(ResizeLongSide(img, ThornSide), ThornQuality)
}

// ThornApply applies t to a reference image as Thorn's benchmark does: the
// transform, then a JPEG round trip at [ThornQuality].
func ThornApply(t Transform, ref image.Image, r *rand.Rand) *image.RGBA {
	return JPEGRoundTrip(t.Apply(ref, r), ThornQuality)
}
