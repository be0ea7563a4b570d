package experiments

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"scanlab"
	"scanlab/modes"
	"scanlab/schema"
	"scanlab/stress"
)

func init() {
	register(Experiment{
		Name:    "faults",
		Summary: "the relay as its own process, killed (also mid-rotation), cut off, stalled, starved of disk, corrupted: is anything acknowledged lost or delivered twice?",
		Run:     runFaults,
		spec:    func(o Options) any { return faultsSpecOf(faultsConfig(o)) },
	})
}

// FaultsOptions configure the faults experiment.
type FaultsOptions struct {
	// Scanlab is the scanlab binary that runs the relay process
	// ("scanlab relay"); default the running program (os.Executable),
	// which must be scanlab (or cmd/scanlab's test binary, which acts as
	// scanlab when SCANLAB_RUN_MAIN=1). Not recorded in the manifest: it
	// names a path, not a setting.
	Scanlab string `json:"-"`
}

// faultsConfig sizes a fault run: every scenario of stress.Scenarios
// (SIGKILL mid-traffic and during key rotation, clients cut mid-frame,
// stalled clients, a full disk, a read-only database, a corrupted record
// and a corrupted page), for serverscan at the quick scale and every mode
// otherwise. Each scenario restarts the relay process several times (a
// passphrase-sealed key file costs each start a scrypt derivation), so
// the default run takes about a minute on two cores.
func faultsConfig(o Options) faultsRun {
	f := faultsRun{modes: modes.Names, cfg: stress.FaultConfig{Seed: o.Seed, Devices: 12, Messages: 40, Interval: 10 * time.Millisecond, Kills: 3}}
	switch o.Scale {
	case Quick:
		f.modes = modes.Names[:1]
		f.cfg.Devices, f.cfg.Messages, f.cfg.Kills = 8, 30, 2
	case Full:
		f.cfg.Devices, f.cfg.Messages, f.cfg.Kills = 32, 100, 5
	}
	return f
}

// faultsRun is a fault run: the modes whose devices (and relay logic) are
// exercised, and the sizes.
type faultsRun struct {
	modes []string
	cfg   stress.FaultConfig
}

// faultsSpec is what the manifest records of a fault run.
type faultsSpec struct {
	Modes       []string `json:"modes"`
	Scenarios   []string `json:"scenarios"`
	Devices     int      `json:"devices"`
	Messages    int      `json:"messages"`
	IntervalMS  float64  `json:"interval_ms"`
	Kills       int      `json:"kills"`
	RelayFsync  bool     `json:"relay_fsync"`
	KeyFile     string   `json:"key_file"`
	RelayBinary string   `json:"relay_process"`
}

func faultsSpecOf(f faultsRun) faultsSpec {
	return faultsSpec{Modes: f.modes, Scenarios: stress.Scenarios, Devices: f.cfg.Devices, Messages: f.cfg.Messages,
		IntervalMS: float64(f.cfg.Interval) / float64(time.Millisecond), Kills: f.cfg.Kills, RelayFsync: true,
		KeyFile: "sealed under a passphrase (scrypt)", RelayBinary: "scanlab relay, started afresh for each scenario"}
}

// runFaults runs every scenario per mode and writes faults/faults.csv
// (counts and outcomes, the same for a seed) and faults-timings.csv.
func runFaults(o Options, dir string) (map[string]any, error) {
	f := faultsConfig(o)
	bin, err := scanlabBinary(o.Faults.Scanlab)
	if err != nil {
		return nil, err
	}
	f.cfg.Launch = stress.Executable(bin)
	state, cleanup, err := stateDir(o, "faults")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	f.cfg.Dir = state
	ms, err := modes.All(modes.Config{Clientscan: modes.Clientscan{Seed: o.Seed}})
	if err != nil {
		return nil, err
	}
	var rows []stress.FaultRow
	for i, m := range ms {
		if !containsName(f.modes, m.Name()) {
			continue
		}
		o.advance(i, len(ms))
		o.progress("faults: %s, %d scenarios, %d devices × %d messages each", m.Name(), len(stress.Scenarios), f.cfg.Devices, f.cfg.Messages)
		got, err := stress.Faults(f.cfg, []scanlab.Mode{m})
		if err != nil {
			return nil, err
		}
		rows = append(rows, got...)
	}
	o.advance(len(ms), len(ms))
	if err := writeFaults(o.Out, rows); err != nil {
		return nil, err
	}
	return faultsSummary(rows), nil
}

func containsName(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// scanlabBinary returns the scanlab binary to run the relay with: path,
// or the running program. A test binary other than cmd/scanlab's is
// refused: started as "relay", it would run its own tests instead.
func scanlabBinary(path string) (string, error) {
	if path != "" {
		return filepath.Abs(path)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("the relay process needs the scanlab binary: %w", err)
	}
	if base := filepath.Base(exe); strings.HasSuffix(base, ".test") && base != "scanlab.test" {
		return "", fmt.Errorf("the relay process needs the scanlab binary, and this program (%s) is not it: set FaultsOptions.Scanlab", base)
	}
	return exe, nil
}

func writeFaults(out string, rows []stress.FaultRow) error {
	var counts []schema.FaultRow
	var times []schema.FaultTimingRow
	for _, r := range rows {
		counts = append(counts, schema.FaultRow{Scenario: r.Scenario, Mode: r.Mode, Sent: r.Sent, Acknowledged: r.Acknowledged,
			Delivered: r.Delivered, Lost: r.Lost, Duplicates: r.Duplicates, Wrong: r.Wrong, Quarantined: r.Quarantined,
			Recovered: r.Recovered, Outcome: r.Outcome})
		times = append(times, schema.FaultTimingRow{Scenario: r.Scenario, Mode: r.Mode, Refused: r.Refused, Seconds: r.Elapsed.Seconds()})
	}
	if err := schema.Faults.WriteFile(out, counts); err != nil {
		return err
	}
	return schema.FaultTimings.WriteFile(out, times)
}

// faultsSummary is the manifest's summary: totals over every scenario.
func faultsSummary(rows []stress.FaultRow) map[string]any {
	var acked, lost, dups, wrong, unrecovered int
	for _, r := range rows {
		acked, lost, dups, wrong = acked+r.Acknowledged, lost+r.Lost, dups+r.Duplicates, wrong+r.Wrong
		if !r.Recovered {
			unrecovered++
		}
	}
	return map[string]any{"rows": len(rows), "acknowledged": acked, "lost": lost, "duplicates": dups, "wrong": wrong, "not_recovered": unrecovered,
		"verdict": fmt.Sprintf("%d lost, %d duplicated, %d wrong of %d acknowledged; %d of %d scenarios did not recover", lost, dups, wrong, acked, unrecovered, len(rows))}
}
