package psi

import (
	"fmt"
	"testing"
)

// benchParams are the paper's threshold t = 30 with the default s = 2t and
// 1 KiB of associated data.
var benchParams = Params{Threshold: 30, ADSize: 1024}

const benchListSize = 1000

type benchSetup struct {
	s    testServer
	tbl  *Table
	a    *Account
	list [][]byte
}

func newBench(b *testing.B) benchSetup {
	b.Helper()
	list := elements("bench", benchListSize)
	s := newTestServer(b, list, benchParams)
	return benchSetup{s, download(b, s), newTestAccount(b, benchParams), list}
}

// BenchmarkVoucher measures the device's cost per image (a real voucher)
// and reports its size.
func BenchmarkVoucher(b *testing.B) {
	e := newBench(b)
	for _, member := range []bool{true, false} {
		b.Run(fmt.Sprintf("member=%v", member), func(b *testing.B) {
			element := []byte("not a member")
			if member {
				element = e.list[7]
			}
			ad := make([]byte, benchParams.ADSize)
			var size int
			for b.Loop() {
				v, err := e.a.Voucher(e.tbl, []byte("img-000001"), element, ad)
				if err != nil {
					b.Fatal(err)
				}
				size = v.Size()
			}
			b.ReportMetric(float64(size), "bytes/voucher")
		})
	}
}

// BenchmarkVoucherSynthetic measures a synthetic voucher.
func BenchmarkVoucherSynthetic(b *testing.B) {
	e := newBench(b)
	var size int
	for b.Loop() {
		v, err := e.a.Synthetic(e.tbl, []byte("img-000001"))
		if err != nil {
			b.Fatal(err)
		}
		size = v.Size()
	}
	b.ReportMetric(float64(size), "bytes/voucher")
}

// BenchmarkServerProcessVoucher measures Process per voucher (decode, two
// scalar multiplications, the decryption attempts, bookkeeping) below the
// threshold.
func BenchmarkServerProcessVoucher(b *testing.B) {
	e := newBench(b)
	for _, kind := range []string{"member", "non-member", "synthetic"} {
		b.Run("kind="+kind, func(b *testing.B) {
			var data []byte
			switch kind {
			case "member":
				data = wire(b)(e.a.Voucher(e.tbl, []byte("img"), e.list[3], nil))
			case "non-member":
				data = wire(b)(e.a.Voucher(e.tbl, []byte("img"), []byte("other"), nil))
			default:
				data = wire(b)(e.a.Synthetic(e.tbl, []byte("img")))
			}
			// Forget the account after each voucher, so that the id does not
			// repeat, no account nears the threshold and state does not grow.
			for b.Loop() {
				if _, err := e.s.Process(kind, data); err != nil {
					b.Fatal(err)
				}
				e.s.mu.Lock()
				delete(e.s.accounts, kind)
				e.s.mu.Unlock()
			}
			b.ReportMetric(float64(len(data)), "bytes/voucher")
		})
	}
}

// BenchmarkReveal measures the work when the (t+1)-th real match of an
// account arrives at t = 30: detectable-hash detection over all matches,
// Lagrange interpolation of the key and opening every real match.
func BenchmarkReveal(b *testing.B) {
	e := newBench(b)
	th := benchParams.Threshold
	for _, synthetic := range []int{0, th, DefaultSyntheticFactor * th} {
		b.Run(fmt.Sprintf("t=%d/synthetic=%d", th, synthetic), func(b *testing.B) {
			var recs []matchRecord
			add := func(v *Voucher, err error) {
				if err != nil {
					b.Fatal(err)
				}
				rec, ok, err := e.s.open(v)
				if err != nil || !ok {
					b.Fatal("voucher did not match", err)
				}
				recs = append(recs, rec)
			}
			for i := range synthetic {
				add(e.a.Synthetic(e.tbl, id(1000+i)))
			}
			for i := range th + 1 {
				add(e.a.Voucher(e.tbl, id(i), e.list[i], make([]byte, 100)))
			}
			for b.Loop() {
				st := &accountState{matches: recs}
				e.s.afterMatch(st)
				if !st.revealed || len(st.opened) != th+1 {
					b.Fatalf("revealed %v with %d matches", st.revealed, len(st.opened))
				}
			}
		})
	}
}

// BenchmarkNewProvider measures server setup and reports the table size per
// list entry and per slot.
func BenchmarkNewProvider(b *testing.B) {
	list := elements("bench", benchListSize)
	var s testServer
	for b.Loop() {
		s = newTestServer(b, list, benchParams)
	}
	data, _ := s.Table().MarshalBinary()
	b.ReportMetric(float64(len(data))/float64(len(list)), "bytes/entry")
	b.ReportMetric(float64(len(data))/float64(s.Table().Slots()), "bytes/slot")
}

// BenchmarkUnmarshalTable measures the device's checks on a downloaded table.
func BenchmarkUnmarshalTable(b *testing.B) {
	s := newTestServer(b, elements("bench", benchListSize), benchParams)
	data, _ := s.Table().MarshalBinary()
	for b.Loop() {
		if _, err := UnmarshalTable(data, s.Root()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data))/benchListSize, "bytes/entry")
}
