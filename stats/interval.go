package stats

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"
)

// Level95 is the confidence level scanlab reports: 95%.
const Level95 = 0.95

// Method names how an [Interval] was computed.
type Method string

// The interval methods of this package.
const (
	MethodClopperPearson      Method = "clopper-pearson"       // exact, two-sided
	MethodClopperPearsonUpper Method = "clopper-pearson-upper" // exact, one-sided upper bound
	MethodWilson              Method = "wilson"                // score interval
	MethodRuleOfThree         Method = "rule-of-three"         // 3/n after zero events
	MethodClusterBootstrap    Method = "cluster-bootstrap"     // percentile, resampling accounts
	MethodStudentT            Method = "student-t"             // mean of independent runs
	MethodNewcombe            Method = "newcombe-hybrid-score" // difference of two proportions
)

// Interval is a point estimate of a rate, or of a difference of two rates,
// with a confidence interval. Lo ≤ Estimate ≤ Hi always holds for
// proportions (inside [0, 1]) and their differences (inside [−1, 1]); none
// of the fields is ever NaN.
type Interval struct {
	Method   Method
	Level    float64 // confidence level, e.g. 0.95
	Estimate float64 // point estimate (x/n, or the ratio of sums); 0 when NoData
	Lo, Hi   float64 // interval bounds; 0 and 1 when NoData
	NoData   bool    // true when there were no trials: nothing was measured
}

// noData is the result for a rate with no trials.
func noData(m Method, level float64) Interval {
	return Interval{Method: m, Level: level, Lo: 0, Hi: 1, NoData: true}
}

// String formats the interval as "0.8 [0.519, 0.957]" (three significant
// digits), or "no data".
func (iv Interval) String() string {
	if iv.NoData {
		return "no data"
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }
	return f(iv.Estimate) + " [" + f(iv.Lo) + ", " + f(iv.Hi) + "]"
}

// ErrCounts is returned (wrapped) for counts that cannot describe a
// proportion: a negative n, or x outside [0, n].
var ErrCounts = errors.New("stats: impossible counts")

// ErrLevel is returned (wrapped) for a confidence level outside (0, 1).
var ErrLevel = errors.New("stats: confidence level must lie strictly between 0 and 1")

func checkCounts(x, n int, level float64) error {
	if !(level > 0 && level < 1) {
		return fmt.Errorf("%w: got %v", ErrLevel, level)
	}
	if n < 0 || x < 0 || x > n {
		return fmt.Errorf("%w: x=%d of n=%d", ErrCounts, x, n)
	}
	return nil
}

// ClopperPearson returns the exact two-sided interval for a binomial
// proportion after x events in n independent trials: Lo is the α/2
// quantile of Beta(x, n−x+1) and Hi the 1−α/2 quantile of Beta(x+1, n−x),
// with α = 1 − level; Lo = 0 when x = 0 and Hi = 1 when x = n. Its
// coverage is at least level for every true proportion. n = 0 gives a
// NoData interval.
func ClopperPearson(x, n int, level float64) (Interval, error) {
	if err := checkCounts(x, n, level); err != nil {
		return Interval{}, err
	}
	if n == 0 {
		return noData(MethodClopperPearson, level), nil
	}
	alpha := 1 - level
	iv := Interval{Method: MethodClopperPearson, Level: level, Estimate: float64(x) / float64(n), Lo: 0, Hi: 1}
	if x > 0 {
		iv.Lo = betaQuantile(alpha/2, float64(x), float64(n-x+1))
	}
	if x < n {
		iv.Hi = betaQuantile(1-alpha/2, float64(x+1), float64(n-x))
	}
	return clampInterval(iv), nil
}

// ClopperPearsonUpper returns the exact one-sided upper confidence bound
// after x events in n trials: the level quantile of Beta(x+1, n−x), so that
// the true proportion lies below Hi with probability at least level (Lo is
// 0). For x = 0 it is 1 − (1−level)^(1/n), about 3/n at 95%: the exact form
// of the rule of three. n = 0 gives a NoData interval.
func ClopperPearsonUpper(x, n int, level float64) (Interval, error) {
	if err := checkCounts(x, n, level); err != nil {
		return Interval{}, err
	}
	if n == 0 {
		return noData(MethodClopperPearsonUpper, level), nil
	}
	iv := Interval{Method: MethodClopperPearsonUpper, Level: level, Estimate: float64(x) / float64(n), Lo: 0, Hi: 1}
	switch {
	case x == 0:
		iv.Hi = -math.Expm1(math.Log1p(-level) / float64(n)) // exact, and accurate for large n
	case x < n:
		iv.Hi = betaQuantile(level, float64(x+1), float64(n-x))
	}
	return clampInterval(iv), nil
}

// betaQuantile is the p quantile of Beta(a, b).
func betaQuantile(p, a, b float64) float64 {
	return distuv.Beta{Alpha: a, Beta: b}.Quantile(p)
}

// Wilson returns the Wilson score interval after x events in n trials:
// the proportions whose score test at level 1 − level does not reject x/n,
// (x + z²/2 ± z·√(x(n−x)/n + z²/4)) / (n + z²) with z the 1 − α/2 normal
// quantile. It is narrower than [ClopperPearson] and its coverage is close
// to level on average rather than at least level. n = 0 gives a NoData
// interval.
func Wilson(x, n int, level float64) (Interval, error) {
	if err := checkCounts(x, n, level); err != nil {
		return Interval{}, err
	}
	if n == 0 {
		return noData(MethodWilson, level), nil
	}
	z := distuv.UnitNormal.Quantile(1 - (1-level)/2)
	fx, fn, z2 := float64(x), float64(n), z*z
	centre := fx + z2/2
	half := z * math.Sqrt(fx*(fn-fx)/fn+z2/4)
	iv := Interval{Method: MethodWilson, Level: level, Estimate: fx / fn,
		Lo: (centre - half) / (fn + z2), Hi: (centre + half) / (fn + z2)}
	if x == 0 {
		iv.Lo = 0
	}
	if x == n {
		iv.Hi = 1
	}
	return clampInterval(iv), nil
}

// RuleOfThree returns the approximate one-sided 95% upper bound 3/n for a
// proportion after zero events in n trials (Hanley and Lippman-Hand,
// "If nothing goes wrong, is everything all right?", JAMA 249(13), 1983).
// It is only defined at 95% and for zero events; [ClopperPearsonUpper]
// gives the exact bound for any x. n = 0 gives a NoData interval.
func RuleOfThree(n int) (Interval, error) {
	if n < 0 {
		return Interval{}, fmt.Errorf("%w: n=%d", ErrCounts, n)
	}
	if n == 0 {
		return noData(MethodRuleOfThree, Level95), nil
	}
	return Interval{Method: MethodRuleOfThree, Level: Level95, Estimate: 0, Lo: 0, Hi: min(1, 3/float64(n))}, nil
}

// clampInterval keeps bounds inside [0, 1] and around the estimate,
// against rounding in the quantile functions.
func clampInterval(iv Interval) Interval {
	iv.Lo = min(max(iv.Lo, 0), iv.Estimate)
	iv.Hi = max(min(iv.Hi, 1), iv.Estimate)
	return iv
}
