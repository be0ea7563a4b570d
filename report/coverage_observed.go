package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"scanlab/corpus"
	"scanlab/schema"
	"scanlab/serverscan"
)

// observedFigure is a published figure the coverage study is held against:
// public statements, not ground truth (the project's notes
// refs/coverage-anchors.md quote them with their context).
type observedFigure struct {
	what   string // what was counted or estimated, in plain words
	value  string // as published
	kind   string // "observed", "estimate" or "survey"
	source string
}

// The outside figures of the comparison, as published.
var (
	ncmecTotal = observedFigure{"NCMEC CyberTipline incidents, 2024 against 2023 (36.2 million to about 29.2 million), all providers", "−19%", "observed",
		"NCMEC, CyberTipline data for 2024 (May 2025)"}
	metaDrop = observedFigure{"incidents Meta reported to NCMEC, 2024 against 2023, after Messenger and Facebook direct messages moved to default end-to-end encryption (announced 6 December 2023); Meta still made over 67% of all reports", "6.9 million fewer", "observed",
		"NCMEC, CyberTipline data for 2024 (May 2025)"}
	ncaFacebook = observedFigure{"reports of child abuse disseminated to UK police each year that default end-to-end encryption on Facebook would lose", "92%", "estimate",
		"UK National Crime Agency, 2023"}
	ncaInstagram   = observedFigure{"the same, for Instagram", "85%", "estimate", "UK National Crime Agency, 2023"}
	providerSurvey = observedFigure{"providers surveyed: automated scanning is the most useful means of detecting abuse imagery and far less useful for other abuse; user reporting is used by more providers than any other technique", "–", "survey",
		"Pfefferkorn, Journal of Online Trust and Safety 1(2), 2022"}

	observedFigures = []observedFigure{ncmecTotal, metaDrop, ncaFacebook, ncaInstagram, providerSurvey}
)

// lossRow is one line of the comparison: what a mode lost relative to
// server-side scanning on one measure.
type lossRow struct {
	measure string
	l       loss
}

// studyLosses computes the losses of every other mode relative to
// server-side scanning: of all harmful items (the headline's pooled rates)
// and of known abuse images (coverage.csv's class rows).
func (r *results) studyLosses() []lossRow {
	var out []lossRow
	if paired := pooledLosses(r.pooled, schema.BaseVariant); len(paired) > 0 {
		for _, l := range paired {
			out = append(out, lossRow{"harmful items caught", l})
		}
	} else if h, ok := headlineOf(r.sens, r.operatingPoint()); ok {
		for _, l := range lossesVersus(h.items, serverscan.Name) {
			out = append(out, lossRow{"harmful items caught", l})
		}
	}
	var known []modeRate
	for _, m := range covModes(r.cov) {
		if rt, ok := coverageRate(r.cov, m, corpus.ClassKnownImage, schema.AnyPathway); ok && rt.n > 0 {
			known = append(known, modeRate{m, rt})
		}
	}
	for _, l := range lossesVersus(known, serverscan.Name) {
		out = append(out, lossRow{"known abuse images caught", l})
	}
	return out
}

// pooledLosses returns the losses coverage/pooled.csv gives for one
// configuration, with their paired intervals.
func pooledLosses(rows []schema.PooledRow, v schema.Variant) []loss {
	var out []loss
	for _, p := range rows {
		if p.Variant == v && !math.IsNaN(p.Loss) {
			out = append(out, loss{mode: p.Mode, ref: serverscan.Name, est: p.Loss, lo: p.LossLo, hi: p.LossHi, paired: true})
		}
	}
	return out
}

// String formats a loss with its interval, "85% (95% CI 77–90%)", or its
// range, "85% (range 70–100%)".
func (l loss) String() string {
	if l.paired {
		return fmt.Sprintf("%s (95%% CI %s to %s)", signedPct(l.est), signedPct(l.lo), signedPct(l.hi))
	}
	lo := "unbounded"
	if !math.IsInf(l.lo, -1) {
		lo = signedPct(l.lo)
		lo = lo[:len(lo)-1]
	}
	return fmt.Sprintf("%s (range %s to %s)", signedPct(l.est), lo, signedPct(l.hi))
}

// signedPct formats a fraction that may be negative as a percentage:
// −0.2 → "−20%".
func signedPct(v float64) string {
	if v < 0 {
		return "−" + pct(-v)
	}
	return pct(v)
}

// writeObserved compares the study's loss under end-to-end encryption with
// the observed and estimated figures, and says why they differ.
func (r *results) writeObserved(d *doc) {
	losses := r.studyLosses()
	if len(losses) == 0 {
		return
	}
	d.h(3, "Compared with what was observed")
	how := "Its interval comes from a bootstrap that resamples the same offenders for both designs (`coverage/pooled.csv`), so it reflects that the two saw the same people."
	if !slices.ContainsFunc(losses, func(l lossRow) bool { return l.l.paired }) {
		how = "The range combines the ends of the two 95% intervals (the least and the most the design could have lost), so it is wider than a 95% interval of the ratio."
	} else if slices.ContainsFunc(losses, func(l lossRow) bool { return !l.l.paired }) {
		how += " Rows marked as a range combine the ends of the two designs' own intervals, which is wider than a paired interval."
	}
	d.p("The closest like-for-like figure this study gives is the share of what server-side scanning caught that another design does not: 1 − (its rate ÷ server-side scanning's), on the same items. %s", how)
	if s := lossSentence(losses); s != "" {
		d.find(s, "the study's synthetic population and offender model against real providers' reports; see the reasons they differ below.")
		d.p("%s", s)
	}
	var rows [][]string
	for _, l := range losses {
		rows = append(rows, []string{"this study: " + l.measure + " that " + modeName(l.l.mode) + " lost relative to " + modeName(l.l.ref), l.l.String(), "model", "this report"})
	}
	for _, f := range observedFigures {
		rows = append(rows, []string{f.what, f.value, f.kind, f.source})
	}
	d.table([]string{"figure", "value", "kind", "source"}, rows)
	d.p("**Why the figures differ.**")
	d.list(r.whyDifferent())
}

// lossSentence states the study's losses beside the NCA's estimate and
// NCMEC's observation; designs with the same losses share one clause.
func lossSentence(losses []lossRow) string {
	type clause struct {
		modes []string
		text  string
	}
	var cs []clause
	for _, m := range distinct(mapSlice(losses, func(l lossRow) string { return l.l.mode })) {
		var of []string
		for _, l := range losses {
			if l.l.mode == m {
				of = append(of, fmt.Sprintf("%s fewer %s", l.l, strings.TrimSuffix(l.measure, " caught")))
				if len(of) == 1 {
					of[0] += " than " + modeName(l.l.ref)
				}
			}
		}
		text := andList(of)
		if i := slices.IndexFunc(cs, func(c clause) bool { return c.text == text }); i >= 0 {
			cs[i].modes = append(cs[i].modes, m)
			continue
		}
		cs = append(cs, clause{[]string{m}, text})
	}
	parts := mapStrings(cs, func(c clause) string {
		if len(c.modes) > 1 {
			return andList(modeNames(c.modes)) + " each caught " + c.text
		}
		return modeName(c.modes[0]) + " caught " + c.text
	})
	return fmt.Sprintf("%s. The UK National Crime Agency estimated that default end-to-end encryption would lose %s (Facebook) and %s (Instagram) of the reports it receives; "+
		"NCMEC counted %s incidents from Meta in the year Messenger's encryption became the default (all providers: %s).",
		upperFirst(strings.Join(parts, "; ")), ncaFacebook.value, ncaInstagram.value, metaDrop.value, ncmecTotal.value)
}

// whyDifferent lists the reasons the study's figure and the observed ones
// measure different things.
func (r *results) whyDifferent() []string {
	pop, share := "a synthetic population", "a few percent"
	if u, ok := r.manifestResult("coverage", "users"); ok {
		pop = fmt.Sprintf("a synthetic population of %s accounts", count(u))
	}
	if v, ok := r.manifestResult("coverage", "offender_share"); ok {
		share = pct(v)
	}
	return []string{
		"**Different populations.** The study has " + pop + " with offenders over-sampled to " + share + " of adults and four archetypes whose parameters are mostly assumptions; Meta's figures cover billions of real accounts and every one of its services, not only the conversations that became encrypted.",
		"**Different pathways.** Reports to NCMEC come mostly from matching images against lists on unencrypted surfaces, and from user reports; here the encrypted designs keep the behaviour-signal flags (credited only after the flag, and only as prevention) and verified user reports, and the server's hash matching and text classifier are what they lose.",
		"**Estimates against observations.** The NCA's 92% and 85% are forecasts; NCMEC's fall is an observation over a year in which other things changed too (other providers fell by 20% or more, partly from bundling related reports), so not all of it is due to encryption.",
		"**Reports against items.** NCMEC counts reports and incidents (one may bundle many images or one account); the study counts harmful items caught, and one flagged account can account for many of them.",
		"**Synthetic workload.** Images and texts are generated, the text classifier was written with the workload's templates in view, and the rules with two of the four archetypes in mind; each pushes the study's figures in its own direction, and none is calibrated against real traffic.",
	}
}
