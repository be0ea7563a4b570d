package experiments

import (
	"fmt"

	"scanlab/falsematch"
	"scanlab/perceptual"
	"scanlab/schema"
)

func init() {
	register(Experiment{
		Name: "falsematch",
		Summary: "how often a benign image falls within PDQ's match threshold of a list of real photographs (exact bound), " +
			"tail models of the per-pair distance, and the chance an innocent account is revealed, per threshold and library",
		Run:  runFalseMatch,
		spec: func(o Options) any { return falseMatchSpecOf(o) },
	})
}

// FalseMatchOptions change the falsematch experiment's measurement; a zero
// value keeps the scale's default.
type FalseMatchOptions struct {
	// Images is the number of generated benign images (the scale's
	// default: falsematch.QuickImages, DefaultImages or FullImages).
	Images int `json:"images,omitempty"`
}

// images returns the number of generated images a run draws.
func (f FalseMatchOptions) images(s Scale) int {
	if f.Images > 0 {
		return f.Images
	}
	n, _ := falseMatchSize(s).GeneratedImages() // every scale names a known size
	return n
}

// falseMatchSize is the measurement size of a scale.
func falseMatchSize(s Scale) falsematch.Size {
	switch s {
	case Quick:
		return falsematch.Quick
	case Full:
		return falsematch.Full
	}
	return falsematch.Default
}

// falseMatchSpec is what the manifest records of a measurement: how many
// benign images the bound rests on, the match threshold, and the grid of
// the tail extrapolation and of the account curve.
type falseMatchSpec struct {
	Images            int     `json:"images"`
	Threshold         int     `json:"threshold"`
	ExtrapolatedLists []int   `json:"extrapolated_list_sizes"`
	Libraries         []int   `json:"libraries"`
	MaxT              int     `json:"max_t"`
	Log10PRange       [2]int  `json:"log10_p_range"`
	PointsPerDecade   int     `json:"points_per_decade"`
	AccountTarget     float64 `json:"account_target"`
}

func falseMatchSpecOf(o Options) falseMatchSpec {
	return falseMatchSpec{
		Images: o.FalseMatch.images(o.Scale), Threshold: perceptual.MatchThreshold, ExtrapolatedLists: falsematch.ExtrapolatedListSizes,
		Libraries: falsematch.CurveLibraries, MaxT: falsematch.CurveMaxT,
		Log10PRange:     [2]int{falsematch.CurveMinLog10P, falsematch.CurveMaxLog10P},
		PointsPerDecade: falsematch.CurvePointsPerDecade, AccountTarget: falsematch.AppleAccountTarget,
	}
}

// runFalseMatch measures at the run's seed and scale and writes the seven
// falsematch files.
func runFalseMatch(o Options, dir string) (map[string]any, error) {
	if o.FalseMatch.Images < 0 {
		return nil, fmt.Errorf("images: %d is negative", o.FalseMatch.Images)
	}
	n := o.FalseMatch.images(o.Scale)
	o.progress("falsematch: %d generated images against the real photographs' PDQ hashes", n)
	res, err := falsematch.Run(falsematch.Config{Seed: o.Seed, Size: falseMatchSize(o.Scale), Images: n, Progress: o.advance})
	if err != nil {
		return nil, err
	}
	if err := writeFalseMatch(o.Out, res); err != nil {
		return nil, err
	}
	gen := measuredRate(res)
	return map[string]any{
		"generated": res.Generated, "distinct": res.Distinct, "usable": res.Usable,
		"list_size": res.Photos.UsableScenes, "photo_files": res.Photos.Records, "photo_sources": res.Photos.Sources,
		"matches": gen.Matches, "upper_95": gen.Upper95,
	}, nil
}

// measuredRate is the rate the study quotes: generated images, their PDQ
// hash as it is.
func measuredRate(res *falsematch.Result) falsematch.ImageRateRow {
	for _, r := range res.Rates {
		if r.Benign == falsematch.BenignGenerated && r.Hash == falsematch.HashPDQ {
			return r
		}
	}
	return falsematch.ImageRateRow{}
}

// writeFalseMatch writes a measurement's rows through the schema.
func writeFalseMatch(out string, res *falsematch.Result) error {
	writes := []func() error{
		func() error { return schema.ImageRate.WriteFile(out, imageRateRows(res)) },
		func() error { return schema.Distances.WriteFile(out, distanceRows(res.Distances)) },
		func() error { return schema.DistanceSummary.WriteFile(out, mapRows(res.Summaries, summaryRow)) },
		func() error { return schema.TailFits.WriteFile(out, mapRows(res.TailFits, tailFitRow)) },
		func() error { return schema.TailChecks.WriteFile(out, mapRows(res.TailChecks, tailCheckRow)) },
		func() error { return schema.Curve.WriteFile(out, mapRows(res.Curve, curveRow)) },
		func() error { return schema.SafeRates.WriteFile(out, mapRows(res.SafeRates, safeRateRow)) },
	}
	for _, w := range writes {
		if err := w(); err != nil {
			return fmt.Errorf("falsematch: %w", err)
		}
	}
	return nil
}

// mapRows converts every row with f.
func mapRows[A, B any](rows []A, f func(A) B) []B {
	out := make([]B, len(rows))
	for i, r := range rows {
		out[i] = f(r)
	}
	return out
}

// imageRateRows gives each rate the set it was measured on: the generated
// images drawn and distinct, or the list's usable scenes.
func imageRateRows(res *falsematch.Result) []schema.ImageRateRow {
	var out []schema.ImageRateRow
	for _, r := range res.Rates {
		drawn, distinct := res.Generated, res.Distinct
		if r.Benign == falsematch.BenignReal {
			drawn, distinct = res.Photos.UsableScenes, res.Photos.UsableScenes
		}
		out = append(out, schema.ImageRateRow{
			Benign: r.Benign, Hash: r.Hash, Drawn: drawn, Distinct: distinct, Images: r.Images, Matches: r.Matches,
			ListSize: r.ListSize, ListSources: res.Photos.Sources, Threshold: r.Threshold,
			Rate: r.Interval.Estimate, Lo: r.Interval.Lo, Hi: r.Interval.Hi, Upper95: r.Upper95,
		})
	}
	return out
}

// distanceRows keeps the histogram bars that hold any distance.
func distanceRows(rows []falsematch.DistanceRow) []schema.DistanceRow {
	var out []schema.DistanceRow
	for _, r := range rows {
		if r.Count > 0 {
			out = append(out, schema.DistanceRow{Set: r.Set, Distance: r.Distance, Count: r.Count})
		}
	}
	return out
}

func summaryRow(s falsematch.DistanceSummary) schema.DistanceSummaryRow {
	return schema.DistanceSummaryRow{Set: s.Set, N: s.N, Min: s.Min, P01: s.P01, P50: s.P50, Mean: s.Mean, SD: s.SD,
		AtMostThreshold: s.AtMost31, Threshold: s.Threshold}
}

func tailFitRow(f falsematch.TailFitRow) schema.TailFitRow {
	return schema.TailFitRow{Pairs: f.Pairs, N: f.N, Model: f.Model, Mean: f.Mean, SD: f.SD, EffectiveBits: f.EffectiveBits,
		Log10PPair: f.Log10PPair, ListSize: f.ListSize, Log10PImage: f.Log10PImage, PImage: f.PImage}
}

func tailCheckRow(c falsematch.TailCheckRow) schema.TailCheckRow {
	return schema.TailCheckRow{Pairs: c.Pairs, Distance: c.Distance, Count: c.Count, Observed: c.Observed,
		Hypergeometric: c.Hypergeometric, Normal: c.Normal, Binomial: c.Binomial, LowerTail: c.LowerTail, Exponential: c.Exponential}
}

func curveRow(c falsematch.CurveRow) schema.CurveRow {
	return schema.CurveRow{Library: c.Library, T: c.T, PImage: c.PImage, Basis: c.Basis, Log10PAccount: c.Log10PAccount, PAccount: c.PAccount}
}

func safeRateRow(s falsematch.SafeRateRow) schema.SafeRateRow {
	return schema.SafeRateRow{Library: s.Library, T: s.T, Target: s.Target, Log10MaxPImage: s.Log10MaxPImage, MaxPImage: s.MaxPImage}
}
