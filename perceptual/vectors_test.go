package perceptual

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// vector is one row of an expected-*.tsv file from the PDQ reference.
type vector struct {
	file    string
	quality int
	hashes  []Hash // one, or the eight dihedral hashes
}

// readVectors reads a tab-separated table written by the reference runs:
// a header, then filename, hash, quality (or filename, quality, 8 hashes
// for the dihedral table).
func readVectors(t *testing.T, path string) []vector {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			continue
		}
		fields := strings.Split(sc.Text(), "\t")
		var v vector
		var hexes []string
		var q string
		switch len(fields) {
		case 3:
			v.file, hexes, q = fields[0], fields[1:2], fields[2]
		case 10:
			v.file, q, hexes = fields[0], fields[1], fields[2:]
		default:
			t.Fatalf("%s:%d: %d fields", path, n, len(fields))
		}
		if v.quality, err = strconv.Atoi(q); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		for _, x := range hexes {
			h, err := ParseHash(x)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			v.hashes = append(v.hashes, h)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatalf("%s: no vectors", path)
	}
	return vs
}

func decodeFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var vectorDir = filepath.Join("testdata", "pdq")
