package report

import (
	"strings"
	"testing"

	"scanlab/schema"
)

func TestAdvFmt(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {1, "1"}, {0.9991, "0.999"}, {0.99999, "0.999"}, {0.99, "0.99"}, {0.491803, "0.49"},
		{0.099841, "0.10"}, {0.094962, "0.095"}, {0.016393, "0.016"}, {0.001664, "0.0017"}, {0.00025, "0.00025"},
		{-0.0055, "-0.0055"}, {-0.026201, "-0.026"}, {-0.5, "-0.50"},
	} {
		if got := advFmt(c.v); got != c.want {
			t.Errorf("advFmt(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// privacyRows builds a table of three calibrations at two library sizes
// and k = 1 and 30: closed[cal][library index][k index].
func privacyRows(closed map[string][2][2]float64) []schema.BelowThresholdRow {
	cals := []struct {
		name, budget string
		max          schema.Opt[int]
	}{{"about-t", "uniform", schema.Some(60)}, {"proportional", "none", schema.Opt[int]{}}, {"former-cap-3t", "fixed", schema.Some(90)}}
	var rows []schema.BelowThresholdRow
	for li, n := range []int{100, 100_000} {
		for _, c := range cals {
			for ki, k := range []int{1, 30} {
				v := closed[c.name][li][ki]
				rows = append(rows, schema.BelowThresholdRow{Calibration: c.name, Rate: 0.05, Budget: c.budget, BudgetMax: c.max,
					Library: n, K: k, T: 30, MeanSynthetic: 0.05 * float64(n), ClosedForm: v, Simulated: v, SimulatedLo: max(-1, v-0.02), SimulatedHi: min(1, v+0.02), Trials: 4000})
			}
		}
	}
	return rows
}

func TestPrivacySentences(t *testing.T) {
	pt, ok := privacyTableOf(privacyRows(map[string][2][2]float64{
		"about-t":       {{0.17, 1}, {0.016, 0.49}},
		"proportional":  {{0.17, 1}, {0.0055, 0.16}},
		"former-cap-3t": {{0.17, 1}, {0.999, 1}},
	}))
	if !ok || pt.t != 30 || len(pt.cals) != 3 || pt.smallest() != 100 || pt.largest() != 100_000 || pt.fewest() != 1 || pt.most() != 30 {
		t.Fatalf("table %+v", pt)
	}
	for _, c := range []struct{ name, got, want string }{
		{"fewest", pt.fewestSentence(), "With 100,000 images in an account, the provider tells one real match from none with advantage 0.999 (simulated 0.999, 95% CI 0.98 to 1) " +
			"under `former-cap-3t`, a fixed cap of 90 synthetic vouchers, but with at most 0.016 (simulated 0.016, 95% CI -0.0040 to 0.036) under the other two calibrations, " +
			"reached by `about-t`, a secret budget of 0 to 60 synthetic vouchers."},
		{"most", pt.mostSentence(), "Just below the threshold, with 30 real matches (t = 30), an account of 100,000 images is told from one with none with advantage " +
			"0.49 under `about-t` (simulated 0.49, 95% CI 0.47 to 0.51), 0.16 under `proportional` (simulated 0.16, 95% CI 0.14 to 0.18) and 1 under `former-cap-3t` (simulated 1, 95% CI 0.98 to 1)."},
		{"small", pt.smallSentence(), "With only 100 images, every calibration sends 5 synthetic vouchers on average, and the provider tells one real match from none with advantage 0.17, " +
			"and 30 real matches from none with advantage 1."},
		{"agreement", pt.agreementSentence(), "The simulation's 95% interval holds the closed form in 12 of 12 cells."},
		{"rule-none", pt.cals[1].rule(), "each image's voucher is synthetic with probability 5%, without a budget: the number grows with the library"},
		{"legend-fixed", pt.cals[2].legend(), "former-cap-3t: cap of 90"},
		{"rule-unknown", privacyCal{name: "x", budget: "lottery", rate: 0.5}.rule(), `each image's voucher is synthetic with probability 50%, budget rule "lottery"`},
	} {
		t.Run("sentence="+c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got\n  %s\nwant\n  %s", c.got, c.want)
			}
		})
	}
	t.Run("sentence=rows", func(t *testing.T) {
		rows := pt.advantageRows(1)
		if len(rows) != 2 || strings.Join(rows[1], " | ") != "100,000 | 0.016 · 0.016 (-0.0040 to 0.036) | 0.0055 · 0.0055 (-0.015 to 0.026) | 0.999 · 0.999 (0.98 to 1)" {
			t.Errorf("rows %q", rows)
		}
	})
	if _, ok := privacyTableOf(nil); ok {
		t.Error("an empty file gave a table")
	}
}

// TestPrivacySentencesFollowData checks that the sentences follow the
// data rather than a fixed story: when the uniform budget leaks most, it
// is the one named.
func TestPrivacySentencesFollowData(t *testing.T) {
	pt, _ := privacyTableOf(privacyRows(map[string][2][2]float64{
		"about-t":       {{0.2, 1}, {0.8, 0.9}},
		"proportional":  {{0.1, 1}, {0.3, 0.2}},
		"former-cap-3t": {{0.1, 1}, {0.1, 0.3}},
	}))
	s := pt.fewestSentence()
	if !strings.Contains(s, "advantage 0.80 (simulated 0.80, 95% CI 0.78 to 0.82) under `about-t`") || !strings.Contains(s, "at most 0.30") || !strings.Contains(s, "reached by `proportional`") {
		t.Errorf("fewest: %s", s)
	}
	if s := pt.smallSentence(); !strings.Contains(s, "advantage 0.10 to 0.20") {
		t.Errorf("small: %s", s)
	}
}
