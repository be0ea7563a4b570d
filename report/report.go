// Package report turns the files scanlab's experiments write into plots and
// a Markdown report for readers who will not run the code.
//
// [Generate] reads only what the experiments left in a results directory —
// the CSV files and each experiment's manifest.json — and writes
// DIR/plots/*.png, DIR/plots/*.svg and DIR/REPORT.md. Every number in the
// report, including those inside its sentences, is computed from those
// files; nothing is typed in by hand. The one outside input is Thorn's
// published perceptual-hash benchmark, embedded in the package (see
// thorn_benchmark_v0_recall.csv) and plotted beside our own evasion results.
//
// Each experiment is optional: when its files are absent its section says
// so and is otherwise skipped. A malformed file (a missing column, a value
// that is not a number) is an error naming the file and line.
//
// The output is deterministic: the same input files give byte-identical
// REPORT.md and SVG files. PNG files are identical on one architecture but
// may differ across architectures (floating-point contraction in the
// rasteriser), so tests compare SVG and Markdown, never PNG bytes.
//
// # Who sees what
//
// The report shows the visibility matrix the experiments measured; it adds
// no data of its own and reads no message content. It copies the
// experiments' manifests (host CPU model, Go version, start times) into the
// report, so a published report reveals the machine it was run on.
package report

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Summary describes what [Generate] wrote.
type Summary struct {
	// Report is the path of the Markdown report.
	Report string
	// Plots are the paths of the plot files written, PNG and SVG.
	Plots []string
	// Included names the inputs that were found and reported on, e.g.
	// "visibility/visibility.csv"; Skipped those that were absent.
	Included, Skipped []string
}

// Names of the input files, relative to the results directory.
const (
	visibilityFile = "visibility/visibility.csv"
	latencyFile    = "latency/latency.csv"
	samplesFile    = "latency/latency-samples.csv"
	bytesFile      = "latency/bytes.csv"
	coverageFile   = "coverage/coverage.csv"
	falseFlagFile  = "coverage/falseflag.csv"
	evasionFile    = "evasion/evasion.csv"
	scalingFile    = "scaling/scaling.csv"
	thornFile      = "thorn_benchmark_v0_recall.csv"
)

// thornCSV is Thorn's published recall per transform and hasher
// (thorn-perceptual-benchmark-v0), copied from the project's reference notes.
//
//go:embed thorn_benchmark_v0_recall.csv
var thornCSV []byte

// Known orders of the categorical values; values not listed here follow in
// the order they first appear in a file.
var (
	knownModes    = []string{"serverscan", "e2ee", "clientscan"}
	knownParties  = []string{"sender", "recipient", "provider", "employee", "law-enforcement", "eavesdropper", "db-thief", "db-thief+kms", "hash-curator"}
	knownItems    = []string{"text", "image", "image-hash", "match-verdict", "sender-id", "recipient-id", "timestamp", "size", "contact-graph", "hash-list", "reported-text"}
	knownClasses  = []string{"known-image", "transformed-image", "evasive-image", "novel-image", "collision-image", "harmful-text", "benign-image", "benign-text"}
	knownPathways = []string{"server-hash", "server-text", "server-metadata", "device-hash", "device-text", "user-report", "any"}
	knownKinds    = []string{"text", "image"}
	knownStages   = []string{"device-seal", "wire", "relay-logic", "relay-store", "fetch", "device-open", "total"}
)

// results is everything read from one results directory. A nil slice means
// the file was absent.
type results struct {
	manifests []*manifest // sorted by experiment name
	vis       []visCell
	lat       []latencyRow
	samples   []latencySample
	bytes     []bytesRow
	cov       []coverageRow
	falseFlag []falseFlagRow
	eva       []evasionRow
	scaling   []scalingPoint
	thorn     []thornRow

	included, skipped []string
}

// load reads every input that exists in dir.
func load(dir string) (*results, error) {
	r := &results{}
	var err error
	if r.thorn, err = parseThorn(thornCSV); err != nil {
		return nil, err
	}
	inputs := []struct {
		name string
		read func() error
	}{
		{visibilityFile, func() (err error) { r.vis, err = readVisibility(dir); return }},
		{coverageFile, func() (err error) { r.cov, err = readCoverage(dir); return }},
		{falseFlagFile, func() (err error) { r.falseFlag, err = readFalseFlag(dir); return }},
		{evasionFile, func() (err error) { r.eva, err = readEvasion(dir); return }},
		{latencyFile, func() (err error) { r.lat, err = readLatency(dir); return }},
		{samplesFile, func() (err error) { r.samples, err = readSamples(dir); return }},
		{bytesFile, func() (err error) { r.bytes, err = readBytes(dir); return }},
		{scalingFile, func() (err error) { r.scaling, err = readScaling(dir); return }},
	}
	for _, in := range inputs {
		err := in.read()
		switch {
		case isNotExist(err):
			r.skipped = append(r.skipped, in.name)
		case err != nil:
			return nil, err
		default:
			r.included = append(r.included, in.name)
		}
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*", "manifest.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		m, err := readManifest(dir, filepath.ToSlash(rel))
		if err != nil {
			return nil, err
		}
		if m.Experiment == "" {
			m.Experiment = filepath.Base(filepath.Dir(p))
		}
		r.manifests = append(r.manifests, m)
	}
	return r, nil
}

// Generate reads the experiment results under dir and writes dir/plots/
// (each plot as PNG and SVG) and dir/REPORT.md. Experiments whose files are
// absent are skipped with a note in the report; a malformed file is an
// error naming it and the offending line.
func Generate(dir string) (Summary, error) {
	r, err := load(dir)
	if err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	plotDir := filepath.Join(dir, "plots")
	if err := os.MkdirAll(plotDir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	doc, figs, err := r.build()
	if err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	s := Summary{Report: filepath.Join(dir, "REPORT.md"), Included: r.included, Skipped: r.skipped}
	for _, f := range figs {
		paths, err := f.save(plotDir)
		if err != nil {
			return Summary{}, fmt.Errorf("report: %w", err)
		}
		s.Plots = append(s.Plots, paths...)
	}
	if err := os.WriteFile(s.Report, []byte(doc), 0o644); err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	return s, nil
}

// doc accumulates the Markdown text and the figures it embeds.
type doc struct {
	b     strings.Builder
	figs  []figure
	brief []string // headline sentences, listed at the top of the report
}

// headline records a sentence for the summary at the top of the report.
func (d *doc) headline(s ...string) { d.brief = append(d.brief, s...) }

func (d *doc) p(format string, a ...any) {
	fmt.Fprintf(&d.b, format, a...)
	d.b.WriteString("\n\n")
}

func (d *doc) line(s string) { d.b.WriteString(s + "\n") }

// figure embeds f and records it for saving; alt is the image's alt text
// and caption the sentences that say what it shows.
func (d *doc) figure(f figure, alt string, caption ...string) {
	d.figs = append(d.figs, f)
	d.p("![%s](plots/%s.png)", alt, f.name)
	if len(caption) > 0 {
		d.p("%s", strings.Join(caption, " "))
	}
	d.p("Vector version: [plots/%s.svg](plots/%s.svg).", f.name, f.name)
}

// table writes a Markdown table.
func (d *doc) table(header []string, rows [][]string) {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	var b strings.Builder
	b.WriteString("|")
	for _, h := range header {
		b.WriteString(" " + esc(h) + " |")
	}
	b.WriteString("\n|")
	for i := range header {
		// Right-align columns of numbers, left-align the rest.
		numeric := i > 0 && len(rows) > 0
		for _, r := range rows {
			if i < len(r) && r[i] != "" && !strings.ContainsAny(r[i][:1], "0123456789-–") {
				numeric = false
			}
		}
		if numeric {
			b.WriteString("--:|")
		} else {
			b.WriteString("---|")
		}
	}
	for _, r := range rows {
		b.WriteString("\n|")
		for _, c := range r {
			b.WriteString(" " + esc(c) + " |")
		}
	}
	d.p("%s", b.String())
}

// skipped writes the note for an absent input.
func (d *doc) skipped(file string) {
	d.p("*Not run: `%s` was not found in the results directory, so this part is skipped.*", file)
}

// modes lists the architectures that appear in any result file.
func (r *results) modes() []string {
	var all []string
	for _, c := range r.vis {
		all = append(all, c.Mode)
	}
	for _, c := range r.cov {
		all = append(all, c.Mode)
	}
	for _, l := range r.lat {
		all = append(all, l.Mode)
	}
	for _, b := range r.bytes {
		all = append(all, b.Mode)
	}
	return order(all, func(s string) string { return s }, knownModes...)
}

// build composes the report and its figures.
func (r *results) build() (string, []figure, error) {
	d := &doc{}
	d.p("# scanlab results")
	d.p("This report compares three messaging architectures — `serverscan` (the provider scans plaintext on its servers), " +
		"`e2ee` (end-to-end encryption, no scanning) and `clientscan` (the device scans before encrypting, with threshold private set intersection) — " +
		"on who can read what, what gets detected, and what it costs. It is generated by scanlab's `report` package from the CSV and JSON files " +
		"in this directory; every number in it, including those in sentences, is read from those files. Each plot is in `plots/` as PNG and SVG.")
	if modes := r.modes(); len(modes) > 0 {
		d.p("Architectures in these results: %s.", andList(code(modes)))
	}
	intro := d.b.String()
	d.b.Reset()
	steps := []func(*doc) error{r.writeRuns, r.writeVisibility, r.writeCoverage, r.writeEvasion, r.writeCost, r.writeScaling, r.writeLimitations}
	for _, step := range steps {
		if err := step(d); err != nil {
			return "", nil, err
		}
	}
	body := d.b.String()
	d.b.Reset()
	d.b.WriteString(intro)
	if len(d.brief) > 0 {
		d.p("## In brief")
		for _, s := range d.brief {
			d.line("- " + s)
		}
		d.line("")
	}
	d.b.WriteString(body)
	out := strings.TrimRight(d.b.String(), "\n") + "\n"
	return out, d.figs, nil
}
