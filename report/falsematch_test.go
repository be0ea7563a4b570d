package report

import (
	"fmt"
	"math"
	"testing"

	"scanlab/falsematch"
	"scanlab/schema"
)

func TestImagesForBound(t *testing.T) {
	for _, p := range []float64{0.003, 6e-4, 1e-6} {
		t.Run(fmt.Sprintf("p=%g", p), func(t *testing.T) {
			n := imagesForBound(p)
			bound := func(n int) float64 { return -math.Expm1(math.Log(0.05) / float64(n)) }
			if bound(n) > p || bound(n-1) <= p {
				t.Fatalf("n = %d gives %g, n−1 gives %g: want the fewest n with a bound ≤ %g", n, bound(n), bound(n-1), p)
			}
		})
	}
	if n := imagesForBound(1e-6); n != 2_995_731 {
		t.Errorf("1e-6 needs %d images, want 2,995,731 (about 3/p)", n)
	}
	if imagesForBound(0) != 0 || imagesForBound(1) != 0 {
		t.Error("a bound of 0 or 1 needs no finite count")
	}
}

func TestPowTen(t *testing.T) {
	for _, c := range []struct {
		lg   float64
		want string
	}{
		{-3, "0.001"}, {-12.5, "3.2e-13"}, {-372.81, "10^-372.8"}, {math.Log10(0.9999), "1 − 0.0001"}, {math.Log10(0.5), "0.5"},
	} {
		t.Run(fmt.Sprintf("lg=%g", c.lg), func(t *testing.T) {
			if got := powTen(c.lg); got != c.want {
				t.Fatalf("powTen(%g) = %q, want %q", c.lg, got, c.want)
			}
		})
	}
}

func TestDecadeTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi          float64
		labelled, ticks int
		first           string
	}{
		{1e-9, 1e-2, 8, 8, "1e-9"},
		{1e-30, 1, 11, 31, "1e-30"},
		{1e-300, 1, 11, 11, "1e-300"},
	} {
		t.Run(fmt.Sprintf("lo=%g/hi=%g", c.lo, c.hi), func(t *testing.T) {
			ticks := decadeTicks{}.Ticks(c.lo, c.hi)
			n := 0
			for _, tk := range ticks {
				if tk.Label != "" {
					n++
				}
			}
			if n != c.labelled || len(ticks) != c.ticks || ticks[0].Label != c.first {
				t.Fatalf("%d ticks, %d labelled, first %q; want %d, %d, %q", len(ticks), n, ticks[0].Label, c.ticks, c.labelled, c.first)
			}
		})
	}
}

func TestShownThresholds(t *testing.T) {
	curve := func(ts ...int) falseMatch {
		var fm falseMatch
		for _, tt := range ts {
			fm.curve = append(fm.curve, schema.CurveRow{Library: 10, T: tt, PImage: 1e-3, Basis: falsematch.BasisSweep})
		}
		return fm
	}
	for _, c := range []struct {
		name string
		fm   falseMatch
		want []int
	}{
		{"every-t", curve(1, 2, 3, 5, 10, 29, 30, 31, 50), []int{1, 5, 10, 30, 50}},
		{"none-preferred", curve(2, 3, 4, 6, 7, 8, 9), []int{2, 3, 4}},
		{"few-preferred", curve(3, 30, 31, 32), []int{3, 30, 31}},
		{"two", curve(1, 2), []int{1, 2}},
	} {
		t.Run("case="+c.name, func(t *testing.T) {
			if got := c.fm.shownThresholds(); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

// falseMatchEdge is a results directory where some images and pairs
// matched: the measured sentences must give the rate, not a bound from
// nothing, and the tail paragraph must not claim that no pair came near.
var falseMatchEdge = edgeCase{
	name: "falsematch-matches",
	build: func(t *testing.T, dir string) {
		must(t, schema.ImageRate.WriteFile(dir, []schema.ImageRateRow{
			{Benign: falsematch.BenignGenerated, Hash: falsematch.HashPDQ, Drawn: 200, Distinct: 199, Images: 190, Matches: 2, ListSize: 5, ListSources: 2, Threshold: 31,
				Rate: 2.0 / 190, Lo: 0.00128, Hi: 0.0375, Upper95: 0.0327},
		}))
		must(t, schema.Distances.WriteFile(dir, []schema.DistanceRow{
			{Set: falsematch.SetNearestGenerated, Distance: 30, Count: 2}, {Set: falsematch.SetNearestGenerated, Distance: 100, Count: 188},
			{Set: falsematch.SetPairsGenerated, Distance: 30, Count: 2}, {Set: falsematch.SetPairsGenerated, Distance: 128, Count: 948},
		}))
		must(t, schema.DistanceSummary.WriteFile(dir, []schema.DistanceSummaryRow{
			{Set: falsematch.SetNearestGenerated, N: 190, Min: 30, P01: 30, P50: 100, Mean: 98.6, SD: 9.8, AtMostThreshold: 2, Threshold: 31},
			{Set: falsematch.SetPairsGenerated, N: 950, Min: 30, P01: 128, P50: 128, Mean: 127.8, SD: 6.5, AtMostThreshold: 2, Threshold: 31},
		}))
		var curve []schema.CurveRow
		var safe []schema.SafeRateRow
		for _, tt := range []int{1, 2} {
			for _, p := range []float64{1e-6, 1e-4, 1e-2} {
				lg := falsematch.LogRevealProbability(100, p, tt)
				curve = append(curve, schema.CurveRow{Library: 100, T: tt, PImage: p, Basis: falsematch.BasisSweep, Log10PAccount: lg, PAccount: math.Pow(10, lg)})
			}
			for _, m := range []struct {
				basis string
				p     float64
			}{{falsematch.BasisMeasuredUpper, 0.0327}, {falsematch.BasisAppleAssumed, 1e-6}} {
				lg := falsematch.LogRevealProbability(100, m.p, tt)
				curve = append(curve, schema.CurveRow{Library: 100, T: tt, PImage: m.p, Basis: m.basis, Log10PAccount: lg, PAccount: math.Pow(10, lg)})
			}
			safe = append(safe, schema.SafeRateRow{Library: 100, T: tt, Target: 1e-12, Log10MaxPImage: -7, MaxPImage: 1e-7})
		}
		must(t, schema.Curve.WriteFile(dir, curve))
		must(t, schema.SafeRates.WriteFile(dir, safe))
	},
	want: []string{"2 of 190 came within 31 bits of a listed hash, p(image) = 0.011 (exact 95% CI 0.0013–0.037; one-sided 95% upper bound 0.033)",
		"against this list of 5 photographs (p(image) ≤ 0.033, from 190 images), an innocent account of 100 images is revealed with probability at most 0.64 at t = 2 and at most 0.84 at t = 1",
		"at t = 1 and 2.", "Not run: `falsematch/tail-fits.csv`", "Every threshold from t = 1 to t = 2"},
	not: []string{"With none matching", "None of the", "came near", "standard deviations", "NaN", "Inf", ". the account", ") . "},
}

// The case joins the others, so that TestEdgeCases compares it with its
// golden file and TestPlotLabels checks its plots.
func init() { edgeCases = append(edgeCases, falseMatchEdge) }
