package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"scanlab"
	"scanlab/corpus"
	"scanlab/observe"
	"scanlab/schema"
)

// edgeCase is a small results directory built with the schema's writers,
// for the prose layer's edge cases.
type edgeCase struct {
	name  string
	build func(t *testing.T, dir string)
	// want and not are sentences (or parts) REPORT.md must and must not
	// contain.
	want, not []string
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// coverageRows gives every class and pathway of each mode; items and
// detected come from counts[class] = {detected, items}.
func coverageRows(modes []string, counts map[corpus.ContentClass][2]int) []schema.CoverageRow {
	var rows []schema.CoverageRow
	for _, m := range modes {
		for _, cl := range corpus.ContentClasses {
			c := counts[cl]
			for _, pw := range schema.Pathways {
				det := 0
				if pw == schema.AnyPathway || pw == scanlab.ServerMetadata {
					det = c[0]
				}
				iv := exactRate(det, c[1])
				row := schema.CoverageRow{Mode: m, Class: cl, Pathway: pw, Items: c[1], Detected: det, RecallLo: iv.lo, RecallHi: iv.hi, Distinct: c[1], Senders: c[1]}
				if c[1] > 0 {
					row.Recall = float64(det) / float64(c[1])
				}
				rows = append(rows, row)
			}
		}
	}
	return rows
}

// sensitivityRows gives every mode, stealth and threshold the same
// figures: k of n harmful items caught (exact interval), 2 of 4 offenders
// flagged, ff of 1,000 benign adults.
func sensitivityRows(modes []string, stealth, thresholds []float64, k, n, ff int) []schema.SensitivityRow {
	var rows []schema.SensitivityRow
	items, offenders, benign := exactRate(k, n), exactRate(2, 4), exactRate(ff, 1000)
	for _, m := range modes {
		for _, s := range stealth {
			for _, th := range thresholds {
				rows = append(rows, schema.SensitivityRow{Mode: m, OffenderModel: "all", Stealth: s, DetectorThreshold: th,
					OffenderRecall: 0.5, OffenderRecallLo: offenders.lo, OffenderRecallHi: offenders.hi,
					ItemRecall: items.p(), ItemRecallLo: items.lo, ItemRecallHi: items.hi,
					FalseFlagRate: benign.p(), FalseFlagHi: benign.hi, Offenders: 4, Items: n, Innocent: 1000})
			}
		}
	}
	return rows
}

func latencyRows(modes []string, p50 float64) []schema.LatencyRow {
	var rows []schema.LatencyRow
	for _, m := range modes {
		for _, k := range schema.Kinds {
			for _, st := range schema.Stages {
				rows = append(rows, schema.LatencyRow{Mode: m, Kind: k, Stage: st, Messages: 30, P50: p50, P95: p50, P99: p50})
			}
		}
	}
	return rows
}

func manifest(t *testing.T, dir, experiment string, options string) {
	t.Helper()
	m := schema.Manifest{Experiment: experiment, Seed: 7, Scale: schema.ScaleQuick, Options: []byte(options), Revision: "0123456789abcdef0123456789abcdef01234567", Modified: "false",
		GoVersion: "go1.26", OS: "linux", Arch: "amd64", CPUs: 2, CPUModel: "test CPU", Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Duration: "1s"}
	must(t, schema.WriteManifest(filepath.Join(dir, experiment), m))
}

var edgeCases = []edgeCase{
	{
		name: "one-class-empty",
		build: func(t *testing.T, dir string) {
			counts := map[corpus.ContentClass][2]int{
				corpus.ClassKnownImage: {8, 10}, corpus.ClassTransformedImage: {5, 10}, corpus.ClassEvasiveImage: {2, 10},
				corpus.ClassNovelImage: {1, 4}, corpus.ClassHarmfulText: {0, 0}, corpus.ClassBenignImage: {0, 50}, corpus.ClassBenignText: {0, 80},
			}
			must(t, schema.Coverage.WriteFile(dir, coverageRows([]string{"serverscan", "e2ee"}, counts)))
		},
		want: []string{"The hardest harmful class was adversarially altered known image: the best design (server-side scanning) caught 20%",
			"No design flagged any harmless item; each harmless class's upper bound is in the table."},
		not: []string{"hardest harmful class was harmful text", "no architecture"},
	},
	{
		name: "all-values-equal",
		build: func(t *testing.T, dir string) {
			counts := map[corpus.ContentClass][2]int{
				corpus.ClassKnownImage: {5, 10}, corpus.ClassNovelImage: {5, 10}, corpus.ClassHarmfulText: {5, 10},
				corpus.ClassCollisionImage: {0, 1}, corpus.ClassBenignText: {0, 10},
			}
			modes := []string{"serverscan", "e2ee", "clientscan"}
			must(t, schema.Coverage.WriteFile(dir, coverageRows(modes, counts)))
			must(t, schema.Sensitivity.WriteFile(dir, sensitivityRows(modes, []float64{0, 1}, []float64{5, 6}, 15, 30, 0)))
			must(t, schema.Latency.WriteFile(dir, latencyRows(modes, 1000)))
			var sc []schema.ScalingRow
			for _, u := range []float64{10, 100} {
				sc = append(sc, schema.ScalingRow{What: "relay-messages", Key: "users", X: u, Value: 2000, Unit: "messages"})
			}
			must(t, schema.Scaling.WriteFile(dir, sc))
		},
		want: []string{"every design caught the same share of the 30 harmful items delivered: 50%", "caught the same share of harmful items whether offenders were at stealth 0 or 1",
			"Messages sent stayed at 2,000 messages from 10 users to 100 users", "took a median of 1 ms from sealing to opening in every design",
			"The slowest 1% of messages (99th percentile) took 1 ms."},
		not: []string{"hardest", "falls from", "went from 2,000", "from 1 ms (", "took end-to-end encryption from", "fewer harmful items"},
	},
	{
		name: "one-mode-only",
		build: func(t *testing.T, dir string) {
			counts := map[corpus.ContentClass][2]int{corpus.ClassKnownImage: {9, 10}, corpus.ClassBenignImage: {1, 100}}
			must(t, schema.Coverage.WriteFile(dir, coverageRows([]string{"e2ee"}, counts)))
			must(t, schema.Sensitivity.WriteFile(dir, sensitivityRows([]string{"e2ee"}, []float64{0}, []float64{6}, 9, 10, 0)))
			must(t, schema.Bytes.WriteFile(dir, []schema.BytesRow{{Mode: "e2ee", Kind: "text", Messages: 30, Body: 300, WireSend: 600, WireFetch: 700}}))
			var vis []schema.VisibilityRow
			for _, p := range observe.Parties {
				for _, it := range observe.Items {
					v := 0.0
					if endpoint(p) {
						v = 1
					}
					vis = append(vis, schema.VisibilityRow{Mode: "e2ee", Party: p, Item: it, Recovered: v})
				}
			}
			must(t, schema.Visibility.WriteFile(dir, vis))
		},
		want: []string{"end-to-end encryption caught 90% (95% CI 55–99.7%) of the 10 harmful items delivered.", "The highest false-alarm rate on harmless content was 1% (95% CI 0.025–5%; 1 of 100), for ordinary photo in end-to-end encryption.",
			"sending it took 600 bytes on the wire."},
		not: []string{"respectively", "sent more than", "hardest", "server-side scanning", "Compared with what was observed"},
	},
	{
		name: "coverage-nothing-caught",
		build: func(t *testing.T, dir string) {
			modes := []string{"serverscan", "e2ee", "clientscan"}
			counts := map[corpus.ContentClass][2]int{corpus.ClassKnownImage: {0, 40}, corpus.ClassHarmfulText: {0, 20}, corpus.ClassBenignText: {0, 500}}
			must(t, schema.Coverage.WriteFile(dir, coverageRows(modes, counts)))
			var sweeps []schema.CoverageSweepRow
			for _, v := range []schema.Variant{schema.BaseVariant, {Sweep: "threshold", Value: "1"}, {Sweep: "threshold", Value: "10"}} {
				for _, c := range coverageRows([]string{"clientscan"}, counts) {
					sweeps = append(sweeps, schema.CoverageSweepRow{CoverageRow: c, Variant: v})
				}
			}
			must(t, schema.CoverageSweeps.WriteFile(dir, sweeps))
			must(t, schema.Sensitivity.WriteFile(dir, sensitivityRows(modes, []float64{0, 0.5}, []float64{5, 6, 7}, 0, 60, 0)))
			var acc []schema.AccountsRow
			for _, m := range modes {
				acc = append(acc, acct(m, "offender", 0, 10), acct(m, "offender/groomer", 0, 10), acct(m, "benign-adult", 0, 900))
				if m == "serverscan" {
					acc = append(acc, acct(m, "lookalike", 1, 50))
				} else {
					acc = append(acc, acct(m, "lookalike", 0, 50))
				}
			}
			must(t, schema.Accounts.WriteFile(dir, acc))
			must(t, schema.Prevention.WriteFile(dir, []schema.PreventionRow{{Mode: "e2ee", Variant: schema.BaseVariant, HarmfulAttempts: 60, HarmfulDelivered: 60, BenignAttempts: 500}}))
			must(t, schema.Texts.WriteFile(dir, []schema.TextsRow{
				{Set: "held-out", Category: "harmful", Items: 100, Templates: 10, Flagged: 50, Rate: 0.5, Lo: 0.3, Hi: 0.7},
				{Set: "workload", Category: "harmful", Items: 100, Templates: 20, Flagged: 50, Rate: 0.5, Lo: 0.4, Hi: 0.6},
			}))
		},
		want: []string{"every design caught the same share of the 60 harmful items delivered: 0%",
			"caught no known image at any threshold swept (t = 1 to 30)", "No design flagged any of the 900 benign adults (95% upper bound 0.41%).",
			"Look-alikes flagged: 2% (95% CI 0.051–11%; 1 of 50) in server-side scanning", "flagged the same share of harmful texts in the workload's phrasing and in held-out phrasings"},
		not: []string{"Compared with what was observed", "fewer harmful items", "moving the threshold", "hardest", "but 50%"},
	},
	{
		name: "privacy-two-calibrations",
		build: func(t *testing.T, dir string) {
			row := func(cal, budget string, max, n int, closed, sim, lo, hi float64) schema.BelowThresholdRow {
				return schema.BelowThresholdRow{Calibration: cal, Rate: 0.1, Budget: budget, BudgetMax: schema.Some(max), Library: n, K: 1, T: 5,
					MeanSynthetic: 3, ClosedForm: closed, Simulated: sim, SimulatedLo: lo, SimulatedHi: hi, Trials: 50}
			}
			must(t, schema.BelowThreshold.WriteFile(dir, []schema.BelowThresholdRow{
				row("wide", "uniform", 10, 100, 0.3, 0.28, 0.1, 0.45),
				row("capped", "fixed", 5, 100, 0.3, 0.3, 0.12, 0.47),
				row("wide", "uniform", 10, 1000, 0.09, 0.25, 0.1, 0.4),
				row("capped", "fixed", 5, 1000, 0.09, 0.05, -0.02, 0.12),
			}))
		},
		want: []string{"With 1,000 images in an account, the provider tells one real match from none with advantage 0.090 (simulated 0.25, 95% CI 0.10 to 0.40) under `wide`, a secret budget of 0 to 10 synthetic vouchers, and as much under every other calibration.",
			"With only 100 images, every calibration sends 3 synthetic vouchers on average, and the provider tells one real match from none with advantage 0.30.",
			"holds the closed form in 3 of 4 cells. In 1 it lies below", "### One real match against none", "0.090 · 0.050 (-0.020 to 0.12)"},
		not: []string{"Just below the threshold", "lies above", "real matches against none"},
	},
	{
		name: "remote-relay",
		build: func(t *testing.T, dir string) {
			must(t, schema.Latency.WriteFile(dir, latencyRows([]string{"serverscan"}, 20000)))
			manifest(t, dir, "latency", `{"relay":"relay.example.org:4433","relay_mode":"serverscan"}`)
		},
		want: []string{"It ran over TLS to a relay at relay.example.org:4433", "**Network.** The latency run measured against a relay at relay.example.org:4433",
			"0123456789ab"},
		not: []string{"loopback interface"},
	},
}

// TestEdgeCases generates a report for each small results directory and
// compares REPORT.md with its golden file, then checks the sentences the
// case is about.
func TestEdgeCases(t *testing.T) {
	for _, ec := range edgeCases {
		t.Run("case="+ec.name, func(t *testing.T) {
			svgOnly(t)
			dir := t.TempDir()
			ec.build(t, dir)
			s, err := Generate(dir)
			must(t, err)
			md, err := os.ReadFile(s.Report)
			must(t, err)
			compareGolden(t, filepath.Join("edge", ec.name+".md"), md)
			text := strings.Join(strings.Fields(string(md)), " ")
			for _, w := range ec.want {
				if !strings.Contains(text, w) {
					t.Errorf("REPORT.md lacks %q", w)
				}
			}
			for _, w := range ec.not {
				if strings.Contains(text, w) {
					t.Errorf("REPORT.md contains %q", w)
				}
			}
		})
	}
}

// bareWords are texts no plot may show as a title, axis label, tick or
// legend: column names, raw units, and vocabulary identifiers that have a
// plain name.
func bareWords() map[string]bool {
	bare := map[string]bool{"x": true, "us": true, "value": true, "us/query": true, "us/voucher": true}
	for _, f := range schema.Files() {
		for _, c := range f.ColumnNames() {
			bare[c] = true
		}
	}
	for _, p := range observe.Parties {
		bare[string(p)] = string(p) != partyName(p)
	}
	for _, i := range observe.Items {
		bare[string(i)] = string(i) != itemName(i)
	}
	for _, p := range schema.Pathways {
		bare[string(p)] = true
	}
	for _, c := range corpus.ContentClasses {
		bare[string(c)] = true
	}
	for m := range modeTerms {
		bare[m] = true
	}
	for _, st := range schema.Stages {
		bare[st] = st != stageName(st)
	}
	return bare
}

var (
	identifier = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)+$`)
	rawUnit    = regexp.MustCompile(`\bus\b|\(x\)`)
)

// svgTexts returns the text of every <text> element of an SVG.
func svgTexts(t *testing.T, svg []byte) []string {
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var out []string
	in := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		must(t, err)
		switch x := tok.(type) {
		case xml.StartElement:
			in = x.Name.Local == "text"
		case xml.EndElement:
			in = false
		case xml.CharData:
			if s := strings.TrimSpace(string(x)); in && s != "" {
				out = append(out, s)
			}
		}
	}
}

// TestPlotLabels renders every plot of the full results and of each edge
// case and checks what a reader sees: each title asks a question, and no
// text drawn is a bare column name, a raw unit or an identifier that has
// a plain name.
func TestPlotLabels(t *testing.T) {
	svgOnly(t)
	bare := bareWords()
	dirs := map[string]string{"full": fixture(t)}
	for _, ec := range edgeCases {
		dirs[ec.name] = t.TempDir()
		ec.build(t, dirs[ec.name])
	}
	n := 0
	for _, name := range slices.Sorted(maps(dirs)) {
		r, err := load(dirs[name])
		must(t, err)
		_, figs, err := r.build()
		must(t, err)
		for _, f := range figs {
			n++
			t.Run("results="+name+"/plot="+f.name, func(t *testing.T) {
				if !strings.HasSuffix(strings.TrimSuffix(f.title, " (medians)"), "?") && !strings.Contains(f.title, "?") {
					t.Errorf("title %q asks no question", f.title)
				}
				_, svg, err := f.save(t.TempDir())
				must(t, err)
				for _, s := range svgTexts(t, svg) {
					if bare[s] || identifier.MatchString(s) || rawUnit.MatchString(s) {
						t.Errorf("plot shows the bare name %q", s)
					}
				}
			})
		}
	}
	if n < 20 {
		t.Errorf("checked only %d plots", n)
	}
}

func maps(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestHTML checks that REPORT.html stands alone: every plot embedded, no
// reference to anything outside the file, every heading of REPORT.md
// present with the anchor the findings link to.
func TestHTML(t *testing.T) {
	svgOnly(t)
	dir := fixture(t)
	s, err := Generate(dir)
	must(t, err)
	page, err := os.ReadFile(s.HTML)
	must(t, err)
	md, err := os.ReadFile(s.Report)
	must(t, err)
	for _, bad := range []string{"<script", "<link", `src="http`, `href="http`, "@import", "url("} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("REPORT.html contains %q: it must need no other file and no network", bad)
		}
	}
	if got, want := bytes.Count(page, []byte(`<img src="data:image/svg+xml;base64,`)), bytes.Count(md, []byte("![")); got != want || got < 15 {
		t.Errorf("REPORT.html embeds %d plots, REPORT.md %d", got, want)
	}
	for _, line := range strings.Split(string(md), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok && !bytes.Contains(page, []byte(`id="`+anchor(h)+`"`)) {
			t.Errorf("REPORT.html lacks the heading %q", h)
		}
	}
	for _, link := range regexp.MustCompile(`\]\(#([a-z0-9-]+)\)`).FindAllStringSubmatch(string(md), -1) {
		if !bytes.Contains(page, []byte(`id="`+link[1]+`"`)) {
			t.Errorf("link to #%s has no target", link[1])
		}
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                []string
	}{
		{"wrong-header", "visibility/visibility.csv", "mode,party,thing,recovered,route\ne2ee,sender,text,1,x\n",
			[]string{"visibility/visibility.csv:1:", `unknown column "thing"`}},
		{"non-numeric-fraction", "visibility/visibility.csv", "mode,party,item,recovered,route\ne2ee,sender,text,1,x\ne2ee,provider,text,most,\n",
			[]string{"visibility/visibility.csv:3:", `recovered: "most" is not a number`}},
		{"latency-p50", "latency/latency.csv", "mode,kind,stage,messages,p50_us,p95_us,p99_us\ne2ee,text,total,30,1.0,2.0,3.0\ne2ee,text,wire,30,fast,2.0,3.0\n",
			[]string{"latency/latency.csv:3:", `p50_us: "fast"`}},
		{"scaling-param", "scaling/scaling.csv", "what,param,value,unit\nmatch,list_size=1000,0.1,ms\nmatch,list_size,0.2,ms\n",
			[]string{"scaling/scaling.csv:3:", "not key=value"}},
		{"manifest", "latency/manifest.json", "{seed: 1}", []string{"latency/manifest.json:1:", "invalid character"}},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			svgOnly(t)
			dir := fixture(t)
			must(t, os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o644))
			_, err := Generate(dir)
			if err == nil {
				t.Fatalf("Generate succeeded on a malformed %s", tt.file)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, f := range []string{"REPORT.md", "REPORT.html"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					t.Errorf("%s was written despite the error", f)
				}
			}
		})
	}
}

func TestMissingExperiment(t *testing.T) {
	for _, tt := range []struct {
		remove            string
		noPlots, stillHas []string
	}{
		{"visibility", []string{"visibility-e2ee"}, []string{"latency-cdf", "coverage-any"}},
		{"latency/latency-samples.csv", []string{"latency-cdf"}, []string{"latency-stages", "bytes"}},
		{"coverage", []string{"coverage-any"}, []string{"evasion-thorn"}},
		{"evasion/thorn-metric.csv", nil, []string{"evasion-thorn"}},
		{"scaling", []string{"scaling-list_size-us_query"}, []string{"coverage-any"}},
		{"privacy", []string{"privacy-below-threshold"}, []string{"coverage-any", "visibility-e2ee"}},
		{"falsematch", []string{"falsematch-distances", "falsematch-account", "falsematch-threshold"}, []string{"privacy-below-threshold"}},
		{"falsematch/curve.csv", []string{"falsematch-account", "falsematch-threshold"}, []string{"falsematch-distances"}},
	} {
		t.Run("remove="+tt.remove, func(t *testing.T) {
			svgOnly(t)
			dir := fixture(t)
			must(t, os.RemoveAll(filepath.Join(dir, tt.remove)))
			s, err := Generate(dir)
			must(t, err)
			md, err := os.ReadFile(s.Report)
			must(t, err)
			if len(s.Skipped) == 0 || !bytes.Contains(md, []byte("*Not run: `")) {
				t.Errorf("nothing reported missing (skipped %v)", s.Skipped)
			}
			for _, p := range tt.noPlots {
				if _, err := os.Stat(filepath.Join(dir, "plots", p+".svg")); err == nil {
					t.Errorf("plot %s was written although its input is missing", p)
				}
			}
			for _, p := range tt.stillHas {
				if _, err := os.Stat(filepath.Join(dir, "plots", p+".svg")); err != nil {
					t.Errorf("plot %s missing: %v", p, err)
				}
			}
		})
	}
}
