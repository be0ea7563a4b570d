package report

import (
	"fmt"

	"scanlab/schema"
)

// writeAccounts shows how many accounts of each kind were flagged in the
// base configuration.
func (r *results) writeAccounts(d *doc) {
	d.h(3, "Accounts flagged")
	if r.accounts == nil {
		d.skipped(schema.Accounts.Path)
		return
	}
	acc := accountsOf(r.accounts, schema.BaseVariant)
	if len(acc) == 0 {
		d.p("*`%s` holds no row of the base configuration.*", schema.Accounts.Path)
		return
	}
	d.p("An account counts as flagged when any pathway flagged it or one of its messages (`%s`, base configuration). "+
		"Framed accounts received a harmless image forged to match the list; look-alike accounts behave like offenders without being ones. Both are innocent.", schema.Accounts.Path)
	offenders := mapSlice(acc, func(a accountRates) rate { return a.offenders })
	if s := perMode("offender accounts flagged", acc, offenders); s != "" {
		d.find(s, "the study's synthetic offender model: how offenders behave decides what behaviour signals and reports can see.")
		d.p("%s", s)
	}
	innocent := mapSlice(acc, func(a accountRates) rate { return a.innocent })
	if s := perMode("innocent accounts flagged", acc, innocent); s != "" {
		d.p("%s", s)
	}
	var rows [][]string
	for _, a := range acc {
		rows = append(rows, []string{modeName(a.mode), a.offenders.cell(), a.innocent.cell(), a.framed.cell(), a.lookalike.cell()})
	}
	d.table([]string{"design", "offenders flagged", "innocent flagged", "framed flagged", "look-alikes flagged"}, rows)
}

// perMode states one rate per design without comparing equal values: one
// clause when every design has the same count.
func perMode(what string, acc []accountRates, rs []rate) string {
	if len(rs) == 0 || rs[0].n == 0 {
		return ""
	}
	if len(rs) == 1 {
		return fmt.Sprintf("In %s, %s: %s.", modeName(acc[0].mode), what, rs[0])
	}
	if sameRates(rs) {
		return fmt.Sprintf("Every design had the same share of %s: %s.", what, rs[0])
	}
	var parts []string
	for i, a := range acc {
		parts = append(parts, fmt.Sprintf("%s in %s", rs[i], modeName(a.mode)))
	}
	return upperFirst(what) + ": " + andList(parts) + "."
}

// writePrevention shows what the recipients' direct-message policies
// stopped before delivery.
func (r *results) writePrevention(d *doc) {
	d.h(3, "Messages stopped before delivery")
	if r.prevention == nil {
		d.skipped(schema.Prevention.Path)
		return
	}
	prev := preventionOf(r.prevention, schema.BaseVariant)
	if len(prev) == 0 {
		d.p("*`%s` holds no row of the base configuration.*", schema.Prevention.Path)
		return
	}
	d.p("The provider enforces each recipient's direct-message policy (for example, only contacts may write to a minor) before any scanning, "+
		"so a message it refuses is prevented rather than detected (`%s`, base configuration).", schema.Prevention.Path)
	harm := mapSlice(prev, func(p prevented) rate { return p.harmful })
	ben := mapSlice(prev, func(p prevented) rate { return p.benign })
	if sameRates(harm) && sameRates(ben) && harm[0].n > 0 {
		s := fmt.Sprintf("Direct-message policies stopped %s of harmful messages before delivery, at the cost of %s of harmless ones, the same in every design because the policy does not read content.", harm[0], ben[0])
		d.find(s, "the study's model of who may message whom (the share of accounts with contact-only policies and of offenders' first contacts).")
		d.p("%s", s)
	}
	var rows [][]string
	for _, p := range prev {
		rows = append(rows, []string{modeName(p.mode), p.harmful.cell(), p.benign.cell(), p.detectedDelivered.cell()})
	}
	d.table([]string{"design", "harmful stopped", "harmless stopped", "delivered harmful detected"}, rows)
}

// writeSweeps shows how pooled harmful detection moves when one assumption
// of the base configuration changes.
func (r *results) writeSweeps(d *doc) {
	d.h(3, "When the assumptions change")
	if r.sweeps == nil {
		d.skipped(schema.CoverageSweeps.Path)
		return
	}
	pts := sweepPoints(r.sweeps)
	if len(pts) == 0 {
		d.p("*`%s` holds the base configuration only.*", schema.CoverageSweeps.Path)
		return
	}
	modes := distinct(mapSlice(pts, func(p sweepPoint) string { return p.mode }))
	variants := distinct(mapSlice(pts, func(p sweepPoint) schema.Variant { return p.variant }))
	d.p("Each row changes one setting of the base configuration and reruns the coverage experiment (`%s`): "+
		"`report-rate` is the share of harmful messages recipients report, `dm-policy` every account's direct-message policy, "+
		"`modified-clients` the share of people whose app skips on-device scanning, `threshold` the number of matches on-device scanning needs before the provider learns of them (t), "+
		"`psi-match` the matching variant. Cells give harmful items detected by any pathway, pooled over classes; base configuration: %s.",
		schema.CoverageSweeps.Path, r.baseCells(modes))
	var rows [][]string
	for _, v := range variants {
		row := []string{"`" + v.Sweep + "`", v.Value}
		for _, m := range modes {
			cell := "–"
			for _, p := range pts {
				if p.variant == v && p.mode == m {
					cell = p.r.cell()
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	d.table(append([]string{"setting", "value"}, modeNames(modes)...), rows)
}

// baseCells states the base configuration's pooled harmful detection per
// mode, for comparison with the sweep.
func (r *results) baseCells(modes []string) string {
	var parts []string
	for _, m := range modes {
		parts = append(parts, pooled(r.cov, m, schema.AnyPathway, harmful).cell()+" in "+modeName(m))
	}
	return andList(parts)
}
