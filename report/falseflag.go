package report

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab/schema"
)

// falseFlagTarget is the per-account false-flag probability the sentences
// and the plot compare against: one in a trillion, Apple's stated design
// target (Security Threat Model Review of Apple's Child Safety Features,
// August 2021).
const falseFlagTarget = 1e-12

// falseFlagFloor is the lowest probability the plot shows; smaller values
// sit on the floor with a downward marker.
const falseFlagFloor = 1e-20

// falseFlagSeries groups the false-flag rows by list size and images per
// account, each sorted by threshold.
func falseFlagSeries(rows []schema.FalseFlagRow) [][]schema.FalseFlagRow {
	type key struct{ lib, img int }
	var keys []key
	groups := map[key][]schema.FalseFlagRow{}
	for _, f := range rows {
		k := key{f.Library, f.Images}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	var out [][]schema.FalseFlagRow
	for _, k := range keys {
		g := groups[k]
		slices.SortStableFunc(g, func(a, b schema.FalseFlagRow) int { return cmp.Compare(a.T, b.T) })
		out = append(out, g)
	}
	return out
}

// firstBelow returns the smallest threshold whose probability is at most
// target.
func firstBelow(g []schema.FalseFlagRow, target float64) (int, bool) {
	for _, f := range g {
		if f.PAccount <= target {
			return f.T, true
		}
	}
	return 0, false
}

// falseFlagSentence says how one series falls with the threshold, without
// comparing equal values and saying when the figures are bounds.
func falseFlagSentence(g []schema.FalseFlagRow) string {
	first, last := g[0], g[len(g)-1]
	atMost, basis := "", fmt.Sprintf("%s (measured on %s harmless images)", sci(first.PImage), count(float64(first.MeasuredOn)))
	if first.Bound() {
		atMost = "at most "
		basis = fmt.Sprintf("at most %s (a 95%% upper bound: none of %s harmless images matched)", sci(first.PImage), count(float64(first.MeasuredOn)))
	}
	s := fmt.Sprintf("For an account sending %s images, with a per-image false-match probability against a list of %s hashes of %s, the chance an innocent account is flagged",
		count(float64(first.Images)), count(float64(first.Library)), basis)
	switch {
	case len(g) == 1:
		s += fmt.Sprintf(" is %s%s at t=%d", atMost, sci(first.PAccount), first.T)
	case first.PAccount == last.PAccount:
		s += fmt.Sprintf(" stays at %s%s for every threshold from t=%d to t=%d", atMost, sci(first.PAccount), first.T, last.T)
	default:
		s += fmt.Sprintf(" is %s%s at t=%d and %s%s at t=%d", atMost, sci(first.PAccount), first.T, atMost, sci(last.PAccount), last.T)
	}
	if t, ok := firstBelow(g, falseFlagTarget); ok {
		s += fmt.Sprintf("; it is one in a trillion or less from t=%d on", t)
	} else {
		s += "; it stays above one in a trillion at every threshold measured"
	}
	return s + "."
}

func (r *results) writeFalseFlag(d *doc) error {
	if r.cov == nil && r.falseFlag == nil {
		return nil
	}
	d.h(3, "Innocent accounts flagged by chance")
	if r.falseFlag == nil {
		d.skipped(schema.FalseFlag.Path)
		return nil
	}
	series := falseFlagSeries(r.falseFlag)
	d.p("If each harmless image falsely matches the hash list with a small probability, on-device scanning reveals an account once more than t of its images match "+
		"(the account is revealed at its (t+1)-th false match, as the PSI code computes it). "+
		"The figure gives that probability per account for the thresholds measured (`%s`); points are computed, not joined, since nothing was computed between them.", schema.FalseFlag.Path)
	sent := mapSlice(series, falseFlagSentence)
	d.find(sent[0], "images falsely match independently, each with the same probability, measured on synthetic images.")
	d.figure(falseFlagPlot(series), "Chance an innocent account is flagged, by threshold", sent...)
	var rows [][]string
	for _, f := range r.falseFlag {
		p := sci(f.PImage)
		if f.Bound() {
			p = "≤ " + p
		}
		rows = append(rows, []string{fmt.Sprint(f.T), count(float64(f.Library)), count(float64(f.Images)), p, boundSci(f)})
	}
	d.table([]string{"t", "list size", "images per account", "p(image)", "p(account)"}, rows)
	return nil
}

func boundSci(f schema.FalseFlagRow) string {
	if f.Bound() {
		return "≤ " + sci(f.PAccount)
	}
	return sci(f.PAccount)
}

func falseFlagPlot(series [][]schema.FalseFlagRow) figure {
	title := "How likely is an innocent account to be flagged by chance?"
	ylabel := "probability per account (log scale)"
	if len(series) > 0 && series[0][0].Bound() {
		ylabel = "probability per account, upper bound (log scale)"
	}
	return figure{name: "falseflag", title: title, w: 9 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, "threshold t (matches needed before the provider learns of them)", ylabel)
		addGrid(p, true)
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.X.Tick.Marker = niceTicks{}
		floored := false
		for i, g := range series {
			floored = addFalseFlagSeries(p, i, g) || floored
		}
		p.Y.Min, p.Y.Max = falseFlagFloor, 1
		addHLine(p, falseFlagTarget, "one in a trillion (Apple's target)")
		if floored {
			p.Legend.Add(fmt.Sprintf("▼ below %s", sci(falseFlagFloor)))
		}
		drawWithLegend(p, c)
	}}
}

// addFalseFlagSeries draws one series as markers, values below the floor
// as downward triangles on it; it reports whether any was floored.
func addFalseFlagSeries(p *plot.Plot, i int, g []schema.FalseFlagRow) bool {
	var pts, low plotter.XYs
	for _, f := range g {
		if f.PAccount >= falseFlagFloor {
			pts = append(pts, plotter.XY{X: float64(f.T), Y: f.PAccount})
		} else {
			low = append(low, plotter.XY{X: float64(f.T), Y: falseFlagFloor})
		}
	}
	name := fmt.Sprintf("%s images per account", count(float64(g[0].Images)))
	col := seriesColour(i)
	var thumbs []plot.Thumbnailer
	if len(pts) > 0 {
		s, err := plotter.NewScatter(pts)
		if err == nil {
			s.Color, s.Shape, s.Radius = col, glyphs[i%len(glyphs)], vg.Points(4)
			p.Add(s)
			thumbs = append(thumbs, s)
		}
	}
	if len(low) > 0 {
		s, err := plotter.NewScatter(low)
		if err == nil {
			s.Color, s.Shape, s.Radius = col, downTriangle{}, vg.Points(4)
			p.Add(s)
			if len(thumbs) == 0 {
				thumbs = append(thumbs, s)
			}
		}
	}
	if len(thumbs) > 0 {
		p.Legend.Add(name, thumbs...)
	}
	return len(low) > 0
}

// downTriangle is a marker pointing down: a value below the axis.
type downTriangle struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (downTriangle) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	c.FillPolygon(sty.Color, []vg.Point{{X: pt.X - r, Y: pt.Y + r}, {X: pt.X + r, Y: pt.Y + r}, {X: pt.X, Y: pt.Y - r/2}})
}

// addHLine marks a reference value across the plot with a dashed line.
func addHLine(p *plot.Plot, y float64, name string) {
	xmin, xmax := p.X.Min, p.X.Max
	if !(xmax > xmin) {
		return
	}
	ref, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: y}, {X: xmax, Y: y}})
	if err != nil || math.IsNaN(y) {
		return
	}
	ref.Color = color.Gray{0x50}
	ref.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(ref)
	p.Legend.Add(name, ref)
}
