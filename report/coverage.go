package report

import (
	"fmt"
	"image/color"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab"
	"scanlab/corpus"
	"scanlab/schema"
)

// coverageAssumption is what the coverage findings rest on.
const coverageAssumption = "synthetic content and the study's offender and reporting model; intervals treat messages as independent, so they are too narrow."

// pathwayColour gives each detection pathway the same colour in every plot;
// "any" is grey so that it reads as a total.
func pathwayColour(pw scanlab.Pathway) color.Color {
	if pw == schema.AnyPathway {
		return color.Gray{0x70}
	}
	return seriesColour(slices.Index(scanlab.Pathways, pw))
}

func (r *results) writeCoverage(d *doc) error {
	d.h(2, "What gets detected")
	if r.cov == nil {
		d.skipped(schema.Coverage.Path)
		return nil
	}
	d.p("The coverage experiment sends labelled content through each design and counts, per content class and detection pathway, "+
		"the share of delivered items flagged (`%s`). For harmless classes that share is a false-alarm rate. "+
		"*Any pathway* counts an item once if at least one pathway flagged it. Intervals are 95%% Wilson score intervals; *n* is the number of items.", schema.Coverage.Path)
	sent := r.coverageSentences(d)
	modes, classes := covModes(r.cov), covClasses(r.cov)
	d.figure(coverageBars("coverage-any", "How much of each kind of content does each design detect?", classes, modes,
		func(mode string, cl corpus.ContentClass) (rate, bool) {
			return coverageRate(r.cov, mode, cl, schema.AnyPathway)
		},
		modeName, func(i int, m string) color.Color { return modeColour(m, i) }),
		"Share of items detected by any pathway, per content class and design", sent...)
	d.p("Detected by any pathway — share (95%% interval) detected/items:")
	d.table(append([]string{"class \\ design"}, modeNames(modes)...), r.coverageTable(classes, modes))
	for _, m := range modes {
		r.writeModePathways(d, m, classes)
	}
	r.writeAccounts(d)
	r.writePrevention(d)
	r.writeSweeps(d)
	return nil
}

// coverageSentences writes the headline findings and returns them for the
// figure's caption.
func (r *results) coverageSentences(d *doc) []string {
	var sent []string
	if s := r.pooledSentence(); s != "" {
		d.find(s, coverageAssumption)
		sent = append(sent, s)
	}
	if h, ok := hardestClass(r.cov); ok {
		s := fmt.Sprintf("The hardest harmful class was %s: the best design (%s) detected %s.", className(h.class), modeName(h.mode), h.best)
		d.find(s, coverageAssumption)
		sent = append(sent, s)
	}
	if s := r.falseAlarmSentence(); s != "" {
		d.find(s, "harmless content from the study's synthetic generators; real photo libraries are more varied.")
		sent = append(sent, s)
	}
	return sent
}

func (r *results) pooledSentence() string {
	classes := classesWithItems(r.cov, harmful)
	if len(classes) == 0 {
		return ""
	}
	modes := covModes(r.cov)
	rates := mapSlice(modes, func(m string) rate { return pooled(r.cov, m, schema.AnyPathway, harmful) })
	lead := fmt.Sprintf("Pooled over the %d harmful classes with items, some pathway detected", len(classes))
	switch {
	case len(modes) == 1:
		return fmt.Sprintf("%s %s of harmful items in %s.", lead, rates[0], modeName(modes[0]))
	case sameRates(rates):
		return fmt.Sprintf("%s the same share in every design: %s.", lead, rates[0])
	}
	var parts []string
	for i, m := range modes {
		parts = append(parts, fmt.Sprintf("%s in %s", rates[i], modeName(m)))
	}
	return lead + " " + andList(parts) + "."
}

func (r *results) falseAlarmSentence() string {
	worst, all, ok := falseAlarms(r.cov)
	if !ok {
		return ""
	}
	if all.k == 0 {
		return fmt.Sprintf("No design flagged any harmless item: 0 of %s (95%% upper bound %s).", count(float64(all.n)), pct(all.hi))
	}
	return fmt.Sprintf("The highest false-alarm rate on harmless content was %s, for %s in %s.", worst.r, className(worst.class), modeName(worst.mode))
}

func (r *results) coverageTable(classes []corpus.ContentClass, modes []string) [][]string {
	var rows [][]string
	for _, cl := range classes {
		name := className(cl)
		if !cl.Harmful() {
			name += " (false alarms)"
		}
		row := []string{name}
		for _, m := range modes {
			rt, ok := coverageRate(r.cov, m, cl, schema.AnyPathway)
			if !ok {
				row = append(row, "–")
				continue
			}
			row = append(row, rt.cell())
		}
		rows = append(rows, row)
	}
	return rows
}

// writeModePathways shows one design's detections by pathway.
func (r *results) writeModePathways(d *doc, m string, classes []corpus.ContentClass) {
	d.h(4, modeName(m)+", by pathway")
	var pathways []scanlab.Pathway
	for _, c := range r.cov {
		if c.Mode == m && !slices.Contains(pathways, c.Pathway) {
			pathways = append(pathways, c.Pathway)
		}
	}
	pathways = inOrder(pathways, schema.Pathways)
	sent := r.pathwaySentences(m, pathways)
	d.figure(coverageBars("coverage-"+fileName(m), "Which pathway catches what in "+modeName(m)+"?", classes, pathways,
		func(pw scanlab.Pathway, cl corpus.ContentClass) (rate, bool) { return coverageRate(r.cov, m, cl, pw) },
		pathwayName, func(_ int, pw scanlab.Pathway) color.Color { return pathwayColour(pw) }),
		"Share of items each pathway detected in "+modeName(m)+", per content class", sent...)
	var rows [][]string
	for _, cl := range classes {
		row := []string{className(cl)}
		for _, pw := range pathways {
			if rt, ok := coverageRate(r.cov, m, cl, pw); ok && rt.n > 0 {
				row = append(row, pct(rt.p()))
			} else {
				row = append(row, "–")
			}
		}
		rows = append(rows, row)
	}
	d.table(append([]string{"class \\ pathway"}, mapStrings(pathways, pathwayName)...), rows)
}

// pathwaySentences says which pathways found the most harmful items in one
// design, and which found none.
func (r *results) pathwaySentences(m string, pathways []scanlab.Pathway) []string {
	type pw struct {
		name string
		r    rate
	}
	var pws []pw
	for _, p := range pathways {
		if p == schema.AnyPathway {
			continue
		}
		if rt := pooled(r.cov, m, p, harmful); rt.n > 0 {
			pws = append(pws, pw{pathwayName(p), rt})
		}
	}
	if len(pws) == 0 {
		return nil
	}
	slices.SortStableFunc(pws, func(a, b pw) int { return b.r.k - a.r.k })
	var sent []string
	if pws[0].r.k > 0 {
		s := fmt.Sprintf("In %s, %s detected the most harmful items: %s", modeName(m), pws[0].name, pws[0].r)
		if len(pws) > 1 && pws[1].r.k > 0 && pws[1].r.k < pws[0].r.k {
			s += fmt.Sprintf(", followed by %s with %s", pws[1].name, pws[1].r)
		}
		sent = append(sent, s+".")
	}
	var zero []string
	for _, p := range pws {
		if p.r.k == 0 {
			zero = append(zero, p.name)
		}
	}
	if len(zero) > 0 {
		sent = append(sent, fmt.Sprintf("No harmful item was detected by %s.", orList(zero)))
	}
	return sent
}

// orList joins words as prose with "or": "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return andList(words)
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// coverageBars draws grouped bars with 95% error bars: one group per
// class, its n under the class name, one bar per series.
func coverageBars[S comparable](name, title string, classes []corpus.ContentClass, series []S,
	get func(S, corpus.ContentClass) (rate, bool), label func(S) string, colour func(int, S) color.Color) figure {
	ticks := make([]string, len(classes))
	for ci, cl := range classes {
		var ns []int
		for _, s := range series {
			if rt, ok := get(s, cl); ok {
				ns = append(ns, rt.n)
			}
		}
		ticks[ci] = className(cl) + "\n" + nLabel(ns)
	}
	return figure{name: name, title: title, w: 10 * vg.Inch, h: 5.5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, "content class (n = items; harmless classes show false alarms)", "share of items detected (95% interval)")
		addGrid(p, false)
		w := 0.8 / float64(len(series))
		for si, s := range series {
			b := &bars{width: w, colour: colour(si, s)}
			for ci, cl := range classes {
				if rt, ok := get(s, cl); ok && rt.n > 0 {
					b.xs = append(b.xs, float64(ci)+(float64(si)-float64(len(series)-1)/2)*w)
					b.ys = append(b.ys, rt.p())
					b.lo, b.hi = append(b.lo, rt.lo), append(b.hi, rt.hi)
				}
			}
			if len(b.xs) == 0 {
				continue
			}
			p.Add(b)
			p.Legend.Add(label(s), b)
		}
		p.NominalX(ticks...)
		rotateXLabels(p)
		p.X.Min, p.X.Max = -0.5, float64(len(classes))-0.5
		p.Y.Min, p.Y.Max = 0, 1
		p.Y.Tick.Marker = percentTicks{}
		drawWithLegend(p, c)
	}}
}

// nLabel says how many items stand behind a group of bars: "n = 48",
// "n = 12–48" when the series differ, "no items" when there are none.
func nLabel(ns []int) string {
	if len(ns) == 0 || slices.Max(ns) == 0 {
		return "no items"
	}
	lo, hi := slices.Min(ns), slices.Max(ns)
	if lo == hi {
		return "n = " + count(float64(lo))
	}
	return "n = " + count(float64(lo)) + "–" + count(float64(hi))
}
