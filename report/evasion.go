package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// attack reports whether an evasion row is an attack rather than a
// benign transform.
func attack(e evasionRow) bool { return strings.HasPrefix(e.Transform, "attack") }

// evasionSeries is one of our hash configurations: an algorithm at a
// threshold.
type evasionSeries struct{ algo, threshold string }

func (s evasionSeries) String() string {
	if s.threshold == "" {
		return s.algo
	}
	return s.algo + " ≤" + s.threshold
}

func (r *results) thornFor(algo, transform string) (thornRow, bool) {
	for _, t := range r.thorn {
		if t.Hasher == algo && t.Transform == transform {
			return t, true
		}
	}
	return thornRow{}, false
}

// evasionView is the evasion results arranged for the Thorn comparison:
// per series and transform, the first row in file order.
type evasionView struct {
	series     []evasionSeries
	transforms []string
	algos      []string
	cell       map[evasionSeries]map[string]evasionRow
}

func (r *results) evasionView() evasionView {
	v := evasionView{cell: map[evasionSeries]map[string]evasionRow{}}
	var plain []evasionRow
	for _, e := range r.eva {
		if !attack(e) {
			plain = append(plain, e)
		}
	}
	v.algos = order(plain, func(e evasionRow) string { return e.Algo }, "pdq", "phash")
	var thornOrder []string
	for _, t := range r.thorn {
		if t.Transform != "ALL" && !slices.Contains(thornOrder, t.Transform) {
			thornOrder = append(thornOrder, t.Transform)
		}
	}
	// A transform measured at several strengths for one configuration is a
	// sweep: it belongs to the strength plot, not the comparison, unless
	// Thorn published it.
	type sk struct{ algo, threshold, transform string }
	rows := map[sk]int{}
	for _, e := range plain {
		rows[sk{e.Algo, e.Threshold, e.Transform}]++
	}
	plain = slices.DeleteFunc(plain, func(e evasionRow) bool {
		sweep := rows[sk{e.Algo, e.Threshold, e.Transform}] > 1
		// With Thorn's table at hand, the comparison shows only the
		// transforms Thorn published; the others go to the strength plot.
		return (sweep || len(thornOrder) > 0) && !slices.Contains(thornOrder, e.Transform)
	})
	v.transforms = order(plain, func(e evasionRow) string { return e.Transform }, thornOrder...)
	for _, a := range v.algos {
		for _, th := range order(plain, func(e evasionRow) string { return e.Threshold }) {
			s := evasionSeries{a, th}
			for _, e := range plain {
				if e.Algo != a || e.Threshold != th {
					continue
				}
				if v.cell[s] == nil {
					v.cell[s] = map[string]evasionRow{}
					v.series = append(v.series, s)
				}
				if _, ok := v.cell[s][e.Transform]; !ok {
					v.cell[s][e.Transform] = e
				}
			}
		}
	}
	return v
}

func (r *results) writeEvasion(d *doc) error {
	d.p("## How robust the hashes are")
	if r.eva == nil {
		d.skipped(evasionFile)
		return nil
	}
	v := r.evasionView()
	d.p("The evasion experiment hashes images before and after a transform and counts how many still match at the threshold (`%s`). "+
		"Thorn's published results on their perceptual benchmark (recall at their precision target) are shown beside ours as markers. "+
		"Thorn's images, thresholds and precision target differ from ours, so the comparison shows whether the same transforms are hard, not identical numbers; "+
		"Thorn's `jpeg95` is imgaug's compression strength, not a JPEG quality.", evasionFile)
	if len(v.series) > 0 {
		robust, thorn := r.evasionSentences(v)
		d.headline(robust...)
		var sent []string
		for i := range robust {
			sent = append(sent, robust[i])
			if thorn[i] != "" {
				sent = append(sent, thorn[i])
			}
		}
		d.figure(r.evasionPlot(v), "Share of transformed images still matched, ours and Thorn's published, by transform", sent...)
		header := []string{"transform"}
		for _, s := range v.series {
			header = append(header, s.String()+" (ours)")
		}
		for _, a := range v.algos {
			header = append(header, a+" (Thorn)")
		}
		var rows [][]string
		for _, tr := range v.transforms {
			row := []string{tr}
			for _, s := range v.series {
				if e, ok := v.cell[s][tr]; ok {
					row = append(row, fmt.Sprintf("%s (%d/%d)", pct(e.Recall), e.Matched, e.Items))
				} else {
					row = append(row, "–")
				}
			}
			for _, a := range v.algos {
				if t, ok := r.thornFor(a, tr); ok {
					row = append(row, pct(t.Recall))
				} else {
					row = append(row, "–")
				}
			}
			rows = append(rows, row)
		}
		d.table(header, rows)
		if f, sent, ok := r.strengthPlot(); ok {
			d.figure(f, "Share of transformed images still matched as the transform gets stronger", sent...)
		}
	}
	var attacks []evasionRow
	for _, e := range r.eva {
		if attack(e) {
			attacks = append(attacks, e)
		}
	}
	d.p("### Attacks")
	if len(attacks) == 0 {
		d.p("*No attack rows (transform starting with `attack`) in `%s`.*", evasionFile)
		return nil
	}
	var sent []string
	for _, a := range order(attacks, func(e evasionRow) string { return e.Algo }, "pdq", "phash") {
		best := evasionRow{Recall: math.Inf(1)}
		for _, e := range attacks {
			if e.Algo == a && e.Recall < best.Recall {
				best = e
			}
		}
		s := fmt.Sprintf("Against %s, the attack with the lowest match rate was %s (strength %s): %s of %d items still matched", a, best.Transform, best.Strength, pct(best.Recall), best.Items)
		if !math.IsNaN(best.PSNR) {
			s += fmt.Sprintf(" at a PSNR of %s dB", trimFloat(best.PSNR, 3))
		}
		sent = append(sent, s+".")
	}
	d.p("%s Lower PSNR means a more visible change to the image.", joinSentences(sent))
	var rows [][]string
	for _, e := range attacks {
		psnr := "–"
		if !math.IsNaN(e.PSNR) {
			psnr = trimFloat(e.PSNR, 3)
		}
		rows = append(rows, []string{e.Algo, e.Transform, e.Strength, e.Threshold, fmt.Sprintf("%d/%d", e.Matched, e.Items), pct(e.Recall), psnr})
	}
	d.table([]string{"algo", "attack", "strength", "threshold", "matched", "recall", "PSNR (dB)"}, rows)
	return nil
}

// evasionSentences says, per algorithm, which transforms the hash survived
// (robust) and how that compares with Thorn's published numbers (thorn, ""
// when there is nothing to compare).
func (r *results) evasionSentences(v evasionView) (robust, thorn []string) {
	for _, a := range v.algos {
		var s evasionSeries
		for _, x := range v.series {
			if x.algo == a {
				s = x
				break
			}
		}
		var kept, lost []string
		lowest, lowT := math.Inf(1), ""
		for _, tr := range v.transforms {
			e, ok := v.cell[s][tr]
			if !ok {
				continue
			}
			if e.Recall >= 0.5 {
				kept = append(kept, tr)
			} else {
				lost = append(lost, tr)
			}
			if e.Recall < lowest {
				lowest, lowT = e.Recall, tr
			}
		}
		var parts []string
		if len(kept) > 0 {
			parts = append(parts, "still matched at least half of the images under "+andList(kept))
		}
		if len(lost) > 0 {
			parts = append(parts, "fewer than half under "+andList(lost))
		}
		robust = append(robust, fmt.Sprintf("Our %s %s (lowest: %s, %s).", s, strings.Join(parts, ", but "), lowT, pct(lowest)))
		st := ""
		// Compare with Thorn where both have the transform.
		var gaps float64
		var n int
		maxGap, maxT, ours, theirs := -1.0, "", 0.0, 0.0
		for _, tr := range v.transforms {
			e, ok1 := v.cell[s][tr]
			t, ok2 := r.thornFor(a, tr)
			if !ok1 || !ok2 {
				continue
			}
			g := math.Abs(e.Recall - t.Recall)
			gaps += g
			n++
			if g > maxGap {
				maxGap, maxT, ours, theirs = g, tr, e.Recall, t.Recall
			}
		}
		if n > 0 {
			st = fmt.Sprintf("Against Thorn's published %s results on the same %d transforms, ours differ by %s percentage points on average; the largest gap is %s (ours %s, Thorn %s).",
				a, n, trimFloat(gaps/float64(n)*100, 2), maxT, pct(ours), pct(theirs))
		}
		thorn = append(thorn, st)
	}
	return robust, thorn
}

func (r *results) evasionPlot(v evasionView) figure {
	return figure{name: "evasion-thorn", w: 9 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot("Hash matches surviving each transform: ours (bars) vs Thorn's published (markers)", "transform", "transformed images still matched")
		addGrid(p, false)
		w := 0.8 / float64(len(v.series))
		firstX := map[string]float64{}
		for si, s := range v.series {
			b := &bars{width: w, colour: seriesColour(si)}
			off := (float64(si) - float64(len(v.series)-1)/2) * w
			if _, ok := firstX[s.algo]; !ok {
				firstX[s.algo] = off
			}
			for ti, tr := range v.transforms {
				if e, ok := v.cell[s][tr]; ok {
					b.xs = append(b.xs, float64(ti)+off)
					b.ys = append(b.ys, e.Recall)
				}
			}
			p.Add(b)
			p.Legend.Add(s.String()+" (ours)", b)
		}
		for ai, a := range v.algos {
			var pts plotter.XYs
			for ti, tr := range v.transforms {
				if t, ok := r.thornFor(a, tr); ok {
					pts = append(pts, plotter.XY{X: float64(ti) + firstX[a], Y: t.Recall})
				}
			}
			if len(pts) == 0 {
				continue
			}
			fill, _ := plotter.NewScatter(pts)
			fill.Shape = glyphs[ai%len(glyphs)]
			fill.Color = oiBlack
			fill.Radius = vg.Points(4.5)
			inner, _ := plotter.NewScatter(pts)
			inner.Shape = glyphs[ai%len(glyphs)]
			inner.Color = color.White
			inner.Radius = vg.Points(3)
			p.Add(fill, inner)
			p.Legend.Add(a+" (Thorn, published)", fill, inner)
		}
		p.NominalX(v.transforms...)
		rotateXLabels(p)
		p.X.Min, p.X.Max = -0.5, float64(len(v.transforms))-0.5
		p.Y.Min, p.Y.Max = 0, 1.02
		p.Y.Tick.Marker = percentTicks{}
		drawWithLegend(p, c)
	}}
}

// glyphs are the marker shapes, in order of use.
var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.PyramidGlyph{}}

// strengthPlot draws PDQ's recall at its standard threshold (31) against
// transform strength, one line per transform family (the name without its
// strength: blur0.5, blur1, blur2 → blur) measured at two strengths or more.
func (r *results) strengthPlot() (figure, []string, bool) {
	type key struct{ algo, threshold, transform string }
	var keys []key
	pts := map[key]plotter.XYs{}
	for _, e := range r.eva {
		x, ok := parseStrength(e.Strength)
		if attack(e) || !ok || e.Algo != "pdq" || e.Threshold != "31" {
			continue
		}
		k := key{e.Algo, e.Threshold, family(e.Transform)}
		if _, seen := pts[k]; !seen {
			keys = append(keys, k)
		}
		pts[k] = append(pts[k], plotter.XY{X: x, Y: e.Recall})
	}
	keys = slices.DeleteFunc(keys, func(k key) bool { return len(pts[k]) < 2 })
	if len(keys) == 0 {
		return figure{}, nil, false
	}
	var sent []string
	for _, k := range keys {
		slices.SortStableFunc(pts[k], func(a, b plotter.XY) int { return cmpFloat(a.X, b.X) })
		if k.transform == "jpegq" || k.transform == "vignette" {
			// A JPEG quality, a vignette's remaining brightness: higher is a
			// weaker edit.
			slices.Reverse(pts[k])
		}
	}
	// Families have their own units (a blur's σ, a JPEG quality), so the
	// plot places each family's strengths evenly from weakest to strongest.
	rank := func(ps plotter.XYs) plotter.XYs {
		out := make(plotter.XYs, len(ps))
		for i, p := range ps {
			out[i] = plotter.XY{X: float64(i) / float64(max(1, len(ps)-1)), Y: p.Y}
		}
		return out
	}
	for i, k := range keys {
		if i == 4 {
			sent = append(sent, fmt.Sprintf("The other %d curves are in the plot.", len(keys)-4))
			break
		}
		ps := pts[k]
		sent = append(sent, fmt.Sprintf("Under %s, %s ≤%s matched %s at strength %s and %s at strength %s.",
			k.transform, k.algo, k.threshold, pct(ps[0].Y), trimFloat(ps[0].X, 4), pct(ps[len(ps)-1].Y), trimFloat(ps[len(ps)-1].X, 4)))
	}
	f := figure{name: "evasion-strength", w: 8 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot("PDQ matches (distance ≤31) as transforms get stronger", "strength within each transform's sweep (0 weakest, 1 strongest)", "transformed images still matched")
		addGrid(p, true)
		algos := order(keys, func(k key) string { return k.algo }, "pdq", "phash")
		transforms := order(keys, func(k key) string { return k.transform })
		for _, k := range keys {
			l, s, err := plotter.NewLinePoints(rank(pts[k]))
			if err != nil {
				continue
			}
			ti := slices.Index(transforms, k.transform)
			col := seriesColour(ti)
			l.Color, s.Color = col, col
			l.Width = vg.Points(1.6)
			// Colours repeat after eight families: the next round gets
			// other dashes and markers.
			round := ti / len(okabeIto)
			l.Dashes = dashes[(slices.Index(algos, k.algo)+ti+round)%len(dashes)]
			s.Shape = glyphs[(ti+round)%len(glyphs)]
			s.Radius = vg.Points(3.5)
			p.Add(l, s)
			p.Legend.Add(fmt.Sprintf("%s, %s ≤%s", k.transform, k.algo, k.threshold), l, s)
		}
		p.Y.Min, p.Y.Max = 0, 1.02
		p.Y.Tick.Marker = percentTicks{}
		drawWithLegend(p, c)
	}}
	return f, sent, true
}

// family is a transform's name without its trailing strength.
func family(transform string) string {
	if f := strings.TrimRight(transform, "0123456789."); f != "" {
		return f
	}
	return transform
}
