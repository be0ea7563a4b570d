package clientscan

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"scanlab/clientscan/psi"
)

var update = flag.Bool("update", false, "rewrite the fuzz seeds in testdata")

// TestSeeds writes (with -update) and checks the decoder seeds in testdata:
// a voucher attachment and a plain-list match report.
func TestSeeds(t *testing.T) {
	if *update {
		f := newFixture(t, 1)
		b := newBench(t, Options{List: f.hashes, Threshold: 2, SyntheticRate: -1})
		files := map[string][]byte{
			"voucher.bin":      b.seal(t, img(f.data[0])).Attach[AttachVoucher],
			"plain-report.bin": encodeAD(f.hashes[0], f.derivative[0]),
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join("testdata", name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := psi.ParseVoucher(readSeed(t, "voucher.bin")); err != nil {
		t.Fatalf("voucher seed: %v", err)
	}
	if _, _, err := decodeAD(readSeed(t, "plain-report.bin")); err != nil {
		t.Fatalf("plain report seed: %v", err)
	}
	if _, _, err := decodeAD(readSeed(t, "plain-report.bin")[1:]); !errors.Is(err, ErrAD) {
		t.Fatalf("short plain report: %v", err)
	}
}

func readSeed(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
