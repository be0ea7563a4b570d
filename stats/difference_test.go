package stats

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

type differenceVector struct {
	x1, n1, x2, n2 int
	level          float64
	lo, hi, tol    float64
	source         string
}

func readDifferenceVectors(t *testing.T) []differenceVector {
	var out []differenceVector
	readVectorFile(t, "differences.tsv", 9, 5, func(r *vectorRow) {
		out = append(out, differenceVector{x1: r.int(0), n1: r.int(1), x2: r.int(2), n2: r.int(3),
			level: r.float(4), lo: r.float(5), hi: r.float(6), tol: r.float(7), source: r.fields[8]})
	})
	return out
}

func TestNewcombeVectors(t *testing.T) {
	for _, v := range readDifferenceVectors(t) {
		t.Run(fmt.Sprintf("x1=%d/n1=%d/x2=%d/n2=%d", v.x1, v.n1, v.x2, v.n2), func(t *testing.T) {
			iv, err := NewcombeDifference(v.x1, v.n1, v.x2, v.n2, v.level)
			if err != nil {
				t.Fatal(err)
			}
			want := float64(v.x1)/float64(v.n1) - float64(v.x2)/float64(v.n2)
			if math.Abs(iv.Estimate-want) > 1e-12 {
				t.Errorf("estimate %.12g, want %.12g", iv.Estimate, want)
			}
			if math.Abs(iv.Lo-v.lo) > v.tol || math.Abs(iv.Hi-v.hi) > v.tol {
				t.Errorf("got [%.6f, %.6f], want [%g, %g] ± %g (%s)", iv.Lo, iv.Hi, v.lo, v.hi, v.tol, v.source)
			}
			if iv.Method != MethodNewcombe || iv.NoData || iv.Level != v.level {
				t.Errorf("method %q, level %v, NoData %v", iv.Method, iv.Level, iv.NoData)
			}
		})
	}
}

// TestNewcombeShape checks, over a grid of counts, that the interval lies
// in [−1, 1] around its estimate, and that swapping the two samples
// mirrors it.
func TestNewcombeShape(t *testing.T) {
	for _, n1 := range []int{1, 7, 1000} {
		for _, n2 := range []int{1, 30} {
			for _, x1 := range []int{0, n1 / 2, n1} {
				for _, x2 := range []int{0, n2 / 3, n2} {
					t.Run(fmt.Sprintf("x1=%d/n1=%d/x2=%d/n2=%d", x1, n1, x2, n2), func(t *testing.T) {
						iv, err := NewcombeDifference(x1, n1, x2, n2, Level95)
						if err != nil {
							t.Fatal(err)
						}
						if !(-1 <= iv.Lo && iv.Lo <= iv.Estimate && iv.Estimate <= iv.Hi && iv.Hi <= 1) || iv.Lo == iv.Hi {
							t.Fatalf("bad interval %+v", iv)
						}
						m, _ := NewcombeDifference(x2, n2, x1, n1, Level95)
						if math.Abs(m.Lo+iv.Hi) > 1e-12 || math.Abs(m.Hi+iv.Lo) > 1e-12 {
							t.Fatalf("swapped samples give %+v, want the mirror of %+v", m, iv)
						}
					})
				}
			}
		}
	}
}

// TestNewcombeCoverage computes the exact coverage of the interval for
// n1 = n2 = 20 over a grid of true proportions: its mean should be close to
// 95% (Newcombe reports a mean near 0.95 for method 10) and no point far
// below it.
func TestNewcombeCoverage(t *testing.T) {
	const n = 20
	ivs := make([][]Interval, n+1)
	for x1 := range ivs {
		ivs[x1] = make([]Interval, n+1)
		for x2 := range ivs[x1] {
			ivs[x1][x2], _ = NewcombeDifference(x1, n, x2, n, Level95)
		}
	}
	sum, points, worst := 0.0, 0, 1.0
	for i := 1; i < 20; i++ {
		for j := 1; j < 20; j++ {
			p1, p2 := float64(i)/20, float64(j)/20
			cover := 0.0
			for x1 := range ivs {
				for x2, iv := range ivs[x1] {
					if iv.Lo <= p1-p2 && p1-p2 <= iv.Hi {
						cover += math.Exp(logBinomPMF(n, x1, p1) + logBinomPMF(n, x2, p2))
					}
				}
			}
			sum += cover
			points++
			worst = min(worst, cover)
		}
	}
	if mean := sum / float64(points); mean < 0.94 || mean > 0.97 || worst < 0.90 {
		t.Fatalf("coverage: mean %.4f, minimum %.4f; want a mean near 0.95 and a minimum above 0.90", mean, worst)
	}
}

func TestNewcombeBadInput(t *testing.T) {
	cases := []struct {
		name           string
		x1, n1, x2, n2 int
		level          float64
		want           error
	}{
		{"x1>n1", 3, 2, 0, 1, Level95, ErrCounts},
		{"x2=-1", 0, 2, -1, 1, Level95, ErrCounts},
		{"n2=-1", 0, 2, 0, -1, Level95, ErrCounts},
		{"level=1", 0, 2, 0, 1, 1, ErrLevel},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			if _, err := NewcombeDifference(c.x1, c.n1, c.x2, c.n2, c.level); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	for _, ns := range [][2]int{{0, 5}, {5, 0}} {
		t.Run(fmt.Sprintf("n1=%d/n2=%d", ns[0], ns[1]), func(t *testing.T) {
			iv, err := NewcombeDifference(0, ns[0], 0, ns[1], Level95)
			if err != nil || !iv.NoData || iv.Lo != -1 || iv.Hi != 1 || iv.String() != "no data" {
				t.Fatalf("got %+v, %v; want no data spanning [−1, 1]", iv, err)
			}
		})
	}
}
