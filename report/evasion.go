package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab/schema"
)

// thornAssumption is what the Thorn comparison rests on.
const thornAssumption = "our 411 reference images (bundled photos and generated scenes) stand in for Thorn's 3,854 paintings and photographs; the transforms follow Thorn's imgaug definitions, but the images differ."

func (r *results) writeEvasion(d *doc) error {
	d.h(2, "How robust the hashes are")
	if r.eva == nil {
		d.skipped(schema.Evasion.Path)
		return nil
	}
	d.p("The evasion experiment edits each reference image, hashes it before and after, and counts how many edited images still match their original at a threshold, "+
		"the most bits (of 256) in which two fingerprints may differ and still match (`%s`).", schema.Evasion.Path)
	r.writeThorn(d)
	if f, sent, ok := r.strengthPlot(); ok {
		d.h(3, "Stronger edits")
		d.figure(f, "Share of edited images still matched as the edit gets stronger", sent...)
	}
	r.writeAttacks(d)
	return nil
}

// writeThorn compares our results with Thorn's published benchmark like
// for like.
func (r *results) writeThorn(d *doc) {
	d.h(3, "Compared with Thorn's benchmark, like for like")
	cs := thornComparisons(r.eva, r.thornMetric, r.thorn)
	if len(cs) == 0 {
		d.p("*No transform of `%s` is one Thorn published, so there is nothing to compare.*", schema.Evasion.Path)
		return
	}
	d.p("%s", "Thorn's perceptual-hash benchmark (thorn-perceptual-benchmark-v0) reports recall at 99.99% precision: for each transform it picks the threshold at which "+
		"no more than one match in ten thousand is false, counting for each edited image its nearest *other* image of the same category. "+
		"That threshold differs per transform (PDQ: 54 to 72 bits) and is far looser than the 31 bits Meta recommends for PDQ. "+
		"A like-for-like comparison therefore needs our recall at Thorn's threshold for each transform, and our recall under Thorn's metric, which picks its own threshold on our images "+
		"(`"+schema.ThornMetric.Path+"`). The table shows both beside our recall at 31 bits.")
	if r.thornMetric == nil {
		d.skipped(schema.ThornMetric.Path)
	}
	for _, algo := range distinct(mapSlice(cs, func(c thornCompare) string { return c.algo })) {
		r.writeThornAlgo(d, cs, algo)
	}
	d.p("**The trade-off.** A higher threshold matches more edited copies but also more unrelated images. " +
		"Thorn's thresholds keep false matches below one in ten thousand *against one nearest neighbour per image* in a set of a few thousand; " +
		"a deployed list of millions of hashes gives every photo millions of chances to match falsely, so a deployment must use a stricter threshold, such as 31 bits, and accept lower recall on edits such as added noise, cropping and rotation. " +
		"Our recall at 31 bits is the figure that applies to such a deployment; our recall at Thorn's thresholds is the figure to compare with Thorn's.")
	d.figure(thornPlot(cs), "Share of edited images still matched: ours at 31 bits and at Thorn's threshold, and Thorn's published figure, per transform")
}

// writeThornAlgo writes one hash's comparison: findings and table.
func (r *results) writeThornAlgo(d *doc, cs []thornCompare, algo string) {
	atThorn, at31, metric := thornGap(cs, algo, oursAtThorn), thornGap(cs, algo, ours31), thornGap(cs, algo, oursMetric)
	exact := !slices.ContainsFunc(cs, func(c thornCompare) bool { return c.algo == algo && !c.atThornExact })
	where := "at Thorn's own threshold for each transform"
	if !exact {
		where = "at Thorn's pooled threshold for " + algo + " (our file has no rows at Thorn's per-transform thresholds)"
	}
	if atThorn.n > 0 {
		s := fmt.Sprintf("Measured %s, our %s recall differs from Thorn's published recall by %s percentage points on average over %d transforms (largest gap: %s, ours %s vs Thorn's %s); at 31 bits the mean gap is %s points.",
			where, algo, trimFloat(atThorn.mean, 2), atThorn.n, atThorn.worst, pct(atThorn.worstOurs), pct(atThorn.worstThm), trimFloat(at31.mean, 2))
		d.find(s, thornAssumption)
		d.p("%s", s)
	}
	if metric.n > 0 {
		d.p("Under Thorn's metric on our images, the mean gap is %s points (largest: %s, ours %s vs Thorn's %s).",
			trimFloat(metric.mean, 2), metric.worst, pct(metric.worstOurs), pct(metric.worstThm))
	}
	var rows [][]string
	for _, c := range cs {
		if c.algo != algo {
			continue
		}
		at := c.atThorn.cell()
		if !c.atThornExact {
			at += fmt.Sprintf(" at %d", c.atThornBits)
		}
		m := "–"
		if !math.IsNaN(c.metric) {
			m = pct(c.metric)
			if c.metricThreshold >= 0 {
				m += fmt.Sprintf(" at %d", c.metricThreshold)
			}
		}
		rows = append(rows, []string{c.transform, fmt.Sprint(c.thornThreshold), pct(c.thornRecall), at, c.at31.cell(), m})
	}
	d.table([]string{algo + ": transform", "Thorn's threshold (bits)", "Thorn's recall", "ours at Thorn's threshold", "ours at 31 bits", "ours, Thorn's metric (threshold)"}, rows)
}

// thornPlot draws, per transform and hash, our recall at 31 bits and at
// Thorn's threshold as bars with 95% intervals, and Thorn's published
// recall as markers.
func thornPlot(cs []thornCompare) figure {
	title := "Do edited images still match? Ours at 31 bits and at Thorn's threshold vs Thorn's published"
	ns := distinct(mapSlice(cs, func(c thornCompare) int { return c.at31.n }))
	xlabel := "hash and transform (n = edited images under each bar)"
	if len(ns) == 1 {
		xlabel = fmt.Sprintf("hash and transform (n = %s edited images per bar)", count(float64(ns[0])))
	}
	return figure{name: "evasion-thorn", title: title, w: 12 * vg.Inch, h: 5.5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, xlabel, "edited images still matched (95% interval)")
		addGrid(p, false)
		var ticks []string
		b31 := &bars{width: 0.27, colour: oiVermilion}
		bTh := &bars{width: 0.27, colour: oiBlue}
		var pub plotter.XYs
		for i, cmp := range cs {
			x := float64(i)
			tick := cmp.algo + " " + cmp.transform
			if len(ns) > 1 {
				tick += ", " + nLabel([]int{cmp.at31.n})
			}
			ticks = append(ticks, tick)
			addRateBar(b31, x-0.15, cmp.at31)
			addRateBar(bTh, x+0.15, cmp.atThorn)
			pub = append(pub, plotter.XY{X: x + 0.15, Y: cmp.thornRecall})
		}
		p.Add(b31, bTh)
		p.Legend.Add("ours at 31 bits", b31)
		if slices.ContainsFunc(cs, func(c thornCompare) bool { return !c.atThornExact }) {
			p.Legend.Add("ours at Thorn's pooled threshold", bTh)
		} else {
			p.Legend.Add("ours at Thorn's threshold", bTh)
		}
		if s, err := plotter.NewScatter(pub); err == nil {
			s.Shape, s.Color, s.Radius = draw.CircleGlyph{}, oiBlack, vg.Points(3.5)
			p.Add(s)
			p.Legend.Add("Thorn's published", s)
		}
		p.NominalX(ticks...)
		rotateXLabels(p)
		p.X.Min, p.X.Max = -0.5, float64(len(cs))-0.5
		p.Y.Min, p.Y.Max = 0, 1.02
		p.Y.Tick.Marker = percentTicks{}
		drawWithLegend(p, c)
	}}
}

// addRateBar appends one bar with its interval, if the rate has data.
func addRateBar(b *bars, x float64, r rate) {
	if r.n == 0 {
		return
	}
	b.xs, b.ys = append(b.xs, x), append(b.ys, r.p())
	b.lo, b.hi = append(b.lo, r.lo), append(b.hi, r.hi)
}

// writeAttacks shows the black-box evasion and collision attacks.
func (r *results) writeAttacks(d *doc) {
	var attacks []schema.EvasionRow
	for _, e := range r.eva {
		if e.IsAttack() {
			attacks = append(attacks, e)
		}
	}
	d.h(3, "Attacks")
	if len(attacks) == 0 {
		d.p("*No attack rows (transform starting with `attack`) in `%s`.*", schema.Evasion.Path)
		return
	}
	d.p("`attack-evade` perturbs a listed image until its fingerprint no longer matches (still matched = the attack failed); " +
		"`attack-collide` perturbs a harmless image until it matches a listed one (matched = a successful forgery). Both query the hash as a black box, within a PSNR floor (the strength column, dB); " +
		"lower PSNR means a more visible change.")
	var rows [][]string
	for _, e := range attacks {
		rows = append(rows, []string{e.Algo, e.Transform, trimFloat(e.Strength, 3), fmt.Sprint(e.Threshold), newRate(e.Matched, e.Items).cell(),
			optFloat(e.PSNR, 3), optPct(e.Success), optPct(e.SuccessJPEG95), optInt(e.Queries)})
	}
	d.table([]string{"hash", "attack", "PSNR floor (dB)", "threshold (bits)", "matched after attack", "PSNR (dB)", "success", "success after JPEG q95", "median queries"}, rows)
	for _, a := range distinct(mapSlice(attacks, func(e schema.EvasionRow) string { return e.Algo })) {
		for _, e := range attacks {
			if e.Algo == a && e.Transform == "attack-collide" && !math.IsNaN(e.Success) {
				d.find(fmt.Sprintf("A black-box attacker forged a harmless image to match a listed %s fingerprint in %s, with a median of %s queries to the hash.",
					a, newRate(e.Matched, e.Items), optInt(e.Queries)),
					"the attacker can compute the hash itself (the hash function is public, as PDQ is) and knows a listed fingerprint.")
			}
		}
	}
}

func optFloat(v float64, digits int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return trimFloat(v, digits)
}

func optPct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return pct(v)
}

func optInt(o schema.Opt[int]) string {
	if !o.Valid {
		return "–"
	}
	return count(float64(o.V))
}

// glyphs are the marker shapes, in order of use.
var glyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.PyramidGlyph{}}

// family is a transform's name without its trailing strength.
func family(transform string) string {
	if f := strings.TrimRight(transform, "0123456789."); f != "" {
		return f
	}
	return transform
}
