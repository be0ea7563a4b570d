package report

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab/observe"
	"scanlab/schema"
)

// platformColumn is one measure of the platforms plot: its heading and,
// per platform, the value that colours the cell (a share, or a fraction of
// the column's largest) and the cell's text.
type platformColumn struct {
	title string
	cell  func(p string) (v float64, label string)
	// relative columns are coloured by their share of the column's
	// largest value.
	relative bool
}

// platformColumns are the plot's measures, left to right.
func (pt platformTable) platformColumns() []platformColumn {
	share := func(measure string) func(string) (float64, string) {
		return func(p string) (float64, string) {
			r, ok := pt.base(p, measure)
			if !ok {
				return math.NaN(), "–"
			}
			return r.Value, pct(r.Value) + "\n" + pctRange(r.Lo, r.Hi)
		}
	}
	provider := func(it observe.Item) func(string) (float64, string) {
		return func(p string) (float64, string) {
			v, ok := pt.providerShare(p, it)
			if !ok {
				return math.NaN(), "–"
			}
			return v, pct(v)
		}
	}
	return []platformColumn{
		{title: "provider reads\nmessage texts", cell: func(p string) (float64, string) {
			v, label := provider(observe.Text)(p)
			if others := len(pt.readers(p, schema.PlatformVariantBase, observe.Text)) - btoi(v > 0); others > 0 {
				label += fmt.Sprintf("\n+%d other parties", others)
			}
			return v, label
		}},
		{title: "provider reads\nreported texts", cell: provider(observe.ReportedText)},
		{title: "parties that see\nwho sent it", cell: func(p string) (float64, string) {
			rs, n := pt.readers(p, schema.PlatformVariantBase, observe.SenderID), pt.thirdParties()
			label := fmt.Sprintf("%d of %d", len(rs), n)
			if slices.Contains(rs, observe.Provider) {
				label += "\nincl. provider"
			}
			return float64(len(rs)) / float64(max(n, 1)), label
		}},
		{title: "harmful items\ncaught", cell: share(schema.MeasureHarmfulCaught)},
		{title: "harmful attempts\nstopped", cell: share(schema.MeasureHarmfulStopped)},
		{title: "innocent accounts\nwrongly flagged", cell: share(schema.MeasureInnocentFlagged)},
		{title: "time per text\n(median)", relative: true, cell: pt.perConversationCell(func(p, c string) (float64, string, bool) {
			t, ok := pt.timing(p, c, "text")
			return t.P50, duration(t.P50), ok
		})},
		{title: "bytes per text\n(median)", relative: true, cell: pt.perConversationCell(func(p, c string) (float64, string, bool) {
			r, ok := pt.base(p, schema.WireBytesMeasure("text", c))
			return r.Value, count(r.Value) + " B", ok
		})},
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// perConversationCell is a cell with one line per kind of conversation (the
// kind named when there are two), valued by the largest.
func (pt platformTable) perConversationCell(value func(p, c string) (float64, string, bool)) func(string) (float64, string) {
	return func(p string) (float64, string) {
		cs := pt.conversations(p)
		v, label := math.NaN(), ""
		for _, c := range cs {
			x, s, ok := value(p, c)
			if !ok {
				continue
			}
			if len(cs) > 1 {
				s = c + " " + s
			}
			if label != "" {
				label += "\n"
			}
			label += s
			if math.IsNaN(v) || x > v {
				v = x
			}
		}
		if label == "" {
			label = "–"
		}
		return v, label
	}
}

// platformsPlot draws platforms down (each with the published table's
// encryption word) and measures across, each cell with its number and, for
// shares, its interval.
func platformsPlot(pt platformTable) figure {
	cols := pt.platformColumns()
	z := make([][]float64, len(pt.platforms))
	labels := make([][]string, len(pt.platforms))
	for i, p := range pt.platforms {
		for _, c := range cols {
			v, s := c.cell(p)
			z[i], labels[i] = append(z[i], v), append(labels[i], s)
		}
	}
	for j, c := range cols {
		if !c.relative {
			continue
		}
		top := 0.0
		for i := range z {
			if !math.IsNaN(z[i][j]) {
				top = math.Max(top, z[i][j])
			}
		}
		for i := range z {
			if top > 0 {
				z[i][j] /= top
			}
		}
	}
	title := "What does each platform's design do, measured?"
	h := 2.2*vg.Inch + vg.Length(len(pt.platforms))*0.75*vg.Inch
	return figure{name: "platforms", title: title, w: 14 * vg.Inch, h: h, draw: func(c draw.Canvas) {
		p := newPlot(title, "", "")
		p.Add(&heatCells{z: z, labels: labels, colour: heatColour, ink: heatInk})
		p.NominalX(mapStrings(cols, func(c platformColumn) string { return c.title })...)
		rev := make([]string, len(pt.platforms))
		for i, name := range pt.platforms {
			if pub, ok := published(name); ok {
				name += "\npublished: " + pub.E2EE
			}
			rev[len(pt.platforms)-1-i] = name
		}
		p.NominalY(rev...)
		p.X.Tick.Label.Font.Size = vg.Points(9)
		p.Legend.Add("darker: more")
		p.Legend.Add("0", box{heatColour(0)})
		p.Legend.Add("50%", box{heatColour(0.5)})
		p.Legend.Add("100%, or the", box{heatColour(1)})
		p.Legend.Add("column's largest")
		drawWithLegend(p, c)
	}}
}
