package report

import (
	"math"
	"slices"
	"strings"

	"scanlab/observe"
	"scanlab/platform"
	"scanlab/schema"
)

// Findings over platforms/platforms.csv and platforms-timings.csv: pure
// functions of the typed rows and the published one-word table (package
// platform, the one outside input of this section).

// platformCell names one value of platforms.csv.
type platformCell struct {
	platform, variant, measure string
	party                      observe.Party
}

// platformTable is platforms.csv indexed: the platforms and, per platform,
// the variants in file order (the baseline first), every value, and the
// timings of the baselines.
type platformTable struct {
	platforms []string
	variants  map[string][]string
	cells     map[platformCell]schema.PlatformRow
	timings   []schema.PlatformTimingRow
}

// platformTableOf indexes the rows; false when there are none.
func platformTableOf(rows []schema.PlatformRow, timings []schema.PlatformTimingRow) (platformTable, bool) {
	if len(rows) == 0 {
		return platformTable{}, false
	}
	pt := platformTable{variants: map[string][]string{}, cells: map[platformCell]schema.PlatformRow{}, timings: timings}
	for _, r := range rows {
		if !slices.Contains(pt.platforms, r.Platform) {
			pt.platforms = append(pt.platforms, r.Platform)
		}
		if vs := pt.variants[r.Platform]; !slices.Contains(vs, r.Variant) {
			pt.variants[r.Platform] = append(vs, r.Variant)
		}
		pt.cells[platformCell{r.Platform, r.Variant, r.Measure, r.Party}] = r
	}
	return pt, true
}

// at returns one value.
func (pt platformTable) at(p, variant, measure string, party observe.Party) (schema.PlatformRow, bool) {
	r, ok := pt.cells[platformCell{p, variant, measure, party}]
	return r, ok
}

// base returns a baseline measure without a party.
func (pt platformTable) base(p, measure string) (schema.PlatformRow, bool) {
	return pt.at(p, schema.PlatformVariantBase, measure, "")
}

// recovered is the measure of the share of an item's canaries a party
// recovered.
func recovered(it observe.Item) string { return "recovered-" + string(it) }

// readers returns the parties other than the two ends of the conversation
// that recovered any canary of the item in a variant, in the order of
// observe.Parties.
func (pt platformTable) readers(p, variant string, it observe.Item) []observe.Party {
	var out []observe.Party
	for _, party := range observe.Parties {
		if r, ok := pt.at(p, variant, recovered(it), party); ok && !endpoint(party) && r.Value > 0 {
			out = append(out, party)
		}
	}
	return out
}

// thirdParties counts the parties other than the two ends the file has
// rows for.
func (pt platformTable) thirdParties() int {
	n := 0
	for _, party := range observe.Parties {
		if endpoint(party) {
			continue
		}
		for c := range pt.cells {
			if c.party == party {
				n++
				break
			}
		}
	}
	return n
}

// timing returns a platform's baseline timing of one kind of message in
// one kind of conversation.
func (pt platformTable) timing(p, conversation, kind string) (schema.PlatformTimingRow, bool) {
	for _, t := range pt.timings {
		if t.Platform == p && t.Conversation == conversation && t.Kind == kind {
			return t, true
		}
	}
	return schema.PlatformTimingRow{}, false
}

// conversations returns the kinds of conversation a platform's baseline
// has bytes for, in schema order.
func (pt platformTable) conversations(p string) []string {
	var out []string
	for _, c := range schema.PlatformConversations {
		if _, ok := pt.base(p, schema.WireBytesMeasure("text", c)); ok {
			out = append(out, c)
		}
	}
	return out
}

// platformSweep is one field or assumption moved one value at a time: its
// variants in file order. A regular sweep is read with the baseline; the
// scanning-on sweep of the opt-in factor has its own points and no
// baseline among them.
type platformSweep struct {
	field      string
	assumption bool
	scanOn     bool
	variants   []string
	values     []string
}

// name is how the report names the sweep.
func (s platformSweep) name() string {
	if s.scanOn {
		return s.field + ", scanning on"
	}
	return s.field
}

// sweeps returns a platform's sweeps in file order.
func (pt platformTable) sweeps(p string) []platformSweep {
	var out []platformSweep
	for _, v := range pt.variants[p] {
		if v == schema.PlatformVariantBase {
			continue
		}
		label, scanOn := strings.CutSuffix(v, schema.VariantScanOn)
		field, value, _ := strings.Cut(label, "=")
		i := slices.IndexFunc(out, func(s platformSweep) bool { return s.field == field && s.scanOn == scanOn })
		if i < 0 {
			out = append(out, platformSweep{field: field, scanOn: scanOn,
				assumption: field == schema.AssumeDMKeep || field == schema.AssumeOffenderFactor})
			i = len(out) - 1
		}
		out[i].variants = append(out[i].variants, v)
		out[i].values = append(out[i].values, value)
	}
	return out
}

// span is how far one measure moves across a sweep: its least and its
// greatest value, with the variants that hold them.
type span struct {
	lo, hi           schema.PlatformRow
	measured, points int // variants with a value, of all points
}

// moves reports whether the measure moved at all.
func (s span) moves() bool { return s.hi.Value > s.lo.Value }

// span returns how far a measure (of a party, or "") moves across a sweep.
func (pt platformTable) span(p string, s platformSweep, measure string, party observe.Party) span {
	variants := s.variants
	if !s.scanOn {
		variants = append([]string{schema.PlatformVariantBase}, variants...)
	}
	var out span
	out.points = len(variants)
	for _, v := range variants {
		r, ok := pt.at(p, v, measure, party)
		if !ok {
			continue
		}
		if out.measured == 0 || r.Value < out.lo.Value {
			out.lo = r
		}
		if out.measured == 0 || r.Value > out.hi.Value {
			out.hi = r
		}
		out.measured++
	}
	return out
}

// widestDocumented returns, among a platform's sweeps of undocumented
// fields (assumption false) or of the study's assumptions (true), the one
// over which a measure moves most, and that span; false when none moves
// it.
func (pt platformTable) widestDocumented(p, measure string, assumption bool) (platformSweep, span, bool) {
	var best platformSweep
	var bs span
	found := false
	for _, s := range pt.sweeps(p) {
		if s.assumption != assumption {
			continue
		}
		sp := pt.span(p, s, measure, "")
		if sp.measured > 1 && sp.moves() && (!found || sp.hi.Value-sp.lo.Value > bs.hi.Value-bs.lo.Value) {
			best, bs, found = s, sp, true
		}
	}
	return best, bs, found
}

// published returns the published one-word row of a platform, by the
// name its built-in preset gives it.
func published(name string) (platform.PublishedRow, bool) {
	for _, row := range platform.Published {
		if p, err := platform.Builtin(row.Slug); err == nil && p.Name == name {
			return row, true
		}
	}
	return platform.PublishedRow{}, false
}

// byWord groups the platforms by the published table's encryption word,
// in the order the words first appear.
func (pt platformTable) byWord() (words []string, members map[string][]string) {
	members = map[string][]string{}
	for _, p := range pt.platforms {
		row, ok := published(p)
		if !ok {
			continue
		}
		if _, seen := members[row.E2EE]; !seen {
			words = append(words, row.E2EE)
		}
		members[row.E2EE] = append(members[row.E2EE], p)
	}
	return words, members
}

// extremes returns, among platforms, the baseline rows with the least and
// the greatest value of a measure; false when fewer than two have one.
func (pt platformTable) extremes(platforms []string, measure string) (lo, hi schema.PlatformRow, ok bool) {
	n := 0
	for _, p := range platforms {
		r, found := pt.base(p, measure)
		if !found {
			continue
		}
		if n == 0 || r.Value < lo.Value {
			lo = r
		}
		if n == 0 || r.Value > hi.Value {
			hi = r
		}
		n++
	}
	return lo, hi, n >= 2
}

// apart reports whether two rows' 95% intervals do not overlap.
func apart(a, b schema.PlatformRow) bool {
	return !math.IsNaN(a.Lo) && !math.IsNaN(b.Lo) && (a.Hi < b.Lo || b.Hi < a.Lo)
}
