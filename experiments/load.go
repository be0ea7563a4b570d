package experiments

import (
	"fmt"
	"time"

	"scanlab/modes"
	"scanlab/schema"
	"scanlab/stress"
)

func init() {
	register(Experiment{
		Name:    "load",
		Summary: "hundreds of concurrent devices per mode on the TLS relay, every message checked at its recipient: throughput, latency, memory, CPU per message",
		Run:     runLoad,
		spec:    func(o Options) any { return loadSpecOf(loadConfig(o)) },
	})
}

// LoadOptions configure the load experiment; zero values keep the
// scale's defaults.
type LoadOptions struct {
	// Devices per mode.
	Devices int `json:"devices,omitempty"`
	// Messages each device sends in each run.
	Messages int `json:"messages,omitempty"`
}

// loadConfig sizes a load run. Each mode is measured three ways against
// one relay: closed loop with one send outstanding per device (the
// baseline), closed loop with 16 pipelined (ClientOptions.Window), and
// open loop at a fixed total rate, pipelined. The default (300 devices,
// 20 messages each per run) takes about half a minute on two cores and
// offers 5,000 messages per second, half the relay's goal rate, where the
// goal sets its p99; two idle cores sustain that in every mode, so the
// open-loop rows show latency at a load the relay carries rather than a
// growing queue (on a busy machine they may not, and the load average in
// each row says how busy it was).
func loadConfig(o Options) stress.LoadConfig {
	cfg := stress.LoadConfig{Seed: o.Seed, Devices: 300, Messages: 20, Runs: loadRuns(5000)}
	switch o.Scale {
	case Quick:
		cfg.Devices, cfg.Messages, cfg.Runs = 50, 20, loadRuns(1000)
	case Full:
		cfg.Devices, cfg.Messages, cfg.Runs = 1000, 50, loadRuns(5000)
	}
	if o.Load.Devices > 0 {
		cfg.Devices = o.Load.Devices
	}
	if o.Load.Messages > 0 {
		cfg.Messages = o.Load.Messages
	}
	return cfg
}

// pipelineWindow is the sends a device keeps outstanding in the
// pipelined runs.
const pipelineWindow = 16

func loadRuns(rate float64) []stress.LoadRun {
	return []stress.LoadRun{{Window: 1}, {Window: pipelineWindow}, {Rate: rate, Window: pipelineWindow}}
}

// loadSpec is what the manifest records of a load run.
type loadSpec struct {
	Devices  int          `json:"devices"`
	Messages int          `json:"messages"`
	Contacts int          `json:"contacts"`
	BodySize int          `json:"body_bytes"`
	Runs     []loadRunRec `json:"runs"`
	Fsync    bool         `json:"fsync"`
}

type loadRunRec struct {
	Rate   float64 `json:"rate,omitempty"`
	Window int     `json:"window"`
}

func loadSpecOf(cfg stress.LoadConfig) loadSpec {
	s := loadSpec{Devices: cfg.Devices, Messages: cfg.Messages, Contacts: stress.Contacts, BodySize: 100, Fsync: !cfg.NoSync}
	for _, r := range cfg.Runs {
		s.Runs = append(s.Runs, loadRunRec{r.Rate, max(r.Window, 1)})
	}
	return s
}

// runLoad measures every mode and writes load/load.csv (counts, the same
// for a seed) and load/load-timings.csv.
func runLoad(o Options, dir string) (map[string]any, error) {
	cfg := loadConfig(o)
	cfg.BodySize = 100
	state, cleanup, err := stateDir(o, "load")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	cfg.Dir = state
	ms, err := modes.All(modes.Config{Clientscan: modes.Clientscan{Seed: o.Seed}})
	if err != nil {
		return nil, err
	}
	var rows []stress.LoadRow
	for i, m := range ms {
		o.advance(i, len(ms))
		o.progress("load: %s, %d devices × %d messages, %d runs", m.Name(), cfg.Devices, cfg.Messages, len(cfg.Runs))
		got, err := stress.Load(cfg, ms[i:i+1])
		if err != nil {
			return nil, err
		}
		rows = append(rows, got...)
	}
	o.advance(len(ms), len(ms))
	if err := writeLoad(o.Out, cfg, rows); err != nil {
		return nil, err
	}
	return loadSummary(rows), nil
}

func writeLoad(out string, cfg stress.LoadConfig, rows []stress.LoadRow) error {
	var counts []schema.LoadRow
	var times []schema.LoadTimingRow
	for _, r := range rows {
		counts = append(counts, schema.LoadRow{Mode: r.Mode, Devices: r.Devices, Messages: cfg.Messages, Rate: r.Rate, Window: r.Window,
			Sent: r.Sent, Acknowledged: r.Acknowledged, Delivered: r.Delivered, Lost: r.Lost, Duplicates: r.Duplicates, Wrong: r.Wrong})
		times = append(times, schema.LoadTimingRow{Mode: r.Mode, Devices: r.Devices, Rate: r.Rate, Window: r.Window,
			MsgsPerS: r.MsgsPerS, P50MS: millis(r.P50), P99MS: millis(r.P99), PeakRSSMiB: r.PeakRSSMiB,
			CPUPerMsg: float64(r.CPUPerMsg.Nanoseconds()) / 1000, LoadAvg: r.LoadAvg, Reconnects: r.Reconnects})
	}
	if err := schema.Load.WriteFile(out, counts); err != nil {
		return err
	}
	return schema.LoadTimings.WriteFile(out, times)
}

// millis is d in milliseconds.
func millis(d time.Duration) float64 { return d.Seconds() * 1000 }

// loadSummary is the manifest's summary: totals over every row, and the
// highest load average the machine showed (what the timings rest on).
func loadSummary(rows []stress.LoadRow) map[string]any {
	var sent, delivered, lost, dups, wrong int
	var loadAvg float64
	for _, r := range rows {
		sent, delivered, lost, dups, wrong = sent+r.Sent, delivered+r.Delivered, lost+r.Lost, dups+r.Duplicates, wrong+r.Wrong
		loadAvg = max(loadAvg, r.LoadAvg)
	}
	return map[string]any{"rows": len(rows), "sent": sent, "delivered": delivered, "lost": lost, "duplicates": dups, "wrong": wrong,
		"max_load_avg": loadAvg,
		"verdict":      fmt.Sprintf("%d lost, %d duplicated, %d wrong of %d sent", lost, dups, wrong, sent)}
}
