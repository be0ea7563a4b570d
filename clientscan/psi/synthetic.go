package psi

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Synthetic vouchers. Apple replaces a real voucher by a synthetic one "with
// a certain probability", calibrated so that an account's synthetic count is
// "of the same order of magnitude as the threshold" (CSAM Detection Technical
// Summary, 2021); it published no rate. The detectable hash function bounds
// the synthetic vouchers an account may send to s = MaxSynthetic (paper §3,
// (s,t)-DHF), so the count must be bounded. A fixed cap reveals the real
// count once a library is large enough to reach it: every large account then
// shows real + cap matches. Here each account instead draws a secret budget
// B uniformly from {0, …, s} when its keys are made, and replaces each
// voucher with probability Rate while the budget lasts. A large account's
// count is real + B, and B's uniform spread hides a difference of k real
// matches up to an advantage of k/(s+1), the least any budget on {0, …, s}
// achieves for k = 1. With s = 2t (the default) an account sends about t
// synthetic vouchers: this project's calibration, not Apple's.

// Budget says how an account's synthetic budget is drawn.
type Budget int

// The budget rules.
const (
	// BudgetUniform draws the budget uniformly from {0, …, Max}: what an
	// [Account] does.
	BudgetUniform Budget = iota
	// BudgetFixed sets the budget to Max: a cap, the rule of earlier
	// versions of this package, which reveals the real count of a large
	// library (kept to measure that leak).
	BudgetFixed
	// BudgetNone sets no budget: the synthetic count grows with the
	// library. The detectable hash function then needs s above the
	// largest count, and vouchers grow by 8 bytes per unit of s.
	BudgetNone
)

// String names the rule.
func (b Budget) String() string {
	switch b {
	case BudgetUniform:
		return "uniform"
	case BudgetFixed:
		return "fixed"
	case BudgetNone:
		return "none"
	}
	return fmt.Sprintf("budget(%d)", int(b))
}

// Calibration is a synthetic-voucher policy: each voucher is synthetic with
// probability Rate while the account's budget lasts, the budget being drawn
// by the Budget rule with bound Max.
type Calibration struct {
	// Name names the calibration in results.
	Name string
	// Rate is the per-voucher probability, in [0, 1).
	Rate float64
	// Budget is the budget rule and Max its bound (ignored for
	// BudgetNone).
	Budget Budget
	Max    int
}

// calibration is the policy an account of parameters p follows.
func (p Params) calibration() Calibration {
	return Calibration{Name: "account", Rate: p.SyntheticRate, Budget: BudgetUniform, Max: p.MaxSynthetic}
}

func (c Calibration) check() error {
	if !(c.Rate >= 0 && c.Rate < 1) {
		return fmt.Errorf("psi: synthetic rate %v outside [0, 1)", c.Rate)
	}
	if c.Budget != BudgetNone && c.Max < 0 {
		return fmt.Errorf("psi: synthetic budget bound %d is negative", c.Max)
	}
	if c.Budget < BudgetUniform || c.Budget > BudgetNone {
		return fmt.Errorf("psi: unknown budget rule %d", int(c.Budget))
	}
	return nil
}

// schedule decides, voucher by voucher, which vouchers an account replaces
// by synthetic ones. It draws the budget when made and, instead of one coin
// per voucher, the geometric gap before each synthetic voucher: the same
// Bernoulli(Rate) process, in a form a simulation can jump through
// ([schedule.skip]) at a cost per synthetic voucher, not per image.
type schedule struct {
	rate  float64
	left  int // synthetic vouchers the budget still allows
	gap   int // non-synthetic vouchers before the next synthetic one
	coins io.Reader
}

// newSchedule draws a budget by c's rule and the first gap from coins.
func newSchedule(c Calibration, coins io.Reader) (*schedule, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	s := &schedule{rate: c.Rate, coins: coins}
	switch c.Budget {
	case BudgetUniform:
		u, err := uniform(coins)
		if err != nil {
			return nil, err
		}
		s.left = min(c.Max, int(u*float64(c.Max+1)))
	case BudgetFixed:
		s.left = c.Max
	case BudgetNone:
		s.left = math.MaxInt
	}
	if s.rate == 0 {
		s.left = 0
	}
	return s, s.drawGap()
}

// uniform reads a uniform float64 in [0, 1) from 8 bytes of coins.
func uniform(coins io.Reader) (float64, error) {
	var b [8]byte
	if _, err := io.ReadFull(coins, b[:]); err != nil {
		return 0, fmt.Errorf("psi: reading coins: %w", err)
	}
	return float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53), nil
}

// drawGap draws the number of non-synthetic vouchers before the next
// synthetic one: ⌊ln U / ln(1 − rate)⌋ for U uniform in (0, 1], a geometric
// variable with success probability rate. It draws nothing once the budget
// is spent.
func (s *schedule) drawGap() error {
	if s.left == 0 {
		s.gap = 0
		return nil
	}
	u, err := uniform(s.coins)
	if err != nil {
		return err
	}
	g := math.Floor(math.Log(1-u) / math.Log1p(-s.rate)) // 1−u ∈ (0, 1]
	s.gap = int(min(g, math.MaxInt32))
	return nil
}

// next decides whether the next voucher is synthetic.
func (s *schedule) next() (bool, error) {
	if s.left == 0 {
		return false, nil
	}
	if s.gap > 0 {
		s.gap--
		return false, nil
	}
	s.left--
	return true, s.drawGap()
}

// skip consumes the next synthetic voucher and returns how many
// non-synthetic vouchers come before it; ok is false when the budget is
// spent. A sequence of skips gives the same vouchers as calls of next.
func (s *schedule) skip() (gap int, ok bool, err error) {
	if s.left == 0 {
		return 0, false, nil
	}
	gap = s.gap
	s.left--
	return gap, true, s.drawGap()
}

// logFactorials returns log i! for i = 0..n.
func logFactorials(n int) []float64 {
	out := make([]float64, n+1)
	for i := 2; i <= n; i++ {
		out[i] = out[i-1] + math.Log(float64(i))
	}
	return out
}

// logChoose returns log C(n, k) from a table of log factorials.
func logChoose(lf []float64, n, k int) float64 { return lf[n] - lf[k] - lf[n-k] }

// syntheticPMF returns P[S = j] for j = 0, 1, …: the distribution of the
// number S of synthetic vouchers an account of n images sends under c.
// With X ~ Binomial(n, Rate) the coins that came up and B the budget,
// S = min(X, B). lf holds log factorials up to n.
func syntheticPMF(n int, c Calibration, lf []float64) []float64 {
	top := n
	if c.Budget != BudgetNone {
		top = min(n, c.Max)
	}
	if c.Rate == 0 {
		return []float64{1}
	}
	x := make([]float64, n+1) // P[X = j]
	for j := range x {
		x[j] = math.Exp(logChoose(lf, n, j) + float64(j)*math.Log(c.Rate) + float64(n-j)*math.Log1p(-c.Rate))
	}
	tail := make([]float64, n+2) // tail[j] = P[X ≥ j]
	for j := n; j >= 0; j-- {
		tail[j] = tail[j+1] + x[j]
	}
	out := make([]float64, top+1)
	for j := range out {
		switch c.Budget {
		case BudgetUniform: // P[X = j, B ≥ j] + P[B = j, X > j]
			out[j] = (x[j]*float64(c.Max-j+1) + tail[j+1]) / float64(c.Max+1)
		case BudgetFixed:
			out[j] = x[j]
			if j == top {
				out[j] = tail[j]
			}
		default:
			out[j] = x[j]
		}
	}
	return out
}

// countPMF returns the distribution of the number of matching vouchers the
// server sees, below the threshold, for an account of n images of which k
// are real matches, given the distribution s of its synthetic count
// ([syntheticPMF]): k + S − H, where H ~ Hypergeometric(n, k, S) counts the
// real matches that a synthetic voucher replaced (they still match, as
// synthetic vouchers). The real matches' positions are uniform and
// independent of the coins, so H does not depend on where the synthetic
// vouchers fall.
func countPMF(s []float64, n, k int, lf []float64) []float64 {
	k = min(max(k, 0), n)
	out := make([]float64, n+1)
	for j, ps := range s {
		if ps < 1e-300 {
			continue
		}
		for h := max(0, j+k-n); h <= min(k, j); h++ {
			ph := math.Exp(logChoose(lf, k, h) + logChoose(lf, n-k, j-h) - logChoose(lf, n, j))
			out[k+j-h] += ps * ph
		}
	}
	return out
}

// totalVariation returns ½ Σ |a_i − b_i| for distributions of one length.
func totalVariation(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d += math.Abs(a[i] - b[i])
	}
	return min(1, d/2)
}

// MatchCountDistance returns the total-variation distance between the
// number of matching vouchers the server sees for an account of n images
// with no real match and for one with k real matches, both below the
// threshold, under calibration c: the best advantage a server has, from the
// count alone, in telling the two accounts apart. It models what an
// [Account] generates: Bernoulli(Rate) coins while the budget lasts, and a
// real match replaced by a synthetic voucher still matching. The order in
// which matches arrive is not modelled: a budget spent early makes late
// matches likelier to be real, which a server watching the order could use.
func MatchCountDistance(n, k int, c Calibration) float64 {
	if k <= 0 || n <= 0 || c.check() != nil {
		return 0
	}
	lf := logFactorials(n)
	s := syntheticPMF(n, c, lf)
	return totalVariation(countPMF(s, n, 0, lf), countPMF(s, n, k, lf))
}

// ExpectedSynthetic returns the expected number of synthetic vouchers an
// account of n images sends under c: E[min(Binomial(n, Rate), B)].
func ExpectedSynthetic(n int, c Calibration) float64 {
	if n <= 0 || c.check() != nil {
		return 0
	}
	e := 0.0
	for j, p := range syntheticPMF(n, c, logFactorials(n)) {
		e += float64(j) * p
	}
	return e
}
