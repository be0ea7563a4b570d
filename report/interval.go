package report

import (
	"fmt"
	"math"
)

// rate is k events out of n trials with its 95% interval.
type rate struct {
	k, n   int
	lo, hi float64
}

// z95 is the standard normal quantile for a two-sided 95% interval.
const z95 = 1.959963984540054

// newRate returns k of n with its 95% Wilson score interval (Wilson, JASA
// 1927; Agresti & Coull, Am. Stat. 1998). With n = 0 the interval is the
// whole of [0, 1]: no data.
//
// The interval treats messages as independent trials. Messages of one
// account are not independent (an account caught once is often caught
// for all its messages), so these intervals are narrower than an
// account-level (cluster) interval would be.
func newRate(k, n int) rate {
	if n <= 0 {
		return rate{k: k, n: n, lo: 0, hi: 1}
	}
	p := float64(k) / float64(n)
	nf := float64(n)
	den := 1 + z95*z95/nf
	mid := (p + z95*z95/(2*nf)) / den
	half := z95 * math.Sqrt(p*(1-p)/nf+z95*z95/(4*nf*nf)) / den
	return rate{k: k, n: n, lo: math.Max(0, mid-half), hi: math.Min(1, mid+half)}
}

// p returns k/n, NaN without data.
func (r rate) p() float64 {
	if r.n == 0 {
		return math.NaN()
	}
	return float64(r.k) / float64(r.n)
}

// String formats a rate for prose: "81% (95% CI 73–87%; 89 of 110)".
func (r rate) String() string {
	if r.n == 0 {
		return "no data (0 items)"
	}
	return fmt.Sprintf("%s (95%% CI %s; %s of %s)", pct(r.p()), pctRange(r.lo, r.hi), count(float64(r.k)), count(float64(r.n)))
}

// cell formats a rate for a table: "81% (73–87%) 89/110".
func (r rate) cell() string {
	if r.n == 0 {
		return "–"
	}
	return fmt.Sprintf("%s (%s) %d/%d", pct(r.p()), pctRange(r.lo, r.hi), r.k, r.n)
}

// pctRange formats an interval of fractions: "73–87%".
func pctRange(lo, hi float64) string {
	l, h := pct(lo), pct(hi)
	return l[:len(l)-1] + "–" + h
}
