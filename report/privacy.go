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

	"scanlab/schema"
)

// privacyAssumption is what every below-threshold finding rests on.
const privacyAssumption = "the synthetic-voucher calibrations are this project's choice (Apple said only that an account's synthetic vouchers are of the order of the threshold, and published no rate); " +
	"real matches fall on images chosen at random; the provider sees how many vouchers match, and the order in which they arrive is not modelled."

func (r *results) writePrivacy(d *doc) error {
	d.h(2, "What the provider learns below the threshold")
	pt, ok := privacyTableOf(r.privacy)
	if !ok {
		d.skipped(schema.BelowThreshold.Path)
		return nil
	}
	d.p("%s", pt.intro())
	d.table([]string{"calibration", "how a phone picks synthetic vouchers", fmt.Sprintf("synthetic vouchers per account, %s images", count(float64(pt.smallest()))),
		fmt.Sprintf("synthetic vouchers per account, %s images", count(float64(pt.largest())))}, pt.calibrationRows())
	caption := []string{pt.fewestSentence()}
	if most := pt.mostSentence(); most != "" {
		caption = append(caption, most)
	}
	for _, s := range caption {
		d.find(s, privacyAssumption)
	}
	caption = append(caption, pt.smallSentence())
	d.figure(privacyPlot(pt), "The provider's advantage in telling real matches from none, by library size and calibration", caption...)
	d.p("%s", pt.agreementSentence())
	d.p("In the tables below each cell gives the closed form, then, after the dot, the simulated advantage with its 95%% interval; `%s` also has the values of k in between.", schema.BelowThreshold.Path)
	for _, k := range distinct([]int{pt.fewest(), pt.most()}) {
		d.h(3, upperFirst(pt.matches(k))+" against none")
		d.table(append([]string{"images in the account"}, code(mapStrings(pt.cals, func(c privacyCal) string { return c.name }))...), pt.advantageRows(k))
	}
	d.p("*Rests on:* %s A phone whose budget runs out early sends only real matches afterwards, which a provider watching the order could use: for such a provider these advantages are lower bounds.", upperFirst(privacyAssumption))
	return nil
}

// intro explains the question and the measure to a reader who knows
// neither.
func (pt privacyTable) intro() string {
	lo, hi := pt.trialsRange()
	accounts := count(float64(lo))
	if hi != lo {
		accounts = count(float64(lo)) + " to " + count(float64(hi))
	}
	return fmt.Sprintf("With on-device scanning the provider learns nothing about an account's matches until more than t of its images match (t = %d here). "+
		"Below the threshold it still sees how many of the account's vouchers match: the real matches plus *synthetic* vouchers, decoys each phone sends so that the count means little. "+
		"How much does the count give away? For libraries of %s to %s images and each rule for the decoys, the privacy experiment computes the provider's *advantage* in telling an account with k real matches from one with none: "+
		"how much more often its best guess says \"real matches\" when there are some than when there are none — 0 means it cannot tell, 1 that it tells for sure. "+
		"The closed form is exact; the simulation draws %s accounts per group, learns a cut-off on half of them and measures it on the other half, with a 95%% interval (Newcombe's hybrid score interval for a difference of two proportions).",
		pt.t, count(float64(pt.smallest())), count(float64(pt.largest())), accounts)
}

// rule says in plain words how a calibration picks synthetic vouchers.
func (c privacyCal) rule() string {
	each := fmt.Sprintf("each image's voucher is synthetic with probability %s", pct(c.rate))
	switch {
	case c.budget == "uniform" && c.max.Valid:
		return fmt.Sprintf("%s until a secret budget, drawn uniformly from 0 to %s per account, runs out", each, count(float64(c.max.V)))
	case c.budget == "fixed" && c.max.Valid:
		return fmt.Sprintf("%s until a fixed cap of %s per account is reached", each, count(float64(c.max.V)))
	case c.budget == "none":
		return each + ", without a budget: the number grows with the library"
	}
	return fmt.Sprintf("%s, budget rule %q", each, c.budget)
}

// legend names a calibration in a plot's legend with its budget:
// "about-t: budget 0–60".
func (c privacyCal) legend() string {
	switch {
	case c.budget == "uniform" && c.max.Valid:
		return fmt.Sprintf("%s: budget 0–%s", c.name, count(float64(c.max.V)))
	case c.budget == "fixed" && c.max.Valid:
		return fmt.Sprintf("%s: cap of %s", c.name, count(float64(c.max.V)))
	case c.budget == "none":
		return c.name + ": no budget"
	}
	return c.name
}

// calibrationRows describes each calibration and the synthetic vouchers it
// sends at the extreme library sizes.
func (pt privacyTable) calibrationRows() [][]string {
	var rows [][]string
	for _, c := range pt.cals {
		mean := func(n int) string {
			if r, ok := pt.at(c.name, n, pt.fewest()); ok {
				return measure(r.MeanSynthetic)
			}
			return "–"
		}
		rows = append(rows, []string{"`" + c.name + "`", c.rule(), mean(pt.smallest()), mean(pt.largest())})
	}
	return rows
}

// matches phrases k real matches.
func (pt privacyTable) matches(k int) string {
	if k == 1 {
		return "one real match"
	}
	return strconv.Itoa(k) + " real matches"
}

// calName names a calibration with its budget, e.g. "`about-t`, a
// secret budget of 0 to 60".
func (pt privacyTable) calName(name string) string {
	for _, c := range pt.cals {
		if c.name != name {
			continue
		}
		switch {
		case c.budget == "uniform" && c.max.Valid:
			return fmt.Sprintf("`%s`, a secret budget of 0 to %s synthetic vouchers", name, count(float64(c.max.V)))
		case c.budget == "fixed" && c.max.Valid:
			return fmt.Sprintf("`%s`, a fixed cap of %s synthetic vouchers", name, count(float64(c.max.V)))
		case c.budget == "none":
			return fmt.Sprintf("`%s`, with no budget", name)
		}
	}
	return "`" + name + "`"
}

// simulated phrases a row's simulated advantage and interval.
func simulated(r schema.BelowThresholdRow) string {
	return fmt.Sprintf("simulated %s, 95%% CI %s to %s", advFmt(r.Simulated), advFmt(r.SimulatedLo), advFmt(r.SimulatedHi))
}

// fewestSentence compares the calibrations for the fewest real matches in
// the largest library: the leakiest against the rest.
func (pt privacyTable) fewestSentence() string {
	n, k := pt.largest(), pt.fewest()
	worst, others := leakiest(pt.across(n, k))
	lead := fmt.Sprintf("With %s images in an account, the provider tells %s from none with advantage %s (%s)",
		count(float64(n)), pt.matches(k), advFmt(worst.ClosedForm), simulated(worst))
	if len(others) == 0 {
		return fmt.Sprintf("%s under %s.", lead, pt.calName(worst.Calibration))
	}
	_, hi := closedRange(others)
	if advFmt(hi.ClosedForm) == advFmt(worst.ClosedForm) {
		return fmt.Sprintf("%s under %s, and as much under every other calibration.", lead, pt.calName(worst.Calibration))
	}
	return fmt.Sprintf("%s under %s, but with at most %s (%s) under the other %s, reached by %s.",
		lead, pt.calName(worst.Calibration), advFmt(hi.ClosedForm), simulated(hi), calibrationsWord(len(others)), pt.calName(hi.Calibration))
}

// calibrationsWord counts calibrations in words: "calibration", "four
// calibrations".
func calibrationsWord(n int) string {
	words := []string{"", "calibration", "two calibrations", "three calibrations", "four calibrations", "five calibrations", "six calibrations"}
	if n < len(words) {
		return words[n]
	}
	return strconv.Itoa(n) + " calibrations"
}

// mostSentence gives every calibration's advantage for the most real
// matches in the largest library; "" when the table has one k only.
func (pt privacyTable) mostSentence() string {
	n, k := pt.largest(), pt.most()
	if k == pt.fewest() {
		return ""
	}
	lead := fmt.Sprintf("With %s (t = %d)", pt.matches(k), pt.t)
	if k == pt.t {
		lead = fmt.Sprintf("Just below the threshold, with %s (t = %d)", pt.matches(k), pt.t)
	}
	var parts []string
	for _, r := range pt.across(n, k) {
		parts = append(parts, fmt.Sprintf("%s under `%s` (%s)", advFmt(r.ClosedForm), r.Calibration, simulated(r)))
	}
	return fmt.Sprintf("%s, an account of %s images is told from one with none with advantage %s.", lead, count(float64(n)), andList(parts))
}

// smallSentence says how much the smallest library's accounts are hidden.
func (pt privacyTable) smallSentence() string {
	n := pt.smallest()
	few, most := pt.across(n, pt.fewest()), pt.across(n, pt.most())
	slo, shi := syntheticRange(few)
	synth := "between " + trimFloat(slo, 2) + " and " + trimFloat(shi, 2)
	if trimFloat(slo, 2) == trimFloat(shi, 2) {
		synth = trimFloat(slo, 2)
	}
	s := fmt.Sprintf("With only %s images, every calibration sends %s synthetic vouchers on average, and the provider tells %s from none with advantage %s",
		count(float64(n)), synth, pt.matches(pt.fewest()), advRange(closedRange(few)))
	if pt.most() != pt.fewest() {
		s += fmt.Sprintf(", and %s from none with advantage %s", pt.matches(pt.most()), advRange(closedRange(most)))
	}
	return s + "."
}

// advRange phrases the closed forms of two rows as one value or a range.
func advRange(lo, hi schema.BelowThresholdRow) string {
	if advFmt(lo.ClosedForm) == advFmt(hi.ClosedForm) {
		return advFmt(lo.ClosedForm)
	}
	return advFmt(lo.ClosedForm) + " to " + advFmt(hi.ClosedForm)
}

// agreementSentence says how often the simulation's interval holds the
// closed form, and why it may fall short of it.
func (pt privacyTable) agreementSentence() string {
	a := simulationAgreement(pt)
	s := fmt.Sprintf("The simulation's 95%% interval holds the closed form in %s of %s cells.", count(float64(a.held)), count(float64(a.rows)))
	if a.above > 0 {
		s += fmt.Sprintf(" In %s the closed form lies above it: the simulation measures a cut-off learned from simulated accounts, which can fall short of the best rule the closed form describes.", count(float64(a.above)))
	}
	if a.below > 0 {
		s += fmt.Sprintf(" In %s it lies below, which a 95%% interval allows in about one cell in twenty.", count(float64(a.below)))
	}
	return s
}

// advantageRows gives, for k real matches, one row per library size with
// every calibration's closed form and simulated interval.
func (pt privacyTable) advantageRows(k int) [][]string {
	var rows [][]string
	for _, n := range pt.libraries {
		row := []string{count(float64(n))}
		for _, c := range pt.cals {
			cell := "–"
			if r, ok := pt.at(c.name, n, k); ok {
				cell = fmt.Sprintf("%s · %s (%s to %s)", advFmt(r.ClosedForm), advFmt(r.Simulated), advFmt(r.SimulatedLo), advFmt(r.SimulatedHi))
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	return rows
}

// advFmt formats an advantage: three decimals just short of 1 (rounded
// down, so that it never reads as certain), two decimals from 0.1 up, two
// significant digits below, never an exponent.
func advFmt(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0 || a == 1:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 0.995:
		return strconv.FormatFloat(math.Copysign(math.Floor(a*1000)/1000, v), 'f', 3, 64)
	case math.Round(a*100) >= 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 1-int(math.Floor(math.Log10(a))), 64)
}

// privacyPlot draws the advantage against library size, one panel for the
// fewest and one for the most real matches: per calibration, the closed
// form as a line and the simulated 95% interval as a band.
func privacyPlot(pt privacyTable) figure {
	title := "Can the provider tell how many of an account's images matched before it crosses the threshold?"
	return figure{name: "privacy-below-threshold", title: title, w: 12 * vg.Inch, h: 5.5 * vg.Inch, draw: func(c draw.Canvas) {
		c = drawTitle(c, title)
		lo := 0.0
		for _, r := range pt.cells {
			lo = min(lo, r.SimulatedLo)
		}
		var plots []*plot.Plot
		for _, k := range distinct([]int{pt.fewest(), pt.most()}) {
			p := newPlot(fmt.Sprintf("%s against none (t = %d)", pt.matches(k), pt.t), "images in the account (log scale)", "advantage (0 = cannot tell, 1 = tells for sure)")
			p.Title.TextStyle.Font.Size = vg.Points(11)
			addGrid(p, true)
			p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
			for i, cal := range pt.cals {
				addPrivacyCurve(p, i, cal.legend(), pt.curve(cal.name, k))
			}
			p.Legend.Add("line: closed form", legendLine{})
			p.Legend.Add("band and dots: simulated, 95% CI", box{color.Gray{0xc8}})
			p.Y.Min, p.Y.Max = math.Floor(lo*20)/20, 1
			p.Y.Tick.Marker = plot.ConstantTicks(advantageTicks())
			plots = append(plots, p)
		}
		drawPanels(plots, c)
	}}
}

// advantageTicks labels the advantage axis every 0.2.
func advantageTicks() []plot.Tick {
	var ticks []plot.Tick
	for i := 0; i <= 10; i++ {
		t := plot.Tick{Value: float64(i) / 10}
		if i%2 == 0 {
			t.Label = strconv.FormatFloat(t.Value, 'f', -1, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// privacyColours are the calibrations' colours: Okabe–Ito, without the
// yellow that a translucent band would wash out; black fifth, for the
// former cap of the default grid.
var privacyColours = []color.RGBA{oiBlue, oiOrange, oiGreen, oiPurple, oiBlack, oiSkyBlue, oiVermilion}

// addPrivacyCurve draws one calibration: its simulated interval as a
// translucent band with the estimates as dots, and its closed form as a
// line.
func addPrivacyCurve(p *plot.Plot, i int, name string, rows []schema.BelowThresholdRow) {
	if len(rows) == 0 {
		return
	}
	col := privacyColours[i%len(privacyColours)]
	var closed, sim, band plotter.XYs
	for _, r := range rows {
		closed = append(closed, plotter.XY{X: float64(r.Library), Y: r.ClosedForm})
		sim = append(sim, plotter.XY{X: float64(r.Library), Y: r.Simulated})
		band = append(band, plotter.XY{X: float64(r.Library), Y: r.SimulatedLo})
	}
	for j := len(rows) - 1; j >= 0; j-- {
		band = append(band, plotter.XY{X: float64(rows[j].Library), Y: rows[j].SimulatedHi})
	}
	if poly, err := plotter.NewPolygon(band); err == nil {
		poly.Color = color.NRGBA{col.R, col.G, col.B, 0x48}
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
	l, err := plotter.NewLine(closed)
	if err != nil {
		return
	}
	l.Color, l.Width, l.Dashes = col, vg.Points(1.8), dashes[i%len(dashes)]
	p.Add(l)
	if s, err := plotter.NewScatter(sim); err == nil {
		s.Color, s.Shape, s.Radius = col, draw.CircleGlyph{}, vg.Points(2.5)
		p.Add(s)
	}
	p.Legend.Add(name, l)
}

// legendLine is a legend thumbnail: a plain grey line.
type legendLine struct{}

// Thumbnail implements plot.Thumbnailer.
func (legendLine) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(draw.LineStyle{Color: color.Gray{0x80}, Width: vg.Points(1.8)}, c.Min.X, y, c.Max.X, y)
}
