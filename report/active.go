package report

import (
	"fmt"
	"math"
	"strings"

	"scanlab/observe"
	"scanlab/schema"
)

// activeAssumption is what every finding about the provider acting in bad
// faith rests on.
const activeAssumption = "the provider acts only through its key directory and relay (no malicious app update); each attack starts after a first exchange in every conversation; each defence is measured alone; a notice counts as detection whether or not the user heeds it; which users compare safety numbers is drawn at random."

// writeActive renders visibility/active.csv: what the provider acting in
// bad faith recovered under each defence, and who noticed.
func (r *results) writeActive(d *doc) {
	d.h(3, "A provider acting in bad faith")
	if r.active == nil {
		d.skipped(schema.Active.Path)
		return
	}
	d.p("%s", "The same audit, with the provider turned against its users: after a first exchange in each conversation, its key directory "+
		"either swaps the keys of both sides for its own and re-encrypts every message in the middle, or adds a hidden device of its own to the recipient's account. "+
		"What it recovered is what its own devices really decrypted, found by the same canary search (`"+schema.Active.Path+"`, and the `"+
		string(observe.ProviderActive)+"` rows of `"+schema.Visibility.Path+"`). Each defence is measured alone; a conversation counts as detected when someone's app or audit noticed.")
	for _, s := range r.activeSentences() {
		d.find(s, activeAssumption)
	}
	for _, mode := range distinct(mapSlice(r.active, func(a schema.ActiveRow) string { return a.Mode })) {
		d.p("**%s.**", capitalise(modeName(mode)))
		d.table([]string{"attack", "defence", "key log", "users comparing", "texts recovered", "detected (95% CI)", "noticed by", "first noticed"}, activeTable(r.active, mode))
	}
}

func activeTable(rows []schema.ActiveRow, mode string) [][]string {
	var out [][]string
	for _, a := range rows {
		if a.Mode != mode {
			continue
		}
		share := "–"
		if !math.IsNaN(a.Share) {
			share = pct(a.Share)
		}
		out = append(out, []string{plain(attackTerms, a.Attack), plain(defenceTerms, a.Defence), plain(logTerms, a.Log), share,
			pct(a.Text), activeRate(a).cell(), noticedBy(a), plain(stageTerms, a.When)})
	}
	return out
}

func activeRate(a schema.ActiveRow) rate { return rate{k: a.Detected, n: a.Pairs, lo: a.Lo, hi: a.Hi} }

// noticedBy names who noticed, in words.
func noticedBy(a schema.ActiveRow) string {
	if a.DetectedBy == schema.Nobody {
		return "nobody"
	}
	var who []string
	for _, d := range strings.Split(a.DetectedBy, ";") {
		who = append(who, plain(detectorTerms, observe.Detector(d)))
	}
	return andList(who)
}

// withArticle puts "a" before a singular attack name ("a ghost device").
func withArticle(s string) string {
	if strings.HasSuffix(s, "s") {
		return s
	}
	return "a " + s
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// activeSentences are the findings: what an undefended attack recovered,
// whether the split view escaped key transparency without auditors, and
// how detection grows with the share of users who compare numbers.
func (r *results) activeSentences() []string {
	var out []string
	for _, mode := range distinct(mapSlice(r.active, func(a schema.ActiveRow) string { return a.Mode })) {
		var parts []string
		for _, a := range r.active {
			if a.Mode == mode && a.Defence == observe.NoDefence && a.Attack != observe.NoAttackNeeded {
				parts = append(parts, fmt.Sprintf("recovered %s of message texts with %s and was noticed in %s", pct(a.Text), withArticle(plain(attackTerms, a.Attack)), activeRate(a)))
			}
		}
		if len(parts) > 0 {
			out = append(out, fmt.Sprintf("In %s with no defence, a provider acting in bad faith %s.", modeName(mode), strings.Join(parts, "; ")))
		}
		if s := splitViewSentence(r.active, mode); s != "" {
			out = append(out, s)
		}
		if s := safetySentence(r.active, mode); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// splitViewSentence compares the split view with and without auditors.
func splitViewSentence(rows []schema.ActiveRow, mode string) string {
	var without, with, who []string
	for _, a := range rows {
		if a.Mode != mode || a.Log != observe.SplitView {
			continue
		}
		s := fmt.Sprintf("%s with %s", activeRate(a), withArticle(plain(attackTerms, a.Attack)))
		if a.Defence == observe.KeyTransparencyGossip {
			with, who = append(with, s), append(who, noticedBy(a))
		} else {
			without = append(without, s)
		}
	}
	if len(without) == 0 || len(with) == 0 {
		return ""
	}
	return fmt.Sprintf("In %s, a provider showing the attacked users their own copy of the key log (a split view) was noticed in %s when nobody compared log versions; when auditors compared the versions apps had been shown, in %s (noticed by %s).",
		modeName(mode), andList(without), andList(with), andList(distinct(who)))
}

// safetySentence gives the detection rate by share of users comparing
// safety numbers, per attack.
func safetySentence(rows []schema.ActiveRow, mode string) string {
	var parts []string
	for _, attack := range observe.Attacks {
		var rates []string
		for _, a := range rows {
			if a.Mode == mode && a.Defence == observe.SafetyNumbers && a.Attack == attack {
				rates = append(rates, fmt.Sprintf("%s when %s of users compare", activeRate(a), pct(a.Share)))
			}
		}
		if len(rates) > 0 {
			parts = append(parts, "with "+withArticle(plain(attackTerms, attack))+", "+strings.Join(rates, ", "))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("In %s, comparing safety numbers detects an attack only in the conversations whose users compare: %s.", modeName(mode), strings.Join(parts, "; "))
}
