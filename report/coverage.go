package report

import (
	"fmt"
	"image/color"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab"
	"scanlab/behavior"
	"scanlab/corpus"
	"scanlab/schema"
	"scanlab/serverscan"
)

// coverageAssumption is what the coverage findings rest on.
const coverageAssumption = "a synthetic population whose offenders (over-sampled to 5% of adults) follow the study's four archetypes at stealth 0, most of whose parameters are assumptions; " +
	"synthetic images and texts; honest, always-verified reports; intervals from a bootstrap over sender accounts."

// pathwayColour gives each detection pathway the same colour in every plot;
// "any" is grey so that it reads as a total.
func pathwayColour(pw scanlab.Pathway) color.Color {
	if pw == schema.AnyPathway {
		return color.Gray{0x70}
	}
	return seriesColour(slices.Index(scanlab.Pathways, pw))
}

// manifestResult returns a number an experiment's manifest records among
// its results.
func (r *results) manifestResult(experiment, key string) (float64, bool) {
	for _, m := range r.manifests {
		if m.Experiment == experiment {
			v, ok := m.Results[key].(float64)
			return v, ok
		}
	}
	return 0, false
}

// operatingPoint is the metadata detector's threshold in the coverage run:
// the manifest's, or the calibrated one when the manifest is absent.
func (r *results) operatingPoint() float64 {
	if v, ok := r.manifestResult("coverage", "detector_threshold"); ok {
		return v
	}
	return behavior.CalibratedThreshold
}

func (r *results) writeCoverage(d *doc) error {
	d.h(2, "What gets detected")
	if r.cov == nil {
		d.skipped(schema.Coverage.Path)
		return nil
	}
	d.p("%s", r.coverageIntro())
	d.p("%s", r.metadataExplained())
	r.writeHeadline(d)
	r.writeClasses(d)
	r.writeFlagOutcomes(d)
	r.writeAccounts(d)
	r.writeSensitivity(d)
	r.writePSI(d)
	r.writePrevention(d)
	r.writeTexts(d)
	r.writeSweeps(d)
	r.writeObserved(d)
	return nil
}

// coverageIntro says what the experiment did and how its intervals were
// computed.
func (r *results) coverageIntro() string {
	pop := "a synthetic population"
	users, ok1 := r.manifestResult("coverage", "users")
	days, ok2 := r.manifestResult("coverage", "days")
	share, ok3 := r.manifestResult("coverage", "offender_share")
	if ok1 && ok2 {
		pop = fmt.Sprintf("a synthetic population of %s accounts over %s days", count(users), count(days))
	}
	sample := ""
	if ok3 {
		sample = fmt.Sprintf("Offenders are over-sampled to %s of adults so that per-offender rates rest on enough accounts: the rates are per account and per item, not prevalence. ", pct(share))
	}
	return fmt.Sprintf("The coverage experiment generates %s and sends every message whose content some pathway can judge through each design's real devices and server logic (`%s`). %s"+
		"It counts, per content class and detection pathway, the share of delivered harmful items caught; for harmless classes that share is a false-alarm rate over harmless senders. "+
		"*Any pathway* counts an item once if at least one pathway caught it. "+
		"Every interval is 95%% and comes from the result files: for items, a bootstrap over sender accounts (the items of one account are not independent), "+
		"or Clopper–Pearson over items where a rate is 0 or 1; for accounts, Clopper–Pearson over accounts. "+
		"The files write item intervals with four decimals, too few for false-alarm rates of a few in a hundred thousand; such an interval is shown as the widest the rounding allows (\"within 0.005–0.015%%\"). "+
		"Tables give items, distinct pieces of content and sender accounts beside each rate.",
		pop, schema.Coverage.Path, sample)
}

// metadataExplained says in plain words what the behaviour-signals
// detector is and what its flag leads to in each design of the run.
func (r *results) metadataExplained() string {
	return fmt.Sprintf("**What %s are.** In every design the provider sees who messages whom and when, how old each account is, which accounts are connected, the ages users declared, and user reports; never content. "+
		"The study's detector adds points to an adult account that first-contacts several minors it is not connected to, far from them in the social graph, in bursts, from a new account, or that draws reports, "+
		"and flags the account when its score reaches a threshold: %s points here, chosen on populations generated for the calibration alone (own seeds and settings) as the lowest score that flags at most %s of benign adults. "+
		"**What a flag leads to** depends on the design. %sItems an account sent before its first flag are never credited to the detector.",
		pathwayName(scanlab.ServerMetadata), trimFloat(r.operatingPoint(), 3), pct(behavior.CalibrationTarget), flagConsequences(covModes(r.cov)))
}

// flagConsequences says what a flag leads to in each of the given designs.
func flagConsequences(modes []string) string {
	var s string
	if slices.Contains(modes, serverscan.Name) {
		s += "With server-side scanning a reviewer reads the flagged account's stored messages: its harmful items delivered from the flag on count as *content confirmed*. "
	}
	var sealed []string
	for _, m := range modes {
		if m != serverscan.Name {
			sealed = append(sealed, modeName(m))
		}
	}
	if len(sealed) > 0 {
		s += fmt.Sprintf("With %s the provider still cannot read them; it restricts the account's contact with minors, so its later harmful items to minors count as *prevented after flag*, "+
			"and those to adults as *flagged, content unseen*, which is not counted as caught. ", orList(sealed))
	}
	return s
}

// writeHeadline states the conditional headline: what each design caught
// at the detector's operating point, and the benign adults it flagged.
func (r *results) writeHeadline(d *doc) {
	h, ok := headlineOf(r.sens, r.operatingPoint())
	if !ok {
		return
	}
	s := headlineSentence(h)
	d.find(s, coverageAssumption)
	d.p("%s", s)
	if o := offenderSentence(h); o != "" {
		d.find(o, coverageAssumption+" An offender counts as flagged when the metadata detector or a content scanner flagged the account.")
		d.p("%s", o)
	}
}

// headlineSentence is the main finding, conditional on the detector's
// operating point and carrying each design's interval.
func headlineSentence(h headline) string {
	cond := fmt.Sprintf("With the behaviour-signals detector at its calibrated threshold (%s points, set on its own calibration populations to flag at most %s of benign adults; measured here: %s)",
		trimFloat(h.threshold, 3), pct(behavior.CalibrationTarget), falseFlagClause(h.falseFlags))
	rs := rates(h.items)
	n := count(float64(rs[0].n))
	if len(h.items) == 1 {
		return fmt.Sprintf("%s, %s caught %s of the %s harmful items delivered.", cond, modeName(h.items[0].mode), rs[0].short(), n)
	}
	if sameRates(rs) {
		return fmt.Sprintf("%s, every design caught the same share of the %s harmful items delivered: %s.", cond, n, rs[0].short())
	}
	rest := mapStrings(h.items[1:], func(m modeRate) string { return modeName(m.mode) + " " + m.r.short() })
	return fmt.Sprintf("%s, %s caught %s of the %s harmful items that %s offender accounts delivered (the same items in every design), %s.",
		cond, modeName(h.items[0].mode), rs[0].short(), n, offenderCount(h), andList(rest))
}

// offenderCount is the number of offender accounts behind the headline.
func offenderCount(h headline) string {
	if len(h.offenders) == 0 {
		return "?"
	}
	return count(float64(h.offenders[0].r.n))
}

// falseFlagClause states the benign adults flagged at the operating point,
// once when every design flagged the same number.
func falseFlagClause(ff []modeRate) string {
	flagged := func(r rate) string {
		return fmt.Sprintf("%s of %s benign adults flagged, 95%% upper bound %s", count(float64(r.k)), count(float64(r.n)), pct(r.hi))
	}
	if sameRates(rates(ff)) {
		return flagged(ff[0].r)
	}
	return andList(mapStrings(ff, func(m modeRate) string { return flagged(m.r) + " in " + modeName(m.mode) }))
}

// offenderSentence states the share of offender accounts flagged.
func offenderSentence(h headline) string {
	rs := rates(h.offenders)
	if len(rs) == 0 || rs[0].n == 0 {
		return ""
	}
	if len(rs) == 1 {
		return fmt.Sprintf("At the same threshold, %s flagged %s of offender accounts.", modeName(h.offenders[0].mode), rs[0])
	}
	if sameRates(rs) {
		return fmt.Sprintf("At the same threshold, every design flagged the same share of offender accounts: %s.", rs[0])
	}
	return "At the same threshold, the offender accounts flagged were " +
		andList(mapStrings(h.offenders, func(m modeRate) string { return m.r.String() + " in " + modeName(m.mode) })) + "."
}

// writeClasses shows detection by class and design, and by pathway in
// each design.
func (r *results) writeClasses(d *doc) {
	d.h(3, "By kind of content")
	modes, classes := covModes(r.cov), covClasses(r.cov)
	sent := r.classSentences()
	d.figure(coverageBars("coverage-any", "How much of each kind of content does each design catch?", classes, modes,
		func(mode string, cl corpus.ContentClass) (rate, bool) {
			return coverageRate(r.cov, mode, cl, schema.AnyPathway)
		},
		modeName, func(i int, m string) color.Color { return modeColour(m, i) }),
		"Share of items caught by any pathway, per content class and design, with 95% intervals from a bootstrap over sender accounts", sent...)
	d.p("Caught by any pathway — share (95%% interval) caught/items:")
	d.table(append([]string{"class \\ design", "items · distinct · senders"}, modeNames(modes)...), r.coverageTable(classes, modes))
	for _, m := range modes {
		r.writeModePathways(d, m, classes)
	}
}

// classSentences returns the per-class sentences for the figure's
// caption.
func (r *results) classSentences() []string {
	var sent []string
	if h, ok := hardestClass(r.cov); ok {
		sent = append(sent, fmt.Sprintf("The hardest harmful class was %s: the best design (%s) caught %s.", className(h.class), modeName(h.mode), h.best))
	}
	if s := r.falseAlarmSentence(); s != "" {
		sent = append(sent, s)
	}
	return sent
}

func (r *results) falseAlarmSentence() string {
	worst, flagged, ok := falseAlarms(r.cov)
	if !ok {
		return ""
	}
	if !flagged {
		return "No design flagged any harmless item; each harmless class's upper bound is in the table."
	}
	return fmt.Sprintf("The highest false-alarm rate on harmless content was %s, for %s in %s.", worst.r, className(worst.class), modeName(worst.mode))
}

func (r *results) coverageTable(classes []corpus.ContentClass, modes []string) [][]string {
	var rows [][]string
	for _, cl := range classes {
		name := className(cl)
		if !cl.Harmful() {
			name += " (false alarms)"
		}
		row := []string{name, "–"}
		if c, ok := coverageRow(r.cov, modes[0], cl, schema.AnyPathway); ok {
			row[1] = fmt.Sprintf("%s · %s · %s", count(float64(c.Items)), count(float64(c.Distinct)), count(float64(c.Senders)))
		}
		for _, m := range modes {
			rt, ok := coverageRate(r.cov, m, cl, schema.AnyPathway)
			if !ok {
				row = append(row, "–")
				continue
			}
			row = append(row, rt.cell())
		}
		rows = append(rows, row)
	}
	return rows
}

// writeModePathways shows one design's detections by pathway.
func (r *results) writeModePathways(d *doc, m string, classes []corpus.ContentClass) {
	d.h(4, modeName(m)+", by pathway")
	pathways := modePathways(r.cov, m)
	d.figure(coverageBars("coverage-"+fileName(m), "Which pathway catches what in "+modeName(m)+"?", classes, pathways,
		func(pw scanlab.Pathway, cl corpus.ContentClass) (rate, bool) { return coverageRate(r.cov, m, cl, pw) },
		pathwayName, func(_ int, pw scanlab.Pathway) color.Color { return pathwayColour(pw) }),
		"Share of items each pathway caught in "+modeName(m)+", per content class; pathways that caught nothing in this design are left out, except behaviour signals and user reports, which every design has")
	var rows [][]string
	for _, cl := range classes {
		row := []string{className(cl)}
		for _, pw := range pathways {
			if rt, ok := coverageRate(r.cov, m, cl, pw); ok && rt.n > 0 {
				row = append(row, pct(rt.p())+" ("+rt.interval()+")")
			} else {
				row = append(row, "–")
			}
		}
		rows = append(rows, row)
	}
	d.table(append([]string{"class \\ pathway"}, mapStrings(pathways, pathwayName)...), rows)
}

// alwaysShown are the pathways every design has, shown even when they
// caught nothing, and the total.
var alwaysShown = []scanlab.Pathway{scanlab.ServerMetadata, scanlab.UserReport, schema.AnyPathway}

// modePathways lists the pathways worth a bar in one design: those every
// design has and those that caught at least one item there (the file
// lists every pathway for every design, most of them with nothing).
func modePathways(rows []schema.CoverageRow, m string) []scanlab.Pathway {
	var pws []scanlab.Pathway
	for _, c := range rows {
		if c.Mode == m && !slices.Contains(pws, c.Pathway) && (c.Detected > 0 || slices.Contains(alwaysShown, c.Pathway)) {
			pws = append(pws, c.Pathway)
		}
	}
	return inOrder(pws, schema.Pathways)
}

// writeFlagOutcomes shows what the metadata detector's flags led to in
// each design.
func (r *results) writeFlagOutcomes(d *doc) {
	outs := flagOutcomes(r.cov)
	if !slices.ContainsFunc(outs, func(o flagOutcome) bool { return o.items > 0 }) {
		return
	}
	d.h(3, "What a flag led to")
	d.p("Of the harmful items delivered (summed over the harmful classes), those sent at or after their sender's first flag by %s, and what the flag meant for them. "+
		"Only *content confirmed* and *prevented after flag* count as caught.", pathwayName(scanlab.ServerMetadata))
	var rows [][]string
	for _, o := range outs {
		rows = append(rows, []string{modeName(o.mode), count(float64(o.items)), count(float64(o.items - o.afterFlag)), count(float64(o.afterFlag)),
			count(float64(o.confirmed)), count(float64(o.prevented)), count(float64(o.unseen))})
	}
	d.table([]string{"design", "harmful items", "before any flag, or never flagged", "at or after the flag", "content confirmed", "prevented after flag", "flagged, content unseen"}, rows)
}

// coverageBars draws grouped bars with 95% error bars: one group per
// class, its n under the class name, one bar per series.
func coverageBars[S comparable](name, title string, classes []corpus.ContentClass, series []S,
	get func(S, corpus.ContentClass) (rate, bool), label func(S) string, colour func(int, S) color.Color) figure {
	ticks := make([]string, len(classes))
	for ci, cl := range classes {
		var ns []int
		for _, s := range series {
			if rt, ok := get(s, cl); ok {
				ns = append(ns, rt.n)
			}
		}
		ticks[ci] = wrapWords(className(cl), 14) + "\n" + nLabel(ns)
	}
	return figure{name: name, title: title, w: 10 * vg.Inch, h: 5.5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, "content class (n = items; harmless classes show false alarms)", "share of items caught (95% interval)")
		addGrid(p, false)
		w := 0.8 / float64(len(series))
		for si, s := range series {
			b := &bars{width: w, colour: colour(si, s)}
			for ci, cl := range classes {
				if rt, ok := get(s, cl); ok && rt.n > 0 {
					addRateBar(b, float64(ci)+(float64(si)-float64(len(series)-1)/2)*w, rt)
				}
			}
			if len(b.xs) == 0 {
				continue
			}
			p.Add(b)
			p.Legend.Add(label(s), b)
		}
		p.X.Label.Padding = vg.Points(8)
		drawShareBars(p, c, ticks)
	}}
}

// nLabel says how many items stand behind a group of bars: "n = 48",
// "n = 12–48" when the series differ, "no items" when there are none.
func nLabel(ns []int) string {
	if len(ns) == 0 || slices.Max(ns) == 0 {
		return "no items"
	}
	lo, hi := slices.Min(ns), slices.Max(ns)
	if lo == hi {
		return "n = " + count(float64(lo))
	}
	return "n = " + count(float64(lo)) + "–" + count(float64(hi))
}

// orList joins words as prose with "or": "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return andList(words)
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
