package schema

import (
	"errors"
	"fmt"
	"math"

	"scanlab/falsematch"
)

// The falsematch experiment's files: how often a benign image falsely
// matches a list of real photographs' PDQ hashes, and what that means for
// an account at the threshold of on-device scanning (package falsematch
// documents the measurement and its assumptions).

// ImageRateRow is one row of falsematch/image-rate.csv: a measured
// per-image false-match probability, x of n benign images within the
// match threshold of some list entry, with its exact intervals.
type ImageRateRow struct {
	// Benign is the benign set (falsematch.Benigns): the generated images,
	// or each listed photograph against the other scenes' entries.
	Benign string
	// Hash is the comparison (falsematch.Hashes): the PDQ hash as it is,
	// or the best of its eight rotations and mirror images.
	Hash string
	// Drawn is how many images the set drew (generated images, or listed
	// photographs), and Distinct how many of them differ (by pixels, or
	// by scene).
	Drawn, Distinct int
	// Images (n) are those of usable quality; Matches (x) those within
	// Threshold bits of some entry.
	Images, Matches int
	// ListSize is the number of list entries (one per scene) and
	// ListSources how many sources (packages, toolchains, folders) they
	// come from.
	ListSize, ListSources int
	Threshold             int // bits of 256
	// Rate is x/n; Lo and Hi its exact two-sided 95% interval
	// (Clopper–Pearson), Upper95 the exact one-sided 95% upper bound
	// (about 3/n when x = 0).
	Rate, Lo, Hi, Upper95 float64
}

// ImageRate is falsematch/image-rate.csv.
var ImageRate = &File[ImageRateRow]{
	Path: "falsematch/image-rate.csv",
	Doc:  "one benign set and hash comparison: how many benign images fell within the match threshold of a list of real photographs, with exact 95% intervals",
	Columns: []Column[ImageRateRow]{
		Enum("benign", func(r *ImageRateRow) *string { return &r.Benign }, falsematch.Benigns),
		Enum("hash", func(r *ImageRateRow) *string { return &r.Hash }, falsematch.Hashes),
		Count("drawn", func(r *ImageRateRow) *int { return &r.Drawn }),
		Count("distinct", func(r *ImageRateRow) *int { return &r.Distinct }),
		Count("images", func(r *ImageRateRow) *int { return &r.Images }),
		Count("matches", func(r *ImageRateRow) *int { return &r.Matches }),
		Count("list_size", func(r *ImageRateRow) *int { return &r.ListSize }),
		Count("list_sources", func(r *ImageRateRow) *int { return &r.ListSources }),
		Count("threshold", func(r *ImageRateRow) *int { return &r.Threshold }),
		Fraction("rate", General6, func(r *ImageRateRow) *float64 { return &r.Rate }),
		Fraction("lo", General6, func(r *ImageRateRow) *float64 { return &r.Lo }),
		Fraction("hi", General6, func(r *ImageRateRow) *float64 { return &r.Hi }),
		Fraction("upper_95", General6, func(r *ImageRateRow) *float64 { return &r.Upper95 }),
	},
	Check: (*ImageRateRow).check,
}

func (r *ImageRateRow) check() error {
	switch {
	case r.Matches > r.Images || r.Images > r.Distinct || r.Distinct > r.Drawn:
		return fmt.Errorf("matches %d, images %d, distinct %d, drawn %d: each must be at most the next", r.Matches, r.Images, r.Distinct, r.Drawn)
	case !(r.Lo <= r.Rate && r.Rate <= r.Hi):
		return fmt.Errorf("rate %v outside its interval [%v, %v]", r.Rate, r.Lo, r.Hi)
	case r.Images > 0 && r.Upper95 < r.Rate:
		return fmt.Errorf("upper bound %v below the rate %v", r.Upper95, r.Rate)
	}
	return nil
}

// DistanceRow is one row of falsematch/distances.csv: one bar of a
// distance histogram. Distances a set never took have no row (count 0).
type DistanceRow struct {
	Set      string // falsematch.Sets
	Distance int    // Hamming distance, bits of 256
	Count    int64  // distances of the set equal to Distance
}

// Distances is falsematch/distances.csv.
var Distances = &File[DistanceRow]{
	Path: "falsematch/distances.csv",
	Doc:  "one distance set and distance: how many PDQ distances in the set equal it (absent: none)",
	Columns: []Column[DistanceRow]{
		Enum("set", func(r *DistanceRow) *string { return &r.Set }, falsematch.Sets),
		Count("distance", func(r *DistanceRow) *int { return &r.Distance }),
		Count64("count", func(r *DistanceRow) *int64 { return &r.Count }),
	},
	Check: func(r *DistanceRow) error { return checkDistance(r.Distance) },
}

// hashBits is the length of a PDQ hash: the largest distance.
const hashBits = 256

func checkDistance(d int) error {
	if d > hashBits {
		return fmt.Errorf("distance %d exceeds %d bits", d, hashBits)
	}
	return nil
}

// DistanceSummaryRow is one row of falsematch/distance-summary.csv: one
// distance set described.
type DistanceSummaryRow struct {
	Set      string
	N        int64   // distances in the set
	Min      int     // smallest distance, bits
	P01, P50 int     // 1st and 50th percentiles, bits
	Mean, SD float64 // bits
	// AtMostThreshold counts the distances at or below Threshold, the
	// PDQ match threshold.
	AtMostThreshold int64
	Threshold       int
}

// DistanceSummary is falsematch/distance-summary.csv.
var DistanceSummary = &File[DistanceSummaryRow]{
	Path: "falsematch/distance-summary.csv",
	Doc:  "one distance set: its size, smallest distance, percentiles, mean and sd, and how many distances fall within the match threshold",
	Columns: []Column[DistanceSummaryRow]{
		Enum("set", func(r *DistanceSummaryRow) *string { return &r.Set }, falsematch.Sets),
		Count64("n", func(r *DistanceSummaryRow) *int64 { return &r.N }),
		Count("min", func(r *DistanceSummaryRow) *int { return &r.Min }),
		Count("p01", func(r *DistanceSummaryRow) *int { return &r.P01 }),
		Count("p50", func(r *DistanceSummaryRow) *int { return &r.P50 }),
		NonNegative("mean", Fixed(3), func(r *DistanceSummaryRow) *float64 { return &r.Mean }),
		NonNegative("sd", Fixed(3), func(r *DistanceSummaryRow) *float64 { return &r.SD }),
		Count64("at_most_threshold", func(r *DistanceSummaryRow) *int64 { return &r.AtMostThreshold }),
		Count("threshold", func(r *DistanceSummaryRow) *int { return &r.Threshold }),
	},
	Check: func(r *DistanceSummaryRow) error {
		if r.AtMostThreshold > r.N {
			return fmt.Errorf("%d distances within the threshold of %d", r.AtMostThreshold, r.N)
		}
		if r.N > 0 && !(r.Min <= r.P01 && r.P01 <= r.P50) {
			return fmt.Errorf("min %d, p01 %d, p50 %d out of order", r.Min, r.P01, r.P50)
		}
		return checkDistance(r.P50)
	},
}

// TailFitRow is one row of falsematch/tail-fits.csv: a model of the
// per-pair distance, fitted where there are data and extrapolated to the
// match threshold, and the per-image probability it implies for a list of
// ListSize unrelated entries. It is a model, not a measurement.
type TailFitRow struct {
	Pairs string // the pair set fitted (falsematch.SetPairsGenerated or SetPairsReal)
	N     int64  // pairs fitted
	Model string // falsematch.Models
	// Mean and SD are the model's normal (the ideal hash's for
	// "hypergeometric", the lower-tail fit's for "lower-tail"), bits.
	Mean, SD float64
	// EffectiveBits is the binomial model's number of independent bits
	// (0 for the other models).
	EffectiveBits int
	// Log10PPair is log10 P[distance ≤ threshold] for one pair.
	Log10PPair float64
	ListSize   int
	// Log10PImage is log10(1 − (1 − p_pair)^ListSize), assuming
	// independent entries; PImage is 10^Log10PImage (0 below the float64
	// range).
	Log10PImage float64
	PImage      float64
}

// TailFits is falsematch/tail-fits.csv.
var TailFits = &File[TailFitRow]{
	Path: "falsematch/tail-fits.csv",
	Doc:  "one pair set, tail model and list size: the per-pair and per-image false-match probability the model extrapolates to the match threshold",
	Columns: []Column[TailFitRow]{
		Enum("pairs", func(r *TailFitRow) *string { return &r.Pairs }, []string{falsematch.SetPairsGenerated, falsematch.SetPairsReal}),
		Count64("n", func(r *TailFitRow) *int64 { return &r.N }),
		Enum("model", func(r *TailFitRow) *string { return &r.Model }, falsematch.Models),
		NonNegative("mean", General6, func(r *TailFitRow) *float64 { return &r.Mean }),
		NonNegative("sd", General6, func(r *TailFitRow) *float64 { return &r.SD }),
		Count("effective_bits", func(r *TailFitRow) *int { return &r.EffectiveBits }),
		log10Column("log10_p_pair", func(r *TailFitRow) *float64 { return &r.Log10PPair }),
		Count("list_size", func(r *TailFitRow) *int { return &r.ListSize }),
		log10Column("log10_p_image", func(r *TailFitRow) *float64 { return &r.Log10PImage }),
		Fraction("p_image", General6, func(r *TailFitRow) *float64 { return &r.PImage }),
	},
	Check: func(r *TailFitRow) error {
		if r.ListSize < 1 {
			return errors.New("list_size must be positive")
		}
		return checkPower(r.Log10PImage, r.PImage)
	},
}

// log10Column is a column holding the base-10 logarithm of a probability:
// a finite number ≤ 0, written with as many digits as read back exactly,
// so that the probability beside it can be checked against it.
func log10Column[R any](name string, field func(*R) *float64) Column[R] {
	return numberColumn(name, ShortestG, field, numberRange{lo: math.Inf(-1), hi: 0})
}

// checkPower checks that p is 10^lg as the file writes both (six
// significant digits each), or 0 where 10^lg is below the float64 range.
func checkPower(lg, p float64) error {
	want := math.Pow(10, lg)
	if want < math.SmallestNonzeroFloat64*1e10 {
		if p > 1e-300 {
			return fmt.Errorf("probability %v, but its log10 is %v", p, lg)
		}
		return nil
	}
	if math.Abs(p-want) > 1e-4*want {
		return fmt.Errorf("probability %v is not 10^%v", p, lg)
	}
	return nil
}

// TailCheckRow is one row of falsematch/tail-checks.csv: at one distance
// where pairs were seen, the observed share of pairs at or below it beside
// each model's.
type TailCheckRow struct {
	Pairs    string
	Distance int   // bits
	Count    int64 // pairs at or below Distance
	// Observed is Count over the pairs of the set; the others are each
	// model's P[D ≤ Distance] (0 for a model that could not be fitted).
	Observed, Hypergeometric, Normal, Binomial, LowerTail, Exponential float64
}

// TailChecks is falsematch/tail-checks.csv.
var TailChecks = &File[TailCheckRow]{
	Path: "falsematch/tail-checks.csv",
	Doc:  "one pair set and distance: the observed share of pairs at or below it and each tail model's",
	Columns: []Column[TailCheckRow]{
		Enum("pairs", func(r *TailCheckRow) *string { return &r.Pairs }, []string{falsematch.SetPairsGenerated, falsematch.SetPairsReal}),
		Count("distance", func(r *TailCheckRow) *int { return &r.Distance }),
		Count64("count", func(r *TailCheckRow) *int64 { return &r.Count }),
		Fraction("observed", General6, func(r *TailCheckRow) *float64 { return &r.Observed }),
		Fraction("hypergeometric", General6, func(r *TailCheckRow) *float64 { return &r.Hypergeometric }),
		Fraction("normal", General6, func(r *TailCheckRow) *float64 { return &r.Normal }),
		Fraction("binomial", General6, func(r *TailCheckRow) *float64 { return &r.Binomial }),
		Fraction("lower_tail", General6, func(r *TailCheckRow) *float64 { return &r.LowerTail }),
		Fraction("exponential", General6, func(r *TailCheckRow) *float64 { return &r.Exponential }),
	},
	Check: func(r *TailCheckRow) error { return checkDistance(r.Distance) },
}

// CurveRow is one row of falsematch/curve.csv: the probability that an
// innocent account of Library images is revealed at threshold T when each
// image falsely matches independently with probability PImage,
// P[Binomial(Library, PImage) > T] as the PSI code computes it: the
// account is revealed at its (T+1)-th false match.
type CurveRow struct {
	Library int
	T       int
	PImage  float64
	// Basis is "sweep" for the points of the sweep of PImage, or names
	// the measured or published figure PImage is (falsematch's Basis…
	// constants; tail-fit markers are "tail-fit-MODEL-LSIZE").
	Basis string
	// Log10PAccount is log10 of the probability, finite however small;
	// PAccount is 10^Log10PAccount, 0 below the float64 range.
	Log10PAccount, PAccount float64
}

// Curve is falsematch/curve.csv.
var Curve = &File[CurveRow]{
	Path: "falsematch/curve.csv",
	Doc:  "one library size, threshold and per-image probability: the probability an innocent account is revealed (more than t false matches)",
	Columns: []Column[CurveRow]{
		Count("library", func(r *CurveRow) *int { return &r.Library }),
		Count("t", func(r *CurveRow) *int { return &r.T }),
		Fraction("p_image", General6, func(r *CurveRow) *float64 { return &r.PImage }),
		Text("basis", func(r *CurveRow) *string { return &r.Basis }),
		log10Column("log10_p_account", func(r *CurveRow) *float64 { return &r.Log10PAccount }),
		Fraction("p_account", General6, func(r *CurveRow) *float64 { return &r.PAccount }),
	},
	Check: func(r *CurveRow) error {
		if r.T < 1 || r.Library < 1 {
			return fmt.Errorf("library %d and t %d must be positive", r.Library, r.T)
		}
		return checkPower(r.Log10PAccount, r.PAccount)
	},
}

// SafeRateRow is one row of falsematch/safe-rates.csv: the largest
// per-image false-match probability that keeps an account of Library
// images at threshold T revealed with probability at most Target.
type SafeRateRow struct {
	Library, T     int
	Target         float64
	Log10MaxPImage float64
	MaxPImage      float64
}

// SafeRates is falsematch/safe-rates.csv.
var SafeRates = &File[SafeRateRow]{
	Path: "falsematch/safe-rates.csv",
	Doc:  "one library size and threshold: the largest per-image false-match probability that keeps the account's probability of being revealed at or below the target",
	Columns: []Column[SafeRateRow]{
		Count("library", func(r *SafeRateRow) *int { return &r.Library }),
		Count("t", func(r *SafeRateRow) *int { return &r.T }),
		Fraction("target", General6, func(r *SafeRateRow) *float64 { return &r.Target }),
		log10Column("log10_max_p_image", func(r *SafeRateRow) *float64 { return &r.Log10MaxPImage }),
		Fraction("max_p_image", General6, func(r *SafeRateRow) *float64 { return &r.MaxPImage }),
	},
	Check: func(r *SafeRateRow) error {
		if r.T < 1 || r.Library < 1 {
			return fmt.Errorf("library %d and t %d must be positive", r.Library, r.T)
		}
		return checkPower(r.Log10MaxPImage, r.MaxPImage)
	},
}
