package psi

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// TestBelowThreshold computes a small below-threshold table and checks it:
// the same seed gives the same rows; the simulation agrees with the closed
// form (its interval holds the closed form in nearly every row; rows of one
// cell share their simulated accounts, so misses come in runs); a fixed cap
// shows one real match in a large library while the default uniform budget
// hides it to 1/(2t+1).
func TestBelowThreshold(t *testing.T) {
	const th = 30
	cfg := PrivacyConfig{Threshold: th, Libraries: []int{100, 5000}, Real: []int{1, 5, th}, Trials: 400, Seed: 7}
	rows, err := BelowThreshold(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * len(DefaultCalibrations(th, 0.05)) * 3; len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	again, err := BelowThreshold(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows, again) {
		t.Fatal("the same seed gave different rows")
	}
	covered := 0
	get := map[string]PrivacyRow{}
	for _, r := range rows {
		if r.Closed >= r.Low-1e-9 && r.Closed <= r.High+1e-9 {
			covered++
		}
		if r.Low > r.Simulated || r.High < r.Simulated || r.Closed < 0 || r.Closed > 1 {
			t.Errorf("row %+v out of shape", r)
		}
		get[fmt.Sprintf("%d/%s/%d", r.Library, r.Calibration, r.Real)] = r
		t.Logf("n=%d %s k=%d: closed %.4f, simulated %.4f [%.4f, %.4f], mean synthetic %.1f", r.Library, r.Calibration, r.Real, r.Closed, r.Simulated, r.Low, r.High, r.MeanSynthetic)
	}
	if covered < len(rows)*8/10 {
		t.Errorf("the simulated interval holds the closed form in %d of %d rows", covered, len(rows))
	}
	if r := get["5000/former-cap-3t/1"]; r.Closed < 0.95 || r.Low < 0.9 {
		t.Errorf("former cap at 5,000 images: %+v, want an advantage near 1", r)
	}
	if r := get["5000/about-t/1"]; math.Abs(r.Closed-1.0/(2*th+1)) > 0.002 {
		t.Errorf("uniform budget at 5,000 images: closed %.4f, want ≈ 1/(2t+1)", r.Closed)
	}
	if r := get["5000/about-t/30"]; math.Abs(r.MeanSynthetic-th) > 0.01 {
		t.Errorf("about-t: %.2f synthetic vouchers on average, want t", r.MeanSynthetic)
	}
	for _, bad := range []PrivacyConfig{
		{Real: []int{th + 1}}, {Real: []int{0}}, {Libraries: []int{0}}, {Trials: -1},
		{Calibrations: []Calibration{{Name: "x", Rate: 1}}},
	} {
		if _, err := BelowThreshold(bad); err == nil {
			t.Errorf("BelowThreshold(%+v) accepted", bad)
		}
	}
}
