package stats

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/mathext"

	"scanlab/internal/binomref"
)

func TestLogBinomialSurvivalExact(t *testing.T) {
	for _, n := range []int{1, 10, 60, 300} {
		for _, p := range []float64{1e-9, 1e-6, 3e-3, 0.1, 0.5, 0.97} {
			for _, k := range []int{0, 1, 5, 29, 30, 50, n - 1} {
				if k < 0 || k >= n {
					continue
				}
				t.Run(fmt.Sprintf("n=%d/p=%g/k=%d", n, p, k), func(t *testing.T) {
					got, want := LogBinomialSurvival(n, p, k), binomref.LogAbove(n, p, k)
					if math.IsInf(got, 0) || math.Abs(got-want) > 1e-11*max(1, math.Abs(want)) {
						t.Fatalf("ln P = %.15g, exact %.15g", got, want)
					}
				})
			}
		}
	}
}

// TestBinomialSurvivalLarge compares with the regularized incomplete beta
// function, P[X > k] = I_p(k+1, n−k), where both are representable.
func TestBinomialSurvivalLarge(t *testing.T) {
	for _, n := range []int{1000, 100_000, 1_000_000} {
		for _, p := range []float64{1e-5, 1e-4, 1e-3, 1e-2} {
			for _, k := range []int{1, 10, 30, 50} {
				want := mathext.RegIncBeta(float64(k+1), float64(n-k), p)
				if want < 1e-290 || want > 1-1e-12 {
					continue
				}
				t.Run(fmt.Sprintf("n=%d/p=%g/k=%d", n, p, k), func(t *testing.T) {
					got := BinomialSurvival(n, p, k)
					if math.Abs(got-want) > 1e-8*want {
						t.Fatalf("got %.12g, incomplete beta %.12g", got, want)
					}
				})
			}
		}
	}
}

func TestBinomialSurvivalEdges(t *testing.T) {
	cases := []struct {
		name string
		n    int
		p    float64
		k    int
		want float64 // ln P
	}{
		{"k<0", 10, 0.1, -1, 0},
		{"k=n", 10, 0.1, 10, math.Inf(-1)},
		{"p=0", 10, 0, 0, math.Inf(-1)},
		{"p=1", 10, 1, 3, 0},
		{"n=0", 0, 0.5, 0, math.Inf(-1)},
		{"n<0", -1, 0.5, 0, math.Inf(-1)},
		{"p=NaN", 10, math.NaN(), 0, math.Inf(-1)},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			if got := LogBinomialSurvival(c.n, c.p, c.k); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	// Far below float64: ln P[Binomial(1000, 1e−9) > 50] ≈ −898, so P
	// itself underflows but its logarithm is finite and exact.
	got, want := LogBinomialSurvival(1000, 1e-9, 50), binomref.LogAbove(1000, 1e-9, 50)
	if math.Abs(got-want) > 1e-9*math.Abs(want) || BinomialSurvival(1000, 1e-9, 50) != 0 {
		t.Fatalf("deep tail: ln P = %v, exact %v", got, want)
	}
	// Near 1e−300 the probability itself must not underflow.
	if v := BinomialSurvival(100_000, 3e-10, 49); !(v > 1e-300 && v < 1e-280) {
		t.Fatalf("P[Binomial(1e5, 3e-10) > 49] = %g, want about 1e-291", v)
	}
}

func TestBinomialSurvivalMonotone(t *testing.T) {
	for _, n := range []int{1000, 100_000} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			prev := math.Inf(-1)
			for i := 0; i <= 700; i++ {
				p := math.Pow(10, -9+float64(i)/100)
				v := LogBinomialSurvival(n, p, 30)
				if v < prev || v > 0 {
					t.Fatalf("not increasing in p at p=%g: %v after %v", p, v, prev)
				}
				prev = v
			}
		})
	}
}

func BenchmarkLogBinomialSurvival(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				for k := 1; k <= 50; k++ {
					LogBinomialSurvival(n, 1e-3, k)
				}
			}
		})
	}
}
