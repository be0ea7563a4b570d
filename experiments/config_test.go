package experiments

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	cases := []struct {
		name, body, err string
	}{
		{"ok", "seed = 3\nquick = true\nexperiments = [\"coverage\"]\n[coverage]\nusers = 50\nthresholds = [1, 2]\npsi_match = [\"chunks=4\"]\n", ""},
		{"unknown-key", "sed = 3\n", "unknown keys: sed"},
		{"unknown-nested-key", "[coverage]\nuser = 50\n", "unknown keys: coverage.user"},
		{"unknown-experiment", "experiments = [\"nope\"]\n", "unknown experiment"},
		{"bad-policy", "[coverage]\ndm_policies = [\"friends-only\"]\n", "unknown dm policy"},
		{"bad-rate", "[coverage]\nreport_rates = [1.5]\n", "coverage.report_rates: 1.5 is not in [0, 1]"},
		{"negative-users", "[coverage]\nusers = -5\n", "coverage.users"},
		{"bad-share", "[coverage]\noffender_share = 2\n", "coverage.offender_share"},
		{"bad-stealth", "[coverage]\nstealth = [1.5]\n", "coverage.stealth: 1.5"},
		{"bad-detector", "[coverage]\ndetector_thresholds = [-1]\n", "coverage.detector_thresholds"},
		{"bad-days", "[coverage]\nduration_days = [400]\n", "coverage.duration_days"},
		{"bad-scale", "scale = \"huge\"\n", "unknown scale"},
		{"quick-contradicts", "quick = true\nscale = \"full\"\n", "contradicts"},
		{"bad-threshold", "[coverage]\nthresholds = [0]\n", "at least 1"},
		{"bad-match", "[coverage]\npsi_match = [\"chunks=1\"]\n", "chunks"},
		{"not-toml", "seed = = 3\n", "sweep.toml"},
	}
	for _, c := range cases {
		t.Run("file="+c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sweep.toml")
			os.WriteFile(path, []byte(c.body), 0o644)
			cfg, err := LoadConfig(path)
			if c.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if *cfg.Seed != 3 || *cfg.Scale != Quick || cfg.Coverage.Users != 50 || len(cfg.Coverage.Thresholds) != 2 {
					t.Fatalf("decoded %+v", cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err = %v, want it to mention %q", err, c.err)
			}
		})
	}
}

// TestSweepSpecShapesAndMerges checks that a sweep file's lists become the
// coverage cells, and that slices of such a sweep merge into the whole.
func TestSweepSpecShapesAndMerges(t *testing.T) {
	if testing.Short() {
		t.Skip("study-sized: runs without -short")
	}
	spec := tinyCoverage
	spec.ReportRates, spec.DMPolicies, spec.ModifiedClientShares, spec.Thresholds, spec.PSIMatch = []float64{0.5}, []string{}, []float64{}, []int{2}, []string{}
	spec.Stealth, spec.DurationDays = []float64{}, []int{}
	o := Options{Seed: 5, Scale: Quick, Coverage: spec}
	got := strings.Join(coverageSweep(o).names, " ")
	if got != "base=default report-rate=0.5 threshold=2" {
		t.Fatalf("cells %q", got)
	}
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	if err := Run([]string{"coverage"}, Options{Seed: 5, Scale: Quick, Coverage: spec, Out: whole}); err != nil {
		t.Fatal(err)
	}
	var slices []string
	for i := range 2 {
		out := filepath.Join(dir, "s", string(rune('0'+i)))
		if err := Run([]string{"coverage"}, Options{Seed: 5, Scale: Quick, Coverage: spec, Out: out, Shard: Shard{I: i, N: 2}}); err != nil {
			t.Fatal(err)
		}
		slices = append(slices, filepath.Join(out, "coverage"))
	}
	merged := filepath.Join(dir, "merged")
	if err := Merge("coverage", merged, slices); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(whole, "coverage", "coverage-sweeps.csv"))
	b, _ := os.ReadFile(filepath.Join(merged, "coverage-sweeps.csv"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("merged slices of a sweep-file sweep differ from the whole run")
	}
}

// TestREADMESweepFileLoads loads the sweep file the README shows, so the
// example stays one that runs.
func TestREADMESweepFileLoads(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), "```toml\n")
	block, _, closed := strings.Cut(block, "```")
	if !ok || !closed {
		t.Fatal("README.md has no ```toml block")
	}
	path := filepath.Join(t.TempDir(), "sweep.toml")
	if err := os.WriteFile(path, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("the README's sweep file: %v", err)
	}
	if len(c.Coverage.Stealth) == 0 || len(c.Coverage.DMPolicies) == 0 {
		t.Errorf("the README's sweep file set no sweep: %+v", c.Coverage)
	}
}
