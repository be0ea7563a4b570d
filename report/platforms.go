package report

import (
	"fmt"
	"math"
	"strings"

	"scanlab/observe"
	"scanlab/schema"
)

// platformsHeading is the section's heading.
const platformsHeading = "Platforms: the one-word table, measured"

func (r *results) writePlatforms(d *doc) error {
	d.h(2, platformsHeading)
	pt, ok := platformTableOf(r.platforms, r.platTiming)
	if !ok {
		d.skipped(schema.Platforms.Path)
		return nil
	}
	pop := r.platformsPopulation()
	d.p("A widely read comparison sums up each platform's direct messages in one word for encryption and one for its \"primary focus\". "+
		"Here each platform's design as its own pages and reporters describe it (`presets/`, every fact with its source and the day it was read) runs through scanlab's modes: "+
		"who can read what (planted canaries, the real relay), what it catches and stops of harmful traffic and whom it flags wrongly (%s, the same people for every platform), and what a message costs. "+
		"Fields a platform does not publish are set to a baseline and then swept one at a time ([What each preset rests on](#%s)). "+
		"Shares of harmful items and attempts carry 95%% intervals from a bootstrap over sender accounts, shares of accounts Clopper–Pearson intervals.",
		pop, anchor("What each preset rests on"))
	d.table(pt.comparisonHeader(), pt.comparisonRows())
	d.p("*Published* columns reproduce the one-word table as this project's issue quotes it (each row's encryption word with a page that says the same; focus words other than TikTok's were not found in the sources read). "+
		"*Measured* columns are the baseline of each preset. **Caught** is the share of harmful items delivered that any pathway caught — a scanner, a verified or forwarded report, or a behaviour flag after which the provider read the account's messages or cut its contact with minors. "+
		"**Stopped** is the share of harmful attempts refused by the recipient's direct-message setting or caught. "+
		"After the provider's share of planted texts, (+n) counts the other parties beyond the two people in the conversation that recovered some; [Who recovered what](#%s) names them.", anchor("Who recovered what"))
	d.figure(platformsPlot(pt), "Platforms down, measures across: who reads texts and sees senders, what is caught, stopped and flagged, time and bytes per text",
		"Each cell is the baseline of one preset; shares give their 95% interval underneath. Darker cells hold more: a share of 100%, or the column's largest time or size.")
	d.h(3, "Who recovered what")
	d.table([]string{"platform", itemName(observe.Text), itemName(observe.ReportedText), itemName(observe.SenderID), itemName(observe.ContactGraph)}, pt.readerRows())
	d.h(3, "Where the one-word summary holds and where it misleads")
	d.list(pt.verdicts(d, pop))
	d.h(3, "What each preset rests on")
	r.writeRestsOn(d, pt)
	d.h(3, "What differs from each platform's reality")
	d.list(r.platformDifferences(pt))
	return nil
}

// platformsManifest returns the platforms experiment's manifest.
func (r *results) platformsManifest() (schema.Manifest, bool) {
	for _, m := range r.manifests {
		if m.Experiment == "platforms" {
			return m, true
		}
	}
	return schema.Manifest{}, false
}

// platformsPopulation describes the shared population from the manifest.
func (r *results) platformsPopulation() string {
	m, ok := r.platformsManifest()
	users, ok1 := m.Results["users"].(float64)
	days, ok2 := m.Results["days"].(float64)
	share, ok3 := m.Results["offender_share"].(float64)
	if !ok || !ok1 || !ok2 || !ok3 {
		return "one synthetic population"
	}
	return fmt.Sprintf("one synthetic population of %s accounts over %s days, offenders %s of adults", count(users), count(days), pct(share))
}

// shareCell formats a share with its interval: "87% (78–94%)".
func shareCell(r schema.PlatformRow, ok bool) string {
	if !ok {
		return "–"
	}
	if math.IsNaN(r.Lo) {
		return pct(r.Value)
	}
	return fmt.Sprintf("%s (%s)", pct(r.Value), pctRange(r.Lo, r.Hi))
}

func (pt platformTable) comparisonHeader() []string {
	return []string{"platform", "published: end-to-end encrypted", "published: primary focus", "provider reads texts", "senders seen by",
		"harmful items caught", "harmful attempts stopped", "innocent accounts flagged", "time per text (median)", "bytes per text"}
}

// comparisonRows sets the published words beside the measured baseline.
func (pt platformTable) comparisonRows() [][]string {
	var rows [][]string
	for _, p := range pt.platforms {
		word, focus := "not in the table", "–"
		if pub, ok := published(p); ok {
			word, focus = pub.E2EE, pub.Focus
		}
		row := []string{p, word, focus, pt.textCell(p), pt.seenByCell(p)}
		for _, m := range []string{schema.MeasureHarmfulCaught, schema.MeasureHarmfulStopped, schema.MeasureInnocentFlagged} {
			row = append(row, shareCell(pt.base(p, m)))
		}
		rows = append(rows, append(row, pt.timeCell(p), pt.bytesCell(p)))
	}
	return rows
}

// textCell is the provider's share of planted texts and how many other
// third parties recovered some: "100% (+3)".
func (pt platformTable) textCell(p string) string {
	r, ok := pt.at(p, schema.PlatformVariantBase, recovered(observe.Text), observe.Provider)
	if !ok {
		return "–"
	}
	others := len(pt.readers(p, schema.PlatformVariantBase, observe.Text))
	if r.Value > 0 {
		others--
	}
	if others > 0 {
		return fmt.Sprintf("%s (+%d)", pct(r.Value), others)
	}
	return pct(r.Value)
}

// seenByCell counts the parties beyond the two ends that recovered who
// sent a message: "provider +3", "provider", "no one".
func (pt platformTable) seenByCell(p string) string {
	rs := pt.readers(p, schema.PlatformVariantBase, observe.SenderID)
	switch {
	case len(rs) == 0:
		return "no one"
	case rs[0] == observe.Provider && len(rs) == 1:
		return "provider"
	case rs[0] == observe.Provider:
		return fmt.Sprintf("provider +%d", len(rs)-1)
	}
	return fmt.Sprintf("%d parties", len(rs))
}

// timeCell is the median time from seal to open of a text, per kind of
// conversation the platform has.
func (pt platformTable) timeCell(p string) string {
	return pt.perConversation(p, func(c string) (string, bool) {
		t, ok := pt.timing(p, c, "text")
		return duration(t.P50), ok
	})
}

// bytesCell is the median bytes a text puts on the wire, per kind of
// conversation.
func (pt platformTable) bytesCell(p string) string {
	return pt.perConversation(p, func(c string) (string, bool) {
		r, ok := pt.base(p, schema.WireBytesMeasure("text", c))
		return count(r.Value) + " B", ok
	})
}

// perConversation joins one value per kind of conversation, naming the
// kind when there are two.
func (pt platformTable) perConversation(p string, value func(string) (string, bool)) string {
	cs := pt.conversations(p)
	var parts []string
	for _, c := range cs {
		v, ok := value(c)
		if !ok {
			continue
		}
		if len(cs) > 1 {
			v = c + " " + v
		}
		parts = append(parts, v)
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", ")
}

// readerRows lists, per platform's baseline, the parties beyond the two
// ends that recovered each item, grouped by their share.
func (pt platformTable) readerRows() [][]string {
	var rows [][]string
	for _, p := range pt.platforms {
		row := []string{p}
		for _, it := range []observe.Item{observe.Text, observe.ReportedText, observe.SenderID, observe.ContactGraph} {
			var shares []float64
			byShare := map[float64][]string{}
			for _, party := range pt.readers(p, schema.PlatformVariantBase, it) {
				r, _ := pt.at(p, schema.PlatformVariantBase, recovered(it), party)
				if _, ok := byShare[r.Value]; !ok {
					shares = append(shares, r.Value)
				}
				byShare[r.Value] = append(byShare[r.Value], partyName(party))
			}
			var parts []string
			for _, v := range shares {
				parts = append(parts, andList(byShare[v])+" "+pct(v))
			}
			if len(parts) == 0 {
				parts = []string{"no one"}
			}
			row = append(row, strings.Join(parts, "; "))
		}
		rows = append(rows, row)
	}
	return rows
}
