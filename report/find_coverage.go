package report

import (
	"math"
	"slices"

	"scanlab"
	"scanlab/corpus"
	"scanlab/schema"
)

// Findings over the coverage files: pure functions of the typed rows.
// Every interval is the file's own (a bootstrap over sender accounts for
// item rates, Clopper–Pearson for account rates); see interval.go for the
// few the report computes itself.

// rowRate is one coverage row's detections with the file's interval;
// older files without one get an exact interval over items.
func rowRate(c schema.CoverageRow) rate {
	if math.IsNaN(c.RecallLo) || math.IsNaN(c.RecallHi) {
		return exactRate(c.Detected, c.Items)
	}
	return fileRate(c.Detected, c.Items, c.RecallLo, c.RecallHi)
}

// coverageRow returns the row of one mode, class and pathway.
func coverageRow(rows []schema.CoverageRow, mode string, class corpus.ContentClass, pw scanlab.Pathway) (schema.CoverageRow, bool) {
	i := slices.IndexFunc(rows, func(c schema.CoverageRow) bool { return c.Mode == mode && c.Class == class && c.Pathway == pw })
	if i < 0 {
		return schema.CoverageRow{}, false
	}
	return rows[i], true
}

// coverageRate returns detection of one class by one pathway in one mode,
// and whether the file has that row.
func coverageRate(rows []schema.CoverageRow, mode string, class corpus.ContentClass, pw scanlab.Pathway) (rate, bool) {
	c, ok := coverageRow(rows, mode, class, pw)
	if !ok {
		return rate{}, false
	}
	return rowRate(c), true
}

func harmful(c corpus.ContentClass) bool { return c.Harmful() }

// covModes lists the modes of the coverage rows in file order.
func covModes(rows []schema.CoverageRow) []string {
	return distinct(mapSlice(rows, func(c schema.CoverageRow) string { return c.Mode }))
}

// covClasses lists the classes of the coverage rows in the corpus's order.
func covClasses(rows []schema.CoverageRow) []corpus.ContentClass {
	return inOrder(mapSlice(rows, func(c schema.CoverageRow) corpus.ContentClass { return c.Class }), corpus.ContentClasses)
}

// classesWithItems lists the classes keep accepts that have items in
// every mode.
func classesWithItems(rows []schema.CoverageRow, keep func(corpus.ContentClass) bool) []corpus.ContentClass {
	var out []corpus.ContentClass
	for _, cl := range covClasses(rows) {
		if !keep(cl) {
			continue
		}
		ok := true
		for _, m := range covModes(rows) {
			if r, found := coverageRate(rows, m, cl, schema.AnyPathway); !found || r.n == 0 {
				ok = false
			}
		}
		if ok {
			out = append(out, cl)
		}
	}
	return out
}

// hardest is the harmful class whose best design detected the smallest
// share by any pathway.
type hardest struct {
	class corpus.ContentClass
	best  rate   // the best design's rate on it
	mode  string // that design
}

// hardestClass returns the hardest harmful class, considering only classes
// with items; ok is false when fewer than two classes qualify or the best
// rates of all of them are equal, since then no class is hardest.
func hardestClass(rows []schema.CoverageRow) (h hardest, ok bool) {
	classes := classesWithItems(rows, harmful)
	var bests []hardest
	for _, cl := range classes {
		b := hardest{class: cl, best: rate{k: -1, n: 1}}
		for _, m := range covModes(rows) {
			if r, _ := coverageRate(rows, m, cl, schema.AnyPathway); r.p() > b.best.p() {
				b.best, b.mode = r, m
			}
		}
		bests = append(bests, b)
	}
	if len(bests) < 2 {
		return hardest{}, false
	}
	lo, allEqual := bests[0], true
	for _, b := range bests[1:] {
		allEqual = allEqual && b.best.p() == bests[0].best.p()
		if b.best.p() < lo.best.p() {
			lo = b
		}
	}
	if allEqual {
		return hardest{}, false
	}
	return lo, true
}

// worstFalseAlarm is the benign class and mode with the highest share of
// items flagged by any pathway.
type worstFalseAlarm struct {
	class corpus.ContentClass
	mode  string
	r     rate
}

// falseAlarms returns the benign class and mode with the highest share
// flagged, and whether any benign item was flagged at all; ok is false
// when no benign class has items.
func falseAlarms(rows []schema.CoverageRow) (worst worstFalseAlarm, flagged, ok bool) {
	worst.r = rate{k: -1, n: 1}
	for _, c := range rows {
		if c.Pathway != schema.AnyPathway || c.Class.Harmful() || c.Items == 0 {
			continue
		}
		ok = true
		flagged = flagged || c.Detected > 0
		if r := rowRate(c); r.p() > worst.r.p() {
			worst = worstFalseAlarm{c.Class, c.Mode, r}
		}
	}
	return worst, flagged, ok
}

// modeRate is one mode's rate.
type modeRate struct {
	mode string
	r    rate
}

// flagOutcome is what the metadata detector's flags led to in one mode,
// summed over the harmful classes: of the harmful items delivered, how
// many came at or after their sender's first flag, and of those how many a
// reviewer confirmed, the restriction prevented, or went unseen.
type flagOutcome struct {
	mode                                string
	items, confirmed, prevented, unseen int
	afterFlag                           int // confirmed + prevented + unseen
}

// flagOutcomes sums the metadata rows of the harmful classes per mode.
func flagOutcomes(rows []schema.CoverageRow) []flagOutcome {
	var out []flagOutcome
	for _, m := range covModes(rows) {
		o := flagOutcome{mode: m}
		for _, c := range rows {
			if c.Mode == m && c.Pathway == scanlab.ServerMetadata && c.Class.Harmful() {
				o.items += c.Items
				o.confirmed += c.Confirmed
				o.prevented += c.PreventedAfterFlag
				o.unseen += c.FlaggedUnseen
			}
		}
		o.afterFlag = o.confirmed + o.prevented + o.unseen
		out = append(out, o)
	}
	return out
}

// sensKey selects rows of coverage/sensitivity.csv.
type sensKey struct {
	model     string
	stealth   float64
	threshold float64
}

// sensRows returns the rows of one offender model, stealth and threshold,
// at most one per mode, in file order.
func sensRows(rows []schema.SensitivityRow, k sensKey) []schema.SensitivityRow {
	var out []schema.SensitivityRow
	for _, s := range rows {
		if s.OffenderModel == k.model && s.Stealth == k.stealth && s.DetectorThreshold == k.threshold &&
			!slices.ContainsFunc(out, func(o schema.SensitivityRow) bool { return o.Mode == s.Mode }) {
			out = append(out, s)
		}
	}
	return out
}

// Offender models of coverage/sensitivity.csv: every offender, or one
// archetype's.
const allOffenders = "all"

// sensItems is a sensitivity row's harmful item recall with its interval.
func sensItems(s schema.SensitivityRow) rate {
	return fileRate(countOf(s.ItemRecall, s.Items), s.Items, s.ItemRecallLo, s.ItemRecallHi)
}

// sensOffenders is a sensitivity row's offender recall with its interval
// (exact over accounts when an older file lacks one).
func sensOffenders(s schema.SensitivityRow) rate {
	k := countOf(s.OffenderRecall, s.Offenders)
	if math.IsNaN(s.OffenderRecallLo) || math.IsNaN(s.OffenderRecallHi) {
		return exactRate(k, s.Offenders)
	}
	return fileRate(k, s.Offenders, s.OffenderRecallLo, s.OffenderRecallHi)
}

// sensFalseFlags is a sensitivity row's false flags among benign adults:
// the count and the file's 95% upper bound (the file gives no lower end).
func sensFalseFlags(s schema.SensitivityRow) rate {
	return rate{k: countOf(s.FalseFlagRate, s.Innocent), n: s.Innocent, lo: math.NaN(), hi: s.FalseFlagHi}
}

// headline is the study's main finding: at the detector's operating point,
// with offenders as the archetypes describe them, the harmful items and
// offenders each mode caught, and the benign adults flagged.
type headline struct {
	threshold  float64
	items      []modeRate
	offenders  []modeRate
	falseFlags []modeRate
}

// headlineOf reads the headline from the sensitivity rows of the base
// configuration (stealth 0) at the operating threshold.
func headlineOf(rows []schema.SensitivityRow, threshold float64) (headline, bool) {
	at := sensRows(rows, sensKey{allOffenders, 0, threshold})
	if len(at) == 0 {
		return headline{}, false
	}
	h := headline{threshold: threshold}
	for _, s := range at {
		h.items = append(h.items, modeRate{s.Mode, sensItems(s)})
		h.offenders = append(h.offenders, modeRate{s.Mode, sensOffenders(s)})
		h.falseFlags = append(h.falseFlags, modeRate{s.Mode, sensFalseFlags(s)})
	}
	return h, true
}

// loss is the share of the harmful items a reference mode caught that
// another mode did not: 1 − r/ref. Lo and hi combine the ends of the two
// intervals (the most and least the other mode could have lost), so the
// range is wider than a 95% interval of the ratio would be; the files hold
// no paired interval.
type loss struct {
	mode, ref   string
	est, lo, hi float64
	// paired is true for a 95% interval from a bootstrap that resampled
	// the same offenders for both designs; false for a range built from
	// the ends of the two designs' own intervals.
	paired bool
}

// lossesVersus returns, for every mode other than ref whose rate differs
// from ref's, its loss relative to ref; nothing when ref caught nothing.
func lossesVersus(items []modeRate, ref string) []loss {
	i := slices.IndexFunc(items, func(m modeRate) bool { return m.mode == ref })
	if i < 0 || items[i].r.k == 0 {
		return nil
	}
	b := items[i].r
	var out []loss
	for _, m := range items {
		if m.mode == ref || sameShown(m.r, b) {
			continue
		}
		l := loss{mode: m.mode, ref: ref, est: 1 - m.r.p()/b.p(), hi: 1 - m.r.lo/b.hi, lo: math.Inf(-1)}
		if b.lo > 0 {
			l.lo = 1 - m.r.hi/b.lo
		}
		out = append(out, l)
	}
	return out
}

// sameRates reports whether every rate has the same k and n.
func sameRates(rs []rate) bool {
	for _, r := range rs {
		if r.k != rs[0].k || r.n != rs[0].n {
			return false
		}
	}
	return true
}

// rates returns the rates of a list of mode rates.
func rates(ms []modeRate) []rate { return mapSlice(ms, func(m modeRate) rate { return m.r }) }
