package psi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// TestBadVouchers feeds broken vouchers to the server: each gives its
// sentinel error, never a panic, and leaves the stored state as it was (a
// later valid voucher with the same id is still accepted).
func TestBadVouchers(t *testing.T) {
	p := Params{Threshold: 2, ADSize: 16}
	list := elements("list", 8)
	s := newTestServer(t, list, p)
	tbl := download(t, s)
	a := newTestAccount(t, p)
	good := wire(t)(a.Voucher(tbl, []byte("bad"), list[0], []byte("ad")))
	synth, err := a.Synthetic(tbl, []byte("bad"))
	if err != nil {
		t.Fatal(err)
	}
	// Offsets in the serialised voucher.
	q0 := 2 + len("bad")
	ct0 := q0 + PointSize
	q1 := ct0 + ctSize

	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	offCurve := edit(func(b []byte) []byte {
		// Find an x for which x³ − 3x + b is not a square mod p.
		for x := byte(1); ; x++ {
			enc := append([]byte{2}, make([]byte, 32)...)
			enc[32] = x
			if !validPoint(enc) {
				copy(b[q0:], enc)
				return b
			}
		}
	})
	bothOpen := func() []byte {
		// Copy the always-opening pair of a synthetic voucher over the other.
		v := *synth
		for j := range 2 {
			w := v
			w.q[1-j], w.ct[1-j] = w.q[j], w.ct[j]
			if n, _, _ := s.tryPairs(&w); n == 2 {
				b, _ := w.MarshalBinary()
				return b
			}
		}
		t.Fatal("no pair opened")
		return nil
	}()

	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"case=empty", nil, ErrMalformed},
		{"case=version", edit(func(b []byte) []byte { b[0] = 9; return b }), ErrMalformed},
		{"case=id-zero", edit(func(b []byte) []byte { b[1] = 0; return b }), ErrMalformed},
		{"case=id-long", edit(func(b []byte) []byte { b[1] = MaxIDSize + 1; return b }), ErrMalformed},
		{"case=truncated", good[:len(good)-1], ErrMalformed},
		{"case=truncated-header", good[:q1], ErrMalformed},
		{"case=trailing", append(bytes.Clone(good), 0), ErrMalformed},
		{"case=rct-length", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[q1+PointSize+ctSize:], 1<<31)
			return b
		}), ErrMalformed},
		{"case=rct-short-for-params", edit(func(b []byte) []byte {
			off := q1 + PointSize + ctSize
			binary.BigEndian.PutUint32(b[off:], uint32(len(b)-off-4-1))
			return b[:len(b)-1]
		}), ErrMalformed},
		{"case=huge", make([]byte, MaxVoucherSize+1), ErrMalformed},
		{"case=identity-point", edit(func(b []byte) []byte { clear(b[q0 : q0+PointSize]); return b }), ErrBadPoint},
		{"case=uncompressed-prefix", edit(func(b []byte) []byte { b[q1] = 4; return b }), ErrBadPoint},
		{"case=off-curve", offCurve, ErrBadPoint},
		{"case=x-not-canonical", edit(func(b []byte) []byte {
			b[q0] = 2
			for i := 1; i < PointSize; i++ {
				b[q0+i] = 0xff
			}
			return b
		}), ErrBadPoint},
		{"case=both-open", bothOpen, ErrBothOpen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := s.View("acct")
			matched, err := s.Process("acct", tc.data)
			if !errors.Is(err, tc.want) || matched {
				t.Fatalf("Process = %v, %v; want false, %v", matched, err, tc.want)
			}
			if after := s.View("acct"); after != before {
				t.Fatalf("view changed from %+v to %+v", before, after)
			}
		})
	}
	// Neither pair opening is the ordinary non-member case: no error.
	non := wire(t)(a.Voucher(tbl, []byte("non"), []byte("not in the list"), nil))
	if matched, err := s.Process("acct", non); err != nil || matched {
		t.Fatalf("non-member: %v, %v", matched, err)
	}
	// A tampered ciphertext makes the pair fail to open: a non-match.
	tampered := edit(func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
	if matched, err := s.Process("acct", tampered); err != nil || matched {
		t.Fatalf("tampered rct: %v, %v", matched, err)
	}
	// Nothing stored was lost: the id "bad" was consumed only by the
	// tampered voucher, the others were rejected before being recorded.
	if v := s.View("acct"); v.Vouchers != 2 || v.Matches != 0 {
		t.Fatalf("view %+v, want 2 vouchers, 0 matches", v)
	}
}

// TestDeviceInput checks the device's own argument checks.
func TestDeviceInput(t *testing.T) {
	p := Params{Threshold: 2, ADSize: 16}
	s := newTestServer(t, elements("list", 4), p)
	tbl := download(t, s)
	a := newTestAccount(t, p)
	if _, err := a.Voucher(tbl, nil, []byte("y"), nil); !errors.Is(err, ErrBadID) {
		t.Errorf("empty id: %v", err)
	}
	if _, err := a.Voucher(tbl, make([]byte, MaxIDSize+1), []byte("y"), nil); !errors.Is(err, ErrBadID) {
		t.Errorf("long id: %v", err)
	}
	if _, err := a.Synthetic(tbl, nil); !errors.Is(err, ErrBadID) {
		t.Errorf("synthetic, empty id: %v", err)
	}
	if _, err := a.Voucher(tbl, []byte("i"), []byte("y"), make([]byte, 17)); !errors.Is(err, ErrADTooLong) {
		t.Errorf("long ad: %v", err)
	}
	for _, bad := range []Params{{}, {Threshold: -1}, {Threshold: 2, SyntheticRate: 1}, {Threshold: 2, SyntheticRate: -0.1},
		{Threshold: 2, MaxSynthetic: MaxSyntheticLimit + 1}, {Threshold: 2, ADSize: MaxADSize + 1}, {Threshold: 2, TableFactor: 0.5}} {
		if _, err := NewAccount(bad); err == nil {
			t.Errorf("NewAccount(%+v) accepted", bad)
		}
		if _, err := NewProvider(nil, bad); err == nil {
			t.Errorf("NewProvider(%+v) accepted", bad)
		}
	}
}

// TestTableRefusal checks that a device refuses a table with a forged root,
// a repeated point, the identity or an invalid point, and bad structure.
func TestTableRefusal(t *testing.T) {
	s := newTestServer(t, elements("list", 5), Params{Threshold: 2})
	good, _ := s.Table().MarshalBinary()
	slot := func(i int) int { return tableHeaderSize + i*PointSize }
	lOff := len(tableMagic) + 3*NonceSize
	// withRoot edits the table and returns it with a root recomputed over the
	// edit, as a malicious server that publishes the root of its own bad
	// table would.
	withRoot := func(f func(b []byte)) ([]byte, [32]byte) {
		b := bytes.Clone(good)
		f(b)
		return b, tableRoot(b)
	}
	type tc struct {
		name string
		data []byte
		root [32]byte
		want error
	}
	var tests []tc
	add := func(name string, want error, f func(b []byte)) {
		b, r := withRoot(f)
		tests = append(tests, tc{name, b, r, want})
	}
	forged := s.Root()
	forged[0] ^= 1
	tests = append(tests, tc{"case=forged-root", good, forged, ErrTableRoot})
	tests = append(tests, tc{"case=truncated", good[:len(good)-1], tableRoot(good[:len(good)-1]), ErrBadTable})
	tests = append(tests, tc{"case=empty", nil, tableRoot(nil), ErrBadTable})
	add("case=repeated-point", ErrRepeatedPoint, func(b []byte) { copy(b[slot(1):slot(2)], b[slot(0):slot(1)]) })
	add("case=slot-equals-L", ErrRepeatedPoint, func(b []byte) { copy(b[slot(3):slot(4)], b[lOff:lOff+PointSize]) })
	add("case=identity-slot", ErrBadPoint, func(b []byte) { clear(b[slot(2):slot(3)]) })
	add("case=identity-L", ErrBadPoint, func(b []byte) { clear(b[lOff : lOff+PointSize]) })
	add("case=off-curve", ErrBadPoint, func(b []byte) {
		for x := byte(1); ; x++ {
			enc := append([]byte{3}, make([]byte, 32)...)
			enc[32] = x
			if !validPoint(enc) {
				copy(b[slot(0):], enc)
				return
			}
		}
	})
	add("case=magic", ErrBadTable, func(b []byte) { b[0] ^= 1 })
	add("case=count-high", ErrBadTable, func(b []byte) { binary.BigEndian.PutUint32(b[tableHeaderSize-4:], uint32(s.Table().Slots()+1)) })
	add("case=count-huge", ErrBadTable, func(b []byte) { binary.BigEndian.PutUint32(b[tableHeaderSize-4:], MaxTableSlots+1) })
	add("case=count-one", ErrBadTable, func(b []byte) { binary.BigEndian.PutUint32(b[tableHeaderSize-4:], 1) })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl, err := UnmarshalTable(tc.data, tc.root)
			if !errors.Is(err, tc.want) || tbl != nil {
				t.Fatalf("UnmarshalTable = %v, %v; want nil, %v", tbl, err, tc.want)
			}
		})
	}
	tbl, err := UnmarshalTable(good, s.Root())
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := tbl.MarshalBinary(); !bytes.Equal(again, good) || tbl.Root() != s.Root() {
		t.Fatal("table does not round-trip")
	}
}
