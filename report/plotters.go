package report

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// bars draws rectangles whose positions and widths are in data units, so
// that grouped bars and markers drawn beside them line up exactly.
type bars struct {
	xs, ys []float64
	base   []float64 // bottom of each bar (for stacking); nil means 0
	width  float64   // in data units
	colour color.Color
	// lo and hi, when set, are each bar's 95% interval, drawn as an
	// error bar.
	lo, hi []float64
}

func (b *bars) bottom(i int) float64 {
	if b.base == nil {
		return 0
	}
	return b.base[i]
}

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	outline := draw.LineStyle{Color: color.Gray{0x40}, Width: vg.Points(0.4)}
	for i, x := range b.xs {
		x0, x1 := tx(x-b.width/2), tx(x+b.width/2)
		y0, y1 := ty(b.bottom(i)), ty(b.bottom(i)+b.ys[i])
		pts := []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
		c.FillPolygon(b.colour, c.ClipPolygonXY(pts))
		if b.ys[i] != 0 {
			c.StrokeLines(outline, c.ClipLinesXY(append(pts, pts[0]))...)
		} else if b.base == nil {
			// A measured zero: a flat mark, so it differs from "not measured".
			zero := draw.LineStyle{Color: b.colour, Width: vg.Points(2.5)}
			c.StrokeLines(zero, c.ClipLinesXY([]vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}})...)
		}
		if b.lo != nil {
			b.errorBar(c, tx(x), (x1-x0)/4, ty(b.lo[i]), ty(b.hi[i]))
		}
	}
}

// errorBar draws a whisker from y0 to y1 at x with caps of half-width w.
func (b *bars) errorBar(c draw.Canvas, x, w, y0, y1 vg.Length) {
	sty := draw.LineStyle{Color: color.Black, Width: vg.Points(0.9)}
	c.StrokeLines(sty, c.ClipLinesXY([]vg.Point{{X: x, Y: y0}, {X: x, Y: y1}})...)
	for _, y := range []vg.Length{y0, y1} {
		c.StrokeLines(sty, c.ClipLinesXY([]vg.Point{{X: x - w, Y: y}, {X: x + w, Y: y}})...)
	}
}

// DataRange implements plot.DataRanger.
func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), 0, 0
	for i, x := range b.xs {
		xmin = math.Min(xmin, x-b.width/2)
		xmax = math.Max(xmax, x+b.width/2)
		ymin = math.Min(ymin, b.bottom(i)+b.ys[i])
		ymax = math.Max(ymax, b.bottom(i)+b.ys[i])
	}
	return
}

// Thumbnail implements plot.Thumbnailer.
func (b *bars) Thumbnail(c *draw.Canvas) { box{b.colour}.Thumbnail(c) }

// whiskers draws vertical 95% intervals at data positions, for points
// too few to draw as a band.
type whiskers struct {
	xs, lo, hi []float64
	colour     color.Color
}

// Plot implements plot.Plotter.
func (w *whiskers) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	sty := draw.LineStyle{Color: w.colour, Width: vg.Points(1.2)}
	for i, x := range w.xs {
		px := tx(x)
		c.StrokeLines(sty, c.ClipLinesXY([]vg.Point{{X: px, Y: ty(w.lo[i])}, {X: px, Y: ty(w.hi[i])}})...)
		for _, y := range []float64{w.lo[i], w.hi[i]} {
			c.StrokeLines(sty, c.ClipLinesXY([]vg.Point{{X: px - vg.Points(3), Y: ty(y)}, {X: px + vg.Points(3), Y: ty(y)}})...)
		}
	}
}

// heatCells draws a grid of coloured cells, each annotated with its value.
// Row 0 is drawn at the top.
type heatCells struct {
	z      [][]float64 // [row][col]; NaN = no measurement
	labels [][]string
	colour func(float64) color.Color
	ink    func(float64) color.Color // text colour on a cell of that value
}

// Plot implements plot.Plotter.
func (h *heatCells) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	rows := len(h.z)
	sty := text.Style{
		Font:    sansFont(9),
		XAlign:  draw.XCenter,
		YAlign:  draw.YCenter,
		Handler: plot.DefaultTextHandler,
	}
	sep := draw.LineStyle{Color: color.White, Width: vg.Points(1.5)}
	for r, row := range h.z {
		y := float64(rows - 1 - r)
		for col, v := range row {
			x := float64(col)
			x0, x1, y0, y1 := tx(x-0.5), tx(x+0.5), ty(y-0.5), ty(y+0.5)
			pts := []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
			fill := color.Color(color.White)
			if !math.IsNaN(v) {
				fill = h.colour(v)
			}
			c.FillPolygon(fill, pts)
			c.StrokeLines(sep, append(pts, pts[0]))
			s := sty
			s.Color = color.Gray{0x60}
			if !math.IsNaN(v) {
				s.Color = h.ink(v)
			}
			c.FillText(s, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, h.labels[r][col])
		}
	}
}

// DataRange implements plot.DataRanger.
func (h *heatCells) DataRange() (xmin, xmax, ymin, ymax float64) {
	cols := 0
	if len(h.z) > 0 {
		cols = len(h.z[0])
	}
	return -0.5, float64(cols) - 0.5, -0.5, float64(len(h.z)) - 0.5
}

// ramp interpolates linearly between two colours; t in [0, 1].
func ramp(a, b color.RGBA, t float64) color.Color {
	t = math.Max(0, math.Min(1, t))
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + (float64(y)-float64(x))*t)) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}
