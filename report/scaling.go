package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab/schema"
)

func (r *results) writeScaling(d *doc) error {
	d.h(2, "How cost grows")
	if r.scaling == nil {
		d.skipped(schema.Scaling.Path)
		return nil
	}
	d.p("The scaling experiment measures cost as the hash list and the number of users grow (`%s`), on one machine. "+
		"Where a plot's axes are logarithmic, a straight line is a power law and its slope the exponent: cost proportional to size has slope one, constant cost slope zero.", schema.Scaling.Path)
	r.writeSpeedups(d)
	for _, g := range scalingGroups(r.scaling) {
		sent := mapSlice(g.whats, g.sentence)
		if g.plottable() {
			d.figure(g.plot(), fmt.Sprintf("%s as the %s grows", upperFirst(unitName(g.unit)), keyName(g.key)), sent...)
		} else {
			// All zero (nothing lost, nothing dropped): a table says it; an
			// empty log-log plot would not.
			d.p("%s", strings.Join(sent, " "))
		}
		var rows [][]string
		for _, w := range g.whats {
			for _, p := range g.pts[w] {
				rows = append(rows, []string{measureName(w), measure(p.X), measure(p.Y), unitName(g.unit)})
			}
		}
		d.table([]string{"measurement", keyName(g.key), "value", "unit"}, rows)
	}
	return nil
}

// writeSpeedups states the index's speed-up against the fastest exact
// baseline measured, naming it.
func (r *results) writeSpeedups(d *doc) {
	sp := speedups(r.scaling)
	if len(sp) == 0 {
		return
	}
	last := sp[len(sp)-1]
	s := fmt.Sprintf("At %s hashes the multi-index answered a lookup in %s, %s× faster than the fastest exact baseline measured in the same run, %s (%s per lookup)",
		count(last.x), duration(last.index), trimFloat(last.factor, 3), last.baseline, duration(last.baselineTime))
	if !last.packedMeasured {
		s += "; the packed linear scan (`perceptual.Index.MatchLinear`) is faster than that baseline but was not measured in this run, so the speed-up is an upper bound"
	}
	d.find(s+".", "random 256-bit hashes, half the queries near a list entry, one query at a time on a shared machine.")
	var rows [][]string
	for _, x := range sp {
		rows = append(rows, []string{count(x.x), duration(x.index), x.baseline, duration(x.baselineTime), trimFloat(x.factor, 3) + "×"})
	}
	d.p("%s. Speed-ups are computed here from the measured times; older files' `%s` rows, taken against the reference scan, are not used.", s, schema.ScaleIndexSpeedup)
	d.table([]string{"list size", "index", "fastest baseline", "baseline", "speed-up"}, rows)
}

// sentence says how one measurement moved over the sweep, without
// comparing equal values.
func (g scalingGroup) sentence(w string) string {
	ps := g.pts[w]
	first, last := ps[0], ps[len(ps)-1]
	name, unit := upperFirst(measureName(w)), unitName(g.unit)
	var s string
	switch {
	case len(ps) == 1:
		s = fmt.Sprintf("%s was %s %s %s", name, measure(first.Y), unit, atKey(g.key, first.X))
	case first.Y == last.Y:
		s = fmt.Sprintf("%s stayed at %s %s from %s to %s", name, measure(first.Y), unit, strings.TrimPrefix(strings.TrimPrefix(atKey(g.key, first.X), "at "), "with "), strings.TrimPrefix(strings.TrimPrefix(atKey(g.key, last.X), "at "), "with "))
	default:
		s = fmt.Sprintf("%s went from %s %s %s to %s %s %s", name, measure(first.Y), unit, atKey(g.key, first.X), measure(last.Y), unit, atKey(g.key, last.X))
		if b, ok := slope(ps); ok && g.logY() {
			s += fmt.Sprintf(", a log-log slope of %s", strconv.FormatFloat(b, 'f', 2, 64))
		}
	}
	return s + "."
}

// plottable reports whether some point can sit on log axes.
func (g scalingGroup) plottable() bool {
	for _, w := range g.whats {
		for _, pt := range g.pts[w] {
			if pt.X > 0 && pt.Y > 0 {
				return true
			}
		}
	}
	return false
}

// logY reports whether the group's positive values span a factor of ten
// or more, so that a logarithmic value axis is warranted.
func (g scalingGroup) logY() bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, w := range g.whats {
		for _, pt := range g.pts[w] {
			if pt.Y > 0 {
				lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
			}
		}
	}
	return hi >= 10*lo
}

// title asks the question the plot answers.
func (g scalingGroup) title() string {
	q, ok := quantities[g.unit]
	if !ok {
		q = unitName(g.unit)
	}
	with := map[string]string{"list_size": "the hash list", "users": "the number of users"}[g.key]
	if with == "" {
		with = keyName(g.key)
	}
	return fmt.Sprintf("How does %s grow with %s?", q, with)
}

func (g scalingGroup) plot() figure {
	name := "scaling-" + fileName(g.key)
	if g.unit != "" {
		name += "-" + fileName(g.unit)
	}
	logY := g.logY()
	title := g.title()
	return figure{name: name, title: title, w: 9 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		ylabel := axisLabel(g.unit)
		if logY {
			ylabel += " (log scale)"
		}
		p := newPlot(title, keyName(g.key)+" (log scale)", ylabel)
		addGrid(p, true)
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
		if logY {
			p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
		} else {
			p.Y.Tick.Marker = niceTicks{}
		}
		for i, w := range g.whats {
			var pts plotter.XYs
			for _, pt := range g.pts[w] {
				if pt.X > 0 && (pt.Y > 0 || !logY) {
					pts = append(pts, pt)
				}
			}
			if len(pts) > 0 {
				addLineSeries(p, i, measureName(w), pts)
			}
		}
		if !logY {
			p.Y.Min = 0
			p.Y.Max *= 1.1
		}
		if p.X.Min == p.X.Max {
			p.X.Min, p.X.Max = p.X.Min/2, p.X.Max*2
		}
		if logY && p.Y.Min == p.Y.Max {
			p.Y.Min, p.Y.Max = p.Y.Min/2, p.Y.Max*2
		}
		drawWithLegend(p, c)
	}}
}
