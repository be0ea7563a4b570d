package stats

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

type intervalVector struct {
	method      Method
	x, n        int
	level       float64
	lo, hi, tol float64
	source      string
}

func readVectors(t *testing.T) []intervalVector {
	var out []intervalVector
	readVectorFile(t, "intervals.tsv", 8, 10, func(r *vectorRow) {
		out = append(out, intervalVector{method: Method(r.fields[0]), x: r.int(1), n: r.int(2), level: r.float(3),
			lo: r.float(4), hi: r.float(5), tol: r.float(6), source: r.fields[7]})
	})
	return out
}

func intervalFor(m Method, x, n int, level float64) (Interval, error) {
	switch m {
	case MethodClopperPearson:
		return ClopperPearson(x, n, level)
	case MethodClopperPearsonUpper:
		return ClopperPearsonUpper(x, n, level)
	case MethodWilson:
		return Wilson(x, n, level)
	case MethodRuleOfThree:
		return RuleOfThree(n)
	}
	return Interval{}, fmt.Errorf("unknown method %q", m)
}

func TestIntervalVectors(t *testing.T) {
	for _, v := range readVectors(t) {
		t.Run(fmt.Sprintf("method=%s/x=%d/n=%d", v.method, v.x, v.n), func(t *testing.T) {
			iv, err := intervalFor(v.method, v.x, v.n, v.level)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(iv.Lo-v.lo) > v.tol || math.Abs(iv.Hi-v.hi) > v.tol {
				t.Errorf("got [%.9g, %.9g], want [%g, %g] ± %g (%s)", iv.Lo, iv.Hi, v.lo, v.hi, v.tol, v.source)
			}
			if iv.Method != v.method || iv.NoData {
				t.Errorf("method %q, NoData %v", iv.Method, iv.NoData)
			}
		})
	}
}

func TestIntervalEdges(t *testing.T) {
	methods := []Method{MethodClopperPearson, MethodClopperPearsonUpper, MethodWilson}
	for _, m := range methods {
		for _, n := range []int{0, 1, 2, 7, 1000, 1 << 30} {
			for _, x := range []int{0, n / 2, n} {
				t.Run(fmt.Sprintf("method=%s/x=%d/n=%d", m, x, n), func(t *testing.T) {
					iv, err := intervalFor(m, x, n, Level95)
					if err != nil {
						t.Fatal(err)
					}
					for _, v := range []float64{iv.Estimate, iv.Lo, iv.Hi} {
						if math.IsNaN(v) || v < 0 || v > 1 {
							t.Fatalf("bad field in %+v", iv)
						}
					}
					if n == 0 {
						if !iv.NoData || iv.String() != "no data" {
							t.Fatalf("n=0 gave %+v", iv)
						}
						return
					}
					if iv.NoData || iv.Lo > iv.Estimate || iv.Estimate > iv.Hi || iv.Lo == iv.Hi {
						t.Fatalf("bad interval %+v", iv)
					}
					if x == 0 && iv.Lo != 0 || x == n && iv.Hi != 1 {
						t.Fatalf("bound not at the edge: %+v", iv)
					}
				})
			}
		}
	}
}

func TestIntervalBadInput(t *testing.T) {
	cases := []struct {
		name  string
		x, n  int
		level float64
		want  error
	}{
		{"x=-1", -1, 10, Level95, ErrCounts},
		{"x>n", 11, 10, Level95, ErrCounts},
		{"n=-1", 0, -1, Level95, ErrCounts},
		{"level=0", 1, 10, 0, ErrLevel},
		{"level=1", 1, 10, 1, ErrLevel},
		{"level=NaN", 1, 10, math.NaN(), ErrLevel},
	}
	for _, c := range cases {
		for _, m := range []Method{MethodClopperPearson, MethodClopperPearsonUpper, MethodWilson} {
			t.Run("case="+c.name+"/method="+string(m), func(t *testing.T) {
				if _, err := intervalFor(m, c.x, c.n, c.level); !errors.Is(err, c.want) {
					t.Fatalf("got %v, want %v", err, c.want)
				}
			})
		}
	}
	if _, err := RuleOfThree(-1); !errors.Is(err, ErrCounts) {
		t.Fatalf("RuleOfThree(-1): %v", err)
	}
}

// TestClopperPearsonCoverage checks the defining property of the exact
// interval: for every true proportion its coverage is at least the level.
func TestClopperPearsonCoverage(t *testing.T) {
	for _, n := range []int{5, 20, 60} {
		ivs := make([]Interval, n+1)
		for x := range ivs {
			ivs[x], _ = ClopperPearson(x, n, Level95)
		}
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			minCover := 1.0
			for i := 1; i < 400; i++ {
				p := float64(i) / 400
				cover := 0.0
				for x, iv := range ivs {
					if iv.Lo <= p && p <= iv.Hi {
						cover += math.Exp(logBinomPMF(n, x, p))
					}
				}
				minCover = min(minCover, cover)
			}
			if minCover < Level95-1e-9 {
				t.Fatalf("minimum coverage %.4f below 0.95", minCover)
			}
			if minCover > 0.99 {
				t.Fatalf("minimum coverage %.4f: the interval is far too wide", minCover)
			}
		})
	}
}

func TestRuleOfThreeNearExact(t *testing.T) {
	for _, n := range []int{100, 1000, 1_000_000} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			r3, _ := RuleOfThree(n)
			cp, _ := ClopperPearsonUpper(0, n, Level95)
			if ratio := r3.Hi / cp.Hi; ratio < 1 || ratio > 1.02 {
				t.Fatalf("3/n = %g, exact %g: ratio %.4f", r3.Hi, cp.Hi, ratio)
			}
		})
	}
}

func TestMeanT(t *testing.T) {
	// mean 3, sd √2.5, t(0.975, 4) = 2.776445 (standard t tables).
	iv, err := MeanT([]float64{1, 2, 3, 4, 5}, Level95)
	if err != nil {
		t.Fatal(err)
	}
	half := 2.776445 * math.Sqrt(2.5) / math.Sqrt(5)
	if math.Abs(iv.Estimate-3) > 1e-12 || math.Abs(iv.Lo-(3-half)) > 1e-5 || math.Abs(iv.Hi-(3+half)) > 1e-5 {
		t.Fatalf("got %+v, want 3 ± %.5f", iv, half)
	}
	if _, err := MeanT([]float64{1}, Level95); !errors.Is(err, ErrTooFewRuns) {
		t.Fatalf("one run: %v", err)
	}
	if _, err := MeanT([]float64{1, math.NaN()}, Level95); err == nil {
		t.Fatal("NaN run accepted")
	}
}
