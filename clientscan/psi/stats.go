package psi

import "math"

// Threshold arithmetic. The protocol reveals an account when it holds more
// than t real matches (t+1 Shamir shares of a degree-t polynomial), so an
// account with n images and an independent per-image false-match rate p is
// falsely flagged with probability P[Binomial(n, p) > t] = P[X ≥ t+1]. (The
// shared reference notes, §1.5, count "≥ t"; their figures correspond to a
// threshold one lower than here.)

// logBinomPMF returns log P[Binomial(n, p) = k] for 0 < p < 1.
func logBinomPMF(n, k int, p float64) float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	return lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p)
}

// sumTerms adds exp(logpmf(k)) for k = from, from+step, … while inside
// [0, n], stopping once the terms, which decrease away from the mode, no
// longer change the sum. It works relative to the first term so that tails
// far below the float64 range of the pmf itself stay accurate.
func sumTerms(n, from, step int, p float64) float64 {
	l0 := logBinomPMF(n, from, p)
	sum := 0.0
	for k := from; k >= 0 && k <= n; k += step {
		term := math.Exp(logBinomPMF(n, k, p) - l0)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return math.Exp(l0) * sum
}

// AccountFalseFlagProbability returns P[Binomial(n, p) > t]: the probability
// that an account with n images, each a false match independently with
// probability p, holds more than t false matches and is therefore revealed at
// threshold t. It is computed in log space from whichever tail is smaller,
// so values down to about 1e−300 are accurate.
func AccountFalseFlagProbability(n int, p float64, t int) float64 {
	switch {
	case t < 0:
		return 1
	case t >= n || p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	if float64(t+1) >= float64(n)*p {
		return min(1, sumTerms(n, t+1, 1, p)) // upper tail, terms decrease
	}
	return max(0, 1-sumTerms(n, t, -1, p)) // 1 − P[X ≤ t]
}
