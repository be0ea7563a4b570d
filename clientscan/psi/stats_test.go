package psi

import (
	"fmt"
	"math"
	"testing"

	"scanlab/internal/binomref"
)

func TestAccountFalseFlagProbability(t *testing.T) {
	tests := []struct {
		n        int
		num, den int64
		t        int
	}{
		{3, 1, 2, 1},      // 1/2
		{10, 1, 10, 2},    // lower-tail branch
		{10, 1, 10, 0},    // P[X ≥ 1]
		{10, 9, 10, 8},    // P[X = 10] region
		{100, 1, 2, 60},   // upper-tail branch
		{100, 1, 2, 40},   // lower-tail branch
		{400, 1, 100, 25}, // tiny tail
		{400, 1, 400, 12},
		{300, 1, 3, 99},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("n=%d/p=%d_%d/t=%d", tc.n, tc.num, tc.den, tc.t), func(t *testing.T) {
			got := AccountFalseFlagProbability(tc.n, float64(tc.num)/float64(tc.den), tc.t)
			want := binomref.Above(tc.n, tc.num, tc.den, tc.t)
			if math.Abs(got-want) > 1e-9*want+1e-15 {
				t.Fatalf("got %.12g, want %.12g", got, want)
			}
		})
	}
	// exp(ln 0.5) is one ulp below 0.5: the tail is computed in log space
	// (stats.LogBinomialSurvival), so this value is checked to one ulp
	// rather than exactly.
	if got := AccountFalseFlagProbability(3, 0.5, 1); math.Abs(got-0.5) > 0x1p-53 {
		t.Errorf("P[Bin(3,1/2) > 1] = %v, want 0.5 to one ulp", got)
	}
	for _, c := range []struct {
		n    int
		p    float64
		t    int
		want float64
	}{{5, 0, 0, 0}, {5, 1, 4, 1}, {5, 1, 5, 0}, {5, 0.3, 5, 0}, {5, 0.3, -1, 1}} {
		if got := AccountFalseFlagProbability(c.n, c.p, c.t); got != c.want {
			t.Errorf("edge %+v: got %v", c, got)
		}
	}
	// The reference notes' figure: N = 1e6, p = 1e−6 gives ≈ 1.4e−33 for
	// "≥ 30" (here t = 29) and about 31 times less for "> 30".
	ge30 := AccountFalseFlagProbability(1_000_000, 1e-6, 29)
	gt30 := AccountFalseFlagProbability(1_000_000, 1e-6, 30)
	if math.Abs(ge30-1.4e-33) > 0.05e-33 || math.Abs(ge30/gt30-31) > 0.5 {
		t.Errorf("P[X ≥ 30] = %g, P[X > 30] = %g", ge30, gt30)
	}
	t.Logf("n=1e6 p=1e-6: P[X>30] = %.3g; n=1e7: %.3g", gt30, AccountFalseFlagProbability(10_000_000, 1e-6, 30))
}
