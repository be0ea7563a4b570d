package falsematch

import (
	"math"

	"scanlab/stats"
)

// RevealProbability returns the probability that an account of n images,
// each a false match independently with probability p, is revealed at
// threshold t: P[Binomial(n, p) > t]. The threshold PSI protocol reveals an
// account when it holds more than t matches (t+1 Shamir shares of a
// degree-t polynomial recover the key), so the account is revealed at its
// (t+1)-th false match, not its t-th. Package clientscan/psi computes the
// same quantity (AccountFalseFlagProbability) by calling the same function,
// stats.BinomialSurvival; TestRevealAgreesWithPSI checks they agree.
// Values below about 5e−324 underflow to 0: use [LogRevealProbability].
func RevealProbability(n int, p float64, t int) float64 {
	return stats.BinomialSurvival(n, p, t)
}

// LogRevealProbability returns log10 of [RevealProbability], finite for
// every p > 0 and t < n however small the probability.
func LogRevealProbability(n int, p float64, t int) float64 {
	return stats.LogBinomialSurvival(n, p, t) / math.Ln10
}

// Published figures the curve marks (Apple, "Security Threat Model Review
// of Apple's Child Safety Features", August 2021).
const (
	// AppleAccountTarget is Apple's design goal: less than one account in a
	// trillion falsely flagged per year.
	AppleAccountTarget = 1e-12
	// AppleNeuralHashMeasured is NeuralHash's measured false-positive rate:
	// 3 in 100 million non-CSAM photographs.
	AppleNeuralHashMeasured = 3e-8
	// AppleAssumedImageRate is the per-image rate Apple assumed, as a
	// safety margin, when choosing the threshold: 1 in a million.
	AppleAssumedImageRate = 1e-6
	// AppleThreshold is Apple's announced initial threshold: 30 matches.
	AppleThreshold = 30
)

// The Basis values of [CurveRow].
const (
	BasisSweep         = "sweep"                     // a point of the log-spaced sweep of p
	BasisMeasuredUpper = "measured-upper-95"         // this package's one-sided 95% Clopper–Pearson bound on p(image)
	BasisAppleMeasured = "apple-neuralhash-measured" // 3e-8
	BasisAppleAssumed  = "apple-assumed"             // 1e-6
	BasisTailFitPrefix = "tail-fit-"                 // + model + "-L" + list size: a model's extrapolation
)

// Curve parameters: the sweep of p runs from 1e−9 to 1e−2 with
// CurvePointsPerDecade points per decade, at every threshold 1..CurveMaxT
// and every library size of CurveLibraries.
const (
	CurvePointsPerDecade = 20
	CurveMinLog10P       = -9
	CurveMaxLog10P       = -2
	CurveMaxT            = 50
)

// CurveLibraries are the library sizes of the account curve: images an
// account holds (or sends) in a year.
var CurveLibraries = []int{1_000, 10_000, 100_000}

// CurveRow is one point of the account-level curve.
type CurveRow struct {
	Library int     // images per account per year
	T       int     // threshold: the account is revealed at its (T+1)-th false match
	PImage  float64 // per-image false-match probability
	Basis   string  // BasisSweep, or which measured or published figure PImage is
	// Log10PAccount is log10 P[account revealed] = log10 P[Binomial(Library, PImage) > T].
	Log10PAccount float64
	PAccount      float64 // 10^Log10PAccount; 0 only below the float64 range
}

// Marker is a per-image probability to mark on the curve.
type Marker struct {
	Basis  string
	PImage float64
}

// Curve returns the account-level curve: for every library size, every t
// from 1 to CurveMaxT and every swept p, then every marker, one row. Rows
// are ordered by library, t, then sweep points in increasing p, then the
// markers in the order given.
func Curve(markers []Marker) []CurveRow {
	steps := (CurveMaxLog10P - CurveMinLog10P) * CurvePointsPerDecade
	var out []CurveRow
	for _, lib := range CurveLibraries {
		for t := 1; t <= CurveMaxT; t++ {
			for k := 0; k <= steps; k++ {
				p := math.Pow(10, CurveMinLog10P+float64(k)/CurvePointsPerDecade)
				out = append(out, curveRow(lib, t, p, BasisSweep))
			}
			for _, m := range markers {
				out = append(out, curveRow(lib, t, m.PImage, m.Basis))
			}
		}
	}
	return out
}

func curveRow(lib, t int, p float64, basis string) CurveRow {
	lg := LogRevealProbability(lib, p, t)
	return CurveRow{Library: lib, T: t, PImage: p, Basis: basis, Log10PAccount: lg, PAccount: math.Pow(10, lg)}
}

// SafeRateRow is the largest per-image false-match probability that keeps
// an account's yearly reveal probability at or below Target.
type SafeRateRow struct {
	Library        int
	T              int
	Target         float64 // account-level probability, e.g. AppleAccountTarget
	Log10MaxPImage float64
	MaxPImage      float64
}

// SafeRates returns, for every library size and t from 1 to CurveMaxT, the
// largest p with P[Binomial(library, p) > t] ≤ target, found by bisection
// on log10 p to 1e−9 decades.
func SafeRates(target float64) []SafeRateRow {
	var out []SafeRateRow
	lt := math.Log10(target)
	for _, lib := range CurveLibraries {
		for t := 1; t <= CurveMaxT; t++ {
			lo, hi := -30.0, 0.0 // log10 p; the reveal probability grows with p
			for hi-lo > 1e-9 {
				mid := (lo + hi) / 2
				if LogRevealProbability(lib, math.Pow(10, mid), t) <= lt {
					lo = mid
				} else {
					hi = mid
				}
			}
			out = append(out, SafeRateRow{Library: lib, T: t, Target: target, Log10MaxPImage: lo, MaxPImage: math.Pow(10, lo)})
		}
	}
	return out
}
