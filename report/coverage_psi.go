package report

import (
	"fmt"
	"image/color"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab/clientscan"
	"scanlab/corpus"
	"scanlab/schema"
)

// psiAssumption is what the on-device threshold findings rest on.
const psiAssumption = "the archetypes' image volumes (a ring member sends about ten images a week, nine in ten of them known: an assumption chosen so that it can cross t = 30 within a month) and a list that holds every known image."

// baseDays is the coverage run's period in days, 0 when no manifest says.
func (r *results) baseDays() int {
	v, _ := r.manifestResult("coverage", "days")
	return int(v)
}

// writePSI shows where on-device matching starts to catch anything: its
// detections of known images across clientscan's threshold t and the
// length of the period.
func (r *results) writePSI(d *doc) {
	if r.sweeps == nil {
		return
	}
	days := r.baseDays()
	pts := psiPoints(r.sweeps, corpus.ClassKnownImage, days)
	if len(pts) < 2 {
		return
	}
	d.h(3, "When on-device matching starts to catch anything")
	d.p("On-device scanning tells the provider about an account's matches only once the account has sent t matching images (Apple's t = %d). "+
		"The sweep lowers t (`threshold` cells) and changes the length of the period (`duration` cells, at t = %d and at lower t); the figures are known images caught by %s, with 95%% intervals from a bootstrap over sender accounts (`%s`).",
		clientscan.DefaultThreshold, clientscan.DefaultThreshold, pathwayName("device-hash"), schema.CoverageSweeps.Path)
	var sent []string
	for _, dd := range distinct(mapSlice(pts, func(p psiPoint) int { return p.days })) {
		if s := psiSentence(pts, dd, days); s != "" {
			if dd == days {
				d.find(s, psiAssumption)
			}
			sent = append(sent, s)
		}
	}
	d.figure(psiPlot(pts, days), "Known images caught by on-device matching against its threshold t, one line per length of the period", sent...)
	d.table(psiTable(r.sweeps, days))
}

// periodName names a period: "30 days (base)".
func periodName(days, base int) string {
	if days == 0 {
		return "the base period"
	}
	s := strconv.Itoa(days) + " days"
	if days == base {
		s += " (base)"
	}
	return s
}

// psiSentence states, for one period, the largest threshold at which
// device-hash caught any known image, against clientscan's default.
func psiSentence(pts []psiPoint, days, base int) string {
	var at []psiPoint
	for _, p := range pts {
		if p.days == days {
			at = append(at, p)
		}
	}
	if len(at) < 2 {
		return ""
	}
	over := periodName(days, base)
	top := at[len(at)-1]
	first, ok := firstCatch(pts, days)
	switch {
	case !ok:
		return fmt.Sprintf("Over %s, on-device matching caught no known image at any threshold swept (t = %d to %d): at t = %d, %s.", over, at[0].t, top.t, at[0].t, at[0].r.of())
	case first.t == top.t:
		return fmt.Sprintf("Over %s, on-device matching caught known images already at t = %d: %s.", over, top.t, first.r)
	}
	return fmt.Sprintf("Over %s, on-device matching caught no known image at t = %d (%s); the largest threshold at which it caught any was t = %d: %s.",
		over, top.t, top.r.of(), first.t, first.r)
}

// psiTable gives known and edited known images caught by device-hash per
// period (rows) and threshold (columns).
func psiTable(rows []schema.CoverageSweepRow, base int) ([]string, [][]string) {
	classes := []corpus.ContentClass{corpus.ClassKnownImage, corpus.ClassTransformedImage}
	var ts []int
	for _, cl := range classes {
		for _, p := range psiPoints(rows, cl, base) {
			ts = append(ts, p.t)
		}
	}
	ts = sortedInts(distinct(ts))
	header := []string{"class", "period"}
	for _, t := range ts {
		header = append(header, "t = "+strconv.Itoa(t))
	}
	var out [][]string
	for _, cl := range classes {
		pts := psiPoints(rows, cl, base)
		for _, dd := range distinct(mapSlice(pts, func(p psiPoint) int { return p.days })) {
			row := []string{className(cl), periodName(dd, base)}
			for _, t := range ts {
				cell := "–"
				for _, p := range pts {
					if p.days == dd && p.t == t {
						cell = p.r.cell()
					}
				}
				row = append(row, cell)
			}
			out = append(out, row)
		}
	}
	return header, out
}

func sortedInts(xs []int) []int {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

// psiPlot draws known images caught against t as points with 95%
// intervals, one series per period, offset a little so that they do not
// hide each other; no line joins them, because t was measured only at the
// points shown.
func psiPlot(pts []psiPoint, base int) figure {
	title := "How low must on-device scanning's threshold be before it catches anything?"
	periods := distinct(mapSlice(pts, func(p psiPoint) int { return p.days }))
	return figure{name: "coverage-psi-threshold", title: title, w: 10 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, "threshold t (matching images an account must send before the provider learns of them)", "known images caught (95% interval)")
		addGrid(p, true)
		markThreshold(p, clientscan.DefaultThreshold, false)
		var ticks []plot.Tick
		for i, dd := range periods {
			col := periodColours[i%len(periodColours)]
			off := (float64(i) - float64(len(periods)-1)/2) * 0.35
			var xys plotter.XYs
			w := &whiskers{colour: col}
			n := 0
			for _, pt := range pts {
				if pt.days != dd {
					continue
				}
				x := float64(pt.t) + off
				xys = append(xys, plotter.XY{X: x, Y: pt.r.p()})
				w.xs, w.lo, w.hi = append(w.xs, x), append(w.lo, pt.r.lo), append(w.hi, pt.r.hi)
				n = max(n, pt.r.n)
				if !slices.ContainsFunc(ticks, func(t plot.Tick) bool { return t.Value == float64(pt.t) }) {
					ticks = append(ticks, plot.Tick{Value: float64(pt.t), Label: strconv.Itoa(pt.t)})
				}
			}
			s, err := plotter.NewScatter(xys)
			if err != nil {
				continue
			}
			s.Color, s.Shape, s.Radius = col, filledGlyphs[i%len(filledGlyphs)], vg.Points(3.5)
			p.Add(w, s)
			p.Legend.Add(fmt.Sprintf("%s, n = %s known images", periodName(dd, base), count(float64(n))), s)
		}
		p.Legend.Add(fmt.Sprintf("Apple's t = %d", clientscan.DefaultThreshold), legendDash{})
		p.X.Min, p.X.Max = 0, float64(clientscan.DefaultThreshold)+1
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.Y.Min, p.Y.Max = 0, 1
		p.Y.Tick.Marker = percentTicks{}
		drawWithLegend(p, c)
	}}
}

// periodColours and filledGlyphs tell the periods apart: Okabe–Ito
// without the yellow that small markers wash out, and filled shapes.
var (
	periodColours = []color.RGBA{oiSkyBlue, oiGreen, oiVermilion, oiPurple, oiBlue}
	filledGlyphs  = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{}}
)

// legendDash is a legend thumbnail: the dashed grey line of a marked
// threshold.
type legendDash struct{}

// Thumbnail implements plot.Thumbnailer.
func (legendDash) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	sty := draw.LineStyle{Color: color.Gray{0x70}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
	c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
}
