package experiments

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"scanlab/schema"
	"scanlab/stress"
)

// TestFaultsNeedsScanlab: run from a program that is not scanlab (this
// test binary), the experiment refuses to start rather than launch it as
// the relay.
func TestFaultsNeedsScanlab(t *testing.T) {
	err := Run([]string{"faults"}, Options{Seed: 1, Out: t.TempDir(), Scale: Quick})
	if err == nil || !strings.Contains(err.Error(), "FaultsOptions.Scanlab") {
		t.Fatalf("err = %v, want a refusal naming FaultsOptions.Scanlab", err)
	}
}

// TestFaultsExperiment builds scanlab and runs the quick fault study: a
// row per scenario in both files, nothing acknowledged lost or duplicated,
// every scenario recovered.
func TestFaultsExperiment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds scanlab and runs the relay as a process")
	}
	bin := filepath.Join(t.TempDir(), "scanlab")
	if out, err := exec.Command("go", "build", "-o", bin, "scanlab/cmd/scanlab").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := t.TempDir()
	if err := Run([]string{"faults"}, Options{Seed: 1, Out: out, Scale: Quick, Faults: FaultsOptions{Scanlab: bin}}); err != nil {
		t.Fatal(err)
	}
	rows, err := schema.Faults.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	times, err := schema.FaultTimings.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(stress.Scenarios) || len(times) != len(rows) {
		t.Fatalf("%d rows and %d timing rows, want %d each", len(rows), len(times), len(stress.Scenarios))
	}
	for i, r := range rows {
		t.Run("scenario="+r.Scenario, func(t *testing.T) {
			if r.Scenario != stress.Scenarios[i] || times[i].Scenario != r.Scenario {
				t.Fatalf("row %d is %s (timings %s), want %s", i, r.Scenario, times[i].Scenario, stress.Scenarios[i])
			}
			if r.Lost != 0 || r.Duplicates != 0 || r.Wrong != 0 || r.Delivered+r.Quarantined < r.Acknowledged || !r.Recovered {
				t.Fatalf("row %+v", r)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(out, "faults", schema.ManifestName)); err != nil {
		t.Fatal(err)
	}
}
