package experiments

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"scanlab/schema"
)

// TestPrivacyQuick runs the privacy experiment at the quick scale through
// Run (registration, file and manifest) and checks the table: one row per
// library, calibration and k; the same seed gives the same bytes and
// another seed other simulated values; the former fixed cap gives one real
// match away in the largest library while the default calibration hides
// it.
func TestPrivacyQuick(t *testing.T) {
	run := func(seed uint64) (string, []byte) {
		dir := t.TempDir()
		if err := Run([]string{"privacy"}, Options{Seed: seed, Scale: Quick, Out: dir}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(schema.BelowThreshold.Path)))
		if err != nil {
			t.Fatal(err)
		}
		return dir, b
	}
	dir, first := run(7)
	if _, again := run(7); !bytes.Equal(first, again) {
		t.Fatal("the same seed gave different files")
	}
	if _, other := run(8); bytes.Equal(first, other) {
		t.Fatal("another seed gave the same file: the simulation ignores the seed")
	}
	rows, err := schema.BelowThreshold.ReadFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := privacyConfig(Options{Scale: Quick})
	if want := len(cfg.Libraries) * len(cfg.Calibrations) * len(cfg.Real); len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	big := cfg.Libraries[len(cfg.Libraries)-1]
	get := func(cal string, k int) schema.BelowThresholdRow {
		for _, r := range rows {
			if r.Calibration == cal && r.Library == big && r.K == k {
				return r
			}
		}
		t.Fatalf("no row for %s at %d images and k=%d", cal, big, k)
		return schema.BelowThresholdRow{}
	}
	if r := get("former-cap-3t", 1); r.ClosedForm < 0.99 || r.SimulatedLo < 0.9 || r.BudgetMax != schema.Some(90) || r.Budget != "fixed" {
		t.Errorf("former cap at %d images: %+v, want one real match told with advantage near 1", big, r)
	}
	if r := get("about-t", 1); r.ClosedForm > 0.02 || r.SimulatedLo > 0.02 || r.Trials != cfg.Trials {
		t.Errorf("about-t at %d images: %+v, want an advantage near 1/(2t+1)", big, r)
	}
	if r := get("proportional", cfg.Threshold); r.BudgetMax.Valid || r.MeanSynthetic < 4900 {
		t.Errorf("proportional at %d images: %+v, want no bound and about 5,000 synthetic vouchers", big, r)
	}
	ms, err := schema.ReadManifests(dir)
	if err != nil || len(ms) != 1 || ms[0].Experiment != "privacy" || ms[0].Scale != "quick" {
		t.Fatalf("manifests %+v, %v: want the privacy run's", ms, err)
	}
	var spec privacySpec
	if err := json.Unmarshal(ms[0].Options, &spec); err != nil || !reflect.DeepEqual(spec, privacySpecOf(cfg)) {
		t.Fatalf("manifest options %s (%v), want the quick grid %+v", ms[0].Options, err, privacySpecOf(cfg))
	}
}
