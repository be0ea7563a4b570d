package report

import (
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

// sensAssumption is what the sensitivity findings rest on.
const sensAssumption = "the study's model of stealth: at stealth s each signal the rules read is made the benign way with probability s, and at 1 an offender's metadata is distributed as a benign parent's; content and reports are unchanged."

// writeSensitivity shows how coverage moves with the offenders' stealth
// and the detector's threshold.
func (r *results) writeSensitivity(d *doc) {
	d.h(3, "How much the findings depend on the offender model")
	if r.sens == nil {
		d.skipped(schema.Sensitivity.Path)
		return
	}
	op := r.operatingPoint()
	d.p("The detector was written for offenders who contact many unconnected minors in bursts from new accounts. `%s` reruns the study with every offender at a *stealth* from 0 (as its archetype says, which for strangers and sextortion is what the rules expect) "+
		"to 1 (distributed like a benign parent in every signal the rules read: account age, whom it first contacts, how far away, how fast), and credits the detector at thresholds around its operating point (%s). "+
		"A lower threshold flags more offenders and more innocent adults; bands are 95%% intervals, from a bootstrap over sender accounts for items and Clopper–Pearson for accounts.",
		schema.Sensitivity.Path, trimFloat(op, 3))
	if s := stealthFinding(r.sens, op); s != "" {
		d.find(s, sensAssumption)
		d.p("%s", s)
	}
	if s := stealthDelivered(r.sens, op); s != "" {
		d.p("%s", s)
	}
	for _, g := range sensGroups(r.sens) {
		m := g[0]
		for _, s := range sensSentences(r.sens, m, op) {
			d.p("%s", s)
		}
		caption := []string{"Top left: share of harmful items caught against the detector's threshold; top right: share of offender accounts flagged; bottom left: items caught against the share of benign adults flagged, one point per threshold (the numbers on the stealth-0 line are the thresholds)."}
		if len(g) > 1 {
			verb, all := "gives", "both"
			if len(g) > 2 {
				verb, all = "give", "all"
			}
			caption = append(caption, fmt.Sprintf("%s %s identical figures, so one plot shows %s.", upperFirst(andList(modeNames(g[1:]))), verb, all))
		}
		d.figure(sensPlot(r.sens, m, g, op), "Coverage of "+modeName(m)+" against detector threshold and offender stealth", caption...)
		d.table(sensTableHeader(r.sens, m), sensTable(r.sens, m))
	}
	r.writeArchetypeSensitivity(d, op)
}

// stealthFinding states, for every design, how its harmful items caught
// at the operating threshold move from the lowest stealth swept to the
// highest: how much its coverage depends on offenders behaving as the
// detector expects.
func stealthFinding(rows []schema.SensitivityRow, op float64) string {
	var parts []string
	var lo, hi float64
	for _, g := range sensGroups(rows) {
		a, b, ok := stealthEnds(rows, g[0], op)
		if !ok {
			continue
		}
		lo, hi = a.Stealth, b.Stealth
		who := andList(modeNames(g))
		if len(g) > 1 {
			who = "each of " + who
		}
		if ia, ib := sensItems(a), sensItems(b); sameShown(ia, ib) {
			parts = append(parts, fmt.Sprintf("stayed at %s in %s", ia.short(), who))
		} else {
			parts = append(parts, fmt.Sprintf("went from %s to %s in %s", ia.short(), ib.short(), who))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("With the detector at its calibrated threshold, when every offender was stealthy (stealth %s: like a benign parent in every signal the rules read) instead of behaving as its archetype says (stealth %s), the share of harmful items caught %s.",
		trimFloat(hi, 2), trimFloat(lo, 2), andList(parts))
}

// stealthDelivered says how many harmful items reached recipients at the
// lowest and the highest stealth: the rates above are shares of different
// totals, and a reader comparing them should know it.
func stealthDelivered(rows []schema.SensitivityRow, op float64) string {
	g := sensGroups(rows)
	if len(g) == 0 {
		return ""
	}
	lo, hi, ok := stealthEnds(rows, g[0][0], op)
	if !ok || lo.Items == hi.Items {
		return ""
	}
	verb := "rose"
	if hi.Items < lo.Items {
		verb = "fell"
	}
	return fmt.Sprintf("Stealth also changes how much arrives: a stealthy offender harms the minors its parent-like traffic already reaches, in conversations already open, which direct-message settings do not stop, instead of writing to strangers, whose settings often do; so the harmful items delivered %s from %s at stealth %s to %s at stealth %s. Each rate in this section is a share of what was delivered at its own stealth.",
		verb, count(float64(lo.Items)), trimFloat(lo.Stealth, 2), count(float64(hi.Items)), trimFloat(hi.Stealth, 2))
}

// sensSentences states, for one mode, how its coverage at the operating
// point moves from the lowest to the highest stealth, and across the
// thresholds at stealth 0.
func sensSentences(rows []schema.SensitivityRow, mode string, op float64) []string {
	var out []string
	if lo, hi, ok := stealthEnds(rows, mode, op); ok {
		a, b := sensItems(lo), sensItems(hi)
		if sameShown(a, b) {
			out = append(out, fmt.Sprintf("At the operating threshold, %s caught the same share of harmful items whether offenders were at stealth %s or %s: %s.",
				modeName(mode), trimFloat(lo.Stealth, 2), trimFloat(hi.Stealth, 2), a.short()))
		} else {
			out = append(out, fmt.Sprintf("At the operating threshold, %s caught %s of harmful items when offenders behaved as their archetypes say (stealth %s) and %s when they were stealthy (stealth %s); offender accounts flagged went from %s to %s.",
				modeName(mode), a.short(), trimFloat(lo.Stealth, 2), b.short(), trimFloat(hi.Stealth, 2), sensOffenders(lo).short(), sensOffenders(hi).short()))
		}
	}
	if strict, loose, ok := thresholdEnds(rows, mode, 0); ok {
		a, b := sensItems(strict), sensItems(loose)
		fa, fb := sensFalseFlags(strict), sensFalseFlags(loose)
		switch {
		case sameShown(a, b) && fa.k == fb.k:
		case sameShown(a, b):
			out = append(out, fmt.Sprintf("At stealth 0, %s caught %s of harmful items at every threshold from %s to %s, while benign adults flagged went from %s to %s.",
				modeName(mode), a.short(), trimFloat(loose.DetectorThreshold, 3), trimFloat(strict.DetectorThreshold, 3), fb.boundOf("benign adults"), fa.boundOf("benign adults")))
		default:
			out = append(out, fmt.Sprintf("At stealth 0, moving the threshold from %s to %s took %s from %s to %s of harmful items caught, and benign adults flagged from %s to %s.",
				trimFloat(strict.DetectorThreshold, 3), trimFloat(loose.DetectorThreshold, 3), modeName(mode), a.short(), b.short(), fa.boundOf("benign adults"), fb.boundOf("benign adults")))
		}
	}
	return out
}

// sensTableHeader and sensTable tabulate one mode: a row per threshold, a
// column per stealth, each cell the items caught (with interval) and the
// offenders flagged; the last column the benign adults flagged.
func sensTableHeader(rows []schema.SensitivityRow, mode string) []string {
	h := []string{modeName(mode) + ": threshold"}
	for _, c := range sensCurves(rows, mode, allOffenders) {
		h = append(h, "stealth "+trimFloat(c.stealth, 2)+": items · offenders")
	}
	return append(h, "benign adults flagged")
}

func sensTable(rows []schema.SensitivityRow, mode string) [][]string {
	curves := sensCurves(rows, mode, allOffenders)
	var thresholds []float64
	for _, c := range curves {
		for _, s := range c.rows {
			thresholds = append(thresholds, s.DetectorThreshold)
		}
	}
	thresholds = distinct(thresholds)
	var out [][]string
	for _, th := range sortedFloats(thresholds) {
		row := []string{trimFloat(th, 3)}
		ff := "–"
		for _, c := range curves {
			cell := "–"
			for _, s := range c.rows {
				if s.DetectorThreshold == th {
					cell = sensItems(s).cell() + " · " + pct(s.OffenderRecall)
					ff = sensFalseFlags(s).boundOf("")
				}
			}
			row = append(row, cell)
		}
		out = append(out, append(row, ff))
	}
	return out
}

func sortedFloats(xs []float64) []float64 {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

// writeArchetypeSensitivity tabulates, at the operating threshold, the
// offenders flagged per archetype and stealth in each mode group.
func (r *results) writeArchetypeSensitivity(d *doc, op float64) {
	var rows [][]string
	var stealths []float64
	for _, g := range sensGroups(r.sens) {
		for _, model := range distinct(mapSlice(r.sens, func(s schema.SensitivityRow) string { return s.OffenderModel })) {
			row := []string{andList(modeNames(g)), archetypeName(model)}
			for _, c := range sensCurves(r.sens, g[0], model) {
				stealths = append(stealths, c.stealth)
				cell := "–"
				for _, s := range c.rows {
					if s.DetectorThreshold == op {
						cell = sensOffenders(s).cell()
					}
				}
				row = append(row, cell)
			}
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		return
	}
	d.p("Offender accounts flagged at the operating threshold, by archetype and stealth:")
	header := []string{"design", "offenders"}
	for _, s := range distinct(stealths) {
		header = append(header, "stealth "+trimFloat(s, 2))
	}
	d.table(header, rows)
}

// stealthColour shades stealth from blue (0, as the rules expect) to
// orange (1, like a benign parent).
func stealthColour(s float64) color.RGBA {
	c := ramp(oiBlue, oiOrange, s)
	return color.RGBAModel.Convert(c).(color.RGBA)
}

// sensPlot draws one mode's three panels.
func sensPlot(rows []schema.SensitivityRow, mode string, group []string, op float64) figure {
	title := "How much does the coverage of " + andList(modeNames(group)) + " depend on offenders behaving as the detector expects?"
	curves := sensCurves(rows, mode, allOffenders)
	var ticks []plot.Tick
	for _, c := range curves {
		for _, s := range c.rows {
			if !slices.ContainsFunc(ticks, func(t plot.Tick) bool { return t.Value == s.DetectorThreshold }) {
				ticks = append(ticks, plot.Tick{Value: s.DetectorThreshold, Label: trimFloat(s.DetectorThreshold, 3)})
			}
		}
	}
	return figure{name: "coverage-sensitivity-" + fileName(mode), title: title, w: 10 * vg.Inch, h: 8.5 * vg.Inch, draw: func(c draw.Canvas) {
		c = drawTitle(c, title)
		items := newPlot("harmful items caught", "detector threshold (points)", "share of harmful items caught")
		offenders := newPlot("offenders flagged", "detector threshold (points)", "share of offender accounts flagged")
		trade := newPlot("catching more costs false flags", "benign adults flagged (%, square-root scale)", "share of harmful items caught")
		for _, p := range []*plot.Plot{items, offenders, trade} {
			p.Title.TextStyle.Font.Size = vg.Points(11)
			addGrid(p, true)
			p.Y.Min, p.Y.Max = 0, 1
			p.Y.Tick.Marker = percentTicks{}
		}
		for _, p := range []*plot.Plot{items, offenders} {
			p.X.Tick.Marker = plot.ConstantTicks(ticks)
			markThreshold(p, op, len(curves) > 0 && len(curves[0].rows) > 0)
		}
		for i, cv := range curves {
			col := stealthColour(cv.stealth)
			name := stealthName(cv.stealth)
			addBand(items, col, i, name, cv.rows, func(s schema.SensitivityRow) (float64, rate) { return s.DetectorThreshold, sensItems(s) })
			addBand(offenders, col, i, "", cv.rows, func(s schema.SensitivityRow) (float64, rate) { return s.DetectorThreshold, sensOffenders(s) })
			addBand(trade, col, i, "", cv.rows, func(s schema.SensitivityRow) (float64, rate) { return 100 * s.FalseFlagRate, sensItems(s) })
			if i == 0 {
				labelThresholds(trade, cv.rows)
			}
		}
		trade.X.Min = 0
		trade.X.Scale, trade.X.Tick.Marker = sqrtScale{}, sqrtTicks{}
		drawGrid([]*plot.Plot{items, offenders, trade}, c)
	}}
}

// drawGrid draws up to three plots in a two-by-two grid, left to right and
// top to bottom, with the first plot's legend in the fourth cell.
func drawGrid(plots []*plot.Plot, c draw.Canvas) {
	lg := plots[0].Legend
	for _, p := range plots {
		p.Legend = plot.NewLegend()
	}
	t := draw.Tiles{Cols: 2, Rows: 2, PadX: vg.Points(24), PadY: vg.Points(18)}
	for i, p := range plots {
		p.Draw(t.At(c, i%2, i/2))
	}
	cell := t.At(c, 1, 1)
	lg.Left, lg.Top = true, true
	lg.Draw(draw.Crop(cell, vg.Points(24), 0, 0, -vg.Points(24)))
}

// stealthName names a stealth level in a legend, its ends in words.
func stealthName(s float64) string {
	switch s {
	case 0:
		return "stealth 0 (as the archetype says)"
	case 1:
		return "stealth 1 (like a benign parent)"
	}
	return "stealth " + trimFloat(s, 2)
}

// markThreshold draws the operating threshold as a dashed grey line,
// named in the legend when legend is set.
func markThreshold(p *plot.Plot, op float64, legend bool) {
	l, err := plotter.NewLine(plotter.XYs{{X: op, Y: 0}, {X: op, Y: 1}})
	if err != nil {
		return
	}
	l.Color, l.Width, l.Dashes = color.Gray{0x70}, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(l)
	if legend {
		p.Legend.Add("calibrated threshold", l)
	}
}

// addBand draws one sensitivity curve with addRateCurve.
func addBand(p *plot.Plot, col color.RGBA, i int, name string, rows []schema.SensitivityRow, get func(schema.SensitivityRow) (float64, rate)) {
	xs, rs := make([]float64, len(rows)), make([]rate, len(rows))
	for j, s := range rows {
		xs[j], rs[j] = get(s)
	}
	addRateCurve(p, col, i, name, xs, rs)
}

// addRateCurve draws one curve: its 95% interval as a translucent band, its
// estimates as a line with dots, named in the legend when name is set.
func addRateCurve(p *plot.Plot, col color.RGBA, i int, name string, xs []float64, rs []rate) {
	var line, band plotter.XYs
	for j, r := range rs {
		line = append(line, plotter.XY{X: xs[j], Y: r.p()})
		band = append(band, plotter.XY{X: xs[j], Y: r.lo})
	}
	for j := len(rs) - 1; j >= 0; j-- {
		band = append(band, plotter.XY{X: xs[j], Y: rs[j].hi})
	}
	if len(line) == 0 {
		return
	}
	if poly, err := plotter.NewPolygon(band); err == nil && len(rs) > 1 {
		poly.Color = color.NRGBA{col.R, col.G, col.B, 0x30}
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
	l, s, err := plotter.NewLinePoints(line)
	if err != nil {
		return
	}
	l.Color, s.Color = col, col
	l.Width, l.Dashes = vg.Points(1.8), dashes[i%len(dashes)]
	s.Shape, s.Radius = draw.CircleGlyph{}, vg.Points(2.5)
	p.Add(l, s)
	if len(rs) == 1 {
		p.Add(&whiskers{xs: xs, lo: []float64{rs[0].lo}, hi: []float64{rs[0].hi}, colour: col})
	}
	if name != "" {
		p.Legend.Add(name, l, s)
	}
}

// labelThresholds writes each point's threshold above it; points that
// fall together (the same false flags and nearly the same recall) share
// one label, "6–8".
func labelThresholds(p *plot.Plot, rows []schema.SensitivityRow) {
	var xys plotter.XYs
	var labels []string
	for i := 0; i < len(rows); {
		j := i + 1
		for j < len(rows) && rows[j].FalseFlagRate == rows[i].FalseFlagRate && math.Abs(rows[j].ItemRecall-rows[i].ItemRecall) < 0.04 {
			j++
		}
		label := trimFloat(rows[i].DetectorThreshold, 3)
		if j > i+1 {
			label += "–" + trimFloat(rows[j-1].DetectorThreshold, 3)
		}
		xys = append(xys, plotter.XY{X: 100 * rows[i].FalseFlagRate, Y: math.Min(0.97, rows[i].ItemRecall+0.03)})
		labels = append(labels, label)
		i = j
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font = sansFont(8)
	}
	p.Add(l)
}

// sqrtScale maps an axis by square root, which keeps zero (no false flag)
// on the axis while spreading out the small values a linear axis would
// crowd against it.
type sqrtScale struct{}

// Normalize implements plot.Normalizer.
func (sqrtScale) Normalize(min, max, x float64) float64 {
	lo, hi := math.Sqrt(math.Max(0, min)), math.Sqrt(math.Max(0, max))
	if hi == lo {
		return 0
	}
	return (math.Sqrt(math.Max(0, x)) - lo) / (hi - lo)
}

// sqrtTicks labels a square-root axis at round values that spread evenly
// under the square root.
type sqrtTicks struct{}

// Ticks implements plot.Ticker.
func (sqrtTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for _, v := range []float64{0, 0.1, 0.5, 1, 2, 4, 10, 20, 40, 70, 100} {
		if v >= min && v <= max*(1+1e-9) {
			ticks = append(ticks, plot.Tick{Value: v, Label: trimFloat(v, 3)})
		}
	}
	return ticks
}
