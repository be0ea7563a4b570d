package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"scanlab/observe"
	"scanlab/schema"
)

// verdicts says where the published words hold and where they mislead,
// each with its numbers; the central ones join the findings.
func (pt platformTable) verdicts(d *doc, pop string) []string {
	assumption := "each platform's design as its preset states it, undocumented fields at their baseline; " + pop +
		"; synthetic content; honest reports; the study's offender model."
	var out []string
	for _, v := range []struct {
		text string
		find bool
	}{
		{pt.contentVerdict(), true}, {pt.reportVerdict(), false}, {pt.metadataVerdict(), false},
		{pt.withinWordVerdict(), true}, {pt.focusVerdict(), true}, {pt.optionalVerdict(), false},
		{pt.flaggedVerdict(), false}, {pt.bytesVerdict(), false},
	} {
		if v.text == "" {
			continue
		}
		out = append(out, v.text)
		if v.find {
			d.find(v.text, assumption)
		}
	}
	return out
}

// providerShare is the provider's share of an item's canaries at a
// platform's baseline.
func (pt platformTable) providerShare(p string, it observe.Item) (float64, bool) {
	r, ok := pt.at(p, schema.PlatformVariantBase, recovered(it), observe.Provider)
	return r.Value, ok
}

// sharesOf phrases the provider's share of an item on each platform:
// "0% (Signal, WhatsApp and Messenger)" when equal, else "100% on
// Instagram and 75% on X".
func (pt platformTable) sharesOf(platforms []string, it observe.Item) string {
	var vals []float64
	var names []string
	for _, p := range platforms {
		if v, ok := pt.providerShare(p, it); ok {
			vals, names = append(vals, v), append(names, p)
		}
	}
	if len(vals) == 0 {
		return ""
	}
	if slices.Min(vals) == slices.Max(vals) {
		return fmt.Sprintf("%s (%s)", pct(vals[0]), andList(names))
	}
	parts := make([]string, len(vals))
	for i := range vals {
		parts[i] = pct(vals[i]) + " on " + names[i]
	}
	return andList(parts)
}

// contentVerdict: does the encryption word predict whether the provider
// reads message texts?
func (pt platformTable) contentVerdict() string {
	words, members := pt.byWord()
	if len(words) == 0 {
		return ""
	}
	holds := true
	var parts []string
	for _, w := range words {
		for _, p := range members[w] {
			v, ok := pt.providerShare(p, observe.Text)
			holds = holds && ok && (w != "default" || v == 0) && (w != "not" || v == 1)
		}
		parts = append(parts, fmt.Sprintf("where it says `%s`, %s", w, pt.sharesOf(members[w], observe.Text)))
	}
	lead := "**On content the word holds where it is definite.**"
	if !holds {
		lead = "**On content the word does not always hold.**"
	}
	return fmt.Sprintf("%s The provider recovered this share of the message texts planted in each platform's conversations: %s.", lead, strings.Join(parts, "; "))
}

// reportVerdict: encrypted by default, yet reported texts reach the
// provider.
func (pt platformTable) reportVerdict() string {
	_, members := pt.byWord()
	var reach, not []string
	for _, p := range members["default"] {
		v, ok := pt.providerShare(p, observe.ReportedText)
		switch {
		case !ok:
		case v > 0:
			reach = append(reach, fmt.Sprintf("%s (%s)", p, pct(v)))
		default:
			not = append(not, p)
		}
	}
	if len(reach) == 0 {
		return ""
	}
	s := fmt.Sprintf("**`default` does not mean the provider never reads a message.** A reported text reached it on %s: the recipient's report carries the plaintext (forwarded, or opened by franking)", andList(reach))
	if len(not) > 0 {
		s += fmt.Sprintf("; on %s a report carries none", andList(not))
	}
	return s + "."
}

// metadataVerdict: every provider sees who talks to whom; sealed sender
// keeps senders out of stored data only.
func (pt platformTable) metadataVerdict() string {
	var vals []float64
	for _, p := range pt.platforms {
		if v, ok := pt.providerShare(p, observe.ContactGraph); ok {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 || slices.Min(vals) == 0 {
		return ""
	}
	least := "every planted pair"
	if m := slices.Min(vals); m < 1 {
		least = "at least " + pct(m) + " of the planted pairs"
	}
	s := fmt.Sprintf("**The word is about content, not metadata.** On every platform, encrypted by default or not, the provider recovered who talks to whom (%s).", least)
	var sealed []string
	for _, p := range pt.platforms {
		live, ok1 := pt.providerShare(p, observe.SenderID)
		stored, ok2 := pt.at(p, schema.PlatformVariantBase, recovered(observe.SenderID), observe.LawEnforcement)
		if ok1 && ok2 && live > 0 && stored.Value == 0 {
			sealed = append(sealed, p)
		}
	}
	if len(sealed) > 0 {
		s += fmt.Sprintf(" On %s, sealed sender kept senders out of what the provider stores and can hand over (law enforcement recovered none), "+
			"but scanlab's relay, which authenticates every connection, still saw them; the coverage measures assume a provider that works from what it stores.", andList(sealed))
	}
	return s
}

// withinWordVerdict: the spread of items caught among platforms sharing
// one word, for every word whose extremes are intervals apart.
func (pt platformTable) withinWordVerdict() string {
	words, members := pt.byWord()
	var parts []string
	for _, w := range words {
		lo, hi, ok := pt.extremes(members[w], schema.MeasureHarmfulCaught)
		if ok && apart(lo, hi) {
			parts = append(parts, fmt.Sprintf("among platforms the table calls `%s`, from %s on %s to %s on %s", w, shareCell(lo, true), lo.Platform, shareCell(hi, true), hi.Platform))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("**One word covers different outcomes.** Harmful items caught run, %s, intervals apart: "+
		"what decides it — scanning, what a report carries, sealed sender, the message defaults for minors — is not in the word.", strings.Join(parts, "; and "))
}

// focusVerdict: does the platform whose focus word is safety stop more of
// the harmful attempts than those encrypted by default?
func (pt platformTable) focusVerdict() string {
	_, members := pt.byWord()
	var out []string
	for _, p := range members["not"] {
		pub, _ := published(p)
		own, ok := pt.base(p, schema.MeasureHarmfulStopped)
		caught, ok2 := pt.base(p, schema.MeasureHarmfulCaught)
		_, best, ok3 := pt.extremes(members["default"], schema.MeasureHarmfulStopped)
		if !ok || !ok2 || !ok3 {
			continue
		}
		bestCaught, _ := pt.base(best.Platform, schema.MeasureHarmfulCaught)
		refused, _ := pt.base(best.Platform, schema.MeasureHarmfulRefused)
		s := fmt.Sprintf("%s (focus: %q) catches %s of the harmful items delivered and stops %s of harmful attempts; %s, encrypted by default, catches %s and stops %s",
			p, pub.Focus, shareCell(caught, true), shareCell(own, true), best.Platform, shareCell(bestCaught, true), shareCell(best, true))
		if apart(own, best) && own.Value > best.Value {
			out = append(out, "**The focus word holds on outcomes, as far as the preset is documented.** "+s+", intervals apart"+pt.restsOnUndocumented(p, best)+".")
			continue
		}
		out = append(out, fmt.Sprintf("**The focus word overstates the difference in outcomes.** %s — intervals overlap — mostly by refusing strangers' messages (%s of attempts refused) before anything is read.",
			s, shareCell(refused, true)))
	}
	return strings.Join(out, " ")
}

// restsOnUndocumented says whether a platform's lead in attempts stopped
// over other survives its undocumented fields: the field that brings its
// share down furthest, and to what.
func (pt platformTable) restsOnUndocumented(p string, other schema.PlatformRow) string {
	s, sp, ok := pt.widestDocumented(p, schema.MeasureHarmfulStopped, false)
	if !ok || apart(sp.lo, other) && sp.lo.Value > other.Value {
		return ""
	}
	return fmt.Sprintf(" — but the lead rests on `%s`, which %s does not publish: at %s it stops %s, no more than %s", s.name(), p, variantPhrase(sp.lo.Variant), shareCell(sp.lo, true), other.Platform)
}

// optionalVerdict: what "optional" measures as.
func (pt platformTable) optionalVerdict() string {
	_, members := pt.byWord()
	var parts []string
	for _, p := range members["optional"] {
		v, ok := pt.providerShare(p, observe.Text)
		if !ok {
			continue
		}
		i := slices.IndexFunc(pt.sweeps(p), func(s platformSweep) bool { return s.field == "opt_in_share" && !s.scanOn })
		if i < 0 {
			if v == 1 {
				parts = append(parts, fmt.Sprintf("on %s no conversation opts in in the design read, and the provider recovered %s of texts: the word is out of date", p, pct(v)))
			}
			continue
		}
		sp := pt.span(p, pt.sweeps(p)[i], recovered(observe.Text), observe.Provider)
		parts = append(parts, fmt.Sprintf("on %s the provider recovered %s of texts at the baseline opt-in share, %s to %s across the share's plausible range (the platform publishes none)",
			p, pct(v), pct(sp.lo.Value), pct(sp.hi.Value)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "**`optional` hides how many opt in.** " + upperFirst(strings.Join(parts, "; ")) + "."
}

// flaggedVerdict: innocent accounts flagged, platform by platform.
func (pt platformTable) flaggedVerdict() string {
	var rows []schema.PlatformRow
	for _, p := range pt.platforms {
		if r, ok := pt.base(p, schema.MeasureInnocentFlagged); ok {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return ""
	}
	lo := slices.MinFunc(rows, func(a, b schema.PlatformRow) int { return cmp.Compare(a.Value, b.Value) })
	hi := slices.MaxFunc(rows, func(a, b schema.PlatformRow) int { return cmp.Compare(a.Value, b.Value) })
	if hi.Value == 0 {
		top := slices.MaxFunc(rows, func(a, b schema.PlatformRow) int { return cmp.Compare(a.Hi, b.Hi) })
		return fmt.Sprintf("**Innocent accounts flagged do not separate the platforms here.** No platform flagged any of the %s innocent accounts (benign adults and minors); the largest upper bound is %s.",
			count(float64(top.N)), pct(top.Hi))
	}
	return fmt.Sprintf("**Innocent accounts flagged** run from %s on %s to %s on %s.", shareCell(lo, true), lo.Platform, shareCell(hi, true), hi.Platform)
}

// bytesVerdict: what encryption costs per text on the wire.
func (pt platformTable) bytesVerdict() string {
	var clear, enc []schema.PlatformRow
	for _, p := range pt.platforms {
		if r, ok := pt.base(p, schema.WireBytesMeasure("text", "clear")); ok {
			clear = append(clear, r)
		}
		if r, ok := pt.base(p, schema.WireBytesMeasure("text", "encrypted")); ok {
			enc = append(enc, r)
		}
	}
	if len(clear) == 0 || len(enc) == 0 {
		return ""
	}
	by := func(a, b schema.PlatformRow) int { return cmp.Compare(a.Value, b.Value) }
	cmax, emin, emax := slices.MaxFunc(clear, by), slices.MinFunc(enc, by), slices.MaxFunc(enc, by)
	return fmt.Sprintf("**Cost.** A text in a clear conversation put at most %s bytes on the wire (%s); in an encrypted one %s to %s (%s to %s: padding, the ratchet header, franking, and a sealed-sender box where there is one). Time per text differs by milliseconds on one machine's loopback.",
		count(cmax.Value), cmax.Platform, count(emin.Value), count(emax.Value), emin.Platform, emax.Platform)
}
