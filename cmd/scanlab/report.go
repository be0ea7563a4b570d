package main

import (
	"fmt"
	"io"
	"os"

	"scanlab/report"
)

const reportUsage = `Usage:
    scanlab report DIR

Reads the result files under DIR (each experiment's CSV files and
manifest.json, as "scanlab run" or "scanlab merge" left them) and writes
DIR/plots/ (each plot as PNG and SVG), DIR/REPORT.md and DIR/REPORT.html,
replacing what was there. Experiments whose files are absent are skipped
with a note; a malformed file is an error naming the file and line.

Example:
    $ scanlab merge --out results/coverage shard-*/coverage
    $ scanlab report results
    scanlab: report in results/REPORT.md and results/REPORT.html
`

func init() {
	register(command{
		name:    "report",
		summary: "regenerate plots, REPORT.md and REPORT.html from results",
		usage:   reportUsage,
		run:     runReport,
	})
}

func runReport(stdout, stderr io.Writer, args []string) error {
	c := commands["report"]
	fs := newFlags("report")
	if err := parse(fs, c, stdout, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{msg: "report needs exactly one results directory", hint: "scanlab report results"}
	}
	dir := fs.Arg(0)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return &usageError{msg: fmt.Sprintf("%s is not a directory", dir), hint: `give the --out directory of "scanlab run"`}
	}
	s, err := report.Generate(dir)
	if err != nil {
		return &hintError{err: err, hint: "fix or remove the named file, then run scanlab report again"}
	}
	fmt.Fprintf(stderr, "scanlab: report in %s and %s (%d plots)\n", s.Report, s.HTML, len(s.Plots))
	return nil
}
