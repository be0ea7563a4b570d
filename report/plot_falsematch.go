package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab/falsematch"
	"scanlab/schema"
)

// The section's plots: distances, the account curve and the threshold
// sweep.

// Plot ranges: probabilities below fmFloor are left off the log axes.
const (
	fmFloor     = 1e-30
	fmTailFloor = 1e-40
	fmDeepFloor = 1e-300 // the threshold panels: far below any target, above the float64 limit
)

// distanceSets are the sets the distance histogram draws, with their
// legend names.
var distanceSets = []struct{ set, name string }{
	{falsematch.SetNearestGenerated, "generated image to nearest listed photo"},
	{falsematch.SetPairsGenerated, "generated image to each listed photo"},
	{falsematch.SetNearestReal, "listed photo to nearest other scene"},
	{falsematch.SetSameScene, "same scene, other file (true match)"},
}

// distancePlot draws two panels: the share of each distance set per bin
// with the threshold marked, and the lower tail of the pairwise distance
// on a log scale with each model's curve.
func distancePlot(fm falseMatch) figure {
	title := "How close do harmless images come to the listed photographs?"
	return figure{name: "falsematch-distances", title: title, w: 16 * vg.Inch, h: 5.5 * vg.Inch, draw: func(c draw.Canvas) {
		c = drawTitle(c, title)
		threshold := fm.threshold()
		left := newPlot("Distances, share of each set", "PDQ distance (bits of 256)", "share of the set's distances (8-bit bins)")
		addGrid(left, true)
		left.X.Min, left.X.Max, left.Y.Min = 0, 256, 0
		for i, s := range distanceSets {
			shares, n := fm.histogramShares(s.set)
			if shares != nil {
				addStep(left, i, fmt.Sprintf("%s (n = %s)", s.name, count(float64(n))), shares)
			}
		}
		addVLine(left, float64(threshold)+0.5, fmt.Sprintf("match threshold (≤ %d bits)", threshold), matchLine)
		right := newPlot("Lower tail of the generated-to-listed pairs: data and models", "PDQ distance (bits of 256)", "share of pairs at or below the distance (log scale)")
		addGrid(right, true)
		right.Y.Scale, right.Y.Tick.Marker = plot.LogScale{}, decadeTicks{}
		right.X.Min, right.Y.Min, right.Y.Max = float64(threshold-1), fmTailFloor, 1
		addTail(right, fm.tailChecks(falsematch.SetPairsGenerated))
		addVLine(right, float64(threshold)+0.5, fmt.Sprintf("match threshold (≤ %d bits)", threshold), matchLine)
		half := (c.Max.X - c.Min.X) / 2
		drawWithLegend(left, draw.Crop(c, 0, -half, 0, 0))
		drawWithLegend(right, draw.Crop(c, half+vg.Points(12), 0, 0, 0))
	}}
}

// threshold is the match threshold the files used.
func (fm falseMatch) threshold() int {
	if m, ok := fm.measured(); ok {
		return m.Threshold
	}
	return 31
}

// addStep draws bin shares as a step line.
func addStep(p *plot.Plot, i int, name string, shares []float64) {
	var pts plotter.XYs
	for b, s := range shares {
		x0 := float64(b * binWidth)
		pts = append(pts, plotter.XY{X: x0, Y: s}, plotter.XY{X: math.Min(x0+binWidth, 256), Y: s})
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return
	}
	l.Color, l.Width, l.Dashes = fmColours[i%len(fmColours)], vg.Points(1.6), dashes[i%len(dashes)]
	p.Add(l)
	p.Legend.Add(name, l)
}

// addTail draws the observed share of pairs at or below each distance as
// dots and each model's as a line, down to fmTailFloor.
func addTail(p *plot.Plot, checks []schema.TailCheckRow) {
	var obs plotter.XYs
	for _, c := range checks {
		if c.Observed > 0 {
			obs = append(obs, plotter.XY{X: float64(c.Distance), Y: c.Observed})
		}
	}
	for i, model := range falsematch.Models {
		var pts plotter.XYs
		for _, c := range checks {
			if v := checkValue(c, model); v >= fmTailFloor {
				pts = append(pts, plotter.XY{X: float64(c.Distance), Y: v})
			}
		}
		if len(pts) < 2 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		l.Color, l.Width, l.Dashes = fmColours[(i+1)%len(fmColours)], vg.Points(1.4), dashes[(i+1)%len(dashes)]
		p.Add(l)
		p.Legend.Add("model: "+model, l)
	}
	if len(obs) > 0 {
		if s, err := plotter.NewScatter(obs); err == nil {
			s.Color, s.Shape, s.Radius = oiBlack, draw.CircleGlyph{}, vg.Points(2.2)
			p.Add(s)
			p.Legend.Add("observed share of pairs", s)
		}
	}
}

// accountPlot draws, per library size, P[revealed] against p for the shown
// thresholds, with the marked per-image figures and the target.
func accountPlot(fm falseMatch) figure {
	title := "How likely is an innocent account to be revealed, as the per-image false-match probability grows?"
	libs, ts := fm.libraries(), fm.shownThresholds()
	return figure{name: "falsematch-account", title: title, w: 14 * vg.Inch, h: 5.5 * vg.Inch, draw: func(c draw.Canvas) {
		c = drawTitle(c, title)
		var plots []*plot.Plot
		for _, lib := range libs {
			p := newPlot(count(float64(lib))+" images per account a year", "per-image probability p (log scale)", "probability the account is revealed (log scale)")
			p.Title.TextStyle.Font.Size = vg.Points(11)
			addGrid(p, true)
			p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, decadeTicks{}
			p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, decadeTicks{}
			p.Y.Min, p.Y.Max = fmFloor, 1
			for i, t := range ts {
				addCurve(p, i, fmt.Sprintf("t = %d (revealed at match %d)", t, t+1), fm.sweep(lib, t))
			}
			fm.addMarkers(p)
			plots = append(plots, p)
		}
		drawLogPanels(plots, c)
	}}
}

// addCurve draws one threshold's sweep as a smooth line, leaving out
// points below fmFloor.
func addCurve(p *plot.Plot, i int, name string, rows []schema.CurveRow) {
	var pts plotter.XYs
	for _, r := range rows {
		if r.PAccount >= fmFloor {
			pts = append(pts, plotter.XY{X: r.PImage, Y: r.PAccount})
		}
	}
	if len(pts) < 2 {
		return
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return
	}
	l.Color, l.Width = fmColours[i%len(fmColours)], vg.Points(1.8)
	p.Add(l)
	p.Legend.Add(name, l)
	p.X.Min, p.X.Max = math.Min(p.X.Min, rows[0].PImage), math.Max(p.X.Max, rows[len(rows)-1].PImage)
}

// markerStyles are the marked per-image figures: the measured bound, then
// Apple's measured and assumed rates.
var markerStyles = []struct {
	basis string
	label func(p float64) string
	line  draw.LineStyle
}{
	{falsematch.BasisMeasuredUpper, func(p float64) string { return "bound measured here: p ≤ " + sci(p) }, draw.LineStyle{Color: oiVermilion, Width: vg.Points(1.6)}},
	{falsematch.BasisAppleMeasured, func(p float64) string { return "Apple's NeuralHash, measured: " + sci(p) },
		draw.LineStyle{Color: color.Gray{0x40}, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}},
	{falsematch.BasisAppleAssumed, func(p float64) string { return "Apple's assumed rate: " + sci(p) },
		draw.LineStyle{Color: color.Gray{0x40}, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(6), vg.Points(3)}}},
}

// matchLine marks the match threshold.
var matchLine = draw.LineStyle{Color: oiVermilion, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}

// appleTLine marks Apple's threshold.
var appleTLine = draw.LineStyle{Color: color.Gray{0x60}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(6), vg.Points(3)}}

// targetLine marks the account-level target.
var targetLine = draw.LineStyle{Color: oiBlack, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(1), vg.Points(3)}}

// addMarkers draws the marked per-image figures as vertical lines and the
// target as a horizontal one.
func (fm falseMatch) addMarkers(p *plot.Plot) {
	for _, m := range markerStyles {
		if v, ok := fm.markerP(m.basis); ok {
			addVLine(p, v, m.label(v), m.line)
		}
	}
	if tgt, ok := fm.target(); ok {
		addHLine(p, tgt, "Apple's target: "+sci(tgt)+" per account a year", targetLine)
	}
}

// thresholdPlot draws, per marked per-image figure, P[revealed] against
// every threshold of the curve, one line per library size.
func thresholdPlot(fm falseMatch) figure {
	title := "How does the threshold change an innocent account's chance of being revealed?"
	return figure{name: "falsematch-threshold", title: title, w: 14 * vg.Inch, h: 5.5 * vg.Inch, draw: func(c draw.Canvas) {
		c = drawTitle(c, title)
		var plots []*plot.Plot
		for _, m := range markerStyles {
			v, ok := fm.markerP(m.basis)
			if !ok {
				continue
			}
			p := newPlot(m.label(v), "threshold t (revealed at match t+1)", "probability the account is revealed (log scale)")
			p.Title.TextStyle.Font.Size = vg.Points(11)
			addGrid(p, true)
			p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, decadeTicks{}
			p.Y.Min, p.Y.Max = fm.thresholdFloor(m.basis), 1
			p.X.Tick.Marker = niceTicks{}
			for i, lib := range fm.libraries() {
				addThresholdLine(p, i, count(float64(lib))+" images a year", fm.byThreshold(lib, m.basis), p.Y.Min)
			}
			if tgt, ok := fm.target(); ok {
				addHLine(p, tgt, "Apple's target: "+sci(tgt), targetLine)
			}
			addVLine(p, falsematch.AppleThreshold, fmt.Sprintf("Apple's threshold: t = %d", falsematch.AppleThreshold), appleTLine)
			plots = append(plots, p)
		}
		if len(plots) > 0 {
			drawLogPanels(plots, c)
		}
	}}
}

// thresholdFloor is the bottom of a threshold panel's axis: the decade
// below its smallest probability, but not below fmDeepFloor.
func (fm falseMatch) thresholdFloor(basis string) float64 {
	lo := 0.0
	for _, c := range fm.curve {
		if c.Basis == basis {
			lo = math.Min(lo, c.Log10PAccount)
		}
	}
	return math.Pow(10, math.Max(math.Floor(lo), math.Log10(fmDeepFloor)))
}

// addThresholdLine draws one library's probability at every threshold,
// leaving out values below floor.
func addThresholdLine(p *plot.Plot, i int, name string, rows []schema.CurveRow, floor float64) {
	var pts plotter.XYs
	for _, r := range rows {
		if r.PAccount >= floor {
			pts = append(pts, plotter.XY{X: float64(r.T), Y: r.PAccount})
		}
	}
	if len(rows) > 0 {
		p.X.Min, p.X.Max = float64(rows[0].T), float64(rows[len(rows)-1].T)
	}
	if len(pts) == 0 {
		return
	}
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return
	}
	l.Color, s.Color = fmColours[i%len(fmColours)], fmColours[i%len(fmColours)]
	l.Width, l.Dashes = vg.Points(1.6), dashes[i%len(dashes)]
	s.Shape, s.Radius = draw.CircleGlyph{}, vg.Points(1.8)
	p.Add(l, s)
	p.Legend.Add(name, l, s)
}

// fmColours are the section's series colours: Okabe–Ito without yellow.
var fmColours = []color.Color{oiBlue, oiOrange, oiGreen, oiPurple, oiSkyBlue, oiBlack}

// addVLine marks x across the plot's full height with style sty; an empty
// name adds no legend entry.
func addVLine(p *plot.Plot, x float64, name string, sty draw.LineStyle) {
	l := &refLine{x: x, vertical: true, style: sty}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
}

// addHLine marks y across the plot's full width; an empty name adds no
// legend entry.
func addHLine(p *plot.Plot, y float64, name string, sty draw.LineStyle) {
	l := &refLine{x: y, style: sty}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
}

// refLine is a reference line across the data area at one value: it
// spans whatever range the axes end up with.
type refLine struct {
	x        float64
	vertical bool
	style    draw.LineStyle
}

// Plot implements plot.Plotter.
func (r *refLine) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	if r.vertical {
		x := tx(r.x)
		c.StrokeLine2(r.style, x, c.Min.Y, x, c.Max.Y)
		return
	}
	y := ty(r.x)
	c.StrokeLine2(r.style, c.Min.X, y, c.Max.X, y)
}

// Thumbnail implements plot.Thumbnailer.
func (r *refLine) Thumbnail(c *draw.Canvas) {
	if r.vertical {
		x := (c.Min.X + c.Max.X) / 2
		c.StrokeLine2(r.style, x, c.Min.Y, x, c.Max.Y)
		return
	}
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(r.style, c.Min.X, y, c.Max.X, y)
}

// decadeTicks labels a log axis at powers of ten as "1e-9": every decade,
// or every 2, 3, 5, 10, 20, 30, 50 or 100 decades so that at most about
// ten are labelled, with an unlabelled tick at each decade between when
// there are at most 60.
type decadeTicks struct{}

// Ticks implements plot.Ticker.
func (decadeTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi >= lo) {
		return nil
	}
	first, last := int(math.Ceil(math.Log10(lo)-1e-9)), int(math.Floor(math.Log10(hi)+1e-9))
	step := 100
	for _, s := range []int{1, 2, 3, 5, 10, 20, 30, 50} {
		if (last-first)/s <= 10 {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	for e := first; e <= last; e++ {
		labelled := (e%step+step)%step == 0
		if !labelled && last-first > 60 {
			continue
		}
		t := plot.Tick{Value: math.Pow(10, float64(e))}
		if labelled {
			t.Label = decadeLabel(e)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// decadeLabel names 10^e: "1", "10", "1e-9".
func decadeLabel(e int) string {
	switch e {
	case 0:
		return "1"
	case 1:
		return "10"
	}
	return "1e" + strconv.Itoa(e)
}

// logXLabel draws the X axis label of a log-scaled plot itself, centred
// under c, and returns the rest of c: gonum/plot places it at the linear
// midpoint of the data range, near the right end of a log axis, and
// narrows the plot to make room for it there.
func logXLabel(p *plot.Plot, c draw.Canvas) draw.Canvas {
	if _, ok := p.X.Scale.(plot.LogScale); !ok || p.X.Label.Text == "" {
		return c
	}
	sty := p.X.Label.TextStyle
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
	h := sty.Height(p.X.Label.Text)
	c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Min.Y + vg.Points(2)}, p.X.Label.Text)
	p.X.Label.Text = ""
	return draw.Crop(c, 0, 0, h+vg.Points(4), 0)
}

// drawLogPanels draws plots side by side with the first plot's legend (the
// panels name their series alike) in a column on the right, each panel's
// log-axis label drawn by logYLabel.
func drawLogPanels(plots []*plot.Plot, c draw.Canvas) {
	lg := plots[0].Legend
	lg.Left, lg.Top = true, true
	r := lg.Rectangle(c)
	lw := r.Max.X - r.Min.X + vg.Points(14)
	area := draw.Crop(c, 0, -lw, 0, 0)
	t := draw.Tiles{Cols: len(plots), Rows: 1, PadX: vg.Points(18)}
	for i, p := range plots {
		p.Legend = plot.NewLegend()
		guardLog(p)
		tile := logXLabel(p, logYLabel(p, t.At(area, i, 0)))
		p.Draw(tile)
	}
	lc := draw.Crop(c, c.Max.X-c.Min.X-lw+vg.Points(8), 0, 0, -vg.Points(24))
	lg.Draw(lc)
}
