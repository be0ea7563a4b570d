package report

import (
	"slices"
	"strconv"
	"strings"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/corpus"
	"scanlab/coverage"
	"scanlab/schema"
)

// Findings over the coverage study's account table, sweeps and text sets:
// pure functions of the typed rows.

// accountGroupOrder is the order groups of coverage/accounts.csv are shown
// in: all offenders, each archetype, then the innocent groups.
var accountGroupOrder = append(append([]string{schema.GroupOffender}, mapStrings(corpus.Archetypes, archetypeGroup)...),
	schema.GroupBenignAdult, schema.GroupMinor, schema.GroupLookalike, schema.GroupFramed)

// archetypeGroup is the accounts.csv group of one archetype's offenders.
func archetypeGroup(a corpus.Archetype) string { return schema.GroupOffender + "/" + string(a) }

// innocent reports whether a group of accounts.csv holds innocent accounts,
// whose flags are false flags.
func innocent(group string) bool {
	return group != schema.GroupOffender && !strings.HasPrefix(group, schema.GroupOffender+"/")
}

// accountsIn returns the rows of one configuration.
func accountsIn(rows []schema.AccountsRow, v schema.Variant) []schema.AccountsRow {
	var out []schema.AccountsRow
	for _, a := range rows {
		if a.Variant == v {
			out = append(out, a)
		}
	}
	return out
}

// accountGroups lists the groups of rows in the report's order.
func accountGroups(rows []schema.AccountsRow) []string {
	return inOrder(mapSlice(rows, func(a schema.AccountsRow) string { return a.Group }), accountGroupOrder)
}

// accountRow returns the row of one mode and group.
func accountRow(rows []schema.AccountsRow, mode, group string) (schema.AccountsRow, bool) {
	i := slices.IndexFunc(rows, func(a schema.AccountsRow) bool { return a.Mode == mode && a.Group == group })
	if i < 0 {
		return schema.AccountsRow{}, false
	}
	return rows[i], true
}

// accountRate is the share of a group's accounts flagged, with the file's
// Clopper–Pearson interval.
func accountRate(a schema.AccountsRow) rate {
	return fileRateAt(a.Flagged, a.Accounts, a.FlaggedLo, a.FlaggedHi, sixDecimals)
}

// groupRates returns one group's flagged share per mode, in mode order.
func groupRates(rows []schema.AccountsRow, modes []string, group string) []modeRate {
	var out []modeRate
	for _, m := range modes {
		if a, ok := accountRow(rows, m, group); ok {
			out = append(out, modeRate{m, accountRate(a)})
		}
	}
	return out
}

// falseFlagged splits the innocent groups into those no mode flagged any
// account of (with the largest upper bound over modes) and those some
// mode did.
func falseFlagged(rows []schema.AccountsRow, modes []string) (none []modeRate, some []string) {
	for _, g := range accountGroups(rows) {
		if !innocent(g) {
			continue
		}
		rs := groupRates(rows, modes, g)
		if len(rs) == 0 {
			continue
		}
		if slices.ContainsFunc(rs, func(m modeRate) bool { return m.r.k > 0 }) {
			some = append(some, g)
			continue
		}
		widest := rs[0]
		for _, m := range rs[1:] {
			if m.r.hi > widest.r.hi {
				widest = m
			}
		}
		none = append(none, modeRate{g, widest.r})
	}
	return none, some
}

// policyRow is what one direct-message policy stopped before delivery, in
// the base configuration ("as generated") or a dm-policy cell. The policy
// reads no content, so the stopped shares are the same in every mode; what
// each mode then caught of the delivered items differs.
type policyRow struct {
	policy          string
	harmful, benign rate // stopped of attempted, exact over messages
	// afterFlag is, per mode, the delivered harmful messages the
	// restriction of a flagged account would have stopped; caught those
	// any pathway caught (both of the delivered).
	afterFlag, caught []modeRate
}

// asGenerated names the base configuration's mix of DM settings.
const asGenerated = "as generated"

// policyRows returns the base configuration and every dm-policy cell.
func policyRows(rows []schema.PreventionRow) []policyRow {
	var out []policyRow
	for _, p := range rows {
		name := ""
		switch {
		case p.Variant == schema.BaseVariant:
			name = asGenerated
		case p.Sweep == "dm-policy":
			name = p.Value
		default:
			continue
		}
		i := slices.IndexFunc(out, func(r policyRow) bool { return r.policy == name })
		if i < 0 {
			out = append(out, policyRow{policy: name, harmful: exactRate(p.HarmfulPrevented, p.HarmfulAttempts), benign: exactRate(p.BenignPrevented, p.BenignAttempts)})
			i = len(out) - 1
		}
		out[i].afterFlag = append(out[i].afterFlag, modeRate{p.Mode, exactRate(p.HarmfulPreventedAfterFlag, p.HarmfulDelivered)})
		out[i].caught = append(out[i].caught, modeRate{p.Mode, exactRate(p.HarmfulDetected, p.HarmfulDelivered)})
	}
	return out
}

// psiPoint is on-device matching in one configuration: the period in
// days, clientscan's threshold t, and the share of one class's items the
// device-hash pathway caught.
type psiPoint struct {
	days, t int
	r       rate
}

// psiCell parses a configuration of the sweep into its period and
// threshold: the base (baseDays, clientscan's default t), "threshold=T",
// "duration=Nd" and "duration=Nd;t=T"; ok is false for other cells.
func psiCell(v schema.Variant, baseDays int) (days, t int, ok bool) {
	days, t = baseDays, clientscan.DefaultThreshold
	switch v.Sweep {
	case schema.BaseVariant.Sweep:
		return days, t, true
	case "threshold":
		n, err := strconv.Atoi(v.Value)
		return days, n, err == nil
	case "duration":
		d, rest, _ := strings.Cut(v.Value, ";")
		n, err := strconv.Atoi(strings.TrimSuffix(d, "d"))
		if err != nil || !strings.HasSuffix(d, "d") {
			return 0, 0, false
		}
		if rest == "" {
			return n, t, true
		}
		tv, err := strconv.Atoi(strings.TrimPrefix(rest, "t="))
		return n, tv, err == nil && strings.HasPrefix(rest, "t=")
	}
	return 0, 0, false
}

// psiPoints returns clientscan's device-hash detections of class in every
// configuration psiCell understands, sorted by period and threshold.
func psiPoints(rows []schema.CoverageSweepRow, class corpus.ContentClass, baseDays int) []psiPoint {
	var out []psiPoint
	for _, c := range rows {
		if c.Mode != clientscan.Name || c.Class != class || c.Pathway != scanlab.DeviceHash {
			continue
		}
		days, t, ok := psiCell(c.Variant, baseDays)
		if !ok || slices.ContainsFunc(out, func(p psiPoint) bool { return p.days == days && p.t == t }) {
			continue
		}
		out = append(out, psiPoint{days, t, rowRate(c.CoverageRow)})
	}
	slices.SortFunc(out, func(a, b psiPoint) int {
		if a.days != b.days {
			return a.days - b.days
		}
		return a.t - b.t
	})
	return out
}

// firstCatch returns, for one period, the largest threshold at which
// device-hash caught at least one item, and whether there is one.
func firstCatch(pts []psiPoint, days int) (psiPoint, bool) {
	var best psiPoint
	found := false
	for _, p := range pts {
		if p.days == days && p.r.k > 0 && (!found || p.t > best.t) {
			best, found = p, true
		}
	}
	return best, found
}

// sweepMeasure is what a sweep of the coverage study moves, as one class
// and pathway of coverage-sweeps.csv.
type sweepMeasure struct {
	sweep   string
	class   corpus.ContentClass
	pathway scanlab.Pathway
	// ref is the configuration the sweep's values are compared with.
	ref schema.Variant
}

// sweepMeasures are the sweeps that have no section of their own.
var sweepMeasures = []sweepMeasure{
	{"report-rate", corpus.ClassHarmfulText, scanlab.UserReport, schema.BaseVariant},
	{"report-rate", corpus.ClassNovelImage, scanlab.UserReport, schema.BaseVariant},
	{"modified-clients", corpus.ClassKnownImage, scanlab.DeviceHash, schema.Variant{Sweep: "threshold", Value: "5"}},
	{"psi-match", corpus.ClassKnownImage, scanlab.DeviceHash, schema.Variant{Sweep: "threshold", Value: "5"}},
	{"psi-match", corpus.ClassTransformedImage, scanlab.DeviceHash, schema.Variant{Sweep: "threshold", Value: "5"}},
}

// sweepCell is one configuration's value of a measure in one mode.
type sweepCell struct {
	variant schema.Variant
	mode    string
	r       rate
}

// sweepCells returns the measure in its reference configuration and every
// cell of its sweep, in file order; nothing when the sweep has no cell.
func sweepCells(rows []schema.CoverageSweepRow, m sweepMeasure) []sweepCell {
	var ref, cells []sweepCell
	for _, c := range rows {
		if c.Class != m.class || c.Pathway != m.pathway {
			continue
		}
		cell := sweepCell{c.Variant, c.Mode, rowRate(c.CoverageRow)}
		switch {
		case c.Sweep == m.sweep:
			cells = append(cells, cell)
		case c.Variant == m.ref:
			ref = append(ref, cell)
		}
	}
	if len(cells) == 0 {
		return nil
	}
	modes := distinct(mapSlice(cells, func(c sweepCell) string { return c.mode }))
	ref = slices.DeleteFunc(ref, func(c sweepCell) bool { return !slices.Contains(modes, c.mode) })
	return append(ref, cells...)
}

// textPair is one category of the text scanner's evaluation: the held-out
// phrasings beside the workload's own.
type textPair struct {
	category          string
	heldOut, workload rate
	// heldOutN and workloadN are the templates behind each rate.
	heldOutN, workloadN int
	found               [2]bool
}

// textRate is a texts.csv row's rate with the file's interval over
// templates; where the bootstrap collapsed to a point at 0 or 1 (every
// template alike), the exact interval over templates, the unit that is
// independent, with the flagged count scaled to templates.
func textRate(t schema.TextsRow) rate {
	if t.Lo == t.Hi && (t.Rate == 0 || t.Rate == 1) && t.Items > 0 {
		cp := exactRate(countOf(t.Rate, t.Templates), t.Templates)
		return rate{k: t.Flagged, n: t.Items, lo: cp.lo, hi: cp.hi}
	}
	return fileRate(t.Flagged, t.Items, t.Lo, t.Hi)
}

// textPairs pairs the held-out and workload rows of every category, in
// file order.
func textPairs(rows []schema.TextsRow) []textPair {
	var out []textPair
	for _, t := range rows {
		i := slices.IndexFunc(out, func(p textPair) bool { return p.category == t.Category })
		if i < 0 {
			out = append(out, textPair{category: t.Category})
			i = len(out) - 1
		}
		switch t.Set {
		case coverage.SetHeldOut:
			out[i].heldOut, out[i].heldOutN, out[i].found[0] = textRate(t), t.Templates, true
		case coverage.SetWorkload:
			out[i].workload, out[i].workloadN, out[i].found[1] = textRate(t), t.Templates, true
		}
	}
	return out
}
