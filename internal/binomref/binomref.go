// Package binomref computes binomial tails exactly, slowly, as the
// reference the fast float64 versions in the project are tested against
// (stats.LogBinomialSurvival, psi.AccountFalseFlagProbability and the
// falsematch account curve). It is for tests only.
package binomref

import (
	"math"
	"math/big"
)

// Above returns P[Binomial(n, num/den) > t] in exact rational arithmetic,
// rounded to float64 once at the end.
func Above(n int, num, den int64, t int) float64 {
	p := big.NewRat(num, den)
	q := new(big.Rat).Sub(big.NewRat(1, 1), p)
	odds := new(big.Rat).Quo(p, q)
	// term_0 = q^n, term_(k+1) = term_k · (n−k)/(k+1) · p/q.
	term := new(big.Rat).SetFrac(new(big.Int).Exp(q.Num(), big.NewInt(int64(n)), nil), new(big.Int).Exp(q.Denom(), big.NewInt(int64(n)), nil))
	sum := new(big.Rat)
	for k := 0; k <= n; k++ {
		if k > t {
			sum.Add(sum, term)
		}
		term.Mul(term, big.NewRat(int64(n-k), int64(k+1)))
		term.Mul(term, odds)
	}
	f, _ := sum.Float64()
	return f
}

// LogAbove returns ln P[Binomial(n, p) > k] computed with 400-bit floats,
// whose exponent range holds tails far below float64's smallest value.
func LogAbove(n int, p float64, k int) float64 {
	const prec = 400
	bp := new(big.Float).SetPrec(prec).SetFloat64(p)
	bq := new(big.Float).SetPrec(prec).Sub(big.NewFloat(1).SetPrec(prec), bp)
	sum := new(big.Float).SetPrec(prec)
	for j := k + 1; j <= n; j++ {
		c := new(big.Float).SetPrec(prec).SetInt(new(big.Int).Binomial(int64(n), int64(j)))
		c.Mul(c, pow(bp, j, prec))
		c.Mul(c, pow(bq, n-j, prec))
		sum.Add(sum, c)
	}
	if sum.Sign() == 0 {
		return math.Inf(-1)
	}
	mant := new(big.Float)
	exp := sum.MantExp(mant) // sum = mant · 2^exp, mant in [0.5, 1)
	m, _ := mant.Float64()
	return math.Log(m) + float64(exp)*math.Ln2
}

func pow(x *big.Float, e int, prec uint) *big.Float {
	r := new(big.Float).SetPrec(prec).SetInt64(1)
	b := new(big.Float).SetPrec(prec).Set(x)
	for ; e > 0; e >>= 1 {
		if e&1 == 1 {
			r.Mul(r, b)
		}
		b.Mul(b, b)
	}
	return r
}
