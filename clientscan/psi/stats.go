package psi

import "scanlab/stats"

// Threshold arithmetic. The protocol reveals an account when it holds more
// than t real matches (t+1 Shamir shares of a degree-t polynomial), so an
// account with n images and an independent per-image false-match rate p is
// falsely flagged with probability P[Binomial(n, p) > t] = P[X ≥ t+1]. (The
// shared reference notes, §1.5, count "≥ t"; their figures correspond to a
// threshold one lower than here.)

// AccountFalseFlagProbability returns P[Binomial(n, p) > t]: the probability
// that an account with n images, each a false match independently with
// probability p, holds more than t false matches and is therefore revealed at
// threshold t. It is stats.BinomialSurvival, the one binomial tail of the
// project (falsematch.RevealProbability is the same function): computed in
// log space from whichever tail is smaller, it is accurate down to the
// smallest float64 and 0 below it. It is 1 for t < 0, and 0 for t ≥ n or
// p ≤ 0.
func AccountFalseFlagProbability(n int, p float64, t int) float64 {
	return stats.BinomialSurvival(n, p, t)
}
