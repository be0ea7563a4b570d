package psi

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the fuzz seeds in testdata")

// fuzzParams are the parameters of the seeds in testdata.
var fuzzParams = Params{Threshold: 2, ADSize: 16}

// TestSeeds writes (with -update) and checks the decoder seeds in testdata:
// a table, a real voucher, a synthetic voucher and a non-member voucher.
func TestSeeds(t *testing.T) {
	if *update {
		list := elements("seed", 4)
		s := newTestServer(t, list, fuzzParams)
		tbl := download(t, s)
		a := newTestAccount(t, fuzzParams)
		data, _ := tbl.MarshalBinary()
		root := tbl.Root()
		files := map[string][]byte{
			"table.bin":             data,
			"table.root":            root[:],
			"voucher-real.bin":      wire(t)(a.Voucher(tbl, []byte("seed-1"), list[0], []byte("associated data"))),
			"voucher-synthetic.bin": wire(t)(a.Synthetic(tbl, []byte("seed-2"))),
			"voucher-nonmember.bin": wire(t)(a.Voucher(tbl, []byte("seed-3"), []byte("no"), nil)),
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	table, root := readSeed(t, "table.bin"), readSeed(t, "table.root")
	if _, err := UnmarshalTable(table, [32]byte(root)); err != nil {
		t.Fatalf("seed table: %v", err)
	}
	for _, name := range []string{"voucher-real.bin", "voucher-synthetic.bin", "voucher-nonmember.bin"} {
		if _, err := ParseVoucher(readSeed(t, name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
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

var fuzzServer = sync.OnceValues(func() (testServer, error) {
	pr, err := NewProvider(elements("fuzz", 4), fuzzParams)
	if err != nil {
		return testServer{}, err
	}
	return testServer{pr, pr.NewServer()}, nil
})

// FuzzParseVoucher checks that the voucher decoder never panics, accepts only
// what it can re-encode byte for byte, and that the server answers any input
// with a match result or one of its sentinel errors.
func FuzzParseVoucher(f *testing.F) {
	for _, name := range []string{"voucher-real.bin", "voucher-synthetic.bin", "voucher-nonmember.bin"} {
		f.Add(readSeed(f, name))
	}
	s, err := fuzzServer()
	if err != nil {
		f.Fatal(err)
	}
	// Vouchers this server can open, so mutations reach the inner decoder.
	a := newTestAccount(f, fuzzParams)
	f.Add(wire(f)(a.Voucher(s.Table(), []byte("m"), elements("fuzz", 1)[0], []byte("ad"))))
	f.Add(wire(f)(a.Synthetic(s.Table(), []byte("s"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseVoucher(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error without sentinel: %v", err)
			}
		} else if out, _ := v.MarshalBinary(); !bytes.Equal(out, data) {
			t.Fatal("voucher does not round-trip")
		}
		_, err = s.Process("fuzz", data)
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadPoint) &&
			!errors.Is(err, ErrBothOpen) && !errors.Is(err, ErrDuplicateID) {
			t.Fatalf("Process error without sentinel: %v", err)
		}
	})
}

// FuzzUnmarshalTable checks that the table decoder never panics, accepts only
// tables it re-encodes byte for byte, and that an accepted table is usable.
// The root is computed over the input, as a server publishing a bad table
// would, so that inputs reach the point checks.
func FuzzUnmarshalTable(f *testing.F) {
	f.Add(readSeed(f, "table.bin"))
	a := newTestAccount(f, fuzzParams)
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, err := UnmarshalTable(data, tableRoot(data))
		if err != nil {
			if !errors.Is(err, ErrBadTable) && !errors.Is(err, ErrBadPoint) && !errors.Is(err, ErrRepeatedPoint) {
				t.Fatalf("error without sentinel: %v", err)
			}
			return
		}
		if out, _ := tbl.MarshalBinary(); !bytes.Equal(out, data) {
			t.Fatal("table does not round-trip")
		}
		if _, err := a.Voucher(tbl, []byte("id"), []byte("element"), nil); err != nil {
			t.Fatalf("accepted table unusable: %v", err)
		}
	})
}
