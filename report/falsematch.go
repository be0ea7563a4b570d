package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"scanlab/falsematch"
	"scanlab/schema"
)

// The section on false matches: prose and tables over the findings of
// find_falsematch.go; its plots are in plot_falsematch.go.

// falseMatchSection is the section's heading.
const falseMatchSection = "How likely is an innocent account to be flagged by hash matching?"

// Assumptions the section's findings rest on.
const (
	fmRateAssumption = "the generated images stand in for users' photos and are independent draws; the list is the real photographs found offline, not the millions of hashes of a real list (against a longer list p(image) grows about in proportion); a match is a PDQ distance of at most the threshold, with no second hash and no human review."
	fmTailAssumption = "each model's shape holds from the distances observed down to the match threshold, where no pair was seen; list entries are independent of each other and unrelated to the benign images, so near-duplicates, shared templates and crafted collisions are left out."
	fmAcctAssumption = "every image of an account is a false match independently and with the same probability; the library is the account's images in a year."
)

// modelMeaning says what each tail model assumes, in plain words.
var modelMeaning = map[string]string{
	falsematch.ModelHypergeometric: "an ideal hash: unrelated images give independent random patterns of 128 set bits in 256; nothing is fitted",
	falsematch.ModelNormal:         "a normal curve with the observed mean and spread of the per-pair distance",
	falsematch.ModelBinomial:       "a number of independent bits chosen to match the observed spread (how iris-code impostor distances are modelled)",
	falsematch.ModelLowerTail:      "a normal curve fitted to the observed lower half only, so that it follows the tail rather than the centre",
	falsematch.ModelExponential:    "a tail that thins geometrically, fitted to the closest 1% of pairs: the most cautious",
}

func (r *results) writeFalseMatch(d *doc) error {
	d.h(2, falseMatchSection)
	fm := r.fm
	m, ok := fm.measured()
	if !ok {
		d.skipped(schema.ImageRate.Path)
		return nil
	}
	d.p("%s", fm.intro())
	d.h(3, "The per-image rate, measured")
	d.p("%s", fm.rateParagraph(m))
	d.find(fm.rateFinding(m), fmRateAssumption)
	if len(fm.dist) > 0 {
		d.figure(distancePlot(fm), "Distances from harmless images to the listed photographs, and the tail models", fm.distanceSentences()...)
	}
	fm.writeTails(d)
	fm.writeAccounts(d, m)
	d.h(3, "Compared with Apple's figures")
	d.p("%s", fm.appleParagraph(m))
	return nil
}

// intro says what is at stake and how "reaches t" is counted.
func (fm falseMatch) intro() string {
	return "With on-device scanning (`clientscan`) the provider learns of an account's matches only once more than t of its images match the hash list: " +
		"the account is revealed at its (t+1)-th match, when t+1 shares of its key exist. For an account of n images that is P[Binomial(n, p) > t], " +
		"exactly as the PSI code computes it (`psi.AccountFalseFlagProbability`; the curves below call the same function). " +
		"For an innocent account every match is a false match, so everything rests on p, the probability that one harmless image lands within the match threshold of some hash on the list. " +
		"The `falsematch` experiment measures p against a list of real photographs, models what it cannot measure, and draws what p means for accounts (`falsematch/*.csv`)."
}

// rateParagraph gives the measured rates with their counts and exact
// intervals.
func (fm falseMatch) rateParagraph(m schema.ImageRateRow) string {
	s := fmt.Sprintf("The list holds the PDQ hashes of %s real photographs, one per scene, from %s sources (scikit-image's and Debian's public-domain and GPL photograph packages, Meta's PDQ test images, the Go toolchain's test photos; sources and licences in `falsematch/README.md`). "+
		"Against it the experiment hashed %s generated photo-like images (%s distinct), %s of them of usable quality: %s. ",
		count(float64(m.ListSize)), count(float64(m.ListSources)), count(float64(m.Drawn)), count(float64(m.Distinct)), count(float64(m.Images)), rateClause(m, "came"))
	if m.Matches == 0 {
		s += fmt.Sprintf("With none matching, the bound is about 3/n: it says how many images were tried, not how rare false matches are. "+
			"Showing p ≤ 1e-6 (Apple's assumed rate) this way would take %s images with none matching. ", count(float64(imagesForBound(1e-6))))
	}
	if dih, ok := fm.rate(falsematch.BenignGenerated, falsematch.HashPDQDihedral); ok {
		s += fmt.Sprintf("Allowing any of the eight rotations and mirror images of each image: %s. ", shortRate(dih))
	}
	if real, ok := fm.rate(falsematch.BenignReal, falsematch.HashPDQ); ok {
		s += fmt.Sprintf("The listed photographs themselves, each against the other scenes' entries: %s.", shortRate(real))
	}
	return strings.TrimSpace(s)
}

// rateClause phrases x of n with the exact interval and bound.
func rateClause(r schema.ImageRateRow, verb string) string {
	return fmt.Sprintf("%s of %s %s within %d bits of a listed hash, p(image) = %s (exact 95%% CI %s–%s; one-sided 95%% upper bound %s)",
		count(float64(r.Matches)), count(float64(r.Images)), verb, r.Threshold, sci(r.Rate), sci(r.Lo), sci(r.Hi), sci(r.Upper95))
}

// shortRate phrases x of n with the one-sided bound.
func shortRate(r schema.ImageRateRow) string {
	return fmt.Sprintf("%s of %s within %d bits (one-sided 95%% upper bound %s)", count(float64(r.Matches)), count(float64(r.Images)), r.Threshold, sci(r.Upper95))
}

// rateFinding is the measured rate as a finding.
func (fm falseMatch) rateFinding(m schema.ImageRateRow) string {
	return fmt.Sprintf("%s of %s generated images fell within PDQ's %d-bit match threshold of %s real photographs' hashes: p(image) ≤ %s (exact one-sided 95%% bound; two-sided 95%% CI %s–%s). "+
		"A bound from %s images cannot reach the per-image rates that matter for accounts; the rest of the section shows what follows from rates too small to measure.",
		count(float64(m.Matches)), count(float64(m.Images)), m.Threshold, count(float64(m.ListSize)), sci(m.Upper95), sci(m.Lo), sci(m.Hi), count(float64(m.Images)))
}

// distanceSentences describe the distance distributions under the
// figure.
func (fm falseMatch) distanceSentences() []string {
	var out []string
	near, ok1 := fm.summaryOf(falsematch.SetNearestGenerated)
	pairs, ok2 := fm.summaryOf(falsematch.SetPairsGenerated)
	if ok1 && ok2 && near.N > 0 && pairs.SD > 0 {
		s := fmt.Sprintf("The closest any generated image came to a listed photograph was %d bits (1%% of images came within %d, the median nearest distance is %d); "+
			"unrelated pairs lie at %s ± %s bits, close to an ideal hash's 128 ± 8.",
			near.Min, near.P01, near.P50, trimFloat(pairs.Mean, 4), trimFloat(pairs.SD, 2))
		if near.Min > near.Threshold {
			s += fmt.Sprintf(" The closest image sits %s standard deviations of the pairwise spread above the %d-bit threshold.", trimFloat(fm.gapSDs(), 2), near.Threshold)
		}
		out = append(out, s)
	}
	if same, ok := fm.summaryOf(falsematch.SetSameScene); ok && same.N > 0 {
		out = append(out, fmt.Sprintf("For contrast, other files of a listed scene (re-encodings, crops and edits: true matches) lie at a median of %d bits from the listed file; %s of %s are within the threshold.",
			same.P50, count(float64(same.AtMostThreshold)), count(float64(same.N))))
	}
	out = append(out, "The right panel shows, on a log scale, the share of pairs at or below each distance and what each tail model makes of it below the data.")
	return out
}

// writeTails tabulates the tail models' extrapolations and their spread.
func (fm falseMatch) writeTails(d *doc) {
	pairs := falsematch.SetPairsGenerated
	lists := fm.fitLists(pairs)
	d.h(3, "Below the data: tail models, not measurements")
	if len(lists) == 0 {
		d.skipped(schema.TailFits.Path)
		return
	}
	d.p("%s, so p for a realistic list can only be modelled: fit the per-pair distance where there are data, "+
		"follow the fitted curve down to %d bits and take 1 − (1 − p(pair))^L for a list of L unrelated entries. "+
		"Each row is a model with its own shape; none is a measurement, and their spread, not a confidence interval, says how far apart plausible extrapolations lie.",
		fm.pairsSentence(), fm.threshold())
	big := lists[len(lists)-1]
	header := []string{"model", "what it assumes", fmt.Sprintf("p(pair) within %d bits", fm.threshold())}
	for _, l := range lists {
		header = append(header, "p(image), list of "+count(float64(l)))
	}
	var rows [][]string
	for _, f := range fm.fitsFor(pairs, lists[0]) {
		row := []string{"`" + f.Model + "`", modelMeaning[f.Model], powTen(f.Log10PPair)}
		for _, l := range lists {
			row = append(row, fm.fitCell(pairs, f.Model, l))
		}
		rows = append(rows, row)
	}
	d.table(header, rows)
	if s, ok := fm.spreadSentence(pairs, big); ok {
		d.p("%s *Rests on:* %s", s, upperFirst(fmTailAssumption))
		d.find(s, fmTailAssumption)
	}
}

// pairsSentence says how close the generated-to-listed pairs came to the
// threshold.
func (fm falseMatch) pairsSentence() string {
	pairs, ok := fm.summaryOf(falsematch.SetPairsGenerated)
	switch {
	case !ok || pairs.N == 0:
		return "No pair distances were recorded"
	case pairs.AtMostThreshold == 0:
		return fmt.Sprintf("None of the %s pairs came within the threshold (the closest was %d bits, %s standard deviations above it)",
			count(float64(pairs.N)), pairs.Min, trimFloat(fm.gapSDs(), 2))
	}
	return fmt.Sprintf("Only %s of %s pairs came within the threshold, too few to measure the rate for lists of other sizes", count(float64(pairs.AtMostThreshold)), count(float64(pairs.N)))
}

// gapSDs is how many standard deviations of the pairwise distance
// separate the closest generated image from the threshold.
func (fm falseMatch) gapSDs() float64 {
	near, ok1 := fm.summaryOf(falsematch.SetNearestGenerated)
	pairs, ok2 := fm.summaryOf(falsematch.SetPairsGenerated)
	if !ok1 || !ok2 || pairs.SD == 0 {
		return math.NaN()
	}
	return float64(near.Min-near.Threshold) / pairs.SD
}

// fitCell is one model's per-image probability at one list size.
func (fm falseMatch) fitCell(pairs, model string, list int) string {
	for _, f := range fm.fitsFor(pairs, list) {
		if f.Model == model {
			return powTen(f.Log10PImage)
		}
	}
	return "–"
}

// spreadSentence says how far apart the models put p(image) for the
// largest list.
func (fm falseMatch) spreadSentence(pairs string, list int) (string, bool) {
	fits := fm.fitsFor(pairs, list)
	if len(fits) < 2 {
		return "", false
	}
	lo, hi := fitSpread(fits)
	return fmt.Sprintf("Extrapolated to a list of %s unrelated photographs, the %s tail models put p(image) between %s (`%s`) and %s (`%s`): %s orders of magnitude apart.",
		count(float64(list)), numberWord(len(fits)), powTen(lo.Log10PImage), lo.Model, powTen(hi.Log10PImage), hi.Model,
		trimFloat(math.Floor(hi.Log10PImage-lo.Log10PImage), 3)), true
}

// writeAccounts draws the account-level curves and tabulates the largest
// safe per-image rates.
func (fm falseMatch) writeAccounts(d *doc, m schema.ImageRateRow) {
	libs, ts := fm.libraries(), fm.shownThresholds()
	if len(libs) == 0 || len(ts) == 0 {
		d.skipped(schema.Curve.Path)
		return
	}
	d.h(3, "From one image to an account")
	d.p("The figure sweeps the per-image probability p from %s to %s and gives, for libraries of %s images a year, the probability that an innocent account is revealed (more than t false matches) at t = %s. "+
		"The vertical lines mark the bound measured here and Apple's two figures; the horizontal line is Apple's target of one account in a trillion a year.",
		sci(fm.sweep(libs[0], ts[0])[0].PImage), sci(fm.sweep(libs[0], ts[0])[len(fm.sweep(libs[0], ts[0]))-1].PImage),
		andList(mapStrings(libs, func(l int) string { return count(float64(l)) })), andList(mapStrings(ts, strconv.Itoa)))
	acct := fm.accountSentences(m)
	if len(acct) > 0 {
		d.find(acct[0], fmAcctAssumption)
	}
	d.figure(accountPlot(fm), "Chance an innocent account is revealed, against the per-image false-match probability", acct...)
	d.figure(thresholdPlot(fm), "Chance an innocent account is revealed, by threshold, at the marked per-image probabilities",
		fmt.Sprintf("Every threshold from t = %d to t = %d at the per-image probabilities marked in the figure above: the measured bound and Apple's two figures.", fm.thresholds()[0], fm.thresholds()[len(fm.thresholds())-1]))
	if tgt, ok := fm.target(); ok {
		d.p("The largest per-image false-match probability that keeps an account's yearly chance of being revealed at or below %s (`%s`):", sci(tgt), schema.SafeRates.Path)
		d.table(append([]string{"threshold t"}, mapStrings(libs, func(l int) string { return count(float64(l)) + " images" })...), fm.safeRows(libs, ts))
	}
	d.p("*Rests on:* %s", upperFirst(fmAcctAssumption))
}

// accountSentences say what the measured bound and Apple's assumption
// give for the middle library at Apple's threshold (or the middle shown
// one), and what rate the target needs.
func (fm falseMatch) accountSentences(m schema.ImageRateRow) []string {
	lib, ts := middle(fm.libraries()), fm.shownThresholds()
	t := ts[len(ts)-1]
	if slices.Contains(ts, falsematch.AppleThreshold) {
		t = falsematch.AppleThreshold
	}
	var out []string
	if at, ok := fm.marker(lib, t, falsematch.BasisMeasuredUpper); ok {
		s := fmt.Sprintf("At the bound measured against this list of %s photographs (p(image) ≤ %s, from %s images), an innocent account of %s images is revealed with probability at most %s at t = %d",
			count(float64(m.ListSize)), sci(m.Upper95), count(float64(m.Images)), count(float64(lib)), powTen(at.Log10PAccount), t)
		if one, ok := fm.marker(lib, ts[0], falsematch.BasisMeasuredUpper); ok && ts[0] != t {
			s += fmt.Sprintf(" and at most %s at t = %d", powTen(one.Log10PAccount), ts[0])
		}
		if safe, ok := fm.safeRate(lib, t); ok {
			s += fmt.Sprintf("; staying at or below %s at t = %d needs p(image) ≤ %s", sci(safe.Target), t, sci(safe.MaxPImage))
		}
		out = append(out, s+".")
	}
	if ap, ok := fm.marker(lib, t, falsematch.BasisAppleAssumed); ok {
		out = append(out, fmt.Sprintf("At Apple's assumed one in a million per image the same account is revealed with probability %s at t = %d.", powTen(ap.Log10PAccount), t))
	}
	return out
}

// safeRows gives the safe rates, one row per shown threshold.
func (fm falseMatch) safeRows(libs, ts []int) [][]string {
	var rows [][]string
	for _, t := range ts {
		row := []string{strconv.Itoa(t)}
		for _, l := range libs {
			cell := "–"
			if s, ok := fm.safeRate(l, t); ok {
				cell = sci(s.MaxPImage)
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	return rows
}

// appleParagraph says how this run differs from Apple's published figures.
func (fm falseMatch) appleParagraph(m schema.ImageRateRow) string {
	s := "Apple's figures (Security Threat Model Review of Apple's Child Safety Features, August 2021) cannot be compared one for one. " +
		"NeuralHash's 3 false positives in 100 million were measured on real photographs against NCMEC's list of known images, each confirmed by people; " +
		"Apple then set the threshold (30) assuming a per-image rate of one in a million, two orders of magnitude worse, for a yearly target of one account in a trillion. " +
		fmt.Sprintf("Here the hash is PDQ (the signs of a DCT, not a neural embedding), the benign images are %s generated ones (Apple's sample was about %s times larger), ",
			count(float64(m.Images)), roughly(1e8/float64(max(1, m.Images)))) +
		fmt.Sprintf("the list holds %s photographs rather than millions of hashes, and nothing is reviewed by a person. ", count(float64(m.ListSize))) +
		"Apple's rates are per image against a whole list; the tail models here are per pair, turned into per-image rates for a list of a given size by assuming its entries independent. "
	last := "the account figure is only as good as the per-image rate put into it, and that rate is what neither Apple's sample nor this one can pin down for the images people actually send."
	if r, ok := fm.marker(middle(fm.libraries()), falsematch.AppleThreshold, falsematch.BasisAppleMeasured); ok {
		return s + fmt.Sprintf("What carries over is the arithmetic: at Apple's measured 3 in 100 million and t = %d, an account of %s images is revealed with probability %s; ",
			r.T, count(float64(r.Library)), powTen(r.Log10PAccount)) + last
	}
	return s + upperFirst(last)
}

// powTen formats 10^lg as a probability: plainly where it fits a float64
// (as 1 − q when it is within 1% of certain, so that it never reads as
// certain), as a power of ten below.
func powTen(lg float64) string {
	switch {
	case lg > math.Log10(0.99):
		return "1 − " + sci(-math.Expm1(lg*math.Ln10))
	case lg > -300:
		return sci(math.Pow(10, lg))
	}
	return "10^" + strconv.FormatFloat(math.Round(lg*10)/10, 'f', -1, 64)
}

// roughly rounds a count to two significant digits.
func roughly(v float64) string {
	if v < 100 {
		return count(v)
	}
	mag := math.Pow(10, math.Floor(math.Log10(v))-1)
	return count(math.Round(v/mag) * mag)
}

// numberWord spells small counts: "two" to "nine".
func numberWord(n int) string {
	words := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	if n >= 0 && n < len(words) {
		return words[n]
	}
	return strconv.Itoa(n)
}
