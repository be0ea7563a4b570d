package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"scanlab"
	"scanlab/corpus"
	"scanlab/observe"
	"scanlab/schema"
)

func TestVisibilitySentences(t *testing.T) {
	rows, err := schema.Visibility.ReadFile(filepath.Join("testdata", "full"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"e2ee":       "In end-to-end encryption, no party other than the sender and recipient recovered message text or photos. The provider still recovered who sent it, who received it, when it was sent, message size and who talks to whom for every message.",
		"serverscan": "In server-side scanning, the provider, the provider's employee, law enforcement and the database thief with the provider's keys recovered message text and photos. The provider recovered who sent it, who received it, when it was sent, message size and who talks to whom for every message.",
	}
	for _, m := range visMatrices(passiveRows(rows)) {
		if want[m.mode] == "" {
			continue
		}
		t.Run("mode="+m.mode, func(t *testing.T) {
			caption, more := m.sentences()
			if got := strings.Join(caption, " "); got != want[m.mode] {
				t.Errorf("caption:\n%s\nwant:\n%s", got, want[m.mode])
			}
			if !strings.Contains(strings.Join(more, " "), "A network eavesdropper recovered when it was sent and message size.") {
				t.Errorf("no eavesdropper sentence in %q", more)
			}
		})
	}
}

// TestVisibilitySentencesFollowData changes one cell and requires the
// sentence to change with it: the text is computed, not fixed.
func TestVisibilitySentencesFollowData(t *testing.T) {
	row := func(p observe.Party, it observe.Item, v float64) schema.VisibilityRow {
		return schema.VisibilityRow{Mode: "m", Party: p, Item: it, Recovered: v}
	}
	tests := []struct {
		name string
		rows []schema.VisibilityRow
		want string
	}{
		{"provider-half-text", []schema.VisibilityRow{row(observe.Provider, observe.Text, 0.5), row(observe.Provider, observe.Image, 0)},
			"In m, the provider (50%) recovered message text; no party other than the sender and recipient recovered photos."},
		{"nobody", []schema.VisibilityRow{row(observe.Provider, observe.Text, 0), row(observe.Employee, observe.Text, 0), row(observe.Sender, observe.Text, 1)},
			"In m, no party other than the sender and recipient recovered message text."},
		{"law-enforcement-no-article", []schema.VisibilityRow{row(observe.Provider, observe.Text, 1), row(observe.LawEnforcement, observe.Text, 1), row(observe.Provider, observe.Image, 1), row(observe.LawEnforcement, observe.Image, 0)},
			"In m, the provider and law enforcement recovered message text; the provider recovered photos."},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			caption, _ := visMatrices(tt.rows)[0].sentences()
			if len(caption) == 0 || caption[0] != tt.want {
				t.Errorf("got %q, want %q", caption, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{pct(0), "0%"},
		{pct(1), "100%"},
		{pct(0.6666666666666666), "67%"},
		{pct(0.0033333), "0.33%"},
		{pct(0.99948), "99.9%"},
		{pct(2.188), "219%"},
		{pct(math.NaN()), "n/a"},
		{fraction(0.6666666666666666), "0.67"},
		{fraction(1), "1"},
		{fraction(0), "0"},
		{duration(1.1), "1.1 µs"},
		{duration(11672.8), "11.7 ms"},
		{duration(2.5e6), "2.5 s"},
		{count(86388), "86,388"},
		{count(1000000), "1,000,000"},
		{count(-1234), "-1,234"},
		{count(12), "12"},
		{humanNumber(1e6), "1M"},
		{humanNumber(20000), "20k"},
		{humanNumber(0.01), "0.01"},
		{sci(4.14e-14), "4.1e-14"},
		{sci(0.001), "0.001"},
		{andList([]string{"a"}), "a"},
		{andList([]string{"a", "b"}), "a and b"},
		{andList([]string{"a", "b", "c"}), "a, b and c"},
		{article("image"), "an"},
		{article("text"), "a"},
		{fileName("msg/s"), "msg_s"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestLogTicks(t *testing.T) {
	tests := []struct {
		min, max float64
		want     []string
	}{
		{9000, 55000, []string{"10k", "20k", "50k"}},
		{10500, 52000, []string{"20k", "30k", "40k", "50k"}},
		{1000, 1e6, []string{"1k", "10k", "100k", "1M"}},
		{2.6e-37, 0.00995, []string{"1e-35", "1e-30", "1e-25", "1e-20", "1e-15", "1e-10", "1e-05"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("range=%g-%g", tt.min, tt.max), func(t *testing.T) {
			var got []string
			for _, tk := range (logTicks{}).Ticks(tt.min, tt.max) {
				if tk.Value < tt.min || tk.Value > tt.max {
					t.Errorf("tick %g outside the range", tk.Value)
				}
				if tk.Label != "" {
					got = append(got, tk.Label)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("labels %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSlope(t *testing.T) {
	tests := []struct {
		pts  plotter.XYs
		want float64
		ok   bool
	}{
		{plotter.XYs{{X: 10, Y: 1}, {X: 100, Y: 10}, {X: 1000, Y: 100}}, 1, true},
		{plotter.XYs{{X: 10, Y: 5}, {X: 1000, Y: 5}}, 0, true},
		{plotter.XYs{{X: 10, Y: 1}, {X: 100, Y: 100}}, 2, true},
		{plotter.XYs{{X: 10, Y: 1}}, 0, false},
		{plotter.XYs{{X: 10, Y: 0}, {X: 100, Y: -1}}, 0, false},
	}
	for i, tt := range tests {
		got, ok := slope(tt.pts)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("case %d: slope = %v, %v; want %v, %v", i, got, ok, tt.want, tt.ok)
		}
	}
}

// cov builds a coverage row for the any pathway.
func cov(mode string, class corpus.ContentClass, detected, items int) schema.CoverageRow {
	return schema.CoverageRow{Mode: mode, Class: class, Pathway: schema.AnyPathway, Items: items, Detected: detected}
}

func TestHardestClass(t *testing.T) {
	tests := []struct {
		name  string
		rows  []schema.CoverageRow
		want  corpus.ContentClass
		found bool
	}{
		{"lowest-best-design", []schema.CoverageRow{
			cov("a", corpus.ClassKnownImage, 9, 10), cov("b", corpus.ClassKnownImage, 10, 10),
			cov("a", corpus.ClassNovelImage, 1, 10), cov("b", corpus.ClassNovelImage, 3, 10),
		}, corpus.ClassNovelImage, true},
		{"class-without-items-ignored", []schema.CoverageRow{
			cov("a", corpus.ClassKnownImage, 5, 10), cov("a", corpus.ClassHarmfulText, 0, 0), cov("a", corpus.ClassNovelImage, 9, 10),
		}, corpus.ClassKnownImage, true},
		{"all-equal", []schema.CoverageRow{cov("a", corpus.ClassKnownImage, 5, 10), cov("a", corpus.ClassNovelImage, 1, 2)}, "", false},
		{"one-class-with-items", []schema.CoverageRow{cov("a", corpus.ClassKnownImage, 5, 10), cov("a", corpus.ClassNovelImage, 0, 0)}, "", false},
		{"benign-not-counted", []schema.CoverageRow{cov("a", corpus.ClassKnownImage, 5, 10), cov("a", corpus.ClassBenignImage, 0, 10)}, "", false},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			h, ok := hardestClass(tt.rows)
			if ok != tt.found || h.class != tt.want {
				t.Errorf("hardestClass = %v, %v; want %v, %v", h.class, ok, tt.want, tt.found)
			}
		})
	}
}

func TestScalingSentence(t *testing.T) {
	g := scalingGroup{key: "users", unit: "messages", whats: []string{"one", "flat", "grows"}, pts: map[string]plotter.XYs{
		"one":   {{X: 100, Y: 5}},
		"flat":  {{X: 10, Y: 2000}, {X: 100, Y: 2000}},
		"grows": {{X: 10, Y: 1}, {X: 1000, Y: 100}},
	}}
	for what, want := range map[string]string{
		"one":   "One was 5 messages with 100 users.",
		"flat":  "Flat stayed at 2,000 messages from 10 users to 100 users.",
		"grows": "Grows went from 1 messages with 10 users to 100 messages with 1,000 users, a log-log slope of 1.00.",
	} {
		if got := g.sentence(what); got != want {
			t.Errorf("sentence(%s) = %q, want %q", what, got, want)
		}
	}
}

func TestSpeedups(t *testing.T) {
	row := func(what string, x, v float64) schema.ScalingRow {
		return schema.ScalingRow{What: what, Key: "list_size", X: x, Value: v, Unit: "us/query"}
	}
	rows := []schema.ScalingRow{
		row(schema.ScaleMatchIndex, 1e6, 70), row(schema.ScaleMatchReference, 1e6, 14000), row(schema.ScaleMatchPacked, 1e6, 3500),
		row(schema.ScaleMatchIndex, 1e3, 5), row(schema.ScaleMatchReference, 1e3, 15),
		{What: schema.ScaleIndexSpeedup, Key: "list_size", X: 1e6, Value: 200, Unit: "x"},
	}
	sp := speedups(rows)
	if len(sp) != 2 {
		t.Fatalf("speedups = %+v, want two list sizes", sp)
	}
	if sp[1].factor != 50 || !sp[1].packedMeasured || !strings.Contains(sp[1].baseline, "MatchLinear") {
		t.Errorf("at 10^6: %+v, want 50× against the packed scan", sp[1])
	}
	if sp[0].factor != 3 || sp[0].packedMeasured || !strings.Contains(sp[0].baseline, "perceptual.Linear") {
		t.Errorf("at 10^3: %+v, want 3× against the reference scan, packed not measured", sp[0])
	}
	for _, g := range scalingGroups(rows) {
		if g.unit == "x" {
			t.Errorf("the derived speed-up rows were plotted")
		}
	}
}

func TestThornComparisons(t *testing.T) {
	thorn, err := thornPublished.Read(strings.NewReader(string(thornCSV)), thornFile)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := thornPublishedFor(thorn, "phash", "rotate4"); !ok || r.Recall != 59.626 {
		t.Errorf("Thorn phash rotate4 = %+v, %v; want recall 59.626", r, ok)
	}
	eva := []schema.EvasionRow{
		{Algo: "pdq", Transform: "noise0.2", Threshold: 31, Items: 10, Matched: 4},
		{Algo: "pdq", Transform: "noise0.2", Threshold: 66, Items: 10, Matched: 10},
		{Algo: "pdq", Transform: "blur2", Threshold: 31, Items: 10, Matched: 10},
		{Algo: "pdq", Transform: "blur2", Threshold: 60, Items: 10, Matched: 10},
		{Algo: "pdq", Transform: "blur2", Threshold: 66, Items: 10, Matched: 10},
	}
	metric := []schema.ThornMetricRow{{Algo: "pdq", Transform: "noise0.2", Items: 10, Threshold: schema.Some(72), Recall: 100}}
	cs := thornComparisons(eva, metric, thorn)
	if len(cs) != 2 {
		t.Fatalf("comparisons = %+v, want blur2 and noise0.2", cs)
	}
	for _, c := range cs {
		switch c.transform {
		case "blur2":
			if c.thornThreshold != 60 || c.atThorn.n != 10 || c.atThorn.k != 10 {
				t.Errorf("blur2: %+v, want ours at Thorn's own 60 bits", c)
			}
		case "noise0.2":
			if c.thornThreshold != 66 || c.at31.k != 4 || c.metric != 1 || c.metricThreshold != 72 {
				t.Errorf("noise0.2: %+v", c)
			}
		}
	}
	g := thornGap(cs, "pdq", ours31)
	if g.n != 2 || g.worst != "noise0.2" {
		t.Errorf("gap at 31 = %+v, want noise0.2 the largest of 2", g)
	}
}

// TestGlossaryComplete requires a plain name and a meaning for every
// value of the vocabulary, so that it cannot grow unexplained.
func TestGlossaryComplete(t *testing.T) {
	check := func(kind string, names []string, has func(string) (term, bool)) {
		for _, n := range names {
			tm, ok := has(n)
			if !ok || tm.name == "" || tm.meaning == "" {
				t.Errorf("%s %q has no glossary entry", kind, n)
			}
			if ok && tm.name == n && strings.ContainsAny(n, "-+_") {
				t.Errorf("%s %q: its plain name is its identifier", kind, n)
			}
		}
	}
	check("party", mapStrings(observe.Parties, func(p observe.Party) string { return string(p) }), func(s string) (term, bool) { x, ok := partyTerms[observe.Party(s)]; return x, ok })
	check("item", mapStrings(observe.Items, func(p observe.Item) string { return string(p) }), func(s string) (term, bool) { x, ok := itemTerms[observe.Item(s)]; return x, ok })
	check("pathway", mapStrings(schema.Pathways, func(p scanlab.Pathway) string { return string(p) }), func(s string) (term, bool) { x, ok := pathwayTerms[scanlab.Pathway(s)]; return x, ok })
	check("class", mapStrings(corpus.ContentClasses, func(p corpus.ContentClass) string { return string(p) }), func(s string) (term, bool) { x, ok := classTerms[corpus.ContentClass(s)]; return x, ok })
}

func TestInlineHTML(t *testing.T) {
	for in, want := range map[string]string{
		"`a<b` and **bold** and *it*": "<code>a&lt;b</code> and <strong>bold</strong> and <em>it</em>",
		"see [Limits](#limitations).": `see <a href="#limitations">Limits</a>.`,
		"5 * 3 & 2 < 4":               "5 * 3 &amp; 2 &lt; 4",
		"µs — “quoted”":               "µs — “quoted”",
	} {
		if got := inlineHTML(in); got != want {
			t.Errorf("inlineHTML(%q) = %q, want %q", in, got, want)
		}
	}
	if a := anchor("What gets detected"); a != "what-gets-detected" {
		t.Errorf("anchor = %q", a)
	}
	if a := anchor("Compared with Thorn's benchmark, like for like"); a != "compared-with-thorns-benchmark-like-for-like" {
		t.Errorf("anchor = %q", a)
	}
}

func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "scanlab-report-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	// A results directory with only the visibility experiment's output.
	if err := os.CopyFS(filepath.Join(dir, "visibility"), os.DirFS(filepath.Join("testdata", "full", "visibility"))); err != nil {
		panic(err)
	}
	s, err := Generate(dir)
	if err != nil {
		panic(err)
	}
	fmt.Println("included:", s.Included)
	fmt.Println("plots:", len(s.Plots))
	fmt.Println("first skipped:", s.Skipped[0])
	// Output:
	// included: [visibility/visibility.csv visibility/active.csv]
	// plots: 6
	// first skipped: coverage/coverage.csv
}
