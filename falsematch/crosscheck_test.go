package falsematch

import (
	"fmt"
	"math"
	"testing"

	"scanlab/clientscan/psi"
	"scanlab/internal/binomref"
)

// TestRevealAgreesWithPSI is the cross-check of the threshold arithmetic:
// the account curve of this package and the PSI code's false-flag
// probability are one function (P[Binomial(n, p) > t], revealed at the
// (t+1)-th match), equal bit for bit, and both match exact rational
// arithmetic. A reimplementation in either package that counted "≥ t", or
// drifted numerically, fails here.
func TestRevealAgreesWithPSI(t *testing.T) {
	cases := []struct {
		n        int
		num, den int64
		t        int
	}{
		{1, 1, 2, 0}, {3, 1, 2, 1}, {10, 1, 10, 0}, {10, 1, 10, 2}, {31, 1, 2, 30},
		{200, 1, 1000, 1}, {400, 1, 100, 25}, {1000, 1, 100_000, 5}, {1000, 3, 10, 299},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("n=%d/p=%d_%d/t=%d", c.n, c.num, c.den, c.t), func(t *testing.T) {
			p := float64(c.num) / float64(c.den)
			got, theirs := RevealProbability(c.n, p, c.t), psi.AccountFalseFlagProbability(c.n, p, c.t)
			if got != theirs {
				t.Fatalf("falsematch %.17g, psi %.17g: the two must be one implementation", got, theirs)
			}
			if want := binomref.Above(c.n, c.num, c.den, c.t); math.Abs(got-want) > 1e-9*want {
				t.Fatalf("got %.12g, exact %.12g", got, want)
			}
		})
	}
	for _, c := range []struct {
		n int
		p float64
		t int
	}{{1_000_000, 1e-6, 30}, {100_000, AppleAssumedImageRate, AppleThreshold}, {10_000, 1e-2, 50}} {
		if RevealProbability(c.n, c.p, c.t) != psi.AccountFalseFlagProbability(c.n, c.p, c.t) {
			t.Errorf("n=%d p=%g t=%d: the two implementations differ", c.n, c.p, c.t)
		}
	}
}
