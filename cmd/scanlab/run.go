package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"scanlab/experiments"
	"scanlab/internal/buildinfo"
	"scanlab/report"
)

const runUsage = `Usage:
    scanlab run [EXPERIMENT...] [--seed N] [--out DIR] [--quick | --full]
                [--keep-state DIR] [--shard i/n | --shards n] [--config FILE]
                [--preset FILE]

Runs the named experiments, or every experiment when none is named, writes
each one's results (CSV, manifest.json) to DIR/EXPERIMENT/, then plots
everything DIR holds into DIR/plots/ and writes DIR/REPORT.md.

Experiments:
%s
Options:
    -s, --seed N           seed of every workload; the same seed gives
                           byte-identical CSV files (default 1)
    -o, --out DIR          results directory (default "results")
    -q, --quick            a small, fast version of each experiment
        --full             the largest sizes (10^7 hashes; 100,000 accounts over
                           90 days in coverage: shard it)
        --keep-state DIR   keep each run's relay database and raw wire
                           capture (files named wire*) in DIR
        --shard i/n        run only slice i of n of the named experiments'
                           sweeps (those that shard: coverage); combine
                           the slices with "scanlab merge"
        --shards n         as --shard, taking i from $SLURM_ARRAY_TASK_ID
                           or $JOB_COMPLETION_INDEX (Kubernetes Indexed
                           Job); an error when neither is set
        --config FILE      a TOML sweep file: seed, scale (or quick), out,
                           experiments, and a [coverage] table (users,
                           days, offender_share, images, attacks, stealth,
                           detector_thresholds, report_rates, dm_policies,
                           modified_client_shares, thresholds, psi_match,
                           duration_days, duration_thresholds); flags on
                           the command line win, unknown keys are an error
        --relay HOST:PORT  latency only: measure against a relay started
                           elsewhere with "scanlab relay"
        --relay-ca FILE    that relay's CA certificate (its --ca-out file)
        --relay-mode MODE  the mode that relay runs (default serverscan)
        --preset FILE      platforms only: also run a platform preset of your
                           own (format: presets/README.md); repeatable
        --devices N        load only: devices per mode (default 300; 50
                           with --quick, 1000 with --full)
        --messages N       load only: messages each device sends in each
                           of the three runs (default 20; 50 with --full)

Example:
    $ scanlab run visibility --seed 1 --out out --keep-state state
    $ grep -rlF -f out/visibility/canaries.txt state/*/relay*.db state/*/wire* \
        || echo "no canary at rest or on the wire"
`

func experimentList() string {
	var b strings.Builder
	for _, e := range experiments.All() {
		b.WriteString(wrap(fmt.Sprintf("    %-12s %s", e.Name, e.Summary), 17))
	}
	return b.String()
}

func init() {
	register(command{
		name:    "run",
		summary: "run the study's experiments and write their results",
		usage:   fmt.Sprintf(runUsage, experimentList()),
		run:     runRun,
	})
}

func runRun(stdout, stderr io.Writer, args []string) error {
	c := commands["run"]
	fs := newFlags("run")
	seed := fs.Uint64P("seed", "s", 1, "workload seed")
	out := fs.StringP("out", "o", "results", "results `directory`")
	quick := fs.BoolP("quick", "q", false, "small, fast version")
	keep := fs.String("keep-state", "", "keep databases and wire captures in `directory`")
	full := fs.Bool("full", false, "largest sizes")
	shardFlag := fs.String("shard", "", "slice `i/n` of each sweep")
	shards := fs.Int("shards", 0, "number of slices, index from the scheduler's environment")
	configPath := fs.String("config", "", "TOML sweep `file`")
	var lat experiments.LatencyOptions
	fs.StringVar(&lat.Relay, "relay", "", "run latency against the relay at `host:port`")
	fs.StringVar(&lat.RelayCA, "relay-ca", "", "CA certificate `file` of the --relay relay")
	fs.StringVar(&lat.RelayMode, "relay-mode", "serverscan", "the --relay relay's `mode`")
	presets := fs.StringArray("preset", nil, "platform preset `file` of your own")
	var load experiments.LoadOptions
	fs.IntVar(&load.Devices, "devices", 0, "load: `N` devices per mode")
	fs.IntVar(&load.Messages, "messages", 0, "load: `N` messages per device and run")
	if err := parse(fs, c, stdout, args); err != nil {
		return err
	}
	o := experiments.Options{Seed: *seed, Out: *out, KeepState: *keep, Revision: buildinfo.Read()}
	if *quick && *full {
		return &usageError{msg: "--quick and --full exclude each other"}
	}
	switch {
	case *quick:
		o.Scale = experiments.Quick
	case *full:
		o.Scale = experiments.Full
	}
	names := fs.Args()
	if *configPath != "" {
		var err error
		if names, err = applyConfig(*configPath, fs, &o, names); err != nil {
			return err
		}
	}
	if lat.Relay != "" {
		if len(names) != 1 || names[0] != "latency" {
			return &usageError{msg: "--relay applies to the latency experiment only", hint: "scanlab run latency --relay HOST:PORT --relay-ca FILE"}
		}
		o.Latency = lat
	} else if fs.Changed("relay-ca") || fs.Changed("relay-mode") {
		return &usageError{msg: "--relay-ca and --relay-mode need --relay"}
	}
	if len(*presets) > 0 {
		if len(names) != 1 || names[0] != "platforms" {
			return &usageError{msg: "--preset applies to the platforms experiment only", hint: "scanlab run platforms --preset FILE"}
		}
		o.Platforms.Presets = *presets
	}
	if fs.Changed("devices") || fs.Changed("messages") {
		if len(names) != 1 || names[0] != "load" {
			return &usageError{msg: "--devices and --messages apply to the load experiment only", hint: "scanlab run load --devices N --messages N"}
		}
		if (fs.Changed("devices") && load.Devices < 2) || (fs.Changed("messages") && load.Messages < 1) {
			return &usageError{msg: "--devices must be at least 2 and --messages at least 1"}
		}
		o.Load = load
	}
	shard, err := shardOption(*shardFlag, *shards)
	if err != nil {
		return err
	}
	o.Shard = shard
	if _, err := experiments.Select(names, shard); err != nil {
		return &usageError{msg: err.Error(), hint: `run "scanlab help run" for the experiments and options`}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return &hintError{err: err, hint: "choose a writable directory with --out"}
	}
	progress, done := progressOutput(stderr)
	o.Progress = progress
	err = experiments.Run(names, o)
	done()
	if err != nil || shard.N > 1 {
		// A slice has no whole results to report on until "scanlab merge".
		return err
	}
	// The report covers whatever experiments the directory now holds.
	if _, err := report.Generate(o.Out); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(stderr, "scanlab: report in %s\n", filepath.Join(o.Out, "REPORT.md"))
	return nil
}

// applyConfig reads a sweep file into o; flags given on the command line
// win. It returns the experiments to run.
func applyConfig(path string, fs *pflag.FlagSet, o *experiments.Options, names []string) ([]string, error) {
	cfg, err := experiments.LoadConfig(path)
	if err != nil {
		return nil, &usageError{msg: err.Error(), hint: `run "scanlab help run" for the keys a sweep file takes`}
	}
	if cfg.Seed != nil && !fs.Changed("seed") {
		o.Seed = *cfg.Seed
	}
	if cfg.Scale != nil && !fs.Changed("quick") && !fs.Changed("full") {
		o.Scale = *cfg.Scale
	}
	if cfg.Out != nil && !fs.Changed("out") {
		o.Out = *cfg.Out
	}
	o.Coverage = cfg.Coverage
	if len(names) == 0 {
		names = cfg.Experiments
	}
	return names, nil
}

// shardOption reads --shard i/n or --shards n (the index from a batch
// scheduler's environment).
func shardOption(shard string, shards int) (experiments.Shard, error) {
	switch {
	case shard != "" && shards != 0:
		return experiments.Shard{}, &usageError{msg: "give --shard or --shards, not both"}
	case shard != "":
		s, err := experiments.ParseShard(shard)
		if err != nil {
			return s, &usageError{msg: err.Error()}
		}
		return s, nil
	case shards != 0:
		s, err := experiments.ShardFromEnv(shards)
		if err != nil {
			return s, &usageError{msg: err.Error(), hint: "set SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, or use --shard i/n"}
		}
		return s, nil
	}
	return experiments.Shard{}, nil
}
