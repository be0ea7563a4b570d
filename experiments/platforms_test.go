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

// ownPreset writes a user's preset: X's with each old text replaced by its
// new one, renamed, and returns its path.
func ownPreset(t *testing.T, name string, replace ...string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "presets", "x.toml"))
	if err != nil {
		t.Fatal(err)
	}
	own := strings.Replace(string(data), `platform = "X"`, `platform = "`+name+`"`, 1)
	for i := 0; i < len(replace); i += 2 {
		if !strings.Contains(own, replace[i]) {
			t.Fatalf("x.toml has no %q", replace[i])
		}
		own = strings.Replace(own, replace[i], replace[i+1], 1)
	}
	path := filepath.Join(t.TempDir(), strings.NewReplacer(" ", "-", ",", "").Replace(name)+".toml")
	if err := os.WriteFile(path, []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPlatformsOwnPreset runs the platforms experiment on TikTok, X and two
// users' copies of X: in one every eligible conversation opts in, in the
// other the provider matches images against a hash list. The provider
// reads every planted text on TikTok, some on X, none on the first copy;
// the second copy catches more harmful items than X, intervals apart; every
// platform has every coverage measure with its interval; and the same seed
// gives the same file.
func TestPlatformsOwnPreset(t *testing.T) {
	if testing.Short() {
		t.Skip("study-sized: runs without -short")
	}
	allIn := ownPreset(t, "X, everyone opted in",
		"[opt_in_share]\nvalue = \"undocumented\"\nrange = [0.05, 0.5]\nsource = \"cncb-instagram-e2ee\"", "[opt_in_share]\nvalue = 1\nsource = \"x-about-chat\"",
		"[sources.cncb-instagram-e2ee]\ntitle = \"Meta pulling end-to-end encryption on Instagram DMs\"\nurl = \"https://cncbnews.com/article/2026/03/meta-pulling-end-to-end-encryption-on-instagram-dms\"\npublisher = \"CNCB News\"\nread = 2026-11-30\n", "")
	scanning := ownPreset(t, "X, scanning images",
		"[scan_hash]\nvalue = \"undocumented\"", "[scan_hash]\nvalue = true\nsource = \"x-dm-help\"")
	o := Options{Seed: 1, Scale: Quick, Platforms: PlatformsOptions{Only: []string{"tiktok", "x"}, Presets: []string{allIn, scanning}, Messages: 2}}
	var files [2][]byte
	for i := range files {
		o.Out = filepath.Join(t.TempDir(), "out")
		if err := Run([]string{"platforms"}, o); err != nil {
			t.Fatal(err)
		}
		var err error
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
	base := map[[2]string]schema.PlatformRow{}
	for _, r := range rows {
		if r.Variant == schema.PlatformVariantBase && (r.Party == "" || r.Party == observe.Provider) {
			base[[2]string{r.Platform, r.Measure}] = r
		}
	}
	t.Run("measure=recovered-text", func(t *testing.T) {
		for _, c := range []struct {
			platform string
			ok       func(float64) bool
		}{
			{"TikTok", func(v float64) bool { return v == 1 }},
			{"X", func(v float64) bool { return v > 0 && v < 1 }},
			{"X, everyone opted in", func(v float64) bool { return v == 0 }},
		} {
			r, found := base[[2]string{c.platform, "recovered-text"}]
			if !found || r.N == 0 || !c.ok(r.Value) {
				t.Errorf("%s: the provider recovered %v of %d planted texts (row found: %v)", c.platform, r.Value, r.N, found)
			}
		}
	})
	t.Run("measure="+schema.MeasureHarmfulCaught, func(t *testing.T) {
		x, own := base[[2]string{"X", schema.MeasureHarmfulCaught}], base[[2]string{"X, scanning images", schema.MeasureHarmfulCaught}]
		if !(own.Lo > x.Hi) {
			t.Errorf("X caught %v [%v, %v]; with images scanned %v [%v, %v]: want the intervals apart, scanning higher",
				x.Value, x.Lo, x.Hi, own.Value, own.Lo, own.Hi)
		}
	})
	for _, p := range []string{"TikTok", "X", "X, everyone opted in", "X, scanning images"} {
		for _, m := range schema.PlatformCoverageMeasures {
			r, found := base[[2]string{p, m}]
			if !found || r.N == 0 || !(r.Lo <= r.Value && r.Value <= r.Hi) {
				t.Errorf("%s, %s: %+v (found: %v)", p, m, r, found)
			}
		}
	}
}
