package report

import (
	"cmp"
	"math"
	"slices"

	"scanlab/falsematch"
	"scanlab/schema"
)

// Findings over the falsematch files: pure functions of the typed rows.

// falseMatch is what the falsematch experiment wrote, gathered for its
// section.
type falseMatch struct {
	rates   []schema.ImageRateRow
	summary []schema.DistanceSummaryRow
	dist    []schema.DistanceRow
	fits    []schema.TailFitRow
	checks  []schema.TailCheckRow
	curve   []schema.CurveRow
	safe    []schema.SafeRateRow
}

// loadFalseMatch reads the falsematch files that exist in dir.
func (r *results) loadFalseMatch(dir string) error {
	fm := &r.fm
	for _, read := range []func() error{
		func() error { return input(r, dir, schema.ImageRate, &fm.rates) },
		func() error { return input(r, dir, schema.Distances, &fm.dist) },
		func() error { return input(r, dir, schema.DistanceSummary, &fm.summary) },
		func() error { return input(r, dir, schema.TailFits, &fm.fits) },
		func() error { return input(r, dir, schema.TailChecks, &fm.checks) },
		func() error { return input(r, dir, schema.Curve, &fm.curve) },
		func() error { return input(r, dir, schema.SafeRates, &fm.safe) },
	} {
		if err := read(); err != nil {
			return err
		}
	}
	return nil
}

// rate returns the row of one benign set and hash comparison.
func (fm falseMatch) rate(benign, hash string) (schema.ImageRateRow, bool) {
	i := slices.IndexFunc(fm.rates, func(r schema.ImageRateRow) bool { return r.Benign == benign && r.Hash == hash })
	if i < 0 {
		return schema.ImageRateRow{}, false
	}
	return fm.rates[i], true
}

// measured is the rate the section quotes: generated images against the
// list, PDQ as it is.
func (fm falseMatch) measured() (schema.ImageRateRow, bool) {
	return fm.rate(falsematch.BenignGenerated, falsematch.HashPDQ)
}

// summaryOf returns one distance set's summary.
func (fm falseMatch) summaryOf(set string) (schema.DistanceSummaryRow, bool) {
	i := slices.IndexFunc(fm.summary, func(s schema.DistanceSummaryRow) bool { return s.Set == set })
	if i < 0 {
		return schema.DistanceSummaryRow{}, false
	}
	return fm.summary[i], true
}

// binWidth is the width of the distance histogram's bins, bits: four
// even distances. With it, bins below 32 hold exactly the matches.
const binWidth = 8

// histogramShares returns, for one distance set, the share of its
// distances in each bin of binWidth bits (bin i holds i·binWidth up to
// (i+1)·binWidth − 1), and the set's size; nil when the set is empty.
func (fm falseMatch) histogramShares(set string) ([]float64, int64) {
	var n int64
	shares := make([]float64, 256/binWidth+1)
	for _, d := range fm.dist {
		if d.Set == set {
			shares[d.Distance/binWidth] += float64(d.Count)
			n += d.Count
		}
	}
	if n == 0 {
		return nil, 0
	}
	for i := range shares {
		shares[i] /= float64(n)
	}
	return shares, n
}

// tailChecks returns one pair set's check rows, by distance.
func (fm falseMatch) tailChecks(pairs string) []schema.TailCheckRow {
	var out []schema.TailCheckRow
	for _, c := range fm.checks {
		if c.Pairs == pairs {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b schema.TailCheckRow) int { return cmp.Compare(a.Distance, b.Distance) })
	return out
}

// checkValue returns a model's P[D ≤ d] of a check row.
func checkValue(c schema.TailCheckRow, model string) float64 {
	switch model {
	case falsematch.ModelHypergeometric:
		return c.Hypergeometric
	case falsematch.ModelNormal:
		return c.Normal
	case falsematch.ModelBinomial:
		return c.Binomial
	case falsematch.ModelLowerTail:
		return c.LowerTail
	case falsematch.ModelExponential:
		return c.Exponential
	}
	return math.NaN()
}

// fitsFor returns one pair set's fits at one list size, in the order of
// falsematch.Models.
func (fm falseMatch) fitsFor(pairs string, list int) []schema.TailFitRow {
	var out []schema.TailFitRow
	for _, model := range falsematch.Models {
		for _, f := range fm.fits {
			if f.Pairs == pairs && f.ListSize == list && f.Model == model {
				out = append(out, f)
			}
		}
	}
	return out
}

// fitLists returns the list sizes one pair set was extrapolated to, in
// increasing order.
func (fm falseMatch) fitLists(pairs string) []int {
	var out []int
	for _, f := range fm.fits {
		if f.Pairs == pairs {
			out = append(out, f.ListSize)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

// fitSpread returns the fits with the smallest and largest per-image
// probability among rows.
func fitSpread(rows []schema.TailFitRow) (lo, hi schema.TailFitRow) {
	by := func(a, b schema.TailFitRow) int { return cmp.Compare(a.Log10PImage, b.Log10PImage) }
	return slices.MinFunc(rows, by), slices.MaxFunc(rows, by)
}

// libraries and thresholds return the curve's library sizes and
// thresholds, in increasing order.
func (fm falseMatch) libraries() []int {
	return slices.Compact(slices.Sorted(slices.Values(mapSlice(fm.curve, func(c schema.CurveRow) int { return c.Library }))))
}

func (fm falseMatch) thresholds() []int {
	return slices.Compact(slices.Sorted(slices.Values(mapSlice(fm.curve, func(c schema.CurveRow) int { return c.T }))))
}

// preferredThresholds are the thresholds the account plot draws and the
// tables show, where the curve has them: the smallest, Apple's 30, and
// some between.
var preferredThresholds = []int{1, 5, 10, falsematch.AppleThreshold, 50}

// shownThresholds returns the preferred thresholds the curve has; when
// fewer than three of them are there, the curve's smallest others join
// them, up to five in all. They are in increasing order.
func (fm falseMatch) shownThresholds() []int {
	all := fm.thresholds()
	var out []int
	for _, t := range preferredThresholds {
		if slices.Contains(all, t) {
			out = append(out, t)
		}
	}
	for _, t := range all {
		if len(out) >= 3 || len(out) >= len(all) {
			break
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// sweep returns the swept points of one library and threshold, in
// increasing p.
func (fm falseMatch) sweep(library, t int) []schema.CurveRow {
	var out []schema.CurveRow
	for _, c := range fm.curve {
		if c.Library == library && c.T == t && c.Basis == falsematch.BasisSweep {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b schema.CurveRow) int { return cmp.Compare(a.PImage, b.PImage) })
	return out
}

// marker returns the curve's row for one marked figure.
func (fm falseMatch) marker(library, t int, basis string) (schema.CurveRow, bool) {
	i := slices.IndexFunc(fm.curve, func(c schema.CurveRow) bool { return c.Library == library && c.T == t && c.Basis == basis })
	if i < 0 {
		return schema.CurveRow{}, false
	}
	return fm.curve[i], true
}

// byThreshold returns one marker's rows for one library, by threshold.
func (fm falseMatch) byThreshold(library int, basis string) []schema.CurveRow {
	var out []schema.CurveRow
	for _, c := range fm.curve {
		if c.Library == library && c.Basis == basis {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b schema.CurveRow) int { return cmp.Compare(a.T, b.T) })
	return out
}

// markerP returns the per-image probability a marker stands for.
func (fm falseMatch) markerP(basis string) (float64, bool) {
	i := slices.IndexFunc(fm.curve, func(c schema.CurveRow) bool { return c.Basis == basis })
	if i < 0 {
		return 0, false
	}
	return fm.curve[i].PImage, true
}

// safeRate returns the largest per-image probability that keeps one
// library at one threshold at or below the target.
func (fm falseMatch) safeRate(library, t int) (schema.SafeRateRow, bool) {
	i := slices.IndexFunc(fm.safe, func(s schema.SafeRateRow) bool { return s.Library == library && s.T == t })
	if i < 0 {
		return schema.SafeRateRow{}, false
	}
	return fm.safe[i], true
}

// target returns the account-level target of the safe rates (Apple's one
// in a trillion), or false when there are none.
func (fm falseMatch) target() (float64, bool) {
	if len(fm.safe) == 0 {
		return 0, false
	}
	return fm.safe[0].Target, true
}

// imagesForBound returns the fewest benign images, none matching, whose
// exact one-sided 95% upper bound 1 − 0.05^(1/n) is at most p.
func imagesForBound(p float64) int {
	if !(p > 0 && p < 1) {
		return 0
	}
	return int(math.Ceil(math.Log(0.05) / math.Log1p(-p)))
}

// middle returns the middle value of xs (the lower of two), 0 for none.
func middle(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	return xs[(len(xs)-1)/2]
}
