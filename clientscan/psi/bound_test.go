package psi

import (
	"fmt"
	"math/big"
	"testing"
)

// openedRecords makes real vouchers for the first n list entries and
// synthetic vouchers for m more identifiers with one account, and opens them
// with the provider's α as the server does: the records a server holds
// below the threshold, with their ground truth.
func openedRecords(t *testing.T, th, n, m int) (a *Account, real, synthetic []matchRecord) {
	t.Helper()
	p := Params{Threshold: th, ADSize: 16}
	list := elements("bound", n)
	s := newTestServer(t, list, p)
	tbl := download(t, s)
	a = newTestAccount(t, p)
	open := func(v *Voucher, err error) matchRecord {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		rec, ok, err := s.open(v)
		if err != nil || !ok {
			t.Fatalf("voucher did not open: %v", err)
		}
		return rec
	}
	for i := range n {
		real = append(real, open(a.Voucher(tbl, id(i), list[i], []byte(fmt.Sprint("ad ", i)))))
	}
	for i := range m {
		synthetic = append(synthetic, open(a.Synthetic(tbl, id(1000+i))))
	}
	return a, real, synthetic
}

// TestShamirBound checks the threshold's first half on an account's real
// vouchers: any t of its shares interpolate to a value that is not the
// account's secret and whose key opens no associated data, while t+1 shares
// give the secret and the key. It fails if the account's polynomial has
// degree t−1 instead of t.
func TestShamirBound(t *testing.T) {
	for _, th := range []int{1, 2, 5, 30} {
		t.Run(fmt.Sprintf("t=%d", th), func(t *testing.T) {
			a, real, _ := openedRecords(t, th, th+1, 0)
			interpolate := func(recs []matchRecord) *big.Int {
				xs, ys := make([]*big.Int, len(recs)), make([]*big.Int, len(recs))
				for i, r := range recs {
					xs[i], ys[i] = r.x, r.y
				}
				v, ok := lagrangeAtZero(xs, ys)
				if !ok {
					t.Fatal("repeated share coordinate")
				}
				return v
			}
			if got := interpolate(real); got.Cmp(a.secret) != 0 {
				t.Fatal("t+1 shares do not reconstruct the secret")
			}
			if _, err := openAD(adKeyFromSecret(interpolate(real)), real[0].adct); err != nil {
				t.Fatal("the key from t+1 shares opens nothing")
			}
			for skip := range real { // every t-subset
				subset := append(append([]matchRecord(nil), real[:skip]...), real[skip+1:]...)
				got := interpolate(subset)
				if got.Cmp(a.secret) == 0 {
					t.Fatalf("t = %d shares reconstruct the secret", th)
				}
				if _, err := openAD(adKeyFromSecret(got), real[skip].adct); err == nil {
					t.Fatalf("the key from t = %d shares opens associated data", th)
				}
			}
		})
	}
}

// independent reports whether the columns are linearly independent over
// F_ℓ.
func independent(cols [][]uint64) bool {
	var b basis
	for _, c := range cols {
		v := append([]uint64(nil), c...)
		b.reduce(v)
		if firstNonZero(v) < 0 {
			return false
		}
		b.insert(v, len(v))
	}
	return true
}

// columnsOfDegree expands DHF outputs as a server guessing that the
// polynomials have degree below d would: (1, x, …, x^(d−1), r_1, …, r_s).
// d = t is the server's own detection (dhfColumn).
func columnsOfDegree(recs []matchRecord, d int) [][]uint64 {
	out := make([][]uint64, len(recs))
	for i, r := range recs {
		out[i] = dhfColumn(r.r, d)
	}
	return out
}

// TestDHFBound checks the threshold's second half on an account's real
// vouchers: t real detectable-hash outputs take part in no linear dependency
// for any guess d ≤ t of the polynomials' degree bound, so no server finds
// them among synthetic outputs (and the server's own detection, run over t
// real and s synthetic outputs, finds nothing), while t+1 real outputs are
// dependent at d = t and detected. It fails if the account's polynomials
// have degree t−2 instead of t−1: t real outputs are then dependent at
// d = t−1.
func TestDHFBound(t *testing.T) {
	for _, th := range []int{2, 3, 5, 30} {
		t.Run(fmt.Sprintf("t=%d", th), func(t *testing.T) {
			s := DefaultSyntheticFactor * th
			_, real, synthetic := openedRecords(t, th, th+1, s)
			for d := 0; d <= th; d++ {
				if !independent(columnsOfDegree(real[:th], d)) {
					t.Fatalf("t = %d real outputs are linearly dependent at degree bound %d: detectable", th, d)
				}
			}
			rs := func(recs []matchRecord) [][]uint64 {
				out := make([][]uint64, len(recs))
				for i, r := range recs {
					out[i] = r.r
				}
				return out
			}
			below := append(append([]matchRecord(nil), synthetic...), real[:th]...)
			if got, _ := detect(rs(below), th); got != nil {
				t.Fatalf("detected %d of t = %d real outputs among %d synthetic", len(got), th, s)
			}
			if independent(columnsOfDegree(real, th)) {
				t.Fatal("t+1 real outputs are independent: the threshold cannot be detected")
			}
			above := append(below, real[th])
			if got, _ := detect(rs(above), th); len(got) != th+1 {
				t.Fatalf("detected %d real outputs of t+1 = %d among %d synthetic", len(got), th+1, s)
			}
		})
	}
}
