package perceptual

import (
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// flavours are the two reference flavours, by the names of their
// expected-*.tsv tables.
var flavours = []struct {
	name     string
	table    string
	hash     func(image.Image) (Hash, int)
	dihedral func(image.Image) (Dihedral, int)
}{
	{"full", "expected-full.tsv", PDQ, PDQDihedral},
	{"cli", "expected-cli.tsv", PDQ512, PDQ512Dihedral},
}

// decoded caches decoded test images: decoding the larger JPEGs dominates
// the test time under the race detector.
var decoded sync.Map // path → image.Image

func decodeVector(t testing.TB, dir, file string) image.Image {
	t.Helper()
	path := filepath.Join(dir, file)
	if img, ok := decoded.Load(path); ok {
		return img.(image.Image)
	}
	img, err := DecodeImage(decodeFile(t, path), 0)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	decoded.Store(path, img)
	return img
}

// TestPDQDecodedExact checks bit-exactness on pixels decoded by
// libjpeg-turbo and stored losslessly: same pixels as the reference saw, so
// the hash and quality must be identical.
func TestPDQDecodedExact(t *testing.T) {
	dir := filepath.Join(vectorDir, "decoded")
	for _, fl := range flavours {
		for _, v := range readVectors(t, filepath.Join(dir, fl.table)) {
			t.Run(fmt.Sprintf("flavour=%s/file=%s", fl.name, v.file), func(t *testing.T) {
				t.Parallel()
				img := decodeVector(t, dir, v.file)
				h, q := fl.hash(img)
				if h != v.hashes[0] || q != v.quality {
					t.Errorf("got %v quality %d, want %v quality %d (distance %d)",
						h, q, v.hashes[0], v.quality, Distance(h, v.hashes[0]))
				}
				// The dihedral path must agree on the original orientation
				// (no decoded vector is exactly 64×64, where the two paths
				// of the reference differ).
				d, dq := fl.dihedral(img)
				if d[Original] != h || dq != q {
					t.Errorf("dihedral original %v quality %d, want %v quality %d", d[Original], dq, h, q)
				}
			})
		}
	}
}

// jpegTolerance is Meta's bar for a port on JPEGs decoded by another
// decoder: within 10 bits of the reference when the quality is at least 80
// (facebook/ThreatExchange pdq/README.md, "Writing Your Own Hashing").
const (
	jpegTolerance  = 10
	jpegMinQuality = 80
)

// histogram formats a distance distribution as "d:count" pairs.
func histogram(ds []int) string {
	m := map[int]int{}
	for _, d := range ds {
		m[d]++
	}
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %d:%d", k, m[k])
	}
	return strings.TrimSpace(b.String())
}

// TestPDQJPEG checks Go-decoded JPEGs against the reference's libjpeg-turbo
// hashes within Meta's tolerance and logs the distance distribution.
func TestPDQJPEG(t *testing.T) {
	dir := filepath.Join(vectorDir, "images")
	for _, fl := range flavours {
		var mu sync.Mutex
		var all, gated []int
		t.Run("flavour="+fl.name, func(t *testing.T) {
			for _, v := range readVectors(t, filepath.Join(vectorDir, fl.table)) {
				t.Run("file="+v.file, func(t *testing.T) {
					t.Parallel()
					img := decodeVector(t, dir, v.file)
					if b := img.Bounds(); raceEnabled && fl.name == "full" && b.Dx()*b.Dy() > 600_000 {
						// Fifty times slower under the race detector,
						// and single-threaded: checked in normal runs.
						t.Skip("large full-resolution image under -race")
					}
					h, q := fl.hash(img)
					d := Distance(h, v.hashes[0])
					mu.Lock()
					defer mu.Unlock()
					all = append(all, d)
					if v.quality < jpegMinQuality {
						return
					}
					gated = append(gated, d)
					if d > jpegTolerance {
						t.Errorf("distance %d > %d (quality %d)", d, jpegTolerance, v.quality)
					}
					if q < jpegMinQuality {
						t.Errorf("quality %d, reference %d", q, v.quality)
					}
				})
			}
		})
		if len(gated) > 0 {
			t.Logf("flavour=%s: %d files, distance:count %s; quality>=%d: %d files, max %d",
				fl.name, len(all), histogram(all), jpegMinQuality, len(gated), slices.Max(gated))
		}
	}
}

// TestPDQDihedralJPEG checks the eight dihedral hashes of the reference tool
// (--pdqdih) within the same tolerance.
func TestPDQDihedralJPEG(t *testing.T) {
	dir := filepath.Join(vectorDir, "images")
	var all []int
	for _, v := range readVectors(t, filepath.Join(vectorDir, "expected-dihedral-cli.tsv")) {
		if len(v.hashes) != 8 {
			t.Fatalf("%s: %d hashes", v.file, len(v.hashes))
		}
		d, _ := PDQ512Dihedral(decodeVector(t, dir, v.file))
		for tr := range d {
			dist := Distance(d[tr], v.hashes[tr])
			all = append(all, dist)
			if v.quality >= jpegMinQuality && dist > jpegTolerance {
				t.Errorf("file=%s/xform=%s: distance %d > %d", v.file, Transform(tr), dist, jpegTolerance)
			}
		}
	}
	t.Logf("flavour=cli dihedral: %d hashes, distance:count %s", len(all), histogram(all))
}

// transformImage applies t to img in the pixel domain, with the reference's
// conventions: rotations counter-clockwise, FlipX top to bottom, FlipY left
// to right, FlipPlus1 about the main diagonal, FlipMinus1 about the other.
func transformImage(img image.Image, t Transform) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	src := func(x, y int) (int, int) {
		switch t {
		case Rotate90:
			return w - 1 - y, x
		case Rotate180:
			return w - 1 - x, h - 1 - y
		case Rotate270:
			return y, h - 1 - x
		case FlipX:
			return x, h - 1 - y
		case FlipY:
			return w - 1 - x, y
		case FlipPlus1:
			return y, x
		case FlipMinus1:
			return w - 1 - y, h - 1 - x
		}
		return x, y
	}
	ow, oh := w, h
	switch t {
	case Rotate90, Rotate270, FlipPlus1, FlipMinus1:
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			sx, sy := src(x, y)
			out.Set(x, y, img.At(b.Min.X+sx, b.Min.Y+sy))
		}
	}
	return out
}

// TestPDQDihedralPixels checks that each dihedral hash is nearest to the
// hash of the image actually transformed that way, which pins down the
// names of the transforms. The distance itself is only bounded for the
// photograph: on strongly periodic textures the sampling grid's asymmetry
// costs more bits (up to 58 on q2821).
func TestPDQDihedralPixels(t *testing.T) {
	dir := filepath.Join(vectorDir, "decoded")
	for _, tt := range []struct {
		file  string
		bound int
	}{
		{"bridge-mods/square-512x512.png", MatchThreshold},
		{"reg-test-input/labelme-subset/q0122.png", Bits},
		{"reg-test-input/labelme-subset/q2821.png", Bits},
		{"misc-images/wee.png", Bits},
	} {
		img := decodeVector(t, dir, tt.file)
		d, _ := PDQDihedral(img)
		for tr := range d {
			h, _ := PDQ(transformImage(img, Transform(tr)))
			got, best := d.MinDistance(h)
			t.Logf("file=%s/xform=%s: %d bits", tt.file, Transform(tr), got)
			if best != Transform(tr) || got > tt.bound {
				t.Errorf("file=%s/xform=%s: nearest dihedral hash is %s at %d bits", tt.file, Transform(tr), best, got)
			}
		}
	}
}

// TestPDQRotatedFile compares the reference's two bridge files: the rot90
// dihedral hash of the original against the hash of the rotated file.
func TestPDQRotatedFile(t *testing.T) {
	dir := filepath.Join(vectorDir, "decoded")
	d, _ := PDQDihedral(decodeVector(t, dir, "reg-test-input/dih/bridge-1-original.png"))
	h, _ := PDQ(decodeVector(t, dir, "reg-test-input/dih/bridge-2-rotate-90.png"))
	if dist, tr := d.MinDistance(h); tr != Rotate90 || dist > MatchThreshold {
		t.Errorf("rotated file: nearest dihedral %s at %d", tr, dist)
	}
	if dist := Distance(d[Original], h); dist <= MatchThreshold {
		t.Errorf("rotated file matches the unrotated hash (%d bits)", dist)
	}
}

// TestPDQTiny: the reference returns the zero hash and quality 0 below 5
// pixels on a side, and hashes from 5 up.
func TestPDQTiny(t *testing.T) {
	tests := []struct {
		w, h              int
		zeroFull, zeroCLI bool
	}{
		{1, 1, true, true}, {4, 100, true, true}, {100, 4, true, true}, {4, 4, true, true},
		{5, 5, false, false}, {5, 600, false, false}, {64, 64, false, false},
		// The reference tool squashes 700×3 to 512×512 before its size
		// check, so only the full-resolution flavour gives zero.
		{700, 3, true, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("size=%dx%d", tt.w, tt.h), func(t *testing.T) {
			img := image.NewGray(image.Rect(0, 0, tt.w, tt.h))
			for i := range img.Pix {
				img.Pix[i] = uint8(i * 37 % 251)
			}
			for i, fl := range flavours {
				zero := []bool{tt.zeroFull, tt.zeroCLI}[i]
				h, q := fl.hash(img)
				d, dq := fl.dihedral(img)
				if zero != h.IsZero() || zero && q != 0 {
					t.Errorf("flavour=%s: hash %v quality %d", fl.name, h, q)
				}
				if d[Original] != h && !(tt.w == 64 && tt.h == 64) || dq != q {
					t.Errorf("flavour=%s: dihedral %v/%d, plain %v/%d", fl.name, d[Original], dq, h, q)
				}
			}
		})
	}
}

// TestPDQSubImage checks that a sub-image (non-zero bounds origin, shared
// Pix) hashes as a copy of its pixels, for every luma fast path.
func TestPDQSubImage(t *testing.T) {
	full := decodeVector(t, filepath.Join(vectorDir, "decoded"), "reg-test-input/labelme-subset/q1050.png").(*image.RGBA)
	r := image.Rect(13, 7, 13+200, 7+180)
	conv := map[string]func(*image.RGBA) image.Image{
		"rgba": func(m *image.RGBA) image.Image { return m },
		"nrgba": func(m *image.RGBA) image.Image {
			n := image.NewNRGBA(m.Bounds())
			for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
				for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
					n.Set(x, y, m.At(x, y))
				}
			}
			return n
		},
		"gray": func(m *image.RGBA) image.Image {
			g := image.NewGray(m.Bounds())
			for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
				for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
					g.Set(x, y, m.At(x, y))
				}
			}
			return g
		},
		"ycbcr": func(m *image.RGBA) image.Image {
			b := m.Bounds()
			y := image.NewYCbCr(b, image.YCbCrSubsampleRatio420)
			for py := b.Min.Y; py < b.Max.Y; py++ {
				for px := b.Min.X; px < b.Max.X; px++ {
					c := m.RGBAAt(px, py)
					yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
					y.Y[y.YOffset(px, py)] = yy
					y.Cb[y.COffset(px, py)] = cb
					y.Cr[y.COffset(px, py)] = cr
				}
			}
			return y
		},
		"gray16": func(m *image.RGBA) image.Image {
			g := image.NewGray16(m.Bounds())
			for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
				for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
					v := color.GrayModel.Convert(m.At(x, y)).(color.Gray).Y
					g.SetGray16(x, y, color.Gray16{Y: uint16(v)<<8 | uint16(x&0xff)}) // low byte ignored
				}
			}
			return g
		},
		"cmyk": func(m *image.RGBA) image.Image {
			c := image.NewCMYK(m.Bounds())
			for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
				for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
					p := m.RGBAAt(x, y)
					cc, mm, yy, kk := color.RGBToCMYK(p.R, p.G, p.B)
					c.SetCMYK(x, y, color.CMYK{C: cc, M: mm, Y: yy, K: kk})
				}
			}
			return c
		},
		"paletted": func(m *image.RGBA) image.Image {
			p := image.NewPaletted(m.Bounds(), palette256())
			for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
				for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
					p.Set(x, y, m.At(x, y))
				}
			}
			return p
		},
	}
	for name, c := range conv {
		t.Run("model="+name, func(t *testing.T) {
			img := c(full)
			sub := img.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(r)
			cp := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
			for y := 0; y < r.Dy(); y++ {
				for x := 0; x < r.Dx(); x++ {
					cp.Set(x, y, sub.At(r.Min.X+x, r.Min.Y+y))
				}
			}
			want, wq := PDQ(opaque{cp}) // through the generic At path
			got, gq := PDQ(sub)         // through the fast path
			if name == "gray" || name == "gray16" {
				// The grey path takes Y = grey value, the RGB path the
				// float32 formula; they may differ in low-order bits.
				if d := Distance(got, want); d > 4 {
					t.Errorf("gray sub-image %d bits from its copy", d)
				}
				return
			}
			if got != want || gq != wq {
				t.Errorf("sub-image %v/%d, copy %v/%d", got, gq, want, wq)
			}
		})
	}
}

// opaque hides an image's concrete type, forcing the generic path.
type opaque struct{ image.Image }

func palette256() color.Palette {
	p := make(color.Palette, 0, 256)
	for r := 0; r < 8; r++ {
		for g := 0; g < 8; g++ {
			for b := 0; b < 4; b++ {
				p = append(p, color.RGBA{uint8(r * 255 / 7), uint8(g * 255 / 7), uint8(b * 255 / 3), 255})
			}
		}
	}
	return p
}

// TestPDQAlphaIgnored: the colour under the alpha is hashed, as the
// reference drops the alpha channel.
func TestPDQAlphaIgnored(t *testing.T) {
	src := decodeVector(t, filepath.Join(vectorDir, "decoded"), "reg-test-input/labelme-subset/q0291.png").(*image.RGBA)
	n := image.NewNRGBA(src.Bounds())
	for i := 0; i < len(src.Pix); i += 4 {
		copy(n.Pix[i:i+3], src.Pix[i:i+3])
		n.Pix[i+3] = uint8(i / 4 % 256) // any alpha at all
	}
	want, wq := PDQ(src)
	if got, q := PDQ(n); got != want || q != wq {
		t.Errorf("translucent copy hashes %v/%d, opaque %v/%d", got, q, want, wq)
	}
}
