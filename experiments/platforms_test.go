package experiments

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"scanlab/observe"
	"scanlab/schema"
)

// TestPlatformsOwnPreset runs the platforms experiment on TikTok, X and a
// user's copy of X in which every eligible conversation opts in: the
// provider reads every planted text on TikTok, some on X, none on the
// copy; and the same seed gives the same file.
func TestPlatformsOwnPreset(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "presets", "x.toml"))
	if err != nil {
		t.Fatal(err)
	}
	own := strings.Replace(string(data), `platform = "X"`, `platform = "X, everyone opted in"`, 1)
	own = strings.Replace(own, "[opt_in_share]\nvalue = \"undocumented\"\nrange = [0.05, 0.5]\nsource = \"cncb-instagram-e2ee\"",
		"[opt_in_share]\nvalue = 1\nsource = \"x-about-chat\"", 1)
	own = strings.Replace(own, "[sources.cncb-instagram-e2ee]", "[sources.unused]", 1)
	own = own[:strings.Index(own, "[sources.unused]")]
	path := filepath.Join(t.TempDir(), "x-all.toml")
	if err := os.WriteFile(path, []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{Seed: 1, Scale: Quick, Platforms: PlatformsOptions{Only: []string{"tiktok", "x"}, Presets: []string{path}, Messages: 2}}
	var files [2][]byte
	for i := range files {
		o.Out = filepath.Join(t.TempDir(), "out")
		if err := Run([]string{"platforms"}, o); err != nil {
			t.Fatal(err)
		}
		if files[i], err = os.ReadFile(filepath.Join(o.Out, "platforms", "platforms.csv")); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("the same seed gave different platforms.csv files")
	}
	rows, err := schema.Platforms.ReadFile(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]schema.PlatformRow{}
	for _, r := range rows {
		if r.Measure == "recovered-text" && r.Party == observe.Provider && r.Variant == schema.PlatformVariantBase {
			got[r.Platform] = r
		}
	}
	for _, c := range []struct {
		platform string
		ok       func(float64) bool
	}{
		{"TikTok", func(v float64) bool { return v == 1 }},
		{"X", func(v float64) bool { return v > 0 && v < 1 }},
		{"X, everyone opted in", func(v float64) bool { return v == 0 }},
	} {
		r, found := got[c.platform]
		if !found || r.N == 0 || !c.ok(r.Value) {
			t.Errorf("%s: the provider recovered %v of %d planted texts (row found: %v)", c.platform, r.Value, r.N, found)
		}
	}
}
