package falsematch

import (
	"gonum.org/v1/gonum/stat/distuv"
	"math"
	"slices"

	"scanlab/perceptual"
	"scanlab/stats"
)

// The tail models of [TailFitRow].Model.
//
// A PDQ hash has exactly 128 bits set (each bit says whether a DCT
// coefficient is above the median of the 256), so the distance between two
// hashes is always even: D = 2(128 − K) with K the bits both have set.
// Every model works on that lattice of even distances.
const (
	// ModelHypergeometric is an ideal hash: two unrelated images get
	// independent, uniformly random 128-of-256 bit patterns, so K ~
	// Hypergeometric(256, 128, 128) (mean distance 128, sd 8.02). It has
	// no fitted parameter.
	ModelHypergeometric = "hypergeometric"
	// ModelNormal is D ~ Normal(mean, sd) with the sample moments,
	// continuity-corrected for the step of 2.
	ModelNormal = "normal"
	// ModelBinomial is D/2 = 128·X/m with X ~ Binomial(m, mean/256) and m
	// the effective number of independent bits that matches the observed
	// spread, as Daugman fits IrisCode impostor distances ("How Iris
	// Recognition Works", IEEE Trans. CSVT 14(1), 2004).
	ModelBinomial = "binomial"
	// ModelLowerTail is a normal fitted by least squares to the observed
	// lower half on a probit scale (a normal probability plot), so it
	// follows the tail rather than the centre.
	ModelLowerTail = "lower-tail"
	// ModelExponential is ln P[D ≤ d] linear in d, fitted by least squares
	// to the lowest percent of the observed pairs: a tail that thins
	// geometrically rather than like a normal's, the most cautious of the
	// five.
	ModelExponential = "exponential"
)

// expTailShare is the share of pairs the exponential model is fitted to.
const expTailShare = 0.01

// Models lists the tail models in the order rows report them.
var Models = []string{ModelHypergeometric, ModelNormal, ModelBinomial, ModelLowerTail, ModelExponential}

// minTailCount is the fewest pairs at or below a distance for that
// distance to enter the lower-tail fit.
const minTailCount = 10

// ExtrapolatedListSizes are the list sizes [TailFitRow] extrapolates to.
var ExtrapolatedListSizes = []int{1_000, 10_000, 100_000, 1_000_000}

// TailFitRow is a model's extrapolation of the per-pair distance
// distribution to the probability that a benign image matches some entry of
// a list of ListSize unrelated photographs. It is a model, not a
// measurement: see the package documentation for its assumptions.
type TailFitRow struct {
	Pairs    string  // the distance set fitted (SetPairsGenerated or SetPairsReal)
	N        int64   // pairs fitted
	Model    string  // ModelNormal or ModelBinomial
	Mean, SD float64 // the fitted normal's mean and sd, bits (the sample moments but for ModelLowerTail)
	// EffectiveBits is m for ModelBinomial: the number of independent fair
	// bits whose spread matches the observed one (0 for ModelNormal).
	EffectiveBits int
	// Log10PPair is log10 P[distance ≤ 31] for one (image, entry) pair.
	Log10PPair  float64
	ListSize    int     // entries on the list
	Log10PImage float64 // log10 P[some entry ≤ 31] = log10(1 − (1 − p_pair)^ListSize), assuming independent entries
	PImage      float64 // 10^Log10PImage; 0 only if below the float64 range
}

// TailCheckRow compares a model's cumulative distribution with the
// observed one at one distance, to show how well the model follows the
// lower tail where there are data.
type TailCheckRow struct {
	Pairs          string
	Distance       int     // bits
	Observed       float64 // share of pairs at distance ≤ Distance
	Hypergeometric float64 // ModelHypergeometric's P[D ≤ Distance]
	Normal         float64 // ModelNormal's P[D ≤ Distance]
	Binomial       float64 // ModelBinomial's P[D ≤ Distance]
	LowerTail      float64 // ModelLowerTail's P[D ≤ Distance]
	Exponential    float64 // ModelExponential's P[D ≤ Distance] (0 when too few pairs to fit)
	Count          int64   // pairs at distance ≤ Distance
}

// tailModel is a fitted lower-tail model of the per-pair distance.
type tailModel struct {
	mean, sd float64
	m        int     // effective bits
	q        float64 // per-bit disagreement probability
	// tailMean and tailSD are the lower-tail normal: z = Φ⁻¹(F(d)) is
	// regressed on d + 0.5 over the distances at or below the median with
	// at least minTailCount pairs at or below them.
	tailMean, tailSD float64
	// expA and expB are the exponential tail ln F(d) = expA + expB·d
	// (expB = 0 when there are too few points to fit).
	expA, expB float64
}

func fitTail(h *histogram) tailModel {
	mean, sd := h.moments()
	q := mean / perceptual.Bits
	t := tailModel{mean: mean, sd: sd, q: q, tailMean: mean, tailSD: sd}
	if sd > 0 {
		t.m = max(1, int(math.Round(q*(1-q)*perceptual.Bits*perceptual.Bits/(sd*sd))))
	}
	if mu, s, ok := probitFit(h); ok {
		t.tailMean, t.tailSD = mu, s
	}
	t.expA, t.expB = expFit(h)
	return t
}

// lowerTailPoints returns the even distances d ≤ the median at which at
// least minTailCount pairs lie at or below d, and F(d) there, keeping only
// F(d) ≤ maxShare.
func lowerTailPoints(h *histogram, maxShare float64) (ds, fs []float64) {
	n := float64(h.n())
	for d := 0; d <= h.quantile(0.5); d += 2 {
		c := h.atMost(d)
		if c < minTailCount || float64(c) >= n || float64(c) > maxShare*n {
			continue
		}
		ds = append(ds, float64(d))
		fs = append(fs, float64(c)/n)
	}
	return ds, fs
}

// lineFit returns the least-squares line y = a + b·x.
func lineFit(xs, ys []float64) (a, b float64) {
	var mx, my, sxx, sxy float64
	for i := range xs {
		mx += xs[i] / float64(len(xs))
		my += ys[i] / float64(len(xs))
	}
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	b = sxy / sxx
	return my - b*mx, b
}

// expFit fits ln F(d) = a + b·d to the lowest expTailShare of the pairs.
func expFit(h *histogram) (a, b float64) {
	ds, fs := lowerTailPoints(h, expTailShare)
	if len(ds) < 3 {
		return 0, 0
	}
	for i := range fs {
		fs[i] = math.Log(fs[i])
	}
	return lineFit(ds, fs)
}

// probitFit fits F(d) = Φ((d + 1 − μ)/σ) at even d to the observed lower
// half by least squares on the probit scale, the straight line of a normal
// probability plot. It needs three distances with enough pairs.
func probitFit(h *histogram) (mu, sigma float64, ok bool) {
	ds, fs := lowerTailPoints(h, 1)
	if len(ds) < 3 {
		return 0, 0, false
	}
	for i := range ds {
		ds[i]++ // the continuity correction of the step of 2
		fs[i] = distuv.UnitNormal.Quantile(fs[i])
	}
	a, slope := lineFit(ds, fs)
	if !(slope > 0) {
		return 0, 0, false
	}
	return -a / slope, 1 / slope, true
}

// logCDF returns ln P[D ≤ d] under the model, for 0 ≤ d ≤ 256.
func (t tailModel) logCDF(model string, d int) float64 {
	even := d &^ 1 // D is even: D ≤ d ⇔ D ≤ even
	switch model {
	case ModelHypergeometric:
		return logHypergeometricUpper(perceptual.Bits/2 - even/2)
	case ModelNormal:
		return logPhi((float64(even) + 1 - t.mean) / t.sd)
	case ModelLowerTail:
		return logPhi((float64(even) + 1 - t.tailMean) / t.tailSD)
	case ModelExponential:
		if t.expB <= 0 {
			return math.NaN()
		}
		return min(0, t.expA+t.expB*float64(even))
	}
	// D/2 = 128·X/m with X ~ Binomial(m, q): D ≤ d ⇔ X ≤ ⌊(even/2)·m/128⌋,
	// and P[X ≤ k] = P[m − X > m − k − 1] with m − X ~ Binomial(m, 1 − q).
	k := int(math.Floor(float64(even/2) * float64(t.m) / (perceptual.Bits / 2)))
	return stats.LogBinomialSurvival(t.m, 1-t.q, t.m-k-1)
}

// cdf returns P[D ≤ d] under the model, 0 for a model that was not fitted.
func (t tailModel) cdf(model string, d int) float64 {
	l := t.logCDF(model, d)
	if math.IsNaN(l) {
		return 0
	}
	return math.Exp(l)
}

// logHypergeometricUpper returns ln P[K ≥ k] for K ~ Hypergeometric(256
// items, 128 marked, 128 drawn): the chance that two independent random
// 128-of-256 patterns share at least k set bits.
func logHypergeometricUpper(k int) float64 {
	const half = perceptual.Bits / 2
	lchoose := func(n, r int) float64 {
		a, _ := math.Lgamma(float64(n + 1))
		b, _ := math.Lgamma(float64(r + 1))
		c, _ := math.Lgamma(float64(n - r + 1))
		return a - b - c
	}
	k = max(k, 0)
	if k > half {
		return math.Inf(-1)
	}
	logs := make([]float64, 0, half+1-k)
	for j := k; j <= half; j++ {
		logs = append(logs, 2*lchoose(half, j)-lchoose(perceptual.Bits, half)) // C(128,j)·C(128,128−j)/C(256,128)
	}
	top := slices.Max(logs)
	sum := 0.0
	for _, l := range logs {
		sum += math.Exp(l - top)
	}
	return min(0, top+math.Log(sum))
}

// hypergeometricSD is the sd of the distance between independent random
// 128-of-256 patterns: 2·√(128·½·½·128/255) bits.
var hypergeometricSD = 2 * math.Sqrt(128*0.5*0.5*128/255.0)

// logPhi returns ln Φ(z), the standard normal CDF, accurate far into the
// lower tail where Φ itself underflows.
func logPhi(z float64) float64 {
	if z > -30 {
		return math.Log(0.5 * math.Erfc(-z/math.Sqrt2))
	}
	// Φ(z) = φ(z)/|z| · (1 − 1/z² + 3/z⁴ − …) for z → −∞.
	z2 := z * z
	return -z2/2 - math.Log(-z) - 0.5*math.Log(2*math.Pi) + math.Log1p(-1/z2+3/(z2*z2))
}

// log10PerImage returns log10(1 − (1 − p)^L) for ln p = lnP.
func log10PerImage(lnP float64, l int) float64 {
	x := float64(l) * math.Exp(lnP)
	if x < 1e-8 || math.IsInf(lnP, -1) { // 1 − (1−p)^L = L·p to 1e−8 relative
		return (lnP + math.Log(float64(l))) / math.Ln10
	}
	return math.Log10(-math.Expm1(float64(l) * math.Log1p(-math.Exp(lnP))))
}

// tailRows fits both models to one pair set and extrapolates each to the
// measured list size and to ExtrapolatedListSizes.
func tailRows(set string, h *histogram, listSize int) ([]TailFitRow, []TailCheckRow) {
	t := fitTail(h)
	if t.sd == 0 {
		return nil, nil
	}
	var fits []TailFitRow
	for _, model := range Models {
		lnP := t.logCDF(model, perceptual.MatchThreshold)
		if math.IsNaN(lnP) {
			continue // too few pairs in the tail to fit this model
		}
		bits, mean, sd := 0, t.mean, t.sd
		switch model {
		case ModelHypergeometric:
			mean, sd = perceptual.Bits/2, hypergeometricSD
		case ModelBinomial:
			bits = t.m
		case ModelLowerTail:
			mean, sd = t.tailMean, t.tailSD
		}
		for _, l := range append([]int{listSize}, ExtrapolatedListSizes...) {
			lp := log10PerImage(lnP, l)
			fits = append(fits, TailFitRow{Pairs: set, N: h.n(), Model: model, Mean: mean, SD: sd, EffectiveBits: bits,
				Log10PPair: lnP / math.Ln10, ListSize: l, Log10PImage: lp, PImage: math.Pow(10, lp)})
		}
	}
	var checks []TailCheckRow
	n := float64(h.n())
	for d := perceptual.MatchThreshold + 1; d <= int(t.mean); d += 2 { // even distances only
		c := h.atMost(d)
		checks = append(checks, TailCheckRow{Pairs: set, Distance: d, Observed: float64(c) / n, Count: c,
			Hypergeometric: t.cdf(ModelHypergeometric, d),
			Normal:         t.cdf(ModelNormal, d), Binomial: t.cdf(ModelBinomial, d),
			LowerTail: t.cdf(ModelLowerTail, d), Exponential: t.cdf(ModelExponential, d)})
	}
	return fits, checks
}
