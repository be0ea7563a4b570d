package report

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
)

func TestVisibilitySentences(t *testing.T) {
	cells, err := readVisibility(filepath.Join("testdata", "full"))
	if err != nil {
		t.Fatal(err)
	}
	r := &results{vis: cells}
	want := map[string][]string{
		"e2ee": {
			"In e2ee, no party other than the sender and recipient recovered message text or images.",
			"The provider still recovered sender-id, recipient-id, timestamp, size and contact-graph for every message.",
		},
		"serverscan": {
			"In serverscan, the provider, an employee, law enforcement and a thief with the database and the key-management keys (db-thief+kms) recovered message text and images.",
			"The provider recovered sender-id, recipient-id, timestamp, size and contact-graph for every message.",
		},
	}
	for _, m := range r.visMatrices() {
		t.Run("mode="+m.mode, func(t *testing.T) {
			caption, more := m.sentences()
			if got := strings.Join(caption, "\n"); got != strings.Join(want[m.mode], "\n") {
				t.Errorf("caption:\n%s\nwant:\n%s", got, strings.Join(want[m.mode], "\n"))
			}
			if !strings.Contains(strings.Join(more, " "), "A network eavesdropper recovered timestamp and size (67%).") {
				t.Errorf("no eavesdropper sentence in %q", more)
			}
		})
	}
}

// TestVisibilitySentencesFollowData changes one cell and requires the
// sentence to change with it: the text is computed, not fixed.
func TestVisibilitySentencesFollowData(t *testing.T) {
	tests := []struct {
		cells []visCell
		want  string
	}{
		{[]visCell{{"m", "provider", "text", 0.5, ""}, {"m", "provider", "image", 0, ""}},
			"In m, the provider (50%) recovered message text; no party other than the sender and recipient recovered images."},
		{[]visCell{{"m", "provider", "text", 0, ""}, {"m", "employee", "text", 0, ""}, {"m", "sender", "text", 1, ""}},
			"In m, no party other than the sender and recipient recovered message text."},
		{[]visCell{{"m", "provider", "text", 1, ""}, {"m", "employee", "text", 1, ""}, {"m", "provider", "image", 1, ""}, {"m", "employee", "image", 0, ""}},
			"In m, the provider and an employee recovered message text and the provider recovered images."},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("case=%d", i), func(t *testing.T) {
			r := &results{vis: tt.cells}
			caption, _ := r.visMatrices()[0].sentences()
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

func TestReadScaling(t *testing.T) {
	tests := []struct {
		name, csv string
		want      []scalingPoint
	}{
		{"long", "what,param,value,unit\nmatch-index,list_size=1000,0.21,ms\npsi,list_size=10 users=3,7,bytes\n",
			[]scalingPoint{{"match-index", "list_size", "ms", 1000, 0.21}, {"psi", "list_size", "bytes", 10, 7}}},
		{"long-reordered-extra", "unit,value,what,param,note\nms,2,match,users=10,x\n",
			[]scalingPoint{{"match", "users", "ms", 10, 2}}},
		{"wide", "list_size,match_ms,table_bytes\n1000,0.5,100\n10000,0.9,\n",
			[]scalingPoint{{"match", "list_size", "ms", 1000, 0.5}, {"table", "list_size", "bytes", 1000, 100}, {"match", "list_size", "ms", 10000, 0.9}}},
	}
	for _, tt := range tests {
		t.Run("format="+tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "scaling"), 0o755)
			if err := os.WriteFile(filepath.Join(dir, scalingFile), []byte(tt.csv), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readScaling(dir)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
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

func TestThornEmbedded(t *testing.T) {
	rows, err := parseThorn(thornCSV)
	if err != nil {
		t.Fatal(err)
	}
	r := &results{thorn: rows}
	tests := []struct {
		algo, transform string
		recall          float64
	}{
		{"pdq", "crop0.05", 0.0903},
		{"phash", "rotate4", 0.59626},
		{"pdq", "blur2", 0.99948},
	}
	for _, tt := range tests {
		got, ok := r.thornFor(tt.algo, tt.transform)
		if !ok || math.Abs(got.Recall-tt.recall) > 1e-9 {
			t.Errorf("Thorn %s %s = %v, %v; want recall %v", tt.algo, tt.transform, got, ok, tt.recall)
		}
	}
}

// FuzzParseTable checks that no input makes the CSV reader panic and that
// every visibility row it accepts holds a fraction in [0, 1].
func FuzzParseTable(f *testing.F) {
	for _, name := range []string{"visibility/visibility.csv", "coverage/coverage.csv", "evasion/evasion.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", "full", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("mode,party,item,recovered,route\n\"a\nb\",x,y,0.5,\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := parseTable(bytes.NewReader(b), visibilityFile, visibilityColumns...)
		var cells []visCell
		if err == nil {
			cells, err = visibilityRows(tab)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), visibilityFile+":") {
				t.Errorf("error %q does not start with the file name", err)
			}
			return
		}
		for _, c := range cells {
			if !(c.Recovered >= 0 && c.Recovered <= 1) {
				t.Errorf("accepted fraction %v", c.Recovered)
			}
		}
	})
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
	// included: [visibility/visibility.csv]
	// plots: 4
	// first skipped: coverage/coverage.csv
}
