package report

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"scanlab"
	"scanlab/corpus"
	"scanlab/schema"
)

// TestExactRate checks the Clopper–Pearson interval against its closed
// forms at the ends: 0 of n gives [0, 1 − 0.025^(1/n)] and n of n gives
// [0.025^(1/n), 1]; and 5 of 10 against the published [0.187, 0.813].
func TestExactRate(t *testing.T) {
	for _, tt := range []struct {
		k, n   int
		lo, hi float64
	}{
		{0, 20, 0, 1 - math.Pow(0.025, 1.0/20)},
		{20, 20, math.Pow(0.025, 1.0/20), 1},
		{0, 1425, 0, 0.002585},
		{5, 10, 0.187, 0.813},
	} {
		t.Run(fmt.Sprintf("k=%d/n=%d", tt.k, tt.n), func(t *testing.T) {
			r := exactRate(tt.k, tt.n)
			if math.Abs(r.lo-tt.lo) > 5e-4 || math.Abs(r.hi-tt.hi) > 5e-4 {
				t.Errorf("exactRate(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tt.k, tt.n, r.lo, r.hi, tt.lo, tt.hi)
			}
		})
	}
	if r := exactRate(0, 0); r.String() != "no data (0 items)" || r.cell() != "–" {
		t.Errorf("a rate without data formats as %q / %q", r.String(), r.cell())
	}
}

func TestRateFormat(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    rate
		want string
	}{
		{"file-interval", fileRate(257, 300, 0.7649, 0.9414), "86% (95% CI 76–94%; 257 of 300)"},
		{"rounded-to-zero-upper-end", fileRate(0, 86238, 0, 0), "0% (95% CI 0–<0.005%; 0 of 86,238)"},
		{"rounding-hides-the-interval", fileRate(90, 929952, 0.0001, 0.0001), "0.0097% (95% CI within 0.005–0.015%; 90 of 929,952)"},
		{"six-decimals-resolve-it", fileRateAt(0, 7125, 0, 0.000518, sixDecimals), "0% (95% CI 0–0.052%; 0 of 7,125)"},
		{"narrow-interval-gets-a-decimal", fileRate(5501, 106804, 0.0502, 0.0528), "5.2% (95% CI 5.0–5.3%; 5,501 of 106,804)"},
		{"no-data", fileRate(0, 0, 0, 0), "no data (0 items)"},
	} {
		t.Run("case="+tt.name, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// sens builds a sensitivity row: item recall k/n with an interval of
// ±0.05, offenders flagged ok of on, false flags ff of 1,000.
func sens(mode, model string, stealth, threshold float64, k, n, ok, on, ff int) schema.SensitivityRow {
	p := float64(k) / float64(n)
	op := float64(ok) / float64(on)
	return schema.SensitivityRow{Mode: mode, OffenderModel: model, Stealth: stealth, DetectorThreshold: threshold,
		OffenderRecall: op, OffenderRecallLo: math.Max(0, op-0.1), OffenderRecallHi: math.Min(1, op+0.1),
		ItemRecall: p, ItemRecallLo: math.Max(0, p-0.05), ItemRecallHi: math.Min(1, p+0.05),
		FalseFlagRate: float64(ff) / 1000, FalseFlagHi: exactRate(ff, 1000).hi, Offenders: on, Items: n, Innocent: 1000}
}

func TestHeadline(t *testing.T) {
	for _, tt := range []struct {
		name      string
		rows      []schema.SensitivityRow
		want, not []string
		found     bool
	}{
		{"three-modes", []schema.SensitivityRow{
			sens("serverscan", "all", 0, 6, 80, 100, 40, 80, 0), sens("e2ee", "all", 0, 6, 20, 100, 10, 80, 0),
			sens("clientscan", "all", 0, 6, 20, 100, 10, 80, 0), sens("e2ee", "all", 0, 5, 30, 100, 10, 80, 2),
			sens("e2ee", "all", 1, 6, 1, 100, 0, 80, 0),
		}, []string{"calibrated threshold (6 points", "0 of 1,000 benign adults flagged, 95% upper bound 0.37%",
			"server-side scanning caught 80% (95% CI 75–85%) of the 100 harmful items that 80 offender accounts delivered",
			"end-to-end encryption 20% (95% CI 15–25%) and on-device scanning 20% (95% CI 15–25%)"}, []string{"30%"}, true},
		{"all-equal", []schema.SensitivityRow{sens("serverscan", "all", 0, 6, 5, 10, 1, 2, 1), sens("e2ee", "all", 0, 6, 5, 10, 1, 2, 1)},
			[]string{"every design caught the same share of the 10 harmful items delivered: 50%", "1 of 1,000 benign adults flagged"}, []string{"server-side scanning caught"}, true},
		{"one-mode", []schema.SensitivityRow{sens("e2ee", "all", 0, 6, 5, 10, 1, 2, 0)}, []string{"end-to-end encryption caught 50%"}, []string{"every design"}, true},
		{"no-row-at-operating-point", []schema.SensitivityRow{sens("e2ee", "all", 0, 5, 5, 10, 1, 2, 0)}, nil, nil, false},
		{"stealthy-rows-ignored", []schema.SensitivityRow{sens("e2ee", "all", 1, 6, 5, 10, 1, 2, 0)}, nil, nil, false},
	} {
		t.Run("case="+tt.name, func(t *testing.T) {
			h, ok := headlineOf(tt.rows, 6)
			if ok != tt.found {
				t.Fatalf("found = %v, want %v", ok, tt.found)
			}
			if !ok {
				return
			}
			s := headlineSentence(h)
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("%q lacks %q", s, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(s, w) {
					t.Errorf("%q contains %q", s, w)
				}
			}
		})
	}
}

func TestLossesVersus(t *testing.T) {
	items := []modeRate{
		{"serverscan", fileRate(80, 100, 0.7, 0.9)},
		{"e2ee", fileRate(20, 100, 0.1, 0.3)},
	}
	ls := lossesVersus(items, "serverscan")
	if len(ls) != 1 || ls[0].mode != "e2ee" {
		t.Fatalf("losses = %+v, want one for e2ee", ls)
	}
	l := ls[0]
	// 1 − 0.2/0.8 = 0.75; least 1 − 0.3/0.7; most 1 − 0.1/0.9.
	if math.Abs(l.est-0.75) > 1e-9 || math.Abs(l.lo-(1-0.3/0.7)) > 1e-9 || math.Abs(l.hi-(1-0.1/0.9)) > 1e-9 {
		t.Errorf("loss = %+v", l)
	}
	if got := l.String(); got != "75% (range 57 to 89%)" {
		t.Errorf("loss formats as %q", got)
	}
	if ls := lossesVersus([]modeRate{{"serverscan", fileRate(0, 10, 0, 0.3)}, {"e2ee", fileRate(0, 10, 0, 0.3)}}, "serverscan"); ls != nil {
		t.Errorf("a loss relative to nothing caught: %+v", ls)
	}
	unbounded := lossesVersus([]modeRate{{"serverscan", fileRate(1, 10, 0, 0.4)}, {"e2ee", fileRate(0, 10, 0, 0.3)}}, "serverscan")
	if len(unbounded) != 1 || !strings.Contains(unbounded[0].String(), "range unbounded to 100%") {
		t.Errorf("loss with a reference interval down to 0 = %v", unbounded)
	}
}

func TestLossSentence(t *testing.T) {
	same := loss{mode: "e2ee", ref: "serverscan", est: 0.8, lo: 0.6, hi: 0.9}
	other := same
	other.mode = "clientscan"
	s := lossSentence([]lossRow{{"harmful items caught", same}, {"harmful items caught", other}})
	for _, w := range []string{"End-to-end encryption and on-device scanning each caught 80% (range 60 to 90%) fewer harmful items than server-side scanning", "92% (Facebook)", "6.9 million fewer"} {
		if !strings.Contains(s, w) {
			t.Errorf("%q lacks %q", s, w)
		}
	}
	other.est = 0.5
	s = lossSentence([]lossRow{{"harmful items caught", same}, {"harmful items caught", other}})
	if strings.Contains(s, "each") || !strings.Contains(s, "; on-device scanning caught 50%") {
		t.Errorf("different losses share a clause: %q", s)
	}
}

func TestFlagOutcomes(t *testing.T) {
	rows := []schema.CoverageRow{
		{Mode: "e2ee", Class: corpus.ClassHarmfulText, Pathway: scanlab.ServerMetadata, Items: 10, Detected: 3, PreventedAfterFlag: 3, FlaggedUnseen: 2},
		{Mode: "e2ee", Class: corpus.ClassNovelImage, Pathway: scanlab.ServerMetadata, Items: 5, Detected: 1, PreventedAfterFlag: 1},
		{Mode: "e2ee", Class: corpus.ClassBenignText, Pathway: scanlab.ServerMetadata, Items: 100, FlaggedUnseen: 7},
		{Mode: "e2ee", Class: corpus.ClassHarmfulText, Pathway: schema.AnyPathway, Items: 10, Detected: 4, PreventedAfterFlag: 3},
	}
	o := flagOutcomes(rows)
	if len(o) != 1 || o[0].items != 15 || o[0].prevented != 4 || o[0].unseen != 2 || o[0].afterFlag != 6 || o[0].confirmed != 0 {
		t.Errorf("flagOutcomes = %+v, want 15 items, 4 prevented, 2 unseen (benign and any rows left out)", o)
	}
}

func acct(mode, group string, flagged, accounts int) schema.AccountsRow {
	r := exactRate(flagged, accounts)
	return schema.AccountsRow{Mode: mode, Variant: schema.BaseVariant, Group: group, Accounts: accounts, Flagged: flagged, FlaggedLo: r.lo, FlaggedHi: r.hi}
}

func TestAccountSentences(t *testing.T) {
	modes := []string{"serverscan", "e2ee"}
	acc := []schema.AccountsRow{
		acct("serverscan", "offender", 12, 20), acct("e2ee", "offender", 2, 20),
		acct("serverscan", "offender/ring", 5, 5), acct("e2ee", "offender/ring", 0, 5),
		acct("serverscan", "offender/groomer", 0, 8), acct("e2ee", "offender/groomer", 0, 8),
		acct("serverscan", "benign-adult", 0, 1000), acct("e2ee", "benign-adult", 0, 1000),
		acct("serverscan", "lookalike", 1, 50), acct("e2ee", "lookalike", 0, 50),
	}
	if g := accountGroups(acc); strings.Join(g, ",") != "offender,offender/groomer,offender/ring,benign-adult,lookalike" {
		t.Errorf("groups in order %v", g)
	}
	s := archetypeSentence(acc, modes)
	for _, w := range []string{"slow groomers 0% (95% CI 0–37%) in every design", "adult rings trading images 100% (95% CI 48–100%) in server-side scanning and 0% (95% CI 0–52%) in end-to-end encryption"} {
		if !strings.Contains(s, w) {
			t.Errorf("%q lacks %q", s, w)
		}
	}
	if strings.Contains(s, "all offenders") {
		t.Errorf("%q names all offenders among the archetypes", s)
	}
	f := innocentFlagSentence(acc, modes)
	for _, w := range []string{"No design flagged any of the 1,000 benign adults (95% upper bound 0.37%).", "Look-alikes flagged: 2% (95% CI 0.051–11%; 1 of 50) in server-side scanning and 0%"} {
		if !strings.Contains(f, w) {
			t.Errorf("%q lacks %q", f, w)
		}
	}
	clean := innocentFlagSentence(acc[:8], modes)
	if clean != "No design flagged any of the 1,000 benign adults (95% upper bound 0.37%)." {
		t.Errorf("no false flag at all: %q", clean)
	}
}

func TestPolicyRows(t *testing.T) {
	prev := []schema.PreventionRow{
		{Mode: "serverscan", Variant: schema.BaseVariant, HarmfulAttempts: 100, HarmfulPrevented: 60, HarmfulDelivered: 40, HarmfulDetected: 30, BenignAttempts: 1000, BenignPrevented: 50},
		{Mode: "e2ee", Variant: schema.BaseVariant, HarmfulAttempts: 100, HarmfulPrevented: 60, HarmfulDelivered: 40, HarmfulDetected: 5, BenignAttempts: 1000, BenignPrevented: 50, HarmfulPreventedAfterFlag: 4},
		{Mode: "e2ee", Variant: schema.Variant{Sweep: "report-rate", Value: "0.2"}, HarmfulAttempts: 100, HarmfulPrevented: 60, HarmfulDelivered: 40},
		{Mode: "e2ee", Variant: schema.Variant{Sweep: "dm-policy", Value: "no-one"}, HarmfulAttempts: 100, HarmfulPrevented: 100, BenignAttempts: 1000, BenignPrevented: 900},
	}
	pol := policyRows(prev)
	if len(pol) != 2 || pol[0].policy != asGenerated || pol[1].policy != "no-one" {
		t.Fatalf("policies = %+v, want as generated and no-one", pol)
	}
	if pol[0].harmful.k != 60 || len(pol[0].caught) != 2 || rateIn(pol[0].afterFlag, "e2ee").k != 4 || rateIn(pol[0].caught, "serverscan").k != 30 {
		t.Errorf("as generated = %+v", pol[0])
	}
	s := policySentence(pol)
	for _, w := range []string{"stopped 60% (95% CI 50–70%; 60 of 100) of harmful messages", "100% (95% CI 96–100%) when every account's setting is “no one may write” (harmless: 90%"} {
		if !strings.Contains(s, w) {
			t.Errorf("%q lacks %q", s, w)
		}
	}
}

func sweepRow(v schema.Variant, mode string, class corpus.ContentClass, pw scanlab.Pathway, k, n int) schema.CoverageSweepRow {
	r := exactRate(k, n)
	return schema.CoverageSweepRow{Variant: v, CoverageRow: schema.CoverageRow{Mode: mode, Class: class, Pathway: pw, Items: n, Detected: k,
		Recall: float64(k) / float64(n), RecallLo: r.lo, RecallHi: r.hi}}
}

func TestPSICell(t *testing.T) {
	for _, tt := range []struct {
		v        schema.Variant
		days, th int
		ok       bool
	}{
		{schema.BaseVariant, 30, 30, true},
		{schema.Variant{Sweep: "threshold", Value: "5"}, 30, 5, true},
		{schema.Variant{Sweep: "duration", Value: "90d"}, 90, 30, true},
		{schema.Variant{Sweep: "duration", Value: "7d;t=5"}, 7, 5, true},
		{schema.Variant{Sweep: "duration", Value: "7;t=5"}, 0, 0, false},
		{schema.Variant{Sweep: "duration", Value: "7d;x=5"}, 7, 0, false},
		{schema.Variant{Sweep: "stealth", Value: "1"}, 0, 0, false},
	} {
		t.Run("cell="+tt.v.Sweep+"="+tt.v.Value, func(t *testing.T) {
			days, th, ok := psiCell(tt.v, 30)
			if ok != tt.ok || (ok && (days != tt.days || th != tt.th)) {
				t.Errorf("psiCell = %d, %d, %v; want %d, %d, %v", days, th, ok, tt.days, tt.th, tt.ok)
			}
		})
	}
}

func TestPSISentence(t *testing.T) {
	known, dh := corpus.ClassKnownImage, scanlab.DeviceHash
	rows := []schema.CoverageSweepRow{
		sweepRow(schema.BaseVariant, "clientscan", known, dh, 0, 100),
		sweepRow(schema.BaseVariant, "e2ee", known, dh, 0, 100),
		sweepRow(schema.Variant{Sweep: "threshold", Value: "1"}, "clientscan", known, dh, 90, 100),
		sweepRow(schema.Variant{Sweep: "threshold", Value: "10"}, "clientscan", known, dh, 40, 100),
		sweepRow(schema.Variant{Sweep: "threshold", Value: "20"}, "clientscan", known, dh, 0, 100),
		sweepRow(schema.Variant{Sweep: "duration", Value: "90d"}, "clientscan", known, dh, 30, 300),
		sweepRow(schema.Variant{Sweep: "duration", Value: "90d;t=5"}, "clientscan", known, dh, 200, 300),
		sweepRow(schema.Variant{Sweep: "duration", Value: "7d"}, "clientscan", known, dh, 0, 20),
		sweepRow(schema.Variant{Sweep: "duration", Value: "7d;t=5"}, "clientscan", known, dh, 0, 20),
	}
	pts := psiPoints(rows, known, 30)
	if len(pts) != 8 {
		t.Fatalf("points = %+v, want 8 (e2ee left out)", pts)
	}
	for _, tt := range []struct {
		days int
		want string
	}{
		{30, "Over 30 days (base), on-device matching caught no known image at t = 30 (0 of 100, 95% CI 0–4%); the largest threshold at which it caught any was t = 10: 40%"},
		{90, "Over 90 days, on-device matching caught known images already at t = 30: 10%"},
		{7, "Over 7 days, on-device matching caught no known image at any threshold swept (t = 5 to 30): at t = 5, 0 of 20"},
	} {
		t.Run(fmt.Sprintf("days=%d", tt.days), func(t *testing.T) {
			if s := psiSentence(pts, tt.days, 30); !strings.Contains(s, tt.want) {
				t.Errorf("%q lacks %q", s, tt.want)
			}
		})
	}
}

func TestSweepCells(t *testing.T) {
	text, ur := corpus.ClassHarmfulText, scanlab.UserReport
	rows := []schema.CoverageSweepRow{
		sweepRow(schema.BaseVariant, "e2ee", text, ur, 1, 50),
		sweepRow(schema.BaseVariant, "serverscan", text, ur, 1, 50),
		sweepRow(schema.Variant{Sweep: "report-rate", Value: "0.2"}, "e2ee", text, ur, 10, 50),
		sweepRow(schema.Variant{Sweep: "stealth", Value: "1"}, "e2ee", text, ur, 5, 50),
	}
	cells := sweepCells(rows, sweepMeasure{"report-rate", text, ur, schema.BaseVariant})
	if len(cells) != 2 || cells[0].variant != schema.BaseVariant || cells[1].r.k != 10 {
		t.Errorf("cells = %+v, want e2ee's base then report-rate=0.2 (serverscan has no cell of the sweep)", cells)
	}
	if cells := sweepCells(rows, sweepMeasure{"psi-match", text, ur, schema.BaseVariant}); cells != nil {
		t.Errorf("a sweep without cells gave %+v", cells)
	}
}

func TestTextPairs(t *testing.T) {
	rows := []schema.TextsRow{
		{Set: "held-out", Category: "harmful", Items: 1000, Templates: 50, Flagged: 300, Rate: 0.3, Lo: 0.2, Hi: 0.4},
		{Set: "workload", Category: "harmful", Items: 200, Templates: 70, Flagged: 190, Rate: 0.95, Lo: 0.9, Hi: 0.99},
		{Set: "held-out", Category: "benign", Items: 1000, Templates: 30, Flagged: 30, Rate: 0.03, Lo: 0, Hi: 0.07},
		{Set: "workload", Category: "benign", Items: 1500, Templates: 150, Flagged: 0, Rate: 0, Lo: 0, Hi: 0},
	}
	pairs := textPairs(rows)
	if len(pairs) != 2 || !pairs[1].found[0] || !pairs[1].found[1] {
		t.Fatalf("pairs = %+v", pairs)
	}
	// The collapsed bootstrap gives way to Clopper–Pearson over the 150
	// templates: 0 of 150 has an upper end of 1 − 0.025^(1/150).
	if w := pairs[1].workload; w.k != 0 || w.n != 1500 || math.Abs(w.hi-(1-math.Pow(0.025, 1.0/150))) > 1e-4 {
		t.Errorf("workload benign = %+v", w)
	}
	s := textSentence(pairs)
	for _, w := range []string{"flagged 95% (95% CI 90–99%; 190 of 200) of harmful texts phrased as the workload phrases them, but 30% (95% CI 20–40%; 300 of 1,000)",
		"3% (95% CI 0–7%; 30 of 1,000) of harmless held-out texts and 0% (95% CI 0–2%; 0 of 1,500)"} {
		if !strings.Contains(s, w) {
			t.Errorf("%q lacks %q", s, w)
		}
	}
	rows[0].Flagged, rows[0].Items = 190, 200
	if s := textSentence(textPairs(rows)); !strings.Contains(s, "the same share") || strings.Contains(s, "but") {
		t.Errorf("equal rates compared: %q", s)
	}
}

func TestSensitivity(t *testing.T) {
	var rows []schema.SensitivityRow
	for _, m := range []string{"serverscan", "e2ee", "clientscan"} {
		for _, th := range []float64{5, 6, 7} {
			k := 30 - int(th)*3
			if m == "serverscan" {
				k = 80
			}
			ff := map[float64]int{5: 3, 6: 0, 7: 0}[th]
			rows = append(rows, sens(m, "all", 0, th, k, 100, k/2, 50, ff), sens(m, "all", 1, th, 2, 100, 0, 50, ff))
		}
	}
	if g := sensGroups(rows); len(g) != 2 || strings.Join(g[1], ",") != "e2ee,clientscan" {
		t.Errorf("groups = %v, want serverscan alone and e2ee with clientscan", g)
	}
	s := strings.Join(sensSentences(rows, "e2ee", 6), " ")
	for _, w := range []string{"end-to-end encryption caught 12% (95% CI 7–17%) of harmful items when offenders behaved as their archetypes say (stealth 0) and 2% (95% CI 0–7%) when they were stealthy (stealth 1)",
		"moving the threshold from 7 to 5 took end-to-end encryption from 9% (95% CI 4–14%) to 15% (95% CI 10–20%)", "from 0 of 1,000 benign adults (95% upper bound 0.37%) to 3 of 1,000"} {
		if !strings.Contains(s, w) {
			t.Errorf("%q lacks %q", s, w)
		}
	}
	f := stealthFinding(rows, 6)
	for _, w := range []string{"stealthy (stealth 1: like a benign parent", "instead of behaving as its archetype says (stealth 0)",
		"went from 80% (95% CI 75–85%) to 2% (95% CI 0–7%) in server-side scanning and went from 12% (95% CI 7–17%) to 2% (95% CI 0–7%) in each of end-to-end encryption and on-device scanning"} {
		if !strings.Contains(f, w) {
			t.Errorf("%q lacks %q", f, w)
		}
	}
	s = strings.Join(sensSentences(rows, "serverscan", 6), " ")
	if !strings.Contains(s, "at every threshold from 5 to 7, while benign adults flagged went from 3 of 1,000") || strings.Contains(s, "took server-side scanning from 80%") {
		t.Errorf("equal rates compared: %q", s)
	}
}

func TestModePathways(t *testing.T) {
	rows := []schema.CoverageRow{
		{Mode: "clientscan", Class: corpus.ClassKnownImage, Pathway: scanlab.ServerHash, Items: 10},
		{Mode: "clientscan", Class: corpus.ClassKnownImage, Pathway: scanlab.DeviceHash, Items: 10, Detected: 4},
		{Mode: "clientscan", Class: corpus.ClassKnownImage, Pathway: scanlab.UserReport, Items: 10},
		{Mode: "clientscan", Class: corpus.ClassKnownImage, Pathway: scanlab.ServerMetadata, Items: 10},
		{Mode: "clientscan", Class: corpus.ClassKnownImage, Pathway: schema.AnyPathway, Items: 10, Detected: 4},
		{Mode: "serverscan", Class: corpus.ClassKnownImage, Pathway: scanlab.ServerHash, Items: 10, Detected: 9},
	}
	got := modePathways(rows, "clientscan")
	want := []scanlab.Pathway{scanlab.ServerMetadata, scanlab.DeviceHash, scanlab.UserReport, schema.AnyPathway}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("modePathways = %v, want %v (server image match caught nothing here)", got, want)
	}
}

// TestPooledLosses checks that the paired losses of coverage/pooled.csv are
// used, with their interval, and that rows without a loss are skipped.
func TestPooledLosses(t *testing.T) {
	rows := []schema.PooledRow{
		{Mode: "serverscan", Variant: schema.BaseVariant, Items: 100, Caught: 80, Rate: 0.8, Lo: 0.7, Hi: 0.9, Loss: math.NaN(), LossLo: math.NaN(), LossHi: math.NaN()},
		{Mode: "e2ee", Variant: schema.BaseVariant, Items: 100, Caught: 12, Rate: 0.12, Lo: 0.08, Hi: 0.16, Loss: 0.85, LossLo: 0.77, LossHi: 0.9},
		{Mode: "e2ee", Variant: schema.Variant{Sweep: "stealth", Value: "1"}, Loss: 0.99, LossLo: 0.98, LossHi: 1},
	}
	got := pooledLosses(rows, schema.BaseVariant)
	if len(got) != 1 || got[0].mode != "e2ee" || !got[0].paired {
		t.Fatalf("pooledLosses = %+v", got)
	}
	if s := got[0].String(); s != "85% (95% CI 77% to 90%)" {
		t.Fatalf("String = %q", s)
	}
}
