package stats

import "math"

// BinomialSurvival returns P[X > k] for X ~ Binomial(n, p): the
// probability of more than k events in n independent trials of probability
// p. It is exp([LogBinomialSurvival]) and underflows to 0 only where the
// true value is below the smallest float64 (about 5e−324); use the
// logarithm for smaller values.
func BinomialSurvival(n int, p float64, k int) float64 {
	return math.Exp(LogBinomialSurvival(n, p, k))
}

// LogBinomialSurvival returns ln P[X > k] for X ~ Binomial(n, p) wherever
// the probability is positive, including tails far below the float64 range.
// The error of P is below 1e−11 relative for n up to a few hundred and
// below 1e−8 for n up to 10⁶ (it comes from differences of log-gamma
// values); the tests check both against exact arithmetic and against the
// regularized incomplete beta function. It is −Inf
// exactly when the probability is 0 (k ≥ n, or p ≤ 0 with k ≥ 0) and 0 when
// it is 1 (k < 0, or p ≥ 1 with k < n). Arguments outside those ranges
// (n < 0, p NaN) also give −Inf.
//
// It sums the upper tail directly, in log space relative to its first term,
// when k+1 lies at or above the mean n·p, and otherwise computes
// 1 − P[X ≤ k] from the lower tail, so no sum cancels.
func LogBinomialSurvival(n int, p float64, k int) float64 {
	switch {
	case n < 0 || math.IsNaN(p):
		return math.Inf(-1)
	case k < 0:
		return 0
	case k >= n || p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return 0
	}
	if float64(k+1) >= float64(n)*p {
		return logTailUp(n, p, k+1)
	}
	return math.Log1p(-math.Exp(logTailDown(n, p, k)))
}

// logBinomPMF returns ln P[X = k] for X ~ Binomial(n, p), 0 < p < 1.
func logBinomPMF(n, k int, p float64) float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	return lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p)
}

// logTailUp returns ln P[X ≥ from] for from ≥ n·p, where the terms fall
// from the first one on. Each term is the previous times
// (n−j)/(j+1) · p/(1−p); the sum stops when a term no longer changes it.
func logTailUp(n int, p float64, from int) float64 {
	odds := p / (1 - p)
	sum, term := 1.0, 1.0
	for j := from; j < n; j++ {
		term *= float64(n-j) / float64(j+1) * odds
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return logBinomPMF(n, from, p) + math.Log(sum)
}

// logTailDown returns ln P[X ≤ to] for to < n·p, where the terms fall from
// the last one down to 0.
func logTailDown(n int, p float64, to int) float64 {
	inv := (1 - p) / p
	sum, term := 1.0, 1.0
	for j := to; j > 0; j-- {
		term *= float64(j) / float64(n-j+1) * inv
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return logBinomPMF(n, to, p) + math.Log(sum)
}
