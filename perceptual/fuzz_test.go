package perceptual

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fuzzMaxPixels keeps fuzzed images small so each run is fast.
const fuzzMaxPixels = 1 << 20

// FuzzDecodeImage feeds arbitrary bytes to the decoder entry point and
// every hash: nothing may panic, a decoded image must respect the pixel
// limit, and qualities stay in 0..100.
func FuzzDecodeImage(f *testing.F) {
	for _, p := range []string{
		"pdq/images/misc-images/wee.jpg",
		"pdq/images/misc-images/small.jpg",
		"pdq/images/reg-test-input/labelme-subset/q0003.jpg",
		"pdq/decoded/misc-images/wee.png",
		"blue-purple-pink.lossy.webp",
	} {
		data, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(encodeGIF(f, 9, 7))
	f.Add(pngHeader(100_000, 100_000))
	f.Add([]byte("not an image"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeImage(data, fuzzMaxPixels)
		if err != nil {
			if img != nil {
				t.Fatal("image and error")
			}
			return
		}
		b := img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > fuzzMaxPixels {
			t.Fatalf("decoded %v past the checks", b)
		}
		for _, fl := range flavours {
			if _, q := fl.hash(img); q < 0 || q > 100 {
				t.Fatalf("quality %d", q)
			}
			fl.dihedral(img)
		}
		PHash(img)
		DHash(img)
	})
}

// FuzzParseHash: ParseHash accepts exactly 64 hex digits, and what it
// accepts prints back as the same digits in lower case.
func FuzzParseHash(f *testing.F) {
	f.Add(hashA)
	f.Add(strings.ToUpper(hashB))
	f.Add(hashA[:63] + "g")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHash(s)
		if err != nil {
			if !errors.Is(err, ErrHashSyntax) {
				t.Fatalf("error %v does not wrap ErrHashSyntax", err)
			}
			return
		}
		if h.String() != strings.ToLower(s) {
			t.Fatalf("%q printed back as %q", s, h)
		}
	})
}

// FuzzReadList: whatever ReadList accepts, WriteTo writes and ReadList
// reads back identically.
func FuzzReadList(f *testing.F) {
	// The first lines of Meta's list only: the fuzzer minimises every new
	// input it finds, which is slow for inputs grown from a long seed.
	data, err := os.ReadFile(filepath.Join(vectorDir, "matching", "needles.txt"))
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	f.Add([]byte(strings.Join(lines[:min(8, len(lines))], "")))
	f.Add([]byte("# list\n" + hashA + ",label\n" + hashB + ",100,a.jpg\r\n" + hashA + ",,7,x\n\n"))
	f.Add([]byte(hashA + ", 12 ,\n" + hashB + ",,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ReadList(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrListSyntax) {
				t.Fatalf("error %v does not wrap ErrListSyntax", err)
			}
			return
		}
		var buf bytes.Buffer
		if _, err := l.WriteTo(&buf); err != nil {
			t.Fatalf("cannot write a list just read: %v", err)
		}
		back, err := ReadList(&buf)
		if err != nil {
			t.Fatalf("cannot read a list just written: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(back, l) {
			t.Fatalf("round trip changed the list:\n%+v\n%+v", l, back)
		}
	})
}
