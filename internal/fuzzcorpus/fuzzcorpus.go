// Package fuzzcorpus writes seed-corpus entries for Go fuzz targets, in the
// file format go test reads from testdata/fuzz/<target>/, so that packages
// can regenerate their seeds from genuine inputs with one helper.
//
// # Who sees what
//
// Seeds are test inputs: never real keys or messages.
package fuzzcorpus

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Write stores one corpus entry for target under testdata/fuzz in the
// current directory, named by the hash of its contents. args are the fuzz
// function's arguments after *testing.T: []byte, string, uint8, uint16,
// uint32, uint64, int or bool.
func Write(t testing.TB, target string, args ...any) {
	t.Helper()
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%d)\n", v)
		case uint16:
			fmt.Fprintf(&b, "uint16(%d)\n", v)
		case uint32:
			fmt.Fprintf(&b, "uint32(%d)\n", v)
		case uint64:
			fmt.Fprintf(&b, "uint64(%d)\n", v)
		case int:
			fmt.Fprintf(&b, "int(%d)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%t)\n", v)
		default:
			t.Fatalf("fuzzcorpus: unsupported seed type %T", a)
		}
	}
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("seed-%x", sha256.Sum256([]byte(b.String())))[:21]
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
