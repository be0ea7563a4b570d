package report

import (
	"fmt"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab/schema"
)

// groupName names a group of coverage/accounts.csv plainly.
func groupName(g string) string {
	switch g {
	case schema.GroupOffender:
		return "all offenders"
	case schema.GroupBenignAdult:
		return "benign adults"
	case schema.GroupMinor:
		return "minors"
	case schema.GroupLookalike:
		return "look-alikes"
	case schema.GroupFramed:
		return "framed accounts"
	}
	if a, ok := strings.CutPrefix(g, schema.GroupOffender+"/"); ok {
		return archetypeName(a)
	}
	return g
}

// archetypeName names an offender archetype plainly.
func archetypeName(a string) string {
	switch a {
	case "stranger":
		return "opportunistic strangers"
	case "groomer":
		return "slow groomers"
	case "ring":
		return "adult rings trading images"
	case "sextortion":
		return "sextortion bursts"
	case allOffenders:
		return "all offenders"
	}
	return a
}

// writeAccounts shows, per design, how many accounts of each group were
// flagged in the base configuration, and how soon.
func (r *results) writeAccounts(d *doc) {
	d.h(3, "Accounts flagged")
	if r.accounts == nil {
		d.skipped(schema.Accounts.Path)
		return
	}
	acc := accountsIn(r.accounts, schema.BaseVariant)
	if len(acc) == 0 {
		d.p("*`%s` holds no row of the base configuration.*", schema.Accounts.Path)
		return
	}
	modes := distinct(mapSlice(acc, func(a schema.AccountsRow) string { return a.Mode }))
	d.p("An account counts as flagged when an automated pathway flagged it: %s at the operating point, or a content scanner (`%s`, base configuration). "+
		"Offenders are shown in all and by archetype; the other groups are innocent, so any flag among them is a false flag. "+
		"Look-alikes are benign adults with many young contacts (teachers, coaches, parents); framed accounts were sent a harmless image forged to match the list. "+
		"Intervals are Clopper–Pearson over accounts.", pathwayName("server-metadata"), schema.Accounts.Path)
	if s := archetypeSentence(acc, modes); s != "" {
		d.find(s, "the archetypes' parameters, most of them assumptions (Limitations); the rules were written for strangers and sextortion.")
		d.p("%s", s)
	}
	if s := innocentFlagSentence(acc, modes); s != "" {
		d.find(s, "innocent accounts of a synthetic population of this size; a rate below the upper bounds shown cannot be ruled out.")
		d.p("%s", s)
	}
	d.figure(accountBars(acc, modes), "Share of offender accounts flagged, per archetype and design, with 95% Clopper–Pearson intervals")
	var rows [][]string
	for _, g := range accountGroups(acc) {
		row := []string{groupName(g)}
		for _, m := range modes {
			a, ok := accountRow(acc, m, g)
			if !ok {
				row = append(row, "–")
				continue
			}
			row = append(row, accountRate(a).cell())
		}
		rows = append(rows, row)
	}
	d.table(append([]string{"group \\ design"}, modeNames(modes)...), rows)
	d.p("How each design's flags on offenders came about, and how soon (median over flagged accounts: days from the start of the period, and harmful messages the account had sent before its first flag):")
	d.table([]string{"design", "group", "flagged", "by behaviour signals", "by content scanning", "named in a report", "median days to flag", "median harmful messages before"}, flagTiming(acc, modes))
}

// flagTiming gives, per design and offender group, how its flags came
// about and how soon.
func flagTiming(acc []schema.AccountsRow, modes []string) [][]string {
	var rows [][]string
	for _, m := range modes {
		for _, g := range accountGroups(acc) {
			a, ok := accountRow(acc, m, g)
			if !ok || innocent(g) {
				continue
			}
			days, msgs := "–", "–"
			if a.Flagged > 0 {
				days = trimFloat(a.MedianDaysToFlag, 3)
			}
			if a.MedianMessagesToFlag.Valid {
				msgs = count(float64(a.MedianMessagesToFlag.V))
			}
			rows = append(rows, []string{modeName(m), groupName(g), fmt.Sprintf("%d of %d", a.Flagged, a.Accounts),
				count(float64(a.FlaggedMetadata)), count(float64(a.FlaggedContent)), count(float64(a.Reported)), days, msgs})
		}
	}
	return rows
}

// archetypeSentence names, per archetype, the designs' shares of offenders
// flagged, when they differ between designs or archetypes.
func archetypeSentence(acc []schema.AccountsRow, modes []string) string {
	var parts []string
	for _, g := range accountGroups(acc) {
		if g == schema.GroupOffender || innocent(g) {
			continue
		}
		rs := groupRates(acc, modes, g)
		if len(rs) == 0 || rs[0].r.n == 0 {
			continue
		}
		if sameRates(rates(rs)) {
			parts = append(parts, fmt.Sprintf("%s %s in every design", groupName(g), rs[0].r.short()))
			continue
		}
		parts = append(parts, groupName(g)+" "+andList(mapStrings(rs, func(m modeRate) string { return m.r.short() + " in " + modeName(m.mode) })))
	}
	if len(parts) == 0 {
		return ""
	}
	return "By archetype, the share of offenders flagged was: " + strings.Join(parts, "; ") + "."
}

// innocentFlagSentence states the innocent accounts flagged: the groups no
// design flagged, with their widest upper bound, and the others by design.
func innocentFlagSentence(acc []schema.AccountsRow, modes []string) string {
	none, some := falseFlagged(acc, modes)
	var out []string
	if len(none) > 0 {
		parts := mapStrings(none, func(g modeRate) string {
			return fmt.Sprintf("the %s %s (95%% upper bound %s)", count(float64(g.r.n)), groupName(g.mode), pct(g.r.hi))
		})
		out = append(out, "No design flagged any of "+orList(parts)+".")
	}
	for _, g := range some {
		rs := groupRates(acc, modes, g)
		out = append(out, upperFirst(groupName(g))+" flagged: "+andList(mapStrings(rs, func(m modeRate) string { return m.r.String() + " in " + modeName(m.mode) }))+".")
	}
	return strings.Join(out, " ")
}

// accountBars draws the share of offenders flagged per archetype (and in
// all) with one bar per design.
func accountBars(acc []schema.AccountsRow, modes []string) figure {
	var groups []string
	for _, g := range accountGroups(acc) {
		if !innocent(g) {
			groups = append(groups, g)
		}
	}
	title := "Which offenders does each design flag?"
	return figure{name: "coverage-accounts", title: title, w: 10 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, "offender archetype (n = offender accounts)", "offender accounts flagged (95% interval)")
		addGrid(p, false)
		w := 0.8 / float64(len(modes))
		var ticks []string
		for _, g := range groups {
			var ns []int
			for _, m := range modes {
				if a, ok := accountRow(acc, m, g); ok {
					ns = append(ns, a.Accounts)
				}
			}
			ticks = append(ticks, groupName(g)+"\n"+nLabel(ns))
		}
		for mi, m := range modes {
			b := &bars{width: w, colour: modeColour(m, mi)}
			for gi, g := range groups {
				if a, ok := accountRow(acc, m, g); ok {
					addRateBar(b, float64(gi)+(float64(mi)-float64(len(modes)-1)/2)*w, accountRate(a))
				}
			}
			p.Add(b)
			p.Legend.Add(modeName(m), b)
		}
		drawShareBars(p, c, ticks)
	}}
}

// writePrevention shows what the recipients' direct-message policies
// stopped before delivery, as generated and with every account on one
// policy.
func (r *results) writePrevention(d *doc) {
	d.h(3, "Messages stopped before delivery")
	if r.prevention == nil {
		d.skipped(schema.Prevention.Path)
		return
	}
	pol := policyRows(r.prevention)
	if len(pol) == 0 {
		d.p("*`%s` holds neither the base configuration nor a direct-message policy cell.*", schema.Prevention.Path)
		return
	}
	d.p("The provider enforces each recipient's direct-message setting (who may start a conversation with them) before any scanning, in every design, "+
		"so a message it refuses is prevented rather than caught (`%s`). *%s* is the population's own mix of settings; the other rows put every account on one setting. "+
		"The file gives counts of messages and no interval; the intervals here are Clopper–Pearson over messages, which treats the messages of one sender as independent and so are too narrow.",
		schema.Prevention.Path, upperFirst(asGenerated))
	if s := policySentence(pol); s != "" {
		d.find(s, "the study's model of who may message whom: the share of accounts with each setting and how offenders make first contact.")
		d.p("%s", s)
	}
	if len(pol) > 1 {
		d.figure(policyBars(pol), "Share of harmful and of harmless messages each direct-message setting stopped before delivery")
	}
	modes := mapStrings(pol[0].caught, func(m modeRate) string { return m.mode })
	restricts := func(m string) bool {
		return slices.ContainsFunc(pol, func(p policyRow) bool { return rateIn(p.afterFlag, m).k > 0 })
	}
	var rows [][]string
	for _, p := range pol {
		row := []string{policyName(p.policy), p.harmful.cell(), p.benign.cell()}
		for _, m := range modes {
			row = append(row, rateIn(p.caught, m).cell())
			if restricts(m) {
				row = append(row, rateIn(p.afterFlag, m).cell())
			}
		}
		rows = append(rows, row)
	}
	header := []string{"direct-message setting", "harmful stopped", "harmless stopped"}
	for _, m := range modes {
		header = append(header, modeName(m)+": delivered harmful caught")
		if restricts(m) {
			header = append(header, modeName(m)+": of them prevented after flag")
		}
	}
	d.table(header, rows)
	d.p("Delivered harmful messages caught count content confirmed and prevented after flag; a design without a column for prevention after a flag had none in any row.")
}

// policyName names a direct-message setting plainly.
func policyName(p string) string {
	switch p {
	case "everyone":
		return "anyone may write"
	case "friends":
		return "only connections may write"
	case "no-one":
		return "no one may write"
	}
	return p
}

// rateIn returns the rate of one mode, or no data.
func rateIn(ms []modeRate, mode string) rate {
	if i := slices.IndexFunc(ms, func(m modeRate) bool { return m.mode == mode }); i >= 0 {
		return ms[i].r
	}
	return rate{}
}

// policySentence states what the settings as generated stopped, and what
// the strictest and loosest uniform settings would.
func policySentence(pol []policyRow) string {
	base := pol[0]
	if base.policy != asGenerated || base.harmful.n == 0 {
		return ""
	}
	s := fmt.Sprintf("With the population's own direct-message settings, the provider stopped %s of harmful messages before delivery, at the cost of %s of harmless ones, in every design alike because the setting reads no content.",
		base.harmful, base.benign.short())
	var alt []string
	for _, p := range pol[1:] {
		alt = append(alt, fmt.Sprintf("%s when every account's setting is “%s” (harmless: %s)", p.harmful.short(), policyName(p.policy), p.benign.short()))
	}
	if len(alt) > 0 {
		s += " Harmful messages stopped: " + andList(alt) + "."
	}
	return s
}

// policyBars draws, per setting, the harmful and the harmless messages
// stopped.
func policyBars(pol []policyRow) figure {
	title := "How much harm do direct-message settings stop before delivery, and at what cost?"
	return figure{name: "coverage-dm-policy", title: title, w: 10 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, "direct-message setting (n = messages attempted: harmful, harmless)", "messages stopped (95% interval)")
		addGrid(p, false)
		bh, bb := &bars{width: 0.35, colour: oiVermilion}, &bars{width: 0.35, colour: oiSkyBlue}
		var ticks []string
		for i, pl := range pol {
			addRateBar(bh, float64(i)-0.18, pl.harmful)
			addRateBar(bb, float64(i)+0.18, pl.benign)
			ticks = append(ticks, fmt.Sprintf("%s\nn = %s, %s", strings.Replace(policyName(pl.policy), " may", "\nmay", 1), count(float64(pl.harmful.n)), count(float64(pl.benign.n))))
		}
		p.Add(bh, bb)
		p.Legend.Add("harmful messages", bh)
		p.Legend.Add("harmless messages", bb)
		drawShareBars(p, c, ticks)
	}}
}

// writeSweeps shows the sweeps without a section of their own: per sweep,
// the class and pathway it moves, in its reference configuration and in
// each of its cells.
func (r *results) writeSweeps(d *doc) {
	d.h(3, "Other assumptions changed")
	if r.sweeps == nil {
		d.skipped(schema.CoverageSweeps.Path)
		return
	}
	d.p("Each row changes one setting and reruns the study (`%s`): `report-rate` is the share of harmful messages recipients report, "+
		"`modified-clients` the share of people whose app skips on-device scanning, `psi-match` how on-device matching compares fingerprints (exact, or in chunks); "+
		"the last two run at t = 5, where accounts of this workload can cross the threshold, and are compared with `threshold` = 5. "+
		"Each table shows the class and pathway the setting acts on, with the file's intervals.", schema.CoverageSweeps.Path)
	shown := false
	for _, m := range sweepMeasures {
		cells := sweepCells(r.sweeps, m)
		if len(cells) == 0 {
			continue
		}
		shown = true
		modes := distinct(mapSlice(cells, func(c sweepCell) string { return c.mode }))
		variants := distinct(mapSlice(cells, func(c sweepCell) schema.Variant { return c.variant }))
		var rows [][]string
		for _, v := range variants {
			row := []string{"`" + v.Sweep + "` = " + v.Value}
			for _, md := range modes {
				cell := "–"
				for _, c := range cells {
					if c.variant == v && c.mode == md {
						cell = c.r.cell()
					}
				}
				row = append(row, cell)
			}
			rows = append(rows, row)
		}
		d.p("`%s`: %s caught by %s:", m.sweep, className(m.class), pathwayName(m.pathway))
		d.table(append([]string{"setting"}, modeNames(modes)...), rows)
	}
	if !shown {
		d.p("*`%s` holds none of these sweeps.*", schema.CoverageSweeps.Path)
	}
}
