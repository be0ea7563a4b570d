package psi

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// elements returns n distinct 32-byte elements (like PDQ hashes).
func elements(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s-%d", prefix, i)))
		out[i] = h[:]
	}
	return out
}

// testServer is a provider with one voucher server.
type testServer struct {
	*Provider
	*Server
}

// newTestServer sets up a provider for list and, like a provider drawing
// fresh nonces, redoes it until no entry was dropped from the cuckoo table
// (small tables drop one now and then: the paper's δ false negatives, which
// TestDroppedNeverMatch covers), so that tests do not depend on the draw.
func newTestServer(tb testing.TB, list [][]byte, p Params) testServer {
	tb.Helper()
	for range 50 {
		pr, err := NewProvider(list, p)
		if err != nil {
			tb.Fatal(err)
		}
		if pr.Dropped() == 0 {
			return testServer{pr, pr.NewServer()}
		}
	}
	tb.Fatal("every table dropped an entry")
	return testServer{}
}

// download is what a device does: fetch the serialised table and check it
// against the published root.
func download(tb testing.TB, s testServer) *Table {
	tb.Helper()
	data, err := s.Table().MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	t, err := UnmarshalTable(data, s.Root())
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func newTestAccount(tb testing.TB, p Params) *Account {
	tb.Helper()
	a, err := NewAccount(p)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// wire returns a function that serialises a voucher, failing the test on
// error: wire(t)(a.Voucher(...)).
func wire(tb testing.TB) func(*Voucher, error) []byte {
	return func(v *Voucher, err error) []byte {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		b, err := v.MarshalBinary()
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
}

func id(i int) []byte { return []byte(fmt.Sprintf("img-%04d", i)) }

var smallParams = Params{Threshold: 3, ADSize: 64}

// TestPairsOpen checks the core PSI property voucher by voucher: a
// non-member's voucher opens no pair, a member's opens exactly one, and a
// synthetic voucher opens exactly one.
func TestPairsOpen(t *testing.T) {
	list := elements("list", 20)
	s := newTestServer(t, list, smallParams)
	tbl := download(t, s)
	a := newTestAccount(t, smallParams)
	tests := []struct {
		name      string
		synthetic bool
		element   []byte
		want      int
	}{
		{"kind=member", false, list[0], 1},
		{"kind=member-last", false, list[19], 1},
		{"kind=non-member", false, elements("other", 1)[0], 0},
		{"kind=empty-element", false, []byte{}, 0},
		{"kind=synthetic", true, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 8 { // both pair orders occur
				var v *Voucher
				var err error
				if tc.synthetic {
					v, err = a.Synthetic(tbl, id(i))
				} else {
					v, err = a.Voucher(tbl, id(i), tc.element, []byte("ad"))
				}
				if err != nil {
					t.Fatal(err)
				}
				got, _, err := s.tryPairs(v)
				if err != nil {
					t.Fatal(err)
				}
				// Every voucher has the same size, whatever its kind.
				if want := 2 + len(id(i)) + 2*(PointSize+ctSize) + 4 + s.p.rctSize(); v.Size() != want {
					t.Fatalf("voucher of %d bytes, want %d", v.Size(), want)
				}
				if got != tc.want {
					t.Fatalf("voucher %d: %d pairs open, want %d", i, got, tc.want)
				}
			}
		})
	}
}

// TestThreshold checks the reveal rule: t real matches reveal nothing, t+1
// reveal exactly the real matches' associated data, mixed with synthetic and
// non-matching vouchers in several orders.
func TestThreshold(t *testing.T) {
	const th = 3
	p := Params{Threshold: th, ADSize: 64}
	list := elements("list", 30)
	s := newTestServer(t, list, p)
	tbl := download(t, s)
	tests := []struct {
		real, synthetic, nonMatch int
		order                     string // "real-first", "synthetic-first", "interleaved"
		wantRevealed              bool
	}{
		{real: th, synthetic: 0, nonMatch: 5, order: "interleaved"},
		{real: th, synthetic: DefaultSyntheticFactor * th, nonMatch: 5, order: "interleaved"},
		{real: th, synthetic: DefaultSyntheticFactor * th, nonMatch: 0, order: "synthetic-first"},
		{real: th + 1, synthetic: 0, nonMatch: 5, order: "interleaved", wantRevealed: true},
		{real: th + 1, synthetic: DefaultSyntheticFactor * th, nonMatch: 5, order: "synthetic-first", wantRevealed: true},
		{real: th + 1, synthetic: DefaultSyntheticFactor * th, nonMatch: 5, order: "real-first", wantRevealed: true},
		{real: th + 5, synthetic: DefaultSyntheticFactor * th, nonMatch: 5, order: "interleaved", wantRevealed: true},
	}
	for n, tc := range tests {
		name := fmt.Sprintf("real=%d/synthetic=%d/order=%s", tc.real, tc.synthetic, tc.order)
		t.Run(name, func(t *testing.T) {
			account := fmt.Sprintf("acct-%d", n)
			a := newTestAccount(t, p)
			type item struct {
				data []byte
				real bool
				ad   []byte
				id   []byte
			}
			var reals, synth, non []item
			for i := range tc.real {
				ad := []byte(fmt.Sprintf("ad of real %d", i))
				reals = append(reals, item{wire(t)(a.Voucher(tbl, id(i), list[i], ad)), true, ad, id(i)})
			}
			for i := range tc.synthetic {
				synth = append(synth, item{data: wire(t)(a.Synthetic(tbl, id(100+i)))})
			}
			for i, e := range elements("non", tc.nonMatch) {
				non = append(non, item{data: wire(t)(a.Voucher(tbl, id(200+i), e, []byte("x")))})
			}
			var all []item
			switch tc.order {
			case "real-first":
				all = slices.Concat(reals, synth, non)
			case "synthetic-first":
				all = slices.Concat(synth, non, reals)
			default:
				for len(reals)+len(synth)+len(non) > 0 {
					for _, q := range []*[]item{&synth, &reals, &non} {
						if len(*q) > 0 {
							all = append(all, (*q)[0])
							*q = (*q)[1:]
						}
					}
				}
			}
			for _, it := range all {
				if _, err := s.Process(account, it.data); err != nil {
					t.Fatal(err)
				}
			}
			v := s.View(account)
			if v.Vouchers != tc.real+tc.synthetic+tc.nonMatch || v.Matches != tc.real+tc.synthetic {
				t.Errorf("view %+v, want %d vouchers and %d matches", v, tc.real+tc.synthetic+tc.nonMatch, tc.real+tc.synthetic)
			}
			got := s.Revealed(account)
			if !tc.wantRevealed {
				if v.Revealed || got != nil {
					t.Fatalf("revealed %d matches with only %d real", len(got), tc.real)
				}
				return
			}
			if !v.Revealed || v.Real != tc.real {
				t.Fatalf("view %+v, want revealed with %d real", v, tc.real)
			}
			want := map[string]string{}
			for _, it := range all {
				if it.real {
					want[string(it.id)] = string(it.ad)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("revealed %d matches, want %d", len(got), len(want))
			}
			for _, m := range got {
				if w, ok := want[string(m.ID)]; !ok || w != string(m.AD) {
					t.Errorf("revealed %q = %q, want %q (real: %v)", m.ID, m.AD, w, ok)
				}
			}
		})
	}
}

// TestDuplicateIDs checks that an id counts once, whether the same bytes are
// replayed or the device makes a fresh voucher for the same id.
func TestDuplicateIDs(t *testing.T) {
	const th = 3
	p := Params{Threshold: th, ADSize: 16}
	list := elements("list", 10)
	s := newTestServer(t, list, p)
	tbl := download(t, s)
	a := newTestAccount(t, p)
	for i := range th {
		v := wire(t)(a.Voucher(tbl, id(i), list[i], nil))
		if _, err := s.Process("acct", v); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Process("acct", v); !errors.Is(err, ErrDuplicateID) {
			t.Fatalf("replay: err = %v, want ErrDuplicateID", err)
		}
		// A fresh voucher for the same id and another member element.
		again := wire(t)(a.Voucher(tbl, id(i), list[th+1], nil))
		if _, err := s.Process("acct", again); !errors.Is(err, ErrDuplicateID) {
			t.Fatalf("fresh voucher, same id: err = %v, want ErrDuplicateID", err)
		}
	}
	if v := s.View("acct"); v.Revealed || v.Matches != th || v.Vouchers != th {
		t.Fatalf("after %d distinct ids and duplicates: %+v", th, v)
	}
	// The same id under another account is a different voucher.
	if _, err := s.Process("other", wire(t)(a.Voucher(tbl, id(0), list[0], nil))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Process("acct", wire(t)(a.Voucher(tbl, id(th), list[th], []byte("4th")))); err != nil {
		t.Fatal(err)
	}
	if v := s.View("acct"); !v.Revealed || v.Real != th+1 {
		t.Fatalf("after %d distinct real ids: %+v", th+1, v)
	}
}

// TestConcurrentProcess runs devices and the server from many goroutines
// (for the race detector) and checks that nothing is lost or counted twice.
func TestConcurrentProcess(t *testing.T) {
	p := Params{Threshold: 2, ADSize: 16}
	list := elements("list", 10)
	s := newTestServer(t, list, p)
	tbl := download(t, s)
	const accounts, perAccount = 4, 6
	var wg sync.WaitGroup
	for k := range accounts {
		wg.Go(func() {
			a := newTestAccount(t, p)
			var inner sync.WaitGroup
			for i := range perAccount {
				inner.Go(func() {
					v, err := a.Voucher(tbl, id(i), list[i%5], []byte{byte(i)})
					if err != nil {
						t.Error(err)
						return
					}
					b, _ := v.MarshalBinary()
					if _, err := s.Process(fmt.Sprint(k), b); err != nil {
						t.Error(err)
					}
					if _, err := s.Process(fmt.Sprint(k), b); !errors.Is(err, ErrDuplicateID) {
						t.Errorf("replay: %v", err)
					}
				})
			}
			inner.Wait()
		})
	}
	wg.Wait()
	for k := range accounts {
		v := s.View(fmt.Sprint(k))
		if v.Vouchers != perAccount || v.Matches != perAccount || !v.Revealed || v.Real != perAccount {
			t.Errorf("account %d: %+v", k, v)
		}
	}
}
