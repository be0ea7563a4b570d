package binomref

import (
	"math"
	"testing"
)

// The references agree with each other and with tails small enough to
// write down by hand.
func TestReferences(t *testing.T) {
	tests := []struct {
		n        int
		num, den int64
		t        int
		want     float64
	}{
		{1, 1, 2, 0, 0.5},
		{3, 1, 2, 1, 0.5},   // P[X ≥ 2] = 4/8
		{3, 1, 2, 2, 0.125}, // P[X = 3]
		{10, 1, 10, 9, 1e-10},
		{4, 1, 3, 4, 0},
	}
	for _, tt := range tests {
		got := Above(tt.n, tt.num, tt.den, tt.t)
		if math.Abs(got-tt.want) > 1e-15*max(tt.want, 1e-300) {
			t.Errorf("Above(%d, %d/%d, %d) = %g, want %g", tt.n, tt.num, tt.den, tt.t, got, tt.want)
		}
		log := LogAbove(tt.n, float64(tt.num)/float64(tt.den), tt.t)
		if tt.want == 0 {
			if !math.IsInf(log, -1) {
				t.Errorf("LogAbove(%d, %d/%d, %d) = %g, want -Inf", tt.n, tt.num, tt.den, tt.t, log)
			}
			continue
		}
		if math.Abs(log-math.Log(tt.want)) > 1e-12 {
			t.Errorf("LogAbove(%d, %d/%d, %d) = %g, want ln %g", tt.n, tt.num, tt.den, tt.t, log, tt.want)
		}
	}
}
