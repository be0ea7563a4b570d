package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// scalingGroup is the points sharing a swept parameter and a unit: one plot.
type scalingGroup struct {
	key, unit string
	whats     []string
	pts       map[string]plotter.XYs // by what, sorted by X
}

func (r *results) scalingGroups() []scalingGroup {
	type gk struct{ key, unit string }
	var keys []gk
	groups := map[gk]*scalingGroup{}
	for _, p := range r.scaling {
		k := gk{p.Key, p.Unit}
		g, ok := groups[k]
		if !ok {
			g = &scalingGroup{key: p.Key, unit: p.Unit, pts: map[string]plotter.XYs{}}
			groups[k] = g
			keys = append(keys, k)
		}
		if _, ok := g.pts[p.What]; !ok {
			g.whats = append(g.whats, p.What)
		}
		g.pts[p.What] = append(g.pts[p.What], plotter.XY{X: p.X, Y: p.Value})
	}
	var out []scalingGroup
	for _, k := range keys {
		g := groups[k]
		for _, w := range g.whats {
			slices.SortStableFunc(g.pts[w], func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
		}
		out = append(out, *g)
	}
	return out
}

// slope fits log(y) = a + b·log(x) by least squares over positive points.
func slope(pts plotter.XYs) (float64, bool) {
	var n, sx, sy, sxx, sxy float64
	for _, p := range pts {
		if p.X <= 0 || p.Y <= 0 {
			continue
		}
		x, y := math.Log(p.X), math.Log(p.Y)
		n++
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	den := n*sxx - sx*sx
	if n < 2 || den == 0 {
		return 0, false
	}
	return (n*sxy - sx*sy) / den, true
}

func (r *results) writeScaling(d *doc) error {
	d.p("## How cost grows")
	if r.scaling == nil {
		d.skipped(scalingFile)
		return nil
	}
	d.p("The scaling experiment measures cost as the hash list and the number of users grow (`%s`). "+
		"Both axes are logarithmic, so a straight line is a power law and its slope the exponent: "+
		"cost proportional to size has slope one, constant cost slope zero.", scalingFile)
	for _, g := range r.scalingGroups() {
		var sent []string
		for _, w := range g.whats {
			ps := g.pts[w]
			first, last := ps[0], ps[len(ps)-1]
			s := fmt.Sprintf("`%s` went from %s %s at %s=%s to %s %s at %s=%s", w,
				measure(first.Y), g.unit, g.key, humanNumber(first.X), measure(last.Y), g.unit, g.key, humanNumber(last.X))
			if b, ok := slope(ps); ok {
				s += fmt.Sprintf(", a log-log slope of %s", strconv.FormatFloat(b, 'f', 2, 64))
			}
			sent = append(sent, s+".")
		}
		if g.plottable() {
			d.figure(g.plot(), fmt.Sprintf("Measured %s as %s grows, log-log", g.unit, g.key), sent...)
		} else {
			// All zero (nothing lost, nothing dropped): a table says it; an
			// empty log-log plot would not.
			d.p("%s", strings.Join(sent, " "))
		}
		var rows [][]string
		for _, w := range g.whats {
			for _, p := range g.pts[w] {
				rows = append(rows, []string{w, g.key + "=" + trimFloat(p.X, 6), measure(p.Y), g.unit})
			}
		}
		d.table([]string{"what", "parameter", "value", "unit"}, rows)
	}
	return nil
}

// plottable reports whether some point can sit on log-log axes.
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

func (g scalingGroup) plot() figure {
	name := "scaling-" + fileName(g.key)
	if g.unit != "" {
		name += "-" + fileName(g.unit)
	}
	unit := g.unit
	if unit == "" {
		unit = "value"
	}
	return figure{name: name, w: 8 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(fmt.Sprintf("%s as %s grows (log-log)", upperFirst(unit), g.key), g.key+" (log scale)", unit+" (log scale)")
		addGrid(p, true)
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = logTicks{}, logTicks{}
		// Log axes need a positive, non-degenerate range: zeros are left
		// out, and a constant series gets a factor-of-two margin.
		xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for i, w := range g.whats {
			var pts plotter.XYs
			for _, pt := range g.pts[w] {
				if pt.X > 0 && pt.Y > 0 {
					pts = append(pts, pt)
					xmin, xmax = math.Min(xmin, pt.X), math.Max(xmax, pt.X)
					ymin, ymax = math.Min(ymin, pt.Y), math.Max(ymax, pt.Y)
				}
			}
			if len(pts) == 0 {
				continue
			}
			addLineSeries(p, i, w, pts)
		}
		switch {
		case math.IsInf(xmin, 1):
			// Nothing positive to draw on log axes.
			p.X.Scale, p.Y.Scale = plot.LinearScale{}, plot.LinearScale{}
			p.X.Tick.Marker, p.Y.Tick.Marker = plot.DefaultTicks{}, plot.DefaultTicks{}
		default:
			if xmin == xmax {
				p.X.Min, p.X.Max = xmin/2, xmax*2
			}
			if ymin == ymax {
				p.Y.Min, p.Y.Max = ymin/2, ymax*2
			}
		}
		drawWithLegend(p, c)
	}}
}
