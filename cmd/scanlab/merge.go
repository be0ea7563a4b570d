package main

import (
	"fmt"
	"io"

	"scanlab/experiments"
)

const mergeUsage = `Usage:
    scanlab merge [--experiment NAME] --out DIR SLICE_DIR...

Combines the slices of a sharded sweep (each SLICE_DIR an experiment's
output directory from "scanlab run --shard i/n", e.g. shard-0/coverage)
into DIR, refusing a slice that is missing or appears twice, and slices
whose manifests differ in seed, scale, options or code revision. The
merged files are byte-identical to an unsharded run with the same seed. A
failed merge leaves nothing at DIR. Run "scanlab report" on the results
directory afterwards to redraw the plots and the report.

Options:
    -e, --experiment NAME   the swept experiment (default "coverage")
    -o, --out DIR           where the merged results go

Example:
    $ for i in 0 1 2; do scanlab run coverage --shard $i/3 --out shard-$i; done
    $ scanlab merge --out results/coverage shard-*/coverage
    $ scanlab report results
`

func init() {
	register(command{
		name:    "merge",
		summary: "combine the slices of a sharded sweep",
		usage:   mergeUsage,
		run: func(stdout, stderr io.Writer, args []string) error {
			c := commands["merge"]
			fs := newFlags("merge")
			exp := fs.StringP("experiment", "e", "coverage", "experiment `name`")
			out := fs.StringP("out", "o", "", "output `directory`")
			if err := parse(fs, c, stdout, args); err != nil {
				return err
			}
			if *out == "" || fs.NArg() == 0 {
				return &usageError{msg: "merge needs --out and at least one slice directory", hint: `run "scanlab help merge"`}
			}
			if err := experiments.Merge(*exp, *out, fs.Args()); err != nil {
				return &hintError{err: err, hint: "merge every slice of one sweep, each exactly once"}
			}
			fmt.Fprintf(stderr, "scanlab: merged %d slices into %s; run \"scanlab report\" on its parent to redraw the report\n", fs.NArg(), *out)
			return nil
		},
	})
}
