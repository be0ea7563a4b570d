package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// strengthCurve is PDQ's recall at 31 bits over the strengths of one edit
// family (blur0.5, blur1, blur2 → blur), weakest first.
type strengthCurve struct {
	family string
	pts    plotter.XYs // X strength, Y recall
}

// strengthCurves collects the families measured at two strengths or more.
func (r *results) strengthCurves() []strengthCurve {
	var out []strengthCurve
	idx := map[string]int{}
	for _, e := range r.eva {
		if e.IsAttack() || math.IsNaN(e.Strength) || e.Algo != "pdq" || e.Threshold != metaThreshold {
			continue
		}
		f := family(e.Transform)
		i, ok := idx[f]
		if !ok {
			i, idx[f] = len(out), len(out)
			out = append(out, strengthCurve{family: f})
		}
		out[i].pts = append(out[i].pts, plotter.XY{X: e.Strength, Y: e.Recall})
	}
	out = slices.DeleteFunc(out, func(c strengthCurve) bool { return len(c.pts) < 2 })
	for _, c := range out {
		slices.SortStableFunc(c.pts, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		if c.family == "jpegq" || c.family == "vignette" {
			// A JPEG quality, a vignette's remaining brightness: higher is
			// a weaker edit.
			slices.Reverse(c.pts)
		}
	}
	return out
}

// sentence says how recall moves from the weakest to the strongest edit.
func (c strengthCurve) sentence() string {
	first, last := c.pts[0], c.pts[len(c.pts)-1]
	if first.Y == last.Y {
		return fmt.Sprintf("Under %s, PDQ at 31 bits matched %s at both the weakest (%s) and the strongest (%s) strength.", c.family, pct(first.Y), trimFloat(first.X, 4), trimFloat(last.X, 4))
	}
	return fmt.Sprintf("Under %s, PDQ at 31 bits matched %s at strength %s and %s at strength %s.", c.family, pct(first.Y), trimFloat(first.X, 4), pct(last.Y), trimFloat(last.X, 4))
}

// strengthPlot draws the curves; families have their own units (a blur's
// σ, a JPEG quality), so each family's strengths are placed evenly from
// weakest to strongest.
func (r *results) strengthPlot() (figure, []string, bool) {
	curves := r.strengthCurves()
	if len(curves) == 0 {
		return figure{}, nil, false
	}
	var sent []string
	for i, c := range curves {
		if i == 4 {
			sent = append(sent, fmt.Sprintf("The other %d curves are in the plot.", len(curves)-4))
			break
		}
		sent = append(sent, c.sentence())
	}
	title := "How much editing does it take to break a PDQ match at 31 bits?"
	f := figure{name: "evasion-strength", title: title, w: 9 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, "edit strength, from each edit's weakest (left) to its strongest (right)", "edited images still matched")
		addGrid(p, true)
		for ti, cv := range curves {
			pts := make(plotter.XYs, len(cv.pts))
			for i, pt := range cv.pts {
				pts[i] = plotter.XY{X: float64(i) / float64(max(1, len(cv.pts)-1)), Y: pt.Y}
			}
			l, s, err := plotter.NewLinePoints(pts)
			if err != nil {
				continue
			}
			col := seriesColour(ti)
			l.Color, s.Color = col, col
			l.Width = vg.Points(1.6)
			// Colours repeat after eight families: the next round gets
			// other dashes and markers.
			round := ti / len(okabeIto)
			l.Dashes = dashes[(ti+round)%len(dashes)]
			s.Shape = glyphs[(ti+round)%len(glyphs)]
			s.Radius = vg.Points(3.5)
			p.Add(l, s)
			p.Legend.Add(fmt.Sprintf("%s (%s to %s)", cv.family, trimFloat(cv.pts[0].X, 4), trimFloat(cv.pts[len(cv.pts)-1].X, 4)), l, s)
		}
		p.Y.Min, p.Y.Max = 0, 1.02
		p.Y.Tick.Marker = percentTicks{}
		p.X.Tick.Marker = strengthTicks{}
		drawWithLegend(p, c)
	}}
	return f, sent, true
}

// strengthTicks labels the rank axis at its ends only.
type strengthTicks struct{}

// Ticks implements plot.Ticker.
func (strengthTicks) Ticks(lo, hi float64) []plot.Tick {
	return []plot.Tick{{Value: 0, Label: "weakest"}, {Value: 0.5}, {Value: 1, Label: "strongest"}}
}
