package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"scanlab/experiments"
	"scanlab/report"
)

const runUsage = `Usage:
    scanlab run [EXPERIMENT...] [--seed N] [--out DIR] [--quick | --full]
                [--keep-state DIR] [--shard i/n | --shards n] [--config FILE]

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
        --full             the largest sizes (10^7 hashes, 10^4 users)
        --keep-state DIR   keep each run's relay database and raw wire
                           capture (files named wire*) in DIR
        --shard i/n        run only slice i of n of each sweep (coverage);
                           combine the slices with "scanlab merge"
        --shards n         as --shard, taking i from $SLURM_ARRAY_TASK_ID
                           or $JOB_COMPLETION_INDEX (Kubernetes Indexed Job)
        --config FILE      a TOML sweep file: seed, quick, out, experiments,
                           and a [coverage] table (users, days,
                           offender_share, report_rates, dm_policies,
                           modified_client_shares, thresholds, psi_match);
                           flags on the command line win, unknown keys are
                           an error
        --relay HOST:PORT  latency only: measure against a relay started
                           elsewhere with "scanlab relay"
        --relay-ca FILE    that relay's CA certificate (its --ca-out file)
        --relay-mode MODE  the mode that relay runs (default serverscan)

Example:
    $ scanlab run visibility --seed 1 --out out --keep-state state
    $ grep -rlF -f out/visibility/canaries.txt state/*/relay*.db state/*/wire* || echo "no canary at rest or on the wire"
`

func experimentList() string {
	var b strings.Builder
	for _, e := range experiments.All() {
		fmt.Fprintf(&b, "    %-12s %s\n", e.Name, e.Summary)
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
	relayAddr := fs.String("relay", "", "run latency against the relay at `host:port`")
	configPath := fs.String("config", "", "TOML sweep `file`")
	fs.String("relay-ca", "", "CA certificate `file` of the --relay relay")
	fs.String("relay-mode", "serverscan", "the --relay relay's `mode` (serverscan or e2ee)")
	if err := parse(fs, c, stdout, args); err != nil {
		return err
	}
	names := fs.Args()
	var sweep *experiments.SweepSpec
	if *configPath != "" {
		cfg, err := experiments.LoadConfig(*configPath)
		if err != nil {
			return &usageError{msg: err.Error(), hint: `run "scanlab help run" for the keys a sweep file takes`}
		}
		if cfg.Seed != nil && !fs.Changed("seed") {
			*seed = *cfg.Seed
		}
		if cfg.Quick != nil && !fs.Changed("quick") {
			*quick = *cfg.Quick
		}
		if cfg.Out != nil && !fs.Changed("out") {
			*out = *cfg.Out
		}
		if len(names) == 0 {
			names = cfg.Experiments
		}
		sweep = &cfg.Coverage
	}
	for _, n := range names {
		if _, ok := experiments.Lookup(n); !ok {
			return &usageError{msg: fmt.Sprintf("unknown experiment %q", n), hint: "experiments: " + strings.Join(experiments.Names(), ", ")}
		}
	}
	if *relayAddr != "" && (len(names) != 1 || names[0] != "latency") {
		return &usageError{msg: "--relay applies to the latency experiment only", hint: "scanlab run latency --relay HOST:PORT --relay-ca FILE"}
	}
	if *quick && *full {
		return &usageError{msg: "--quick and --full exclude each other"}
	}
	shard := experiments.Shard{I: 0, N: 1}
	switch {
	case *shardFlag != "" && *shards != 0:
		return &usageError{msg: "give --shard or --shards, not both"}
	case *shardFlag != "":
		s, err := experiments.ParseShard(*shardFlag)
		if err != nil {
			return &usageError{msg: err.Error()}
		}
		shard = s
	case *shards != 0:
		s, err := experiments.ShardFromEnv(*shards)
		if err != nil {
			return &usageError{msg: err.Error(), hint: "set SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, or use --shard i/n"}
		}
		shard = s
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return &hintError{err: err, hint: "choose a writable directory with --out"}
	}
	params := map[string]string{}
	// Every flag's value goes to the manifest; experiments read "full" here.
	fs.VisitAll(func(f *pflag.Flag) { params[f.Name] = f.Value.String() })
	params["experiments"] = strings.Join(names, ",")
	progress, done := progressOutput(stderr)
	err := experiments.Run(names, experiments.Options{
		Seed: *seed, Out: *out, Quick: *quick, KeepState: *keep, Progress: progress, Params: params, Shard: shard, Sweep: sweep,
	})
	done()
	if err != nil || shard.N > 1 {
		// A slice has no whole results to report on until "scanlab merge".
		return err
	}
	// The report covers whatever experiments the directory now holds.
	if _, err := report.Generate(*out); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(stderr, "scanlab: report in %s\n", filepath.Join(*out, "REPORT.md"))
	return nil
}
