package platform_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"scanlab/corpus"
	"scanlab/internal/golden"
	"scanlab/platform"
)

func builtins(t testing.TB) []*platform.Preset {
	t.Helper()
	ps, err := platform.All()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestEveryFieldSourcedOrUndocumented: every field of every built-in
// preset cites a source with a title, an address, a publisher and a read
// date, or says "undocumented" with a range to sweep, or "not-applicable".
func TestEveryFieldSourcedOrUndocumented(t *testing.T) {
	ps := builtins(t)
	if len(ps) != 6 {
		t.Fatalf("%d built-in presets, want 6", len(ps))
	}
	for _, p := range ps {
		for _, f := range p.Fields() {
			t.Run(fmt.Sprintf("platform=%s/field=%s", p.Slug, f.Key), func(t *testing.T) {
				switch f.State {
				case platform.Documented:
					s := f.Source
					if s == nil || s.Title == "" || s.Publisher == "" || !strings.HasPrefix(s.URL, "http") || s.Read.IsZero() {
						t.Errorf("documented value %v without a full source: %+v", f.Value, s)
					}
				case platform.Undocumented:
					if f.Key != platform.KeyMetadata && len(f.Points()) == 0 {
						t.Errorf("undocumented without a range to sweep")
					}
				case platform.NotApplicable:
				default:
					t.Errorf("state %v", f.State)
				}
			})
		}
	}
}

// TestBadPresets: every file in testdata/bad is refused with an error
// containing the text its first line names (the key at fault).
func TestBadPresets(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad presets: %v", err)
	}
	for _, path := range files {
		t.Run("file="+filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bytes.Cut(data, []byte("\n"))
			want, ok := strings.CutPrefix(string(first), "# want: ")
			if !ok {
				t.Fatalf("first line %q does not say what error is wanted", first)
			}
			p, err := platform.Parse(strings.TrimSuffix(filepath.Base(path), ".toml"), data)
			if err == nil {
				t.Fatalf("parsed: %+v", p)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error:\n%v\nwant it to contain %q", err, want)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	data := append([]byte("platform = \"Big\"\n# "), bytes.Repeat([]byte("x"), platform.MaxFileSize)...)
	if _, err := platform.Parse("big", data); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("error %v, want one about the size", err)
	}
}

// TestLoad reads a user's preset from a file, and names the file in errors.
func TestLoad(t *testing.T) {
	p, err := platform.Load(filepath.Join("..", "presets", "x.toml"))
	if err != nil || p.Name != "X" || p.Slug != "x" {
		t.Fatalf("Load = %+v, %v", p, err)
	}
	bad := filepath.Join("testdata", "bad", "mode-impossible.toml")
	if _, err := platform.Load(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("error %v does not name the file", err)
	}
}

// TestVariants writes every built-in preset's runs — the baseline and the
// one-at-a-time sweep of its undocumented fields — to a golden file
// (go test -update rewrites it), and checks the facts the presets rest on.
func TestVariants(t *testing.T) {
	var b strings.Builder
	runs := map[string]platform.Run{}
	for _, p := range builtins(t) {
		vs, err := p.Variants()
		if err != nil {
			t.Fatalf("%s: %v", p.Slug, err)
		}
		if want := 1 + sweptPoints(p); len(vs) != want {
			t.Errorf("%s: %d variants, want %d", p.Slug, len(vs), want)
		}
		runs[p.Slug] = vs[0].Run
		for _, v := range vs {
			fmt.Fprintf(&b, "%s %s=%s\t%s\n", p.Slug, or(v.Field, "baseline"), or(v.Value, "-"), describe(v.Run))
		}
	}
	golden.Check(t, "testdata/variants.golden", []byte(b.String()))
	for _, c := range []struct {
		slug, mode       string
		share            float64
		sealed           bool
		minors           corpus.DMPolicy
		clear, encrypted platform.Report
	}{
		{"tiktok", "serverscan", 0, false, corpus.DMNoOne, platform.ReportProviderCopy, ""},
		{"signal", "e2ee", 1, true, corpus.DMEveryone, "", platform.ReportMetadataOnly},
		{"whatsapp", "e2ee", 1, false, corpus.DMEveryone, "", platform.ReportForwarded},
		{"messenger", "e2ee", 1, false, corpus.DMFriends, "", platform.ReportFranked},
		{"instagram", "serverscan", 0, false, corpus.DMFriends, platform.ReportProviderCopy, ""},
		{"x", "hybrid", 0.275, false, corpus.DMFriends, platform.ReportProviderCopy, platform.ReportNone},
	} {
		r := runs[c.slug]
		if r.Mode != c.mode || r.EncryptedShare != c.share || r.SealedSender != c.sealed || r.DM.Minors != c.minors ||
			r.Reports.Clear != c.clear || r.Reports.Encrypted != c.encrypted {
			t.Errorf("%s baseline: %s", c.slug, describe(r))
		}
	}
}

func sweptPoints(p *platform.Preset) int {
	n := 0
	for _, f := range p.Undocumented() {
		n += len(f.Points()) - 1
	}
	return n
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func describe(r platform.Run) string {
	return fmt.Sprintf("mode=%s encrypted=%g optin=%s paying=%g sealed=%v safety-numbers=%v kt=%v dm=%s/%s report=%s/%s scan-hash=%v scan-text=%v",
		r.Mode, r.EncryptedShare, or(string(r.OptIn), "-"), r.PayingShare, r.SealedSender, r.SafetyNumbers, r.KeyTransparency,
		r.DM.Adults, r.DM.Minors, or(string(r.Reports.Clear), "-"), or(string(r.Reports.Encrypted), "-"), r.Scan.Hash, r.Scan.Text)
}

// TestConfigChoices: a run needs exactly one value per undocumented field,
// within its range; anything else is an error naming the key.
func TestConfigChoices(t *testing.T) {
	x, err := platform.Builtin("x")
	if err != nil {
		t.Fatal(err)
	}
	base := x.Baseline()
	for _, c := range []struct {
		name   string
		change func(map[string]string)
		want   string
	}{
		{"missing", func(m map[string]string) { delete(m, platform.KeyOptInShare) }, "opt_in_share: undocumented"},
		{"documented-field", func(m map[string]string) { m[platform.KeySafetyNumbers] = "false" }, "safety_numbers: not an undocumented field"},
		{"unknown-field", func(m map[string]string) { m["colour"] = "blue" }, "colour: not an undocumented field"},
		{"share-outside-range", func(m map[string]string) { m[platform.KeyOptInShare] = "0.9" }, `opt_in_share: "0.9" is outside its range`},
		{"share-not-number", func(m map[string]string) { m[platform.KeyOptInShare] = "most" }, `opt_in_share: "most" is outside`},
		{"bool-not-bool", func(m map[string]string) { m[platform.KeySealedSender] = "maybe" }, `sealed_sender: "maybe" is not true or false`},
		{"choice-outside-range", func(m map[string]string) { m[platform.KeyDMMinors] = "followers" }, `dm_minors: "followers" is outside`},
	} {
		t.Run("choice="+c.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			c.change(m)
			if r, err := x.Config(m); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Config = %s, %v; want an error containing %q", describe(r), err, c.want)
			}
		})
	}
	r, err := x.Config(map[string]string{platform.KeyOptInShare: "0.05", platform.KeySealedSender: "true", platform.KeyKeyTransparency: "false",
		platform.KeyDMMinors: "no-one", platform.KeyScanHash: "false", platform.KeyScanText: "true"})
	if err != nil || r.EncryptedShare != 0.05 || !r.SealedSender || r.DM.Minors != corpus.DMNoOne || r.Scan.Hash || !r.Scan.Text {
		t.Errorf("Config = %s, %v", describe(r), err)
	}
}

// TestPublishedAgainstPresets: the published table covers the six
// platforms with sourced rows, and disagrees with the presets exactly where
// the platforms changed after it was written.
func TestPublishedAgainstPresets(t *testing.T) {
	var slugs, disagree []string
	for _, row := range platform.Published {
		slugs = append(slugs, row.Slug)
		if row.Source.Title == "" || row.Source.Publisher == "" || !strings.HasPrefix(row.Source.URL, "https://") || row.Source.Read.IsZero() {
			t.Errorf("%s: source %+v", row.Slug, row.Source)
		}
		p, err := platform.Builtin(row.Slug)
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.Config(p.Baseline())
		if err != nil {
			t.Fatal(err)
		}
		measured := map[string]string{"e2ee": "default", "clientscan": "default", "hybrid": "optional", "serverscan": "not"}[r.Mode]
		if measured != row.E2EE {
			disagree = append(disagree, row.Slug)
		}
	}
	slices.Sort(slugs)
	want := slices.Clone(platform.Slugs)
	slices.Sort(want)
	if !slices.Equal(slugs, want) {
		t.Errorf("published rows %v, presets %v", slugs, want)
	}
	if !slices.Equal(disagree, []string{"instagram"}) {
		t.Errorf("the published table and the presets disagree on %v, want [instagram] (opt-in removed in May 2026)", disagree)
	}
}

func ExamplePreset_Config() {
	p, err := platform.Builtin("signal")
	if err != nil {
		panic(err)
	}
	for _, f := range p.Undocumented() {
		fmt.Println("undocumented:", f.Key, f.Points())
	}
	r, err := p.Config(p.Baseline())
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Mode, r.SealedSender, r.Reports.Encrypted, r.DM.Adults)
	// Output:
	// undocumented: key_transparency [false true]
	// undocumented: dm_minors [everyone friends no-one]
	// e2ee true metadata-only everyone
}
