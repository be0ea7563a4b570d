package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// benign reports whether a content class is benign: its "recall" is a
// false-positive rate. A collision image is benign content crafted to match
// a list entry: flagging it is a false positive (a successful framing).
func benign(class string) bool {
	return strings.HasPrefix(class, "benign") || class == "collision-image"
}

// pathwayColour gives each detection pathway the same colour in every plot;
// "any" is grey so that it reads as a total.
func pathwayColour(pw string, i int) color.Color {
	if pw == "any" {
		return color.Gray{0x70}
	}
	if j := slices.Index(knownPathways, pw); j >= 0 {
		return seriesColour(j)
	}
	return seriesColour(i)
}

func (r *results) covRow(mode, class, pathway string) (coverageRow, bool) {
	for _, c := range r.cov {
		if c.Mode == mode && c.Class == class && c.Pathway == pathway {
			return c, true
		}
	}
	return coverageRow{}, false
}

// pooled returns detected and items summed over the harmful classes.
func (r *results) pooled(mode, pathway string) (detected, items int) {
	for _, c := range r.cov {
		if c.Mode == mode && c.Pathway == pathway && !benign(c.Class) {
			detected += c.Detected
			items += c.Items
		}
	}
	return
}

func ratio(d, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(d) / float64(n)
}

func (r *results) writeCoverage(d *doc) error {
	d.p("## What gets detected")
	if r.cov == nil {
		d.skipped(coverageFile)
	} else {
		r.writeCoverageTables(d)
	}
	d.p("### Innocent accounts flagged by chance")
	if r.falseFlag == nil {
		d.skipped(falseFlagFile)
		return nil
	}
	r.writeFalseFlag(d)
	return nil
}

func (r *results) writeCoverageTables(d *doc) {
	modes := order(r.cov, func(c coverageRow) string { return c.Mode }, knownModes...)
	classes := order(r.cov, func(c coverageRow) string { return c.Class }, knownClasses...)
	d.p("The coverage experiment sends labelled content through each architecture and counts, per content class and detection pathway, "+
		"the share of items flagged (`%s`). For benign classes that share is the false-positive rate. "+
		"The `any` pathway counts an item once if at least one pathway flagged it.", coverageFile)
	var sent []string
	var parts []string
	for _, m := range modes {
		if det, n := r.pooled(m, "any"); n > 0 {
			parts = append(parts, pct(ratio(det, n))+" in "+m)
		}
	}
	harmful := slices.DeleteFunc(slices.Clone(classes), benign)
	if len(parts) > 0 {
		sent = append(sent, fmt.Sprintf("Pooled over the %d harmful classes, the share of items that some pathway detected was %s.", len(harmful), andList(parts)))
	}
	hardest, hardBest := "", math.Inf(1)
	for _, cl := range harmful {
		best := math.Inf(-1)
		for _, m := range modes {
			if c, ok := r.covRow(m, cl, "any"); ok && c.Recall > best {
				best = c.Recall
			}
		}
		if !math.IsInf(best, 0) && best < hardBest {
			hardest, hardBest = cl, best
		}
	}
	if hardest != "" {
		sent = append(sent, fmt.Sprintf("The hardest class was %s: no architecture detected more than %s of it.", hardest, pct(hardBest)))
	}
	worstFP, wm, wc := -1.0, "", ""
	for _, c := range r.cov {
		if benign(c.Class) && c.Pathway == "any" && c.Recall > worstFP {
			worstFP, wm, wc = c.Recall, c.Mode, c.Class
		}
	}
	if worstFP >= 0 {
		sent = append(sent, fmt.Sprintf("On benign content the highest false-positive rate was %s (%s, %s).", pct(worstFP), wm, wc))
	}
	d.headline(sent...)
	if slices.ContainsFunc(r.cov, func(c coverageRow) bool { return c.Pathway == "any" }) {
		d.figure(r.coverageBars("coverage-any", "Share of items detected by any pathway, by content class", classes, modes, func(series string, class string) (coverageRow, bool) {
			return r.covRow(series, class, "any")
		}, func(s string, i int) color.Color { return modeColour(s, i) }), "Detection by any pathway, per content class and architecture", sent...)
	} else if len(sent) > 0 {
		d.p("%s", joinSentences(sent))
	}
	header := []string{"class \\ mode"}
	header = append(header, modes...)
	var rows [][]string
	for _, cl := range classes {
		name := cl
		if benign(cl) {
			name += " (false positives)"
		}
		row := []string{name}
		for _, m := range modes {
			if c, ok := r.covRow(m, cl, "any"); ok {
				row = append(row, fmt.Sprintf("%s (%d/%d)", pct(c.Recall), c.Detected, c.Items))
			} else {
				row = append(row, "–")
			}
		}
		rows = append(rows, row)
	}
	d.p("Detected by any pathway (detected/items):")
	d.table(header, rows)

	for _, m := range modes {
		d.p("#### %s, by pathway", m)
		pathways := order(slices.DeleteFunc(slices.Clone(r.cov), func(c coverageRow) bool { return c.Mode != m }),
			func(c coverageRow) string { return c.Pathway }, knownPathways...)
		var sent []string
		type pw struct {
			name   string
			det, n int
		}
		var pws []pw
		for _, p := range pathways {
			if p == "any" {
				continue
			}
			det, n := r.pooled(m, p)
			if n > 0 {
				pws = append(pws, pw{p, det, n})
			}
		}
		slices.SortStableFunc(pws, func(a, b pw) int { return b.det - a.det })
		if len(pws) > 0 {
			s := fmt.Sprintf("In %s, %s detected the most harmful items (%d of %d, %s)", m, pws[0].name, pws[0].det, pws[0].n, pct(ratio(pws[0].det, pws[0].n)))
			if len(pws) > 1 && pws[1].det > 0 {
				s += fmt.Sprintf(", followed by %s (%s)", pws[1].name, pct(ratio(pws[1].det, pws[1].n)))
			}
			sent = append(sent, s+".")
			var none []string
			for _, p := range pws {
				if p.det == 0 {
					none = append(none, p.name)
				}
			}
			if len(none) > 0 {
				sent = append(sent, fmt.Sprintf("No harmful item was detected by %s.", andList(none)))
			} else {
				sent = append(sent, "Every pathway measured detected at least one harmful item.")
			}
		}
		d.figure(r.coverageBars("coverage-"+fileName(m), "Share of items detected in "+m+", by class and pathway", classes, pathways,
			func(series, class string) (coverageRow, bool) { return r.covRow(m, class, series) }, pathwayColour),
			"Detection in "+m+" per content class and pathway", sent...)
		header := []string{"class \\ pathway"}
		header = append(header, pathways...)
		var rows [][]string
		for _, cl := range classes {
			row := []string{cl}
			for _, p := range pathways {
				if c, ok := r.covRow(m, cl, p); ok {
					row = append(row, pct(c.Recall))
				} else {
					row = append(row, "–")
				}
			}
			rows = append(rows, row)
		}
		d.table(header, rows)
	}
}

// coverageBars draws grouped bars: one group per class, one bar per series.
func (r *results) coverageBars(name, title string, classes, series []string, get func(series, class string) (coverageRow, bool), colour func(string, int) color.Color) figure {
	return figure{name: name, w: 9 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, "content class (benign classes: false positives)", "share of items detected")
		addGrid(p, false)
		w := 0.8 / float64(len(series))
		for si, s := range series {
			b := &bars{width: w, colour: colour(s, si)}
			for ci, cl := range classes {
				if row, ok := get(s, cl); ok {
					b.xs = append(b.xs, float64(ci)+(float64(si)-float64(len(series)-1)/2)*w)
					b.ys = append(b.ys, row.Recall)
				}
			}
			if len(b.xs) == 0 {
				continue
			}
			p.Add(b)
			p.Legend.Add(s, b)
		}
		p.NominalX(classes...)
		rotateXLabels(p)
		p.X.Min, p.X.Max = -0.5, float64(len(classes))-0.5
		p.Y.Min, p.Y.Max = 0, 1
		p.Y.Tick.Marker = percentTicks{}
		drawWithLegend(p, c)
	}}
}

// falseFlagSeries groups the false-flag rows by list size and images per
// account, each sorted by threshold.
func (r *results) falseFlagSeries() [][]falseFlagRow {
	type key struct{ lib, img float64 }
	var keys []key
	groups := map[key][]falseFlagRow{}
	for _, f := range r.falseFlag {
		k := key{f.Library, f.Images}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	var out [][]falseFlagRow
	for _, k := range keys {
		g := groups[k]
		slices.SortStableFunc(g, func(a, b falseFlagRow) int { return cmpFloat(a.T, b.T) })
		out = append(out, g)
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func seriesName(f falseFlagRow) string {
	return fmt.Sprintf("list %s, %s images/account", humanNumber(f.Library), humanNumber(f.Images))
}

// falseFlagTarget is the per-account false-flag probability the sentences
// and the plot compare against: one in a trillion, the order of magnitude
// deployed threshold designs aim for.
const falseFlagTarget = 1e-12

func (r *results) writeFalseFlag(d *doc) {
	series := r.falseFlagSeries()
	d.p("If each innocent image falsely matches the hash list with a small probability, an account is flagged once t of its images match. "+
		"The curve gives that probability per account as the threshold t grows (`%s`).", falseFlagFile)
	var sent []string
	for _, g := range series {
		first, last := g[0], g[len(g)-1]
		pImage := "per-image false-match probability " + sci(first.PImage)
		if first.Bound {
			pImage = "per-image false-match probability at most " + sci(first.PImage) + ", a 95% upper bound: no benign image tested matched"
		}
		s := fmt.Sprintf("With a list of %s hashes and %s images per account (%s), the chance an innocent account is flagged falls from %s at t=%s to %s at t=%s",
			count(first.Library), count(first.Images), pImage, sci(first.PAccount), trimFloat(first.T, 4), sci(last.PAccount), trimFloat(last.T, 4))
		crossed := false
		for _, f := range g {
			if f.PAccount <= falseFlagTarget {
				s += fmt.Sprintf("; it first reaches one in a trillion (%s) or less at t=%s", sci(falseFlagTarget), trimFloat(f.T, 4))
				crossed = true
				break
			}
		}
		if !crossed {
			s += fmt.Sprintf("; it stays above one in a trillion (%s) over the thresholds measured", sci(falseFlagTarget))
		}
		sent = append(sent, s+".")
	}
	if len(sent) > 0 {
		d.headline(sent[0])
	}
	d.figure(r.falseFlagPlot(series), "Chance an innocent account is flagged, by threshold", sent...)
	var rows [][]string
	for _, f := range r.falseFlag {
		rows = append(rows, []string{trimFloat(f.T, 4), count(f.Library), count(f.Images), sci(f.PImage), sci(f.PAccount)})
	}
	d.table([]string{"t", "list size", "images/account", "p(image)", "p(account)"}, rows)
}

func (r *results) falseFlagPlot(series [][]falseFlagRow) figure {
	return figure{name: "falseflag", w: 8 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot("Chance an innocent account crosses the match threshold", "threshold t (matching images needed)", "probability per account (log scale)")
		addGrid(p, true)
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.X.Tick.Marker = niceTicks{}
		for i, g := range series {
			var pts plotter.XYs
			for _, f := range g {
				if f.PAccount > 0 {
					pts = append(pts, plotter.XY{X: f.T, Y: f.PAccount})
				}
			}
			if len(pts) == 0 {
				continue
			}
			addLineSeries(p, i, seriesName(g[0]), pts)
		}
		if p.Y.Min <= falseFlagTarget && falseFlagTarget <= p.Y.Max {
			ref, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: falseFlagTarget}, {X: p.X.Max, Y: falseFlagTarget}})
			if err == nil {
				ref.Color = color.Gray{0x50}
				ref.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
				p.Add(ref)
				p.Legend.Add("one in a trillion", ref)
			}
		}
		drawWithLegend(p, c)
	}}
}

// parseStrength reads a strength value as a number, if it is one.
func parseStrength(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}
