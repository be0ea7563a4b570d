package report

import (
	"math"
	"strings"
	"testing"

	"scanlab/observe"
	"scanlab/schema"
)

// platRows builds a platforms file: per platform, the provider's share of
// texts and reported texts, and for each variant the shares caught,
// stopped and flagged as {value, lo, hi}.
type platSpec struct {
	text     float64
	variants map[string][3][3]float64 // variant → caught, stopped, flagged
}

func platRows(order []string, specs map[string]platSpec) []schema.PlatformRow {
	var rows []schema.PlatformRow
	nan := math.NaN()
	for _, p := range order {
		s := specs[p]
		for _, party := range []observe.Party{observe.Sender, observe.Recipient, observe.Provider, observe.LawEnforcement} {
			v := s.text
			if endpoint(party) {
				v = 1
			}
			for _, it := range []observe.Item{observe.Text, observe.ReportedText, observe.SenderID, observe.ContactGraph} {
				x := v
				if it == observe.SenderID || it == observe.ContactGraph {
					x = 1
				}
				rows = append(rows, schema.PlatformRow{Platform: p, Variant: schema.PlatformVariantBase, Measure: recovered(it), Party: party, Value: x, Lo: nan, Hi: nan, N: 8})
			}
		}
		for _, v := range append([]string{schema.PlatformVariantBase}, sortedKeys(s.variants)...) {
			m, ok := s.variants[v]
			if !ok {
				continue
			}
			for i, measure := range []string{schema.MeasureHarmfulCaught, schema.MeasureHarmfulStopped, schema.MeasureInnocentFlagged} {
				rows = append(rows, schema.PlatformRow{Platform: p, Variant: v, Measure: measure, Value: m[i][0], Lo: m[i][1], Hi: m[i][2], N: 300})
			}
		}
	}
	return rows
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		if k != schema.PlatformVariantBase {
			out = append(out, k)
		}
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

var zeroFlag = [3]float64{0, 0, 0.01}

// TestPlatformVerdictsFollowData: each verdict follows the rows — it says
// the word holds only where it does, names the extremes only when their
// intervals are apart, and credits a lead to an undocumented field only
// when moving that field removes it.
func TestPlatformVerdictsFollowData(t *testing.T) {
	order := []string{"TikTok", "Signal", "Messenger"}
	base := func(tiktokStopped, scanOff [3]float64, signalText float64) platformTable {
		pt, ok := platformTableOf(platRows(order, map[string]platSpec{
			"TikTok": {text: 1, variants: map[string][3][3]float64{
				schema.PlatformVariantBase: {{0.87, 0.78, 0.94}, tiktokStopped, zeroFlag},
				"scan_hash=false":          {{0.03, 0, 0.07}, scanOff, zeroFlag},
			}},
			"Signal":    {text: signalText, variants: map[string][3][3]float64{schema.PlatformVariantBase: {{0, 0, 0.003}, {0.25, 0.2, 0.29}, zeroFlag}}},
			"Messenger": {text: 0, variants: map[string][3][3]float64{schema.PlatformVariantBase: {{0.48, 0.35, 0.59}, {0.8, 0.71, 0.89}, {0.002, 0.001, 0.01}}}},
		}), nil)
		if !ok {
			t.Fatal("no table")
		}
		return pt
	}
	for _, c := range []struct {
		name      string
		pt        platformTable
		verdict   func(platformTable) string
		want, not []string
	}{
		{"content=holds", base([3]float64{0.97, 0.95, 0.99}, [3]float64{0.8, 0.7, 0.89}, 0), platformTable.contentVerdict,
			[]string{"holds where it is definite", "`default`, 0% (Signal and Messenger)", "`not`, 100% (TikTok)"}, []string{"does not always"}},
		{"content=fails", base([3]float64{0.97, 0.95, 0.99}, [3]float64{0.8, 0.7, 0.89}, 0.5), platformTable.contentVerdict,
			[]string{"does not always hold", "50% on Signal and 0% on Messenger"}, nil},
		{"within=apart", base([3]float64{0.97, 0.95, 0.99}, [3]float64{0.8, 0.7, 0.89}, 0), platformTable.withinWordVerdict,
			[]string{"from 0% (0–0.3%) on Signal to 48% (35–59%) on Messenger"}, nil},
		{"focus=rests-on-undocumented", base([3]float64{0.97, 0.95, 0.99}, [3]float64{0.8, 0.7, 0.89}, 0), platformTable.focusVerdict,
			[]string{"holds on outcomes, as far as the preset is documented", "the lead rests on `scan_hash`", "at `scan_hash=false` it stops 80% (70–89%), no more than Messenger"}, nil},
		{"focus=holds", base([3]float64{0.97, 0.95, 0.99}, [3]float64{0.93, 0.91, 0.95}, 0), platformTable.focusVerdict,
			[]string{"holds on outcomes", "intervals apart."}, []string{"rests on"}},
		{"focus=overlaps", base([3]float64{0.85, 0.75, 0.95}, [3]float64{0.8, 0.7, 0.89}, 0), platformTable.focusVerdict,
			[]string{"overstates the difference", "intervals overlap"}, []string{"holds"}},
		{"flagged=range", base([3]float64{0.97, 0.95, 0.99}, [3]float64{0.8, 0.7, 0.89}, 0), platformTable.flaggedVerdict,
			[]string{"from 0% (0–1%) on TikTok to 0.2% (0.1–1%) on Messenger"}, []string{"do not separate"}},
	} {
		t.Run("verdict="+c.name, func(t *testing.T) {
			got := c.verdict(c.pt)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n  %s", w, got)
				}
			}
			for _, n := range c.not {
				if strings.Contains(got, n) {
					t.Errorf("unwanted %q in\n  %s", n, got)
				}
			}
		})
	}
	t.Run("verdict=within-overlap", func(t *testing.T) {
		pt, _ := platformTableOf(platRows([]string{"Signal", "Messenger"}, map[string]platSpec{
			"Signal":    {variants: map[string][3][3]float64{schema.PlatformVariantBase: {{0.1, 0, 0.3}, {0.2, 0.1, 0.3}, zeroFlag}}},
			"Messenger": {variants: map[string][3][3]float64{schema.PlatformVariantBase: {{0.2, 0.1, 0.4}, {0.3, 0.2, 0.4}, zeroFlag}}},
		}), nil)
		if s := pt.withinWordVerdict(); s != "" {
			t.Errorf("overlapping intervals gave %q", s)
		}
		if s := pt.flaggedVerdict(); !strings.Contains(s, "do not separate") || !strings.Contains(s, "upper bound is 1%") {
			t.Errorf("flagged: %q", s)
		}
	})
}

// TestSpanCell formats how far a measure moves across a sweep.
func TestSpanCell(t *testing.T) {
	row := func(v float64) schema.PlatformRow { return schema.PlatformRow{Value: v} }
	for _, c := range []struct {
		name string
		s    span
		want string
	}{
		{"none", span{points: 2}, "not measured"},
		{"still", span{lo: row(0.5), hi: row(0.5), measured: 2, points: 2}, "no change (50%)"},
		{"baseline-only", span{lo: row(0.5), hi: row(0.5), measured: 1, points: 3}, "50% (baseline only)"},
		{"rounding", span{lo: row(0.971), hi: row(0.972), measured: 2, points: 2}, "≈ 97%"},
		{"moves", span{lo: row(0.03), hi: row(0.87), measured: 3, points: 3}, "3–87%"},
	} {
		t.Run("span="+c.name, func(t *testing.T) {
			if got := spanCell(c.s); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestPlatformSweeps reads variant labels into sweeps: fields in file
// order, the study's assumptions marked, the scanning-on sweep apart.
func TestPlatformSweeps(t *testing.T) {
	var rows []schema.PlatformRow
	for _, v := range []string{schema.PlatformVariantBase, "scan_hash=true", "opt_in_share=0.05", "opt_in_share=0.5", "dm_keep=0.5",
		"offender_factor=3", "offender_factor=1;scan=on", "offender_factor=3;scan=on"} {
		rows = append(rows, schema.PlatformRow{Platform: "X", Variant: v, Measure: schema.MeasureHarmfulCaught, Value: float64(len(v)) / 100, Lo: 0, Hi: 1, N: 1})
	}
	pt, _ := platformTableOf(rows, nil)
	var got []string
	for _, s := range pt.sweeps("X") {
		got = append(got, s.name()+"="+strings.Join(s.values, ",")+map[bool]string{true: "(study)", false: ""}[s.assumption])
	}
	want := "scan_hash=true opt_in_share=0.05,0.5 dm_keep=0.5(study) offender_factor=3(study) offender_factor, scanning on=1,3(study)"
	if strings.Join(got, " ") != want {
		t.Errorf("sweeps %q, want %q", strings.Join(got, " "), want)
	}
	s := pt.sweeps("X")[4]
	if sp := pt.span("X", s, schema.MeasureHarmfulCaught, ""); sp.points != 2 || sp.lo.Variant != "offender_factor=1;scan=on" {
		t.Errorf("the scanning-on sweep read with the baseline: %+v", sp)
	}
}
