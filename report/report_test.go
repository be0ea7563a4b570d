package report

import (
	"bytes"
	"flag"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenSVGs are the plots whose SVG output is compared byte for byte.
var goldenSVGs = []string{"visibility-e2ee.svg", "latency-cdf.svg", "coverage-any.svg", "evasion-thorn.svg"}

// svgOnly skips PNG files for the rest of the test, to keep the suite fast
// under the race detector; only TestPlotsAndEmbeds rasterises.
func svgOnly(t *testing.T) {
	writePNG = false
	t.Cleanup(func() { writePNG = true })
}

// fixture copies testdata/full (every experiment's output, the visibility
// file from a real quick run) into a fresh directory and returns it.
func fixture(t testing.TB) string {
	t.Helper()
	dst := t.TempDir()
	err := os.CopyFS(dst, os.DirFS(filepath.Join("testdata", "full")))
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestGenerateGolden(t *testing.T) {
	svgOnly(t)
	dir := fixture(t)
	s, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Skipped) != 0 {
		t.Errorf("skipped %v, want nothing skipped", s.Skipped)
	}
	if len(s.Included) != 8 {
		t.Errorf("included %v, want all 8 inputs", s.Included)
	}
	compare := func(name string, got []byte) {
		t.Helper()
		path := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run go test -update after checking the change):\n%s", name, path, firstDiff(string(got), string(want)))
		}
	}
	md, err := os.ReadFile(s.Report)
	if err != nil {
		t.Fatal(err)
	}
	compare("REPORT.md", md)
	for _, name := range goldenSVGs {
		b, err := os.ReadFile(filepath.Join(dir, "plots", name))
		if err != nil {
			t.Fatal(err)
		}
		compare(name, b)
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n got: " + clip(gl) + "\nwant: " + clip(wl)
		}
	}
	return "(no difference in lines)"
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func itoa(i int) string { return count(float64(i)) }

// TestPlotsAndEmbeds checks that every plot exists as PNG and SVG, that the
// PNG decodes, and that REPORT.md embeds each PNG and links each SVG.
func TestPlotsAndEmbeds(t *testing.T) {
	dir := fixture(t)
	s, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(s.Report)
	if err != nil {
		t.Fatal(err)
	}
	var pngs, svgs int
	for _, p := range s.Plots {
		rel := "plots/" + filepath.Base(p)
		switch filepath.Ext(p) {
		case ".png":
			pngs++
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(f)
			f.Close()
			if err != nil {
				t.Errorf("%s: %v", rel, err)
			} else if cfg.Width < 800 || cfg.Height < 400 {
				t.Errorf("%s is %d×%d pixels, too small to read", rel, cfg.Width, cfg.Height)
			}
			if !bytes.Contains(md, []byte("]("+rel+")")) {
				t.Errorf("REPORT.md does not embed %s", rel)
			}
		case ".svg":
			svgs++
			if !bytes.Contains(md, []byte("("+rel+")")) {
				t.Errorf("REPORT.md does not link %s", rel)
			}
		default:
			t.Errorf("unexpected plot file %s", p)
		}
	}
	if pngs != svgs || pngs < 10 {
		t.Errorf("%d PNG and %d SVG files, want the same number and at least 10", pngs, svgs)
	}
	for _, want := range []string{"visibility-serverscan", "visibility-e2ee", "coverage-any", "coverage-e2ee", "latency-cdf",
		"latency-stages", "bytes", "evasion-thorn", "evasion-strength", "falseflag", "scaling-list_size-ms"} {
		if !slices.Contains(s.Plots, filepath.Join(dir, "plots", want+".png")) {
			t.Errorf("no plot %s.png", want)
		}
	}
}

// TestDeterministic generates twice from the same files and requires
// byte-identical Markdown and SVG.
func TestDeterministic(t *testing.T) {
	svgOnly(t)
	a, b := fixture(t), fixture(t)
	if _, err := Generate(a); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(b); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := fs.WalkDir(os.DirFS(a), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		x, err := os.ReadFile(filepath.Join(a, path))
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, path))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs on the same input", path)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 15 {
		t.Errorf("compared only %d files", n)
	}
}

func TestMissingExperiment(t *testing.T) {
	tests := []struct {
		remove    []string // paths under the fixture to delete
		skipped   []string
		notes     []string // files the report must say are missing; default skipped
		noPlots   []string // plot names that must not be written
		stillHave []string // plot names that must still be written
	}{
		{remove: []string{"visibility"}, skipped: []string{visibilityFile}, noPlots: []string{"visibility-e2ee", "visibility-serverscan"}, stillHave: []string{"latency-cdf", "coverage-any"}},
		{remove: []string{"latency"}, skipped: []string{latencyFile, samplesFile, bytesFile}, notes: []string{latencyFile}, noPlots: []string{"latency-cdf", "latency-stages", "bytes"}, stillHave: []string{"visibility-e2ee"}},
		{remove: []string{"latency/latency-samples.csv"}, skipped: []string{samplesFile}, noPlots: []string{"latency-cdf"}, stillHave: []string{"latency-stages", "bytes"}},
		{remove: []string{"latency/bytes.csv"}, skipped: []string{bytesFile}, noPlots: []string{"bytes"}, stillHave: []string{"latency-cdf"}},
		{remove: []string{"coverage"}, skipped: []string{coverageFile, falseFlagFile}, noPlots: []string{"coverage-any", "coverage-e2ee", "falseflag"}, stillHave: []string{"evasion-thorn"}},
		{remove: []string{"coverage/falseflag.csv"}, skipped: []string{falseFlagFile}, noPlots: []string{"falseflag"}, stillHave: []string{"coverage-any"}},
		{remove: []string{"evasion"}, skipped: []string{evasionFile}, noPlots: []string{"evasion-thorn", "evasion-strength"}, stillHave: []string{"scaling-list_size-ms"}},
		{remove: []string{"scaling"}, skipped: []string{scalingFile}, noPlots: []string{"scaling-list_size-ms"}, stillHave: []string{"falseflag"}},
		{remove: []string{"visibility", "latency", "coverage", "evasion", "scaling"},
			skipped: []string{visibilityFile, coverageFile, falseFlagFile, evasionFile, latencyFile, samplesFile, bytesFile, scalingFile},
			notes:   []string{visibilityFile, coverageFile, falseFlagFile, evasionFile, latencyFile, scalingFile},
			noPlots: []string{"visibility-e2ee", "latency-cdf", "coverage-any", "evasion-thorn", "falseflag"}},
	}
	for _, tt := range tests {
		t.Run("remove="+strings.Join(tt.remove, "+"), func(t *testing.T) {
			svgOnly(t)
			dir := fixture(t)
			for _, r := range tt.remove {
				if err := os.RemoveAll(filepath.Join(dir, r)); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Generate(dir)
			if err != nil {
				t.Fatal(err)
			}
			md, err := os.ReadFile(s.Report)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.skipped {
				if !slices.Contains(s.Skipped, f) {
					t.Errorf("Skipped = %v, want it to list %s", s.Skipped, f)
				}
			}
			notes := tt.notes
			if notes == nil {
				notes = tt.skipped
			}
			for _, f := range notes {
				if !bytes.Contains(md, []byte("*Not run: `"+f+"` was not found")) {
					t.Errorf("REPORT.md has no note that %s is missing", f)
				}
			}
			for _, p := range tt.noPlots {
				if _, err := os.Stat(filepath.Join(dir, "plots", p+".svg")); err == nil {
					t.Errorf("plot %s was written although its input is missing", p)
				}
				if bytes.Contains(md, []byte("plots/"+p+".png")) {
					t.Errorf("REPORT.md embeds %s although its input is missing", p)
				}
			}
			for _, p := range tt.stillHave {
				if _, err := os.Stat(filepath.Join(dir, "plots", p+".svg")); err != nil {
					t.Errorf("plot %s missing: %v", p, err)
				}
			}
			if !bytes.Contains(md, []byte("## Limitations")) {
				t.Error("REPORT.md has no limitations section")
			}
		})
	}
}

func TestEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	s, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Included) != 0 || len(s.Plots) != 0 {
		t.Errorf("included %v, plots %v; want none", s.Included, s.Plots)
	}
	md, err := os.ReadFile(filepath.Join(dir, "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte("No `manifest.json` was found")) {
		t.Errorf("REPORT.md does not say that no manifest was found:\n%s", md)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                []string // substrings of the error
	}{
		{"wrong-header", "visibility/visibility.csv", "mode,party,thing,recovered,route\ne2ee,sender,text,1,x\n",
			[]string{"visibility/visibility.csv:1:", "lacks column item"}},
		{"non-numeric-fraction", "visibility/visibility.csv", "mode,party,item,recovered,route\ne2ee,sender,text,1,x\ne2ee,provider,text,most,\n",
			[]string{"visibility/visibility.csv:3:", `recovered: "most" is not a number`}},
		{"fraction-out-of-range", "visibility/visibility.csv", "mode,party,item,recovered,route\ne2ee,sender,text,1.5,x\n",
			[]string{"visibility/visibility.csv:2:", "not a fraction"}},
		{"nan-fraction", "visibility/visibility.csv", "mode,party,item,recovered,route\ne2ee,sender,text,NaN,x\n",
			[]string{"visibility/visibility.csv:2:", "not a number"}},
		{"empty-mode", "visibility/visibility.csv", "mode,party,item,recovered,route\n,sender,text,1,x\n",
			[]string{"visibility/visibility.csv:2:", "mode is empty"}},
		{"empty-file", "visibility/visibility.csv", "",
			[]string{"visibility/visibility.csv:", "empty file"}},
		{"latency-p50", "latency/latency.csv", "mode,kind,stage,messages,p50_us,p95_us,p99_us\ne2ee,text,total,30,1.0,2.0,3.0\ne2ee,text,wire,30,fast,2.0,3.0\n",
			[]string{"latency/latency.csv:3:", `p50_us: "fast"`}},
		{"short-row", "coverage/coverage.csv", "mode,class,pathway,items,detected,recall\ne2ee,known-image,any,10,1\n",
			[]string{"coverage/coverage.csv:2:", "wrong number of fields"}},
		{"negative-count", "evasion/evasion.csv", "algo,transform,strength,threshold,items,matched,recall,psnr\npdq,blur2,,31,-5,0,0,30\n",
			[]string{"evasion/evasion.csv:2:", `items: "-5" is not a count`}},
		{"scaling-param", "scaling/scaling.csv", "what,param,value,unit\nmatch,list_size=1000,0.1,ms\nmatch,list_size,0.2,ms\n",
			[]string{"scaling/scaling.csv:3:", "not key=value"}},
		{"falseflag-probability", "coverage/falseflag.csv", "t,library,images,p_image,p_account\n1,1000,10,1e-6,2\n",
			[]string{"coverage/falseflag.csv:2:", "p_account", "not a fraction"}},
		{"manifest", "latency/manifest.json", "{seed: 1}",
			[]string{"latency/manifest.json", "invalid character"}},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			svgOnly(t)
			dir := fixture(t)
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Generate(dir)
			if err == nil {
				t.Fatalf("Generate succeeded on a malformed %s", tt.file)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "REPORT.md")); err == nil {
				t.Error("REPORT.md was written despite the error")
			}
		})
	}
}
