package report

import (
	"bytes"
	"image/png"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"scanlab/internal/golden"
)

// goldenSVGs are the plots whose SVG output is compared byte for byte.
var goldenSVGs = []string{"visibility-e2ee.svg", "latency-cdf.svg", "coverage-any.svg", "coverage-sensitivity-e2ee.svg", "coverage-psi-threshold.svg",
	"evasion-thorn.svg", "privacy-below-threshold.svg", "falsematch-distances.svg", "falsematch-account.svg", "falsematch-threshold.svg", "platforms.svg", "load-throughput.svg"}

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

// fixtureCSVs lists, sorted, every CSV file under dir as a slash path
// relative to it: the inputs a report over the full fixture must include.
func fixtureCSVs(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path.Ext(p) == ".csv" {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
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
	if want := fixtureCSVs(t, dir); !slices.Equal(slices.Sorted(slices.Values(s.Included)), want) {
		t.Errorf("included %v, want every CSV in the fixture %v", s.Included, want)
	}
	compare := func(name string, got []byte) { compareGolden(t, name, got) }
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

// compareGolden compares got with testdata/golden/name, rewriting it with
// -update.
func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "golden", name), got)
}

// TestPlotsAndEmbeds checks that every plot exists as PNG and SVG, that the
// PNG decodes, and that REPORT.md embeds each PNG and links each SVG.
func TestPlotsAndEmbeds(t *testing.T) {
	if testing.Short() {
		t.Skip("study-sized: runs without -short")
	}
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
		"latency-stages", "bytes", "evasion-thorn", "evasion-strength", "scaling-list_size-us_query", "privacy-below-threshold",
		"falsematch-distances", "falsematch-account", "falsematch-threshold",
		"coverage-accounts", "coverage-sensitivity-e2ee", "coverage-psi-threshold", "coverage-dm-policy", "coverage-texts"} {
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

func TestFindingsGroupedBySection(t *testing.T) {
	f := func(section string) finding { return finding{text: section, section: section} }
	tests := []struct {
		in   []finding
		want [][]string
	}{
		{nil, nil},
		{[]finding{f("a")}, [][]string{{"a"}}},
		{[]finding{f("a"), f("a"), f("b"), f("a")}, [][]string{{"a", "a"}, {"b"}, {"a"}}},
	}
	for _, tt := range tests {
		var got [][]string
		for group := range chunkBySection(tt.in) {
			got = append(got, mapStrings(group, func(f finding) string { return f.section }))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("chunkBySection(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestWrapWords(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"", 10, ""},
		{"known abuse image", 14, "known\nabuse image"},
		{"adversarially altered known image", 14, "adversarially\naltered\nknown image"},
		{"ordinary photo", 14, "ordinary photo"},
		{"a b c", 3, "a\nb c"},
		{"unbreakablewordhere x", 5, "unbreakablewordhere\nx"},
	}
	for _, tt := range tests {
		if got := wrapWords(tt.in, tt.width); got != tt.want {
			t.Errorf("wrapWords(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}
