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

const (
	hashA = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
	hashB = "f0a10efd51c83d429053d48d0fffbc52e34e0e17ada956a9d29685211ea9e58f"
)

func mustHash(t testing.TB, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestReadList(t *testing.T) {
	a, b := mustHash(t, hashA), mustHash(t, hashB)
	in := "# a comment\n" +
		"\n" +
		hashA + "\n" +
		strings.ToUpper(hashB) + ",bridge rotated\r\n" +
		"  " + hashA + " , 100 , images/bridge,1.jpg  \n" +
		hashB + ",,12,not a quality\n" +
		hashA + ",7,\n" +
		hashB + ",a,b,c\n" +
		"   # indented comment\n"
	l, err := ReadList(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &List{
		Hashes:    []Hash{a, b, a, b, a, b},
		Labels:    []string{"", "bridge rotated", "images/bridge,1.jpg", "12,not a quality", "", "a,b,c"},
		Qualities: []int{-1, -1, 100, -1, 7, -1},
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("got %+v\nwant %+v", l, want)
	}
	var buf bytes.Buffer
	if _, err := l.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadList(&buf)
	if err != nil || !reflect.DeepEqual(back, l) {
		t.Errorf("round trip: %v\n%+v", err, back)
	}
}

func TestReadListErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     string
	}{
		{"short-hash", hashA + "\n" + hashA[:63] + "\n", "line 2"},
		{"long-hash", hashA + "0\n", "line 1"},
		{"non-hex", "\n\n" + strings.Replace(hashA, "d", "g", 1) + ",x\n", "line 3"},
		{"quality-too-high", hashA + ",140,file.jpg\n", "line 1"},
		{"control-character", hashA + ",a\x00b\n", "line 1"},
		{"bad-utf8", hashA + ",\xff\n", "line 1"},
		{"text", "hello\n", "line 1"},
		{"too-long", hashA + "," + strings.Repeat("x", maxLine) + "\n", "line 1"},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			_, err := ReadList(strings.NewReader(tt.in))
			if !errors.Is(err, ErrListSyntax) || !strings.Contains(err.Error(), tt.line+":") {
				t.Errorf("err = %v, want ErrListSyntax at %s", err, tt.line)
			}
		})
	}
}

func TestWriteListRefuses(t *testing.T) {
	a := mustHash(t, hashA)
	for _, l := range []*List{
		{Hashes: []Hash{a}, Labels: []string{"two\nlines"}, Qualities: []int{-1}},
		{Hashes: []Hash{a}, Labels: []string{" padded"}, Qualities: []int{-1}},
		{Hashes: []Hash{a}, Labels: []string{"x"}, Qualities: []int{101}},
		{Hashes: []Hash{a}, Labels: nil, Qualities: []int{-1}},
	} {
		var buf bytes.Buffer
		if _, err := l.WriteTo(&buf); err == nil || buf.Len() != 0 {
			t.Errorf("%+v: err %v, wrote %q", l, err, buf.String())
		}
	}
}

// TestReadListUpstream reads Meta's haystack and needles lists.
func TestReadListUpstream(t *testing.T) {
	for _, f := range []struct {
		name string
		n    int
	}{{"haystack.txt", 1350}, {"needles.txt", 100}} {
		data, err := os.ReadFile(filepath.Join(vectorDir, "matching", f.name))
		if err != nil {
			t.Fatal(err)
		}
		l, err := ReadList(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if l.Len() != f.n {
			t.Errorf("%s: %d entries, want %d", f.name, l.Len(), f.n)
		}
	}
}

func TestParseHash(t *testing.T) {
	h, err := ParseHash(hashA)
	if err != nil || h.String() != hashA {
		t.Fatalf("ParseHash(%s) = %v, %v", hashA, h, err)
	}
	if up, err := ParseHash(strings.ToUpper(hashA)); err != nil || up != h {
		t.Errorf("upper case: %v, %v", up, err)
	}
	// The reference's bit order: bit 0 is the low bit of the last word,
	// so of the last hex digit; bit 255 the high bit of the first.
	var z Hash
	z.setBit(0)
	z.setBit(255)
	z.setBit(17)
	if got := z.String(); got != "8000"+strings.Repeat("0", 52)+"00020001" {
		t.Errorf("bits 0, 17, 255: %s", got)
	}
	if !z.Bit(0) || !z.Bit(17) || !z.Bit(255) || z.Bit(1) {
		t.Error("Bit disagrees with setBit")
	}
	for _, bad := range []string{"", hashA[:62], hashA + "00", " " + hashA[1:], "0x" + hashA[2:], strings.Replace(hashA, "d", "z", 1)} {
		if _, err := ParseHash(bad); !errors.Is(err, ErrHashSyntax) {
			t.Errorf("ParseHash(%q) err = %v", bad, err)
		}
	}
	var u Hash
	if err := u.UnmarshalText([]byte(hashB)); err != nil || u.String() != hashB {
		t.Errorf("UnmarshalText: %v %v", u, err)
	}
	if txt, _ := u.MarshalText(); string(txt) != hashB {
		t.Errorf("MarshalText: %s", txt)
	}
}
