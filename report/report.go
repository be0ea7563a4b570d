// Package report turns the files scanlab's experiments write into plots and
// a report for readers who will not run the code: REPORT.md, and
// REPORT.html, the same content as one self-contained page (plots
// embedded, no network needed) that prints on A4 or Letter.
//
// It is built in three layers, as golang.org/x/perf's benchstat is:
// package schema parses the result files into typed rows; the findings
// functions (find_*.go) compute numbers, intervals and comparisons from
// those rows and nothing else; the prose and plot functions turn findings
// into sentences, tables and figures. Every number in the report is
// computed from the files; nothing is typed in by hand. The outside
// inputs are Thorn's published perceptual-hash benchmark, embedded in the
// package (thorn_benchmark_v0_recall.csv), and the published figures the
// coverage study is compared with (observedFigures, each with its
// source), which the report prints as published and never computes with.
//
// Intervals are the result files' own wherever a file carries one (the
// coverage files: a bootstrap over sender accounts for item rates,
// Clopper–Pearson for account rates). Where a file carries none, the
// report computes an exact Clopper–Pearson interval and says what it
// treats as independent.
//
// The report opens with Findings: each a number, its 95% interval where it
// is a rate, and the assumption it rests on. Sentences never compare equal
// values, never name a hardest or easiest class among classes without
// items, and say when a figure is a bound. Plots use plain names from the
// glossary, ask their question in the title and label axes with units.
//
// Each experiment is optional: when its files are absent its section says
// so and is otherwise skipped. A malformed file is an error naming the
// file and line.
//
// The output is deterministic: the same input files give byte-identical
// REPORT.md, REPORT.html (which embeds the SVG plots) and SVG files. PNG
// files are identical on one architecture but may differ across
// architectures (floating-point contraction in the rasteriser), so tests
// compare SVG, HTML and Markdown, never PNG bytes.
//
// # Who sees what
//
// The report shows the visibility matrix the experiments measured; it adds
// no data of its own and reads no message content. It copies the
// experiments' manifests (host CPU model, Go version, source revision,
// start times) into the report, so a published report reveals the machine
// it was run on.
package report

import (
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Summary describes what [Generate] wrote.
type Summary struct {
	// Report is the path of the Markdown report, HTML that of the
	// self-contained HTML report.
	Report, HTML string
	// Plots are the paths of the plot files written, PNG and SVG.
	Plots []string
	// Included names the inputs that were found and reported on, e.g.
	// "visibility/visibility.csv"; Skipped those that were absent.
	Included, Skipped []string
}

// reportTitle is the report's first heading.
const reportTitle = "scanlab results"

// Generate reads the experiment results under dir and writes dir/plots/
// (each plot as PNG and SVG, replacing any plot files a previous report
// left there), dir/REPORT.md and dir/REPORT.html. Experiments whose files
// are absent are skipped with a note in the report; a malformed file is an
// error naming it and the offending line, and then neither report is
// written.
func Generate(dir string) (Summary, error) {
	r, err := load(dir)
	if err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	blocks, figs, err := r.build()
	if err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	s := Summary{Report: filepath.Join(dir, "REPORT.md"), HTML: filepath.Join(dir, "REPORT.html"), Included: r.included, Skipped: r.skipped}
	svgs, err := writePlots(filepath.Join(dir, "plots"), figs, &s)
	if err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	if err := os.WriteFile(s.Report, []byte(markdown(blocks)), 0o644); err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	if err := os.WriteFile(s.HTML, []byte(htmlDoc(reportTitle, blocks, svgs)), 0o644); err != nil {
		return Summary{}, fmt.Errorf("report: %w", err)
	}
	return s, nil
}

// writePlots saves every figure in plotDir, removes plot files of earlier
// reports that this one does not write, and returns each figure's SVG.
func writePlots(plotDir string, figs []figure, s *Summary) (map[string][]byte, error) {
	if err := os.MkdirAll(plotDir, 0o755); err != nil {
		return nil, err
	}
	svgs := map[string][]byte{}
	for _, f := range figs {
		paths, svg, err := f.save(plotDir)
		if err != nil {
			return nil, err
		}
		s.Plots = append(s.Plots, paths...)
		svgs[f.name] = svg
	}
	old, err := filepath.Glob(filepath.Join(plotDir, "*.[ps][nv]g"))
	if err != nil {
		return nil, err
	}
	for _, p := range old {
		_, ours := svgs[strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))]
		if !ours && (filepath.Ext(p) == ".png" || filepath.Ext(p) == ".svg") {
			if err := os.Remove(p); err != nil {
				return nil, err
			}
		}
	}
	return svgs, nil
}

// modes lists the designs that appear in any result file, in the order
// the experiments wrote them.
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
	return distinct(all)
}

// distinct returns the distinct values of xs in order of first appearance.
func distinct[T comparable](xs []T) []T {
	var out []T
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// inOrder returns the values of vocab that occur in xs, in vocab's order,
// followed by any others in order of appearance.
func inOrder[T comparable](xs []T, vocab []T) []T {
	var out []T
	for _, v := range vocab {
		if slices.Contains(xs, v) {
			out = append(out, v)
		}
	}
	for _, x := range distinct(xs) {
		if !slices.Contains(vocab, x) {
			out = append(out, x)
		}
	}
	return out
}

// build composes the report's blocks and its figures: the introduction,
// the findings (collected while the sections are written), the sections.
func (r *results) build() ([]block, []figure, error) {
	body := &doc{}
	steps := []func(*doc) error{
		r.writeVisibility, r.writePrivacy, r.writeCoverage, r.writeFalseMatch, r.writeEvasion, r.writeCost, r.writeScaling,
		r.writePlatforms, r.writeRelay, r.writeLimitations, r.writeGlossary, r.writeRuns,
	}
	for _, step := range steps {
		if err := step(body); err != nil {
			return nil, nil, err
		}
	}
	head := &doc{}
	head.h(1, reportTitle)
	head.p("This report compares three ways of running private messaging — %s — on who can read what, what gets detected and what it costs. "+
		"It is generated by scanlab's `report` package from the CSV and JSON files in this directory; every number in it, including those in sentences, is read from those files. "+
		"The [glossary](#%s) explains every party, item and pathway; [Limitations](#limitations) says what the numbers rest on.",
		andList(describeModes(r.modes())), anchor("Glossary"))
	head.h(2, "Findings")
	if len(body.findings) == 0 {
		head.p("*No result files were found, so there is nothing to report yet.*")
	} else {
		head.p("Each finding gives its number, its 95%% interval where it is a rate, the assumption it rests on, and a link to the section that shows it. They are grouped by that section.")
		writeFindings(head, body.findings)
	}
	return append(head.blocks, body.blocks...), body.figs, nil
}

// writeFindings lists the findings under a bold label per section, in the
// order the sections come, so a reader can go straight to one question.
func writeFindings(d *doc, findings []finding) {
	for group := range chunkBySection(findings) {
		d.p("**%s**", group[0].section)
		d.list(mapStrings(group, func(f finding) string {
			s := f.text
			if f.assumption != "" {
				s += " *Rests on:* " + f.assumption
			}
			return s + " ([" + f.section + "](#" + anchor(f.section) + "))"
		}))
	}
}

// chunkBySection yields runs of consecutive findings of one section.
func chunkBySection(findings []finding) iter.Seq[[]finding] {
	return func(yield func([]finding) bool) {
		for start := 0; start < len(findings); {
			end := start + 1
			for end < len(findings) && findings[end].section == findings[start].section {
				end++
			}
			if !yield(findings[start:end]) {
				return
			}
			start = end
		}
	}
}

// describeModes names each design plainly with its identifier.
func describeModes(modes []string) []string {
	if len(modes) == 0 {
		modes = []string{"serverscan", "e2ee", "clientscan"}
	}
	return mapStrings(modes, func(m string) string { return modeName(m) + " (`" + m + "`)" })
}
