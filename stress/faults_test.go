package stress

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"scanlab"
	"scanlab/serverscan"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// scanlabBinary builds the scanlab command once for the fault tests.
func scanlabBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds scanlab and runs the relay as a process")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "scanlab-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "scanlab")
		out, err := exec.Command("go", "build", "-o", binPath, "scanlab/cmd/scanlab").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// TestFaultsLoseNothing runs every fault scenario, small, against the
// relay as a process: nothing acknowledged is lost or duplicated, and the
// relay recovers from every fault.
func TestFaultsLoseNothing(t *testing.T) {
	bin := scanlabBinary(t)
	cfg := FaultConfig{Seed: 1, Devices: 6, Messages: 30, Interval: 10 * time.Millisecond, Kills: 2, Launch: Executable(bin), Dir: t.TempDir()}
	rows, err := Faults(cfg, []scanlab.Mode{serverscan.New(serverscan.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(strings.Join(FaultHeader, ","))
	for _, r := range rows {
		t.Log(strings.Join(r.Record(), ","), r.Elapsed.Round(time.Millisecond))
	}
	for _, r := range rows {
		t.Run("scenario="+r.Scenario, func(t *testing.T) {
			if r.Sent != 180 || r.Lost != 0 || r.Duplicates != 0 || r.Wrong != 0 || r.Delivered+r.Quarantined < r.Acknowledged {
				t.Fatalf("row %+v", r)
			}
			if !r.Recovered {
				t.Fatalf("did not recover: %s", r.Outcome)
			}
			storage := r.Scenario == "full-disk" || r.Scenario == "read-only-database"
			if storage && r.Refused == 0 && !strings.HasPrefix(r.Outcome, "skipped") {
				t.Fatalf("the storage fault refused nothing: the scenario did not bite")
			}
		})
	}
}
