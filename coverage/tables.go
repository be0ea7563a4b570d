package coverage

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"scanlab"
	"scanlab/corpus"
	"scanlab/schema"
	"scanlab/serverscan"
	"scanlab/stats"
)

// Result is one mode's judgment of one workload, ready to be tabulated.
type Result struct {
	Meta     *Meta
	Judgment *Judgment
	// Key names the configuration, for the bootstrap's random streams.
	Key string
	// Bootstrap draws the intervals of item rates.
	Bootstrap stats.Bootstrap
}

// HarmfulClasses and BenignClasses are the rows of the coverage tables.
var (
	HarmfulClasses = []corpus.ContentClass{corpus.ClassKnownImage, corpus.ClassTransformedImage,
		corpus.ClassEvasiveImage, corpus.ClassNovelImage, corpus.ClassHarmfulText}
	BenignClasses = []corpus.ContentClass{corpus.ClassCollisionImage, corpus.ClassBenignImage, corpus.ClassBenignText}
)

// CoverageRows tabulates, at the operating point, every class and pathway
// (and "any"): items delivered, distinct content, senders, items each
// pathway is credited with and the rate with its interval. For benign
// classes the rate is a false-positive rate over benign senders' messages.
func (r Result) CoverageRows() ([]schema.CoverageRow, error) {
	var rows []schema.CoverageRow
	outcomes := Outcomes(r.Meta, r.Judgment, 0)
	for _, c := range HarmfulClasses {
		var of []Outcome
		for _, o := range outcomes {
			if o.Class == c {
				of = append(of, o)
			}
		}
		for _, p := range schema.Pathways {
			row, err := r.harmfulRow(c, p, of)
			if err != nil {
				return nil, err
			}
			rows = append(rows, row)
		}
	}
	for _, c := range BenignClasses {
		tallies := r.Meta.Benign(r.Judgment, c)
		for _, p := range schema.Pathways {
			row, err := r.benignRow(c, p, tallies)
			if err != nil {
				return nil, err
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// harmfulRow is one harmful class and pathway.
func (r Result) harmfulRow(c corpus.ContentClass, p scanlab.Pathway, of []Outcome) (schema.CoverageRow, error) {
	row := schema.CoverageRow{Mode: r.Judgment.Mode, Class: c, Pathway: p, Items: len(of)}
	credited := func(o Outcome) bool {
		if p == schema.AnyPathway {
			return o.Caught()
		}
		return o.By(p)
	}
	distinct := map[item]bool{}
	bySender := map[scanlab.UserID]*stats.Cluster{}
	sentSoFar := map[scanlab.UserID]int{}
	var toDetection []int
	for _, o := range of {
		distinct[o.item] = true
		cl := bySender[o.From]
		if cl == nil {
			cl = &stats.Cluster{}
			bySender[o.From] = cl
		}
		cl.Den++
		sentSoFar[o.From]++
		if p == scanlab.ServerMetadata || p == schema.AnyPathway {
			switch o.Flag {
			case Confirmed:
				row.Confirmed++
			case PreventedFlag:
				row.PreventedAfterFlag++
			case Unseen:
				row.FlaggedUnseen++
			}
		}
		if !credited(o) {
			continue
		}
		row.Detected++
		if cl.Num == 0 {
			toDetection = append(toDetection, sentSoFar[o.From])
		}
		cl.Num++
	}
	row.Distinct, row.Senders = len(distinct), len(bySender)
	if len(toDetection) > 0 {
		row.MedianToDetection = schema.Some(medianInt(toDetection))
	}
	return row, r.rate(&row, bySender)
}

// benignRow is one benign class and pathway, over benign senders.
func (r Result) benignRow(c corpus.ContentClass, p scanlab.Pathway, tallies []BenignTally) (schema.CoverageRow, error) {
	row := schema.CoverageRow{Mode: r.Judgment.Mode, Class: c, Pathway: p, Distinct: r.Meta.w.pools.Distinct(c)}
	bySender := map[scanlab.UserID]*stats.Cluster{}
	for _, t := range tallies {
		if t.Items == 0 {
			continue
		}
		k := t.Flagged[p]
		if p == schema.AnyPathway {
			k = t.Any
		}
		k = min(k, t.Items)
		row.Items += t.Items
		row.Detected += k
		bySender[t.From] = &stats.Cluster{Num: float64(k), Den: float64(t.Items)}
	}
	row.Senders = len(bySender)
	return row, r.rate(&row, bySender)
}

// rate sets a row's recall and its bootstrap interval over senders.
func (r Result) rate(row *schema.CoverageRow, bySender map[scanlab.UserID]*stats.Cluster) error {
	row.RecallLo, row.RecallHi = math.NaN(), math.NaN()
	if row.Items == 0 {
		return nil
	}
	row.Recall = float64(row.Detected) / float64(row.Items)
	if row.Detected == 0 || row.Detected == row.Items {
		// Resampling cannot move a rate of 0 or 1: the bootstrap
		// interval would be a point. The exact interval over items says
		// how far the rate could be from it.
		iv, err := stats.ClopperPearson(row.Detected, row.Items, stats.Level95)
		row.RecallLo, row.RecallHi = iv.Lo, iv.Hi
		return err
	}
	senders := make([]scanlab.UserID, 0, len(bySender))
	for u := range bySender {
		senders = append(senders, u)
	}
	slices.Sort(senders)
	clusters := make([]stats.Cluster, len(senders))
	for i, u := range senders {
		clusters[i] = *bySender[u]
	}
	key := strings.Join([]string{"coverage", r.Key, row.Mode, string(row.Class), string(row.Pathway)}, "/")
	iv, err := r.Bootstrap.Ratio(key, clusters, stats.Level95)
	if err != nil {
		return err
	}
	row.RecallLo, row.RecallHi = iv.Lo, iv.Hi
	return nil
}

// medianInt returns the median (the lower of the middle two).
func medianInt(v []int) int {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// group is a set of accounts the account table reports on.
type group struct {
	name    string
	members []*corpus.User
}

// groups returns the account table's groups: offenders, per archetype,
// then the innocent groups.
func (r Result) groups() []group {
	pop := r.Meta.w.pop
	framed := r.Meta.framed()
	byName := map[string]*group{}
	var order []string
	add := func(name string, u *corpus.User) {
		g := byName[name]
		if g == nil {
			g = &group{name: name}
			byName[name] = g
			order = append(order, name)
		}
		g.members = append(g.members, u)
	}
	for _, name := range []string{schema.GroupOffender, schema.GroupBenignAdult, schema.GroupMinor, schema.GroupLookalike, schema.GroupFramed} {
		byName[name] = &group{name: name}
		order = append(order, name)
	}
	for i := range pop.Users {
		u := &pop.Users[i]
		switch {
		case u.Offender:
			add(schema.GroupOffender, u)
			add(schema.GroupOffender+"/"+string(u.Archetype), u)
		case u.Minor():
			add(schema.GroupMinor, u)
		default:
			add(schema.GroupBenignAdult, u)
			if u.LookAlike() {
				add(schema.GroupLookalike, u)
			}
		}
		if framed[u.ID] {
			add(schema.GroupFramed, u)
		}
	}
	out := make([]group, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out
}

// framed returns the innocent accounts that sent a collision image.
func (m *Meta) framed() map[scanlab.UserID]bool {
	out := map[scanlab.UserID]bool{}
	for u, counts := range m.benign {
		if counts[corpus.ClassCollisionImage] > 0 {
			out[u] = true
		}
	}
	return out
}

// AccountRows tabulates each group of accounts at the operating point: how
// many an automated pathway flagged (for innocent groups: false flags),
// with Clopper–Pearson intervals, by what, and how soon.
func (r Result) AccountRows() ([]schema.AccountsRow, error) {
	harmfulBefore := r.harmfulSentBefore()
	var rows []schema.AccountsRow
	for _, g := range r.groups() {
		row := schema.AccountsRow{Mode: r.Judgment.Mode, Group: g.name, Accounts: len(g.members)}
		var days []float64
		var msgs []int
		for _, u := range g.members {
			f := r.Meta.Flag(r.Judgment, 0, u.ID)
			if f.Reported {
				row.Reported++
			}
			if !f.Automated {
				continue
			}
			row.Flagged++
			if f.Metadata {
				row.FlaggedMetadata++
			}
			if f.ContentScan {
				row.FlaggedContent++
			}
			days = append(days, dayOf(r.Meta.w.pop.Config.Start, f.At))
			if u.Offender {
				msgs = append(msgs, harmfulBefore(u.ID, f))
			}
		}
		iv, err := stats.ClopperPearson(row.Flagged, row.Accounts, stats.Level95)
		if err != nil {
			return nil, err
		}
		row.FlaggedLo, row.FlaggedHi = iv.Lo, iv.Hi
		row.MedianDaysToFlag = math.NaN()
		if len(days) > 0 {
			sort.Float64s(days)
			row.MedianDaysToFlag = days[(len(days)-1)/2]
		}
		if len(msgs) > 0 {
			row.MedianMessagesToFlag = schema.Some(medianInt(msgs))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// harmfulSentBefore returns a function counting the harmful messages an
// offender had sent (delivered) before its first automated flag.
func (r Result) harmfulSentBefore() func(scanlab.UserID, AccountFlag) int {
	times := map[scanlab.UserID][]int64{}
	for _, a := range r.Meta.attempts {
		if a.Admitted {
			times[a.From] = append(times[a.From], a.At.UnixNano())
		}
	}
	return func(u scanlab.UserID, f AccountFlag) int {
		ts := times[u]
		return sort.Search(len(ts), func(i int) bool { return ts[i] >= f.At.UnixNano() })
	}
}

// Prevention tabulates what the recipients' settings and the restriction
// of flagged accounts stopped; the share of harmful attempts the settings
// refused carries a bootstrap interval over senders.
func (r Result) Prevention() (schema.PreventionRow, error) {
	row := schema.PreventionRow{Mode: r.Judgment.Mode}
	for _, o := range Outcomes(r.Meta, r.Judgment, 0) {
		row.HarmfulDelivered++
		if o.Caught() {
			row.HarmfulDetected++
		}
		if o.Flag == PreventedFlag {
			row.HarmfulPreventedAfterFlag++
		}
	}
	row.HarmfulAttempts = len(r.Meta.attempts)
	row.HarmfulPrevented = row.HarmfulAttempts - row.HarmfulDelivered
	row.BenignAttempts, row.BenignPrevented = r.Meta.BenignPrevention()
	var err error
	_, row.PreventedLo, row.PreventedHi, _, err = r.Refusal()
	return row, err
}

// Refusal returns the share of harmful attempts the recipients'
// direct-message settings refused before any scanner ran, with its 95%
// interval and the attempts it rests on (see [Result.Stopped]). It is the
// same in every mode of one workload.
func (r Result) Refusal() (rate, lo, hi float64, attempts int, err error) {
	return r.attemptRate("refused", "", func(a *Attempt) bool { return !a.Admitted })
}

// Stopped returns the share of harmful attempts that were refused by the
// recipients' settings or, delivered, caught ([Outcome.Caught]) at the
// operating point, with its 95% interval (as item rates: a cluster
// bootstrap over sender accounts, Clopper–Pearson over attempts where the
// share is 0 or 1) and the attempts it rests on.
func (r Result) Stopped() (rate, lo, hi float64, attempts int, err error) {
	caught := map[string]bool{}
	for _, o := range Outcomes(r.Meta, r.Judgment, 0) {
		caught[o.ID] = o.Caught()
	}
	return r.attemptRate("stopped", r.Judgment.Mode, func(a *Attempt) bool { return !a.Admitted || caught[a.ID] })
}

// attemptRate is the share of harmful attempts for which counted is true;
// name and mode key its bootstrap (mode "" for a share the same in every
// mode).
func (r Result) attemptRate(name, mode string, counted func(*Attempt) bool) (rate, lo, hi float64, attempts int, err error) {
	row := schema.CoverageRow{Mode: mode, Class: corpus.ContentClass("harmful-attempt"), Pathway: scanlab.Pathway(name)}
	bySender := map[scanlab.UserID]*stats.Cluster{}
	for i := range r.Meta.attempts {
		a := &r.Meta.attempts[i]
		cl := bySender[a.From]
		if cl == nil {
			cl = &stats.Cluster{}
			bySender[a.From] = cl
		}
		cl.Den++
		row.Items++
		if counted(a) {
			cl.Num++
			row.Detected++
		}
	}
	err = r.rate(&row, bySender)
	return row.Recall, row.RecallLo, row.RecallHi, row.Items, err
}

// SensitivityRows tabulates every detector threshold and offender model
// ("all" and each archetype): offender recall, harmful-item recall with its
// interval, and the false-flag rate among innocent adults (the accounts the
// detector scores) with its upper bound.
func (r Result) SensitivityRows(stealth float64) ([]schema.SensitivityRow, error) {
	pop := r.Meta.w.pop
	var rows []schema.SensitivityRow
	for k, th := range r.Meta.thresholds {
		innocent, falseFlags := 0, 0
		for i := range pop.Users {
			u := &pop.Users[i]
			if u.Offender || u.Minor() {
				continue
			}
			innocent++
			if r.Meta.Flag(r.Judgment, k, u.ID).Automated {
				falseFlags++
			}
		}
		ffIv, err := stats.ClopperPearson(falseFlags, innocent, stats.Level95)
		if err != nil {
			return nil, err
		}
		outcomes := Outcomes(r.Meta, r.Judgment, k)
		for _, model := range r.models() {
			row, err := r.sensitivityRow(k, model, outcomes)
			if err != nil {
				return nil, err
			}
			row.Stealth, row.DetectorThreshold = stealth, th
			row.Innocent, row.FalseFlagRate, row.FalseFlagHi = innocent, ffIv.Estimate, ffIv.Hi
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// models returns "all" and the archetypes present, in table order.
func (r Result) models() []string {
	out := []string{"all"}
	for _, a := range r.Meta.w.pop.Config.Archetypes {
		out = append(out, string(a.Archetype))
	}
	if len(out) == 1 {
		for _, a := range corpus.DefaultArchetypes() {
			out = append(out, string(a.Archetype))
		}
	}
	return out
}

func (r Result) sensitivityRow(k int, model string, outcomes []Outcome) (schema.SensitivityRow, error) {
	row := schema.SensitivityRow{Mode: r.Judgment.Mode, OffenderModel: model}
	in := func(a corpus.Archetype) bool { return model == "all" || string(a) == model }
	pop := r.Meta.w.pop
	for i := range pop.Users {
		u := &pop.Users[i]
		if !u.Offender || !in(u.Archetype) {
			continue
		}
		row.Offenders++
		if r.Meta.Flag(r.Judgment, k, u.ID).Automated {
			row.OffenderRecall++
		}
	}
	offIv, err := stats.ClopperPearson(int(row.OffenderRecall), row.Offenders, stats.Level95)
	if err != nil {
		return row, err
	}
	row.OffenderRecall, row.OffenderRecallLo, row.OffenderRecallHi = offIv.Estimate, offIv.Lo, offIv.Hi
	bySender := map[scanlab.UserID]*stats.Cluster{}
	for _, o := range outcomes {
		if !in(o.Archetype) {
			continue
		}
		row.Items++
		cl := bySender[o.From]
		if cl == nil {
			cl = &stats.Cluster{}
			bySender[o.From] = cl
		}
		cl.Den++
		if o.Caught() {
			cl.Num++
		}
	}
	cov := schema.CoverageRow{Items: row.Items}
	for _, cl := range bySender {
		cov.Detected += int(cl.Num)
	}
	rr := r
	rr.Key = fmt.Sprintf("%s/sensitivity/%v/%s", r.Key, r.Meta.thresholds[k], model)
	if err := rr.rate(&cov, bySender); err != nil {
		return row, err
	}
	row.ItemRecall, row.ItemRecallLo, row.ItemRecallHi = cov.Recall, cov.RecallLo, cov.RecallHi
	if math.IsNaN(row.ItemRecallLo) {
		row.ItemRecallLo, row.ItemRecallHi = 0, 1 // no items: nothing measured
	}
	return row, nil
}

// PooledRows tabulates, for each judged mode, every admitted harmful item
// pooled over classes at the operating point: how many any pathway caught,
// with a bootstrap interval over offenders, and — when serverscan was
// judged on the same workload — the share of serverscan's catch the mode
// lost, 1 − caught ÷ caught by serverscan, with a paired bootstrap interval
// (each resampled offender counts in both designs).
func PooledRows(meta *Meta, js []*Judgment, bs stats.Bootstrap, key string) ([]schema.PooledRow, error) {
	caught := map[string]map[scanlab.UserID]float64{}
	items := map[scanlab.UserID]float64{}
	for _, j := range js {
		c := map[scanlab.UserID]float64{}
		for _, o := range Outcomes(meta, j, 0) {
			if o.Caught() {
				c[o.From]++
			}
		}
		caught[j.Mode] = c
	}
	for _, a := range meta.attempts {
		if a.Admitted {
			items[a.From]++
		}
	}
	senders := make([]scanlab.UserID, 0, len(items))
	for u := range items {
		senders = append(senders, u)
	}
	slices.Sort(senders)
	ref, paired := caught[serverscan.Name]
	var rows []schema.PooledRow
	for _, j := range js {
		row, err := pooledRow(j.Mode, senders, items, caught[j.Mode], ref, paired && j.Mode != serverscan.Name, bs, key)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func pooledRow(mode string, senders []scanlab.UserID, items, caught, ref map[scanlab.UserID]float64, paired bool, bs stats.Bootstrap, key string) (schema.PooledRow, error) {
	row := schema.PooledRow{Mode: mode, Senders: len(senders), Loss: math.NaN(), LossLo: math.NaN(), LossHi: math.NaN()}
	clusters := make([]stats.Cluster, len(senders))
	for i, u := range senders {
		clusters[i] = stats.Cluster{Num: caught[u], Den: items[u], Ref: ref[u]}
		row.Items += int(items[u])
		row.Caught += int(caught[u])
	}
	cov := schema.CoverageRow{Items: row.Items, Detected: row.Caught}
	byID := map[scanlab.UserID]*stats.Cluster{}
	for i, u := range senders {
		byID[u] = &clusters[i]
	}
	r := Result{Key: key + "/pooled", Bootstrap: bs}
	cov.Mode, cov.Class, cov.Pathway = mode, "pooled", schema.AnyPathway
	if err := r.rate(&cov, byID); err != nil {
		return row, err
	}
	row.Rate, row.Lo, row.Hi = cov.Recall, cov.RecallLo, cov.RecallHi
	if math.IsNaN(row.Lo) {
		row.Lo, row.Hi = 0, 1 // no items
	}
	if !paired {
		return row, nil
	}
	loss := func(num, ref, _ float64) (float64, bool) { return 1 - num/ref, ref > 0 }
	iv, err := bs.Paired(strings.Join([]string{"coverage", key, mode, "loss"}, "/"), clusters, stats.Level95, loss)
	if err != nil || iv.NoData {
		return row, err
	}
	row.Loss, row.LossLo, row.LossHi = iv.Estimate, iv.Lo, iv.Hi
	return row, nil
}
