package report

import (
	"scanlab"
	"scanlab/corpus"
	"scanlab/schema"
)

// Findings over the coverage files: pure functions of the typed rows.

// coverageRate returns detection of one class by one pathway in one mode,
// and whether the file has that row.
func coverageRate(rows []schema.CoverageRow, mode string, class corpus.ContentClass, pw scanlab.Pathway) (rate, bool) {
	for _, c := range rows {
		if c.Mode == mode && c.Class == class && c.Pathway == pw {
			return newRate(c.Detected, c.Items), true
		}
	}
	return rate{}, false
}

// pooled sums detected and items over the classes keep accepts, for one
// mode and pathway. Classes without items add nothing.
func pooled(rows []schema.CoverageRow, mode string, pw scanlab.Pathway, keep func(corpus.ContentClass) bool) rate {
	var k, n int
	for _, c := range rows {
		if c.Mode == mode && c.Pathway == pw && keep(c.Class) {
			k, n = k+c.Detected, n+c.Items
		}
	}
	return newRate(k, n)
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

// falseAlarms returns the worst benign class and mode, and the benign
// items pooled over every class and mode. ok is false when no benign
// class has items.
func falseAlarms(rows []schema.CoverageRow) (worst worstFalseAlarm, all rate, ok bool) {
	var k, n int
	worst.r = rate{k: -1, n: 1}
	for _, c := range rows {
		if c.Pathway != schema.AnyPathway || c.Class.Harmful() || c.Items == 0 {
			continue
		}
		k, n = k+c.Detected, n+c.Items
		if r := newRate(c.Detected, c.Items); r.p() > worst.r.p() {
			worst = worstFalseAlarm{c.Class, c.Mode, r}
		}
	}
	return worst, newRate(k, n), n > 0
}

// accountRates are one mode's account-level detections in one
// configuration.
type accountRates struct {
	mode                                   string
	offenders, innocent, framed, lookalike rate
}

func accountsOf(rows []schema.AccountsRow, v schema.Variant) []accountRates {
	var out []accountRates
	index := map[string]int{}
	for _, a := range rows {
		if a.Variant != v {
			continue
		}
		i, ok := index[a.Mode]
		if !ok {
			i = len(out)
			index[a.Mode] = i
			out = append(out, accountRates{mode: a.Mode})
		}
		ar := &out[i]
		switch a.Group {
		case schema.GroupOffender:
			ar.offenders = newRate(a.Flagged, a.Accounts)
		case schema.GroupBenignAdult, schema.GroupMinor:
			ar.innocent = newRate(ar.innocent.k+a.Flagged, ar.innocent.n+a.Accounts)
		case schema.GroupFramed:
			ar.framed = newRate(a.Flagged, a.Accounts)
		case schema.GroupLookalike:
			ar.lookalike = newRate(a.Flagged, a.Accounts)
		}
	}
	return out
}

// prevented is what one mode's DM policies stopped in one configuration.
type prevented struct {
	mode                               string
	harmful, benign, detectedDelivered rate
}

func preventionOf(rows []schema.PreventionRow, v schema.Variant) []prevented {
	var out []prevented
	for _, p := range rows {
		if p.Variant != v {
			continue
		}
		out = append(out, prevented{p.Mode, newRate(p.HarmfulPrevented, p.HarmfulAttempts), newRate(p.BenignPrevented, p.BenignAttempts),
			newRate(p.HarmfulDetected, p.HarmfulDelivered)})
	}
	return out
}

// sweepPoint is the pooled harmful detection of one mode in one
// configuration of the sweep.
type sweepPoint struct {
	variant schema.Variant
	mode    string
	r       rate
}

// sweepPoints pools harmful detection by any pathway for every
// configuration other than the base, in file order.
func sweepPoints(rows []schema.CoverageSweepRow) []sweepPoint {
	var out []sweepPoint
	type key struct {
		v schema.Variant
		m string
	}
	var keys []key
	sums := map[key][2]int{}
	for _, c := range rows {
		if c.Variant == schema.BaseVariant || c.Pathway != schema.AnyPathway || !c.Class.Harmful() {
			continue
		}
		k := key{c.Variant, c.Mode}
		if _, ok := sums[k]; !ok {
			keys = append(keys, k)
		}
		s := sums[k]
		sums[k] = [2]int{s[0] + c.Detected, s[1] + c.Items}
	}
	for _, k := range keys {
		out = append(out, sweepPoint{k.v, k.m, newRate(sums[k][0], sums[k][1])})
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
