package perceptual

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// pngHeader returns a PNG signature and IHDR chunk declaring a w×h RGBA
// image, with a valid CRC and no pixel data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIF(t testing.TB, w, h int) []byte {
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White})
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 3 % 2)
	}
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeFormats(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		w, h int
	}{
		{"jpeg", decodeFile(t, filepath.Join(vectorDir, "images/misc-images/wee.jpg")), 34, 42},
		{"png", decodeFile(t, filepath.Join(vectorDir, "decoded/misc-images/wee.png")), 34, 42},
		{"gif", encodeGIF(t, 20, 10), 20, 10},
		{"webp", decodeFile(t, filepath.Join("testdata", "blue-purple-pink.lossy.webp")), 150, 100},
	}
	for _, tt := range tests {
		t.Run("format="+tt.name, func(t *testing.T) {
			img, err := DecodeImage(tt.data, 0)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
				t.Errorf("size %v, want %dx%d", b.Size(), tt.w, tt.h)
			}
			if h, q := PDQ(img); h.IsZero() || q < 0 || q > 100 {
				t.Errorf("PDQ %v quality %d", h, q)
			}
		})
	}
}

func TestDecodeBadInput(t *testing.T) {
	jpg := decodeFile(t, filepath.Join(vectorDir, "images/reg-test-input/labelme-subset/q0122.jpg"))
	pngData := decodeFile(t, filepath.Join(vectorDir, "decoded/misc-images/wee.png"))
	zeroGIF := encodeGIF(t, 4, 4)
	zeroGIF[6], zeroGIF[7] = 0, 0 // logical screen width 0
	tests := []struct {
		name string
		data []byte
		max  int
		want error // nil: any error will do
	}{
		{"empty", nil, 0, ErrNotImage},
		{"text", []byte("this is not an image\n"), 0, ErrNotImage},
		{"html", []byte("<!doctype html><title>x</title>"), 0, ErrNotImage},
		{"jpeg-header-only", jpg[:20], 0, nil},
		{"jpeg-truncated", jpg[:len(jpg)/2], 0, ErrTruncated},
		{"png-truncated", pngData[:len(pngData)-40], 0, ErrTruncated},
		{"png-signature-only", pngData[:8], 0, ErrTruncated},
		{"png-zero-width", pngHeader(0, 10), 0, nil},
		{"gif-truncated", encodeGIF(t, 40, 40)[:60], 0, ErrTruncated},
		{"webp-truncated", decodeFile(t, filepath.Join("testdata", "blue-purple-pink.lossy.webp"))[:1000], 0, ErrTruncated},
		{"gif-zero-width", zeroGIF, 0, ErrEmptyImage},
		{"bomb-png", pngHeader(100_000, 100_000), 0, ErrTooLarge},
		{"bomb-png-overflow", pngHeader(0x7fff_ffff, 0x7fff_ffff), 0, nil}, // the PNG decoder refuses it itself
		{"over-limit", pngData, 34*42 - 1, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			img, err := DecodeImage(tt.data, tt.max)
			if err == nil {
				t.Fatalf("decoded %v", img.Bounds())
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			t.Logf("%v", err)
		})
	}
	if _, err := DecodeImage(pngData, 34*42); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

// TestDecodeBombCheap: refusing a decompression bomb must not allocate
// the pixels it declares.
func TestDecodeBombCheap(t *testing.T) {
	bomb := pngHeader(60_000, 60_000) // 3.6 gigapixels, 14 GB as RGBA
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, err := DecodeImage(bomb, 0); !errors.Is(err, ErrTooLarge) {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("refusing 10 bombs allocated %d bytes", got)
	}
}

// TestDecodeTiny: images under 5 pixels decode, and PDQ gives the zero
// hash and quality 0 as the reference does.
func TestDecodeTiny(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 4))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 29)
	}
	got, err := DecodeImage(encodePNG(t, img), 0)
	if err != nil {
		t.Fatal(err)
	}
	if h, q := PDQ(got); !h.IsZero() || q != 0 {
		t.Errorf("3×4 image: hash %v quality %d", h, q)
	}
	if h, q := PDQ512(got); !h.IsZero() || q != 0 {
		t.Errorf("3×4 image, 512 flavour: hash %v quality %d", h, q)
	}
}

// manyScans returns a progressive JPEG with its last scan repeated n more
// times: a few bytes per scan, each a pass over the whole image.
func manyScans(t *testing.T, n int) []byte {
	jpg := decodeFile(t, filepath.Join(vectorDir, "images/misc-images/small.jpg")) // progressive
	last := bytes.LastIndex(jpg, []byte{0xff, 0xda})
	end := len(jpg) - 2 // before EOI
	if last < 0 || !bytes.HasSuffix(jpg, []byte{0xff, 0xd9}) {
		t.Fatal("small.jpg is not the progressive JPEG expected")
	}
	out := append([]byte(nil), jpg[:end]...)
	for range n {
		out = append(out, jpg[last:end]...)
	}
	return append(out, 0xff, 0xd9)
}

func TestJPEGScans(t *testing.T) {
	for _, f := range []string{"misc-images/small.jpg", "misc-images/wee.jpg", "reg-test-input/dih/bridge-2-rotate-90.jpg", "bridge-mods/aaa-orig.jpg"} {
		n := jpegScans(decodeFile(t, filepath.Join(vectorDir, "images", f)))
		if n < 1 || n > 20 {
			t.Errorf("%s: %d scans", f, n)
		}
	}
	base := jpegScans(decodeFile(t, filepath.Join(vectorDir, "images/misc-images/small.jpg")))
	if got := jpegScans(manyScans(t, 50)); got != base+50 {
		t.Errorf("50 extra scans counted as %d extra", got-base)
	}
	_, err := DecodeImage(manyScans(t, maxJPEGScans), 0)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "scans") {
		t.Errorf("JPEG with %d scans: %v", maxJPEGScans+base, err)
	}
}
