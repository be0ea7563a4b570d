package e2ee

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "write the fuzz seed corpora under testdata/fuzz")

// writeSeed stores one corpus entry in the format go test -fuzz reads.
func writeSeed(t *testing.T, target string, args ...any) {
	t.Helper()
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%d)\n", v)
		case uint16:
			fmt.Fprintf(&b, "uint16(%d)\n", v)
		default:
			t.Fatalf("unsupported seed type %T", a)
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

// TestWriteFuzzSeeds regenerates testdata/fuzz when run with
// -write-fuzz-seeds. The decryption seeds come from fixedPair, so they
// still decrypt in later runs; the report seeds verify only under the fixed
// server key the fuzz targets use.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to regenerate")
	}
	alice, _ := fixedPair(t)
	for i := range 5 {
		w, c, err := alice.Encrypt([]byte(fmt.Sprint("genuine ", i)), fuzzAD)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			continue // the fuzz target delivers its own first message
		}
		writeSeed(t, "FuzzDecrypt", w, c[:])
		writeSeed(t, "FuzzParseHeader", w)
		truncated := w[:HeaderSize+TagSize]
		writeSeed(t, "FuzzDecrypt", truncated, c[:])
		if i == 1 {
			bad := append([]byte{}, w...)
			bad[0] = 2
			writeSeed(t, "FuzzParseHeader", bad)
			far := append([]byte{}, w...)
			far[1+KeySize+4] = 0x7f
			writeSeed(t, "FuzzDecrypt", far, c[:])
		}
	}
	for _, pq := range []bool{false, true} {
		idA, _ := NewIdentity()
		idB, _ := NewIdentity()
		_, kb, _ := idB.NewPrekeys(1, pq)
		writeSeed(t, "FuzzParseBundle", kb.Identity, kb.OneTime[0])
		b, _ := ParseBundle(kb)
		_, _, m, _ := Initiate(idA, b, DefaultProfile)
		writeSeed(t, "FuzzParseInitMessage", m.Marshal())
	}
	w := newWorld(t, Options{}, "alice", "bob")
	srv, err := NewServer(testEnv(fuzzServerKey))
	if err != nil {
		t.Fatal(err)
	}
	w.srv = srv
	for i := range 3 {
		m := w.send("alice", "bob", fmt.Sprint("report me ", i))
		r, err := w.devs["bob"].Report(m)
		if err != nil {
			t.Fatal(err)
		}
		writeSeed(t, "FuzzVerifyReport", r.Evidence)
	}
	r, err := w.devs["bob"].ReportLast("alice", 3)
	if err != nil {
		t.Fatal(err)
	}
	writeSeed(t, "FuzzVerifyReport", r.Evidence)
	writeSeed(t, "FuzzReportMutation", uint8(1), uint16(77), uint8(0x40))
}
