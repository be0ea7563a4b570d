package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Okabe–Ito colours, distinguishable with the common colour-vision
// deficiencies (Okabe & Ito, "Color Universal Design", 2008).
var (
	oiBlack     = color.RGBA{0x00, 0x00, 0x00, 0xff}
	oiOrange    = color.RGBA{0xe6, 0x9f, 0x00, 0xff}
	oiSkyBlue   = color.RGBA{0x56, 0xb4, 0xe9, 0xff}
	oiGreen     = color.RGBA{0x00, 0x9e, 0x73, 0xff}
	oiYellow    = color.RGBA{0xf0, 0xe4, 0x42, 0xff}
	oiBlue      = color.RGBA{0x00, 0x72, 0xb2, 0xff}
	oiVermilion = color.RGBA{0xd5, 0x5e, 0x00, 0xff}
	oiPurple    = color.RGBA{0xcc, 0x79, 0xa7, 0xff}
)

// okabeIto is the palette series are coloured from, in order; black last
// because it reads as "axis" more than "series".
var okabeIto = []color.Color{oiOrange, oiSkyBlue, oiGreen, oiYellow, oiBlue, oiVermilion, oiPurple, oiBlack}

// modeColour gives each architecture the same colour in every plot.
func modeColour(mode string, i int) color.Color {
	switch mode {
	case "serverscan":
		return oiVermilion
	case "e2ee":
		return oiBlue
	case "clientscan":
		return oiGreen
	}
	return seriesColour(i + 3)
}

func seriesColour(i int) color.Color { return okabeIto[i%len(okabeIto)] }

// addLineSeries draws pts as series i — its colour and dashes, circle
// markers — and names it in the legend.
func addLineSeries(p *plot.Plot, i int, name string, pts plotter.XYs) {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return
	}
	l.Color, s.Color = seriesColour(i), seriesColour(i)
	l.Width = vg.Points(1.8)
	l.Dashes = dashes[i%len(dashes)]
	s.Shape = draw.CircleGlyph{}
	p.Add(l, s)
	p.Legend.Add(name, l, s)
}

// dashes distinguishes series that share a colour.
var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)}}

// pngDPI is the resolution of the PNG files.
const pngDPI = 150

// writePNG can be turned off by tests that only compare SVG and Markdown:
// rasterising is most of the cost of Generate.
var writePNG = true

// figure is one picture: its file name, the question its title asks, its
// size and how to draw it.
type figure struct {
	name  string // file name without extension
	title string // the question the plot answers, as its title shows it
	w, h  vg.Length
	draw  func(c draw.Canvas)
}

// save writes f as DIR/name.png and DIR/name.svg and returns both paths
// and the SVG.
func (f figure) save(dir string) (out []string, svg []byte, err error) {
	defer func() {
		// gonum/plot panics on impossible axes (e.g. a log axis with no
		// positive value); report that as this plot's error.
		if e := recover(); e != nil {
			out, svg, err = nil, nil, fmt.Errorf("plot %s: %v", f.name, e)
		}
	}()
	for _, ext := range []string{"png", "svg"} {
		if ext == "png" && !writePNG {
			continue
		}
		var buf bytes.Buffer
		switch ext {
		case "png":
			c := vgimg.NewWith(vgimg.UseWH(f.w, f.h), vgimg.UseDPI(pngDPI))
			f.draw(draw.New(c))
			if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
				return nil, nil, fmt.Errorf("plot %s: %w", f.name, err)
			}
		case "svg":
			c := vgsvg.New(f.w, f.h)
			f.draw(draw.New(c))
			if _, err := c.WriteTo(&buf); err != nil {
				return nil, nil, fmt.Errorf("plot %s: %w", f.name, err)
			}
		}
		path := filepath.Join(dir, f.name+"."+ext)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return nil, nil, err
		}
		out = append(out, path)
		if ext == "svg" {
			svg = buf.Bytes()
		}
	}
	return out, svg, nil
}

// newPlot returns a plot with the house style: a title, axis labels, grid
// lines drawn under the data by the caller with addGrid.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.TextStyle.Font.Size = vg.Points(11)
	p.X.Tick.Label.Font.Size = vg.Points(10)
	p.Y.Tick.Label.Font.Size = vg.Points(10)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.Padding = vg.Points(3)
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font} {
		f.Variant = "Sans"
	}
	p.Y.Label.Padding = vg.Points(6)
	return p
}

// sansFont is the font of text drawn inside the data area.
func sansFont(size float64) font.Font {
	f := font.From(plot.DefaultFont, vg.Points(size))
	f.Variant = "Sans"
	return f
}

// addGrid adds light grid lines (horizontal only if !vertical).
func addGrid(p *plot.Plot, vertical bool) {
	g := plotter.NewGrid()
	g.Horizontal.Color = color.Gray{0xdd}
	if vertical {
		g.Vertical.Color = color.Gray{0xdd}
	} else {
		g.Vertical.Color = nil
	}
	p.Add(g)
}

// drawWithLegend draws p into c with its legend outside the data area, in a
// column on the right, so that the legend never hides data.
func drawWithLegend(p *plot.Plot, c draw.Canvas) {
	guardLog(p)
	c = logYLabel(p, c)
	lg := p.Legend
	p.Legend = plot.NewLegend()
	defer func() { p.Legend = lg }()
	lg.Left, lg.Top = true, true
	r := lg.Rectangle(c)
	lw := r.Max.X - r.Min.X + vg.Points(14)
	p.Draw(draw.Crop(c, 0, -lw, 0, 0))
	lc := draw.Crop(c, c.Max.X-c.Min.X-lw+vg.Points(8), 0, 0, 0)
	if p.Title.Text != "" {
		lc.Max.Y -= p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding + vg.Points(4)
	}
	lg.Draw(lc)
}

// drawTitle writes a figure-level title across the top of c and returns
// the canvas below it.
func drawTitle(c draw.Canvas, title string) draw.Canvas {
	p := newPlot(title, "", "")
	sty := p.Title.TextStyle
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	descent := sty.FontExtents().Descent
	c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y + descent - vg.Points(4)}, title)
	return draw.Crop(c, 0, 0, 0, -(sty.Rectangle(title).Size().Y + vg.Points(12)))
}

// box is a legend thumbnail: a filled square.
type box struct{ c color.Color }

func (b box) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(b.c, c.ClipPolygonY(pts))
	c.StrokeLines(draw.LineStyle{Color: color.Gray{0x80}, Width: vg.Points(0.5)}, append(pts, pts[0]))
}

// logTicks labels a log axis: powers of ten (every few decades when the
// range spans many), with unlabelled minor ticks for short ranges, and the
// 2s and 5s, or every tick, labelled when fewer than two powers of ten fall
// in the range.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi >= lo) {
		return nil
	}
	first, last := int(math.Floor(math.Log10(lo)+1e-9)), int(math.Ceil(math.Log10(hi)-1e-9))
	decades := last - first
	step := max(1, (decades+7)/8)
	in := func(v float64) bool { return v >= lo*(1-1e-9) && v <= hi*(1+1e-9) }
	var ticks []plot.Tick
	labelled := 0
	for e := first; e <= last; e++ {
		for m := 1; m <= 9; m++ {
			if m > 1 && decades > 6 {
				break
			}
			v := float64(m) * math.Pow(10, float64(e))
			if !in(v) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 && ((e%step)+step)%step == 0 {
				t.Label = humanNumber(v)
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	if labelled >= 2 {
		return ticks
	}
	relabel := func(keep func(m int) bool) int {
		n := 0
		for i := range ticks {
			m := int(math.Round(ticks[i].Value / math.Pow(10, math.Floor(math.Log10(ticks[i].Value)+1e-9))))
			ticks[i].Label = ""
			if keep(m) {
				ticks[i].Label = humanNumber(ticks[i].Value)
				n++
			}
		}
		return n
	}
	if relabel(func(m int) bool { return m == 1 || m == 2 || m == 5 }) >= 3 {
		return ticks
	}
	if relabel(func(int) bool { return true }) >= 2 {
		return ticks
	}
	return append(ticks, plot.Tick{Value: lo, Label: humanNumber(lo)}, plot.Tick{Value: hi, Label: humanNumber(hi)})
}

// humanNumber formats a tick value compactly: 1000 → "1k", 0.001 → "0.001".
func humanNumber(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trimFloat(v/1e9, 3) + "G"
	case a >= 1e6:
		return trimFloat(v/1e6, 3) + "M"
	case a >= 1e3:
		return trimFloat(v/1e3, 3) + "k"
	case a == 0:
		return "0"
	case a < 1e-3:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	return trimFloat(v, 3)
}

// trimFloat formats v with at most n significant digits and no trailing zeros.
func trimFloat(v float64, n int) string {
	s := strconv.FormatFloat(v, 'g', n, 64)
	if strings.ContainsAny(s, "e") {
		f, _ := strconv.ParseFloat(s, 64)
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return s
}

// percentTicks labels a 0..1 axis in percent.
type percentTicks struct{}

func (percentTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for v := 0.0; v <= 1.0001; v += 0.1 {
		t := plot.Tick{Value: v}
		if int(math.Round(v*10))%2 == 0 {
			t.Label = strconv.Itoa(int(math.Round(v*100))) + "%"
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// wrapWords breaks text into lines of at most width characters where it
// can, at spaces, so that category labels stand upright without
// overlapping. A word longer than width keeps its own line; the last line
// has at least two words when the line above can spare one.
func wrapWords(text string, width int) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	// No word alone on the last line ("image" under "known abuse"): take
	// the word before it down too.
	if n := len(lines); n > 1 && !strings.Contains(lines[n-1], " ") {
		if i := strings.LastIndexByte(lines[n-2], ' '); i > 0 {
			lines[n-1] = lines[n-2][i+1:] + " " + lines[n-1]
			lines[n-2] = lines[n-2][:i]
		}
	}
	return strings.Join(lines, "\n")
}

// drawShareBars finishes a bar chart of shares: one category per tick, a
// 0–100% axis, the legend beside it.
func drawShareBars(p *plot.Plot, c draw.Canvas, ticks []string) {
	p.NominalX(ticks...)
	p.X.Min, p.X.Max = -0.5, float64(len(ticks))-0.5
	p.Y.Min, p.Y.Max = 0, 1
	p.Y.Tick.Marker = percentTicks{}
	drawWithLegend(p, c)
}

// rotateXLabels tilts category labels so that long names do not overlap.
func rotateXLabels(p *plot.Plot) {
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
}

// guardLog keeps a log-scaled axis valid when no positive data was added.
func guardLog(p *plot.Plot) {
	if _, ok := p.X.Scale.(plot.LogScale); ok && !(p.X.Min > 0 && p.X.Max >= p.X.Min) {
		p.X.Min, p.X.Max = 1, 10
	}
	if _, ok := p.Y.Scale.(plot.LogScale); ok && !(p.Y.Min > 0 && p.Y.Max >= p.Y.Min) {
		p.Y.Min, p.Y.Max = 1, 10
	}
}

// logYLabel draws the Y axis label of a log-scaled plot itself, in a strip
// on the left of c, and returns the rest of c. gonum/plot centres the label
// at the linear midpoint of the data range, which on a log axis lies near
// the top and squeezes the plot.
func logYLabel(p *plot.Plot, c draw.Canvas) draw.Canvas {
	if _, ok := p.Y.Scale.(plot.LogScale); !ok || p.Y.Label.Text == "" {
		return c
	}
	sty := p.Y.Label.TextStyle
	sty.Rotation = math.Pi / 2
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
	h := sty.Height(p.Y.Label.Text)
	top := c.Max.Y
	if p.Title.Text != "" {
		top -= p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	}
	c.SetColor(p.BackgroundColor)
	c.Fill(c.Rectangle.Path())
	c.FillText(sty, vg.Point{X: c.Min.X + vg.Points(2), Y: (c.Min.Y + top) / 2}, p.Y.Label.Text)
	p.Y.Label.Text = ""
	return draw.Crop(c, h+vg.Points(6), 0, 0, 0)
}
