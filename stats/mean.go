package stats

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// ErrTooFewRuns is returned (wrapped) by [MeanT] for fewer than two runs.
var ErrTooFewRuns = errors.New("stats: a mean over runs needs at least two runs")

// MeanT returns the mean of values, one per independent run (for example
// one rate per seed), with the Student t interval mean ± t·s/√m at level,
// where m is the number of values and s their sample standard deviation.
// It assumes the runs are independent and their mean roughly normal. The
// spread of fewer than two runs cannot be estimated: that is an error
// wrapping [ErrTooFewRuns], not an interval.
func MeanT(values []float64, level float64) (Interval, error) {
	if !(level > 0 && level < 1) {
		return Interval{}, fmt.Errorf("%w: got %v", ErrLevel, level)
	}
	m := len(values)
	if m < 2 {
		return Interval{}, fmt.Errorf("%w: got %d", ErrTooFewRuns, m)
	}
	mean := 0.0
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Interval{}, fmt.Errorf("stats: run %d has value %v", i, v)
		}
		mean += v
	}
	mean /= float64(m)
	iv := Interval{Method: MethodStudentT, Level: level, Estimate: mean}
	ss := 0.0
	for _, v := range values {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(m-1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(m - 1)}.Quantile(1 - (1-level)/2)
	iv.Lo, iv.Hi = mean-t*sd/math.Sqrt(float64(m)), mean+t*sd/math.Sqrt(float64(m))
	return iv, nil
}
