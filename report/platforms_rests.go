package report

import (
	"fmt"
	"strings"

	"scanlab/observe"
	"scanlab/schema"
)

// restsOnMeasure is one column of the "rests on" tables: a measure, of a
// party or none.
type restsOnMeasure struct {
	title   string
	measure string
	party   observe.Party
}

var restsOnMeasures = []restsOnMeasure{
	{"harmful items caught", schema.MeasureHarmfulCaught, ""},
	{"harmful attempts stopped", schema.MeasureHarmfulStopped, ""},
	{"innocent accounts flagged", schema.MeasureInnocentFlagged, ""},
	{"provider reads texts", recovered(observe.Text), observe.Provider},
	{"provider reads reported texts", recovered(observe.ReportedText), observe.Provider},
	{"provider sees senders", recovered(observe.SenderID), observe.Provider},
}

// writeRestsOn lists, per platform, the undocumented fields and the
// study's assumptions, and how far each moves the measured row.
func (r *results) writeRestsOn(d *doc, pt platformTable) {
	d.p("Where a platform publishes nothing on a field, its preset gives the field's plausible range instead of a guess, and the experiment moves the field to each other value of the range, one at a time, every other field at its baseline. "+
		"The study's own assumptions about users are swept the same way: `%s`, the share of accounts that keep the platform's default message setting (%s), and, where some conversations opt in to encryption, `%s`, how many times more often a conversation with an offender opts in than one between other users (%s); "+
		"that factor is swept again with every undocumented scanning field on (`%s`), since who opts in matters for what scanning would have caught. "+
		"A cell gives the least and the greatest value across the field's points, the baseline included (the `%s` sweep has its own points).",
		schema.AssumeDMKeep, r.assumption(schema.AssumeDMKeep), schema.AssumeOffenderFactor, r.assumption(schema.AssumeOffenderFactor),
		strings.TrimPrefix(schema.VariantScanOn, ";"), strings.TrimPrefix(schema.VariantScanOn, ";"))
	for _, p := range pt.platforms {
		sweeps := pt.sweeps(p)
		if len(sweeps) == 0 {
			d.p("**%s**: no variant was run.", p)
			continue
		}
		d.p("**%s**. %s", p, pt.restsOnSummary(p, sweeps))
		header := []string{"field", "moved to"}
		for _, m := range restsOnMeasures {
			header = append(header, m.title)
		}
		var rows [][]string
		for _, s := range sweeps {
			name := "`" + s.name() + "`"
			if s.assumption {
				name += " (study)"
			}
			row := []string{name, strings.Join(s.values, ", ")}
			for _, m := range restsOnMeasures {
				row = append(row, spanCell(pt.span(p, s, m.measure, m.party)))
			}
			rows = append(rows, row)
		}
		d.table(header, rows)
	}
}

// assumption reads how an assumption was swept from the manifest.
func (r *results) assumption(name string) string {
	m, ok := r.platformsManifest()
	if !ok {
		return "see the manifest"
	}
	as, _ := m.Results["assumptions"].(map[string]any)
	if s, ok := as[name].(string); ok {
		return s
	}
	return "see the manifest"
}

// spanCell formats how far a measure moved: "2.4–71%", "no change (0%)",
// "≈ 97%" when it moved less than the rounding shows, or what was not
// measured.
func spanCell(s span) string {
	switch {
	case s.measured == 0:
		return "not measured"
	case s.measured < s.points && !s.moves():
		return fmt.Sprintf("%s (baseline only)", pct(s.lo.Value))
	case !s.moves():
		return fmt.Sprintf("no change (%s)", pct(s.lo.Value))
	case pct(s.lo.Value) == pct(s.hi.Value):
		return "≈ " + pct(s.lo.Value)
	}
	return pctRange(s.lo.Value, s.hi.Value)
}

// restsOnSummary names the undocumented field and the assumption that
// move the platform's items caught most, and the sweeps that move no
// measure.
func (pt platformTable) restsOnSummary(p string, sweeps []platformSweep) string {
	var parts []string
	for _, assumption := range []bool{false, true} {
		what := map[bool]string{false: "Of its undocumented fields", true: "Of the study's assumptions"}[assumption]
		if s, sp, ok := pt.widestDocumented(p, schema.MeasureHarmfulCaught, assumption); ok {
			parts = append(parts, fmt.Sprintf("%s, `%s` moves harmful items caught most: from %s (%s) to %s (%s).",
				what, s.name(), shareCell(sp.lo, true), variantPhrase(sp.lo.Variant), shareCell(sp.hi, true), variantPhrase(sp.hi.Variant)))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "No sweep moves harmful items caught.")
	}
	var still []string
	keys := false
	for _, s := range sweeps {
		moved := false
		for _, m := range restsOnMeasures {
			moved = moved || pt.span(p, s, m.measure, m.party).moves()
		}
		if !moved {
			still = append(still, "`"+s.name()+"`")
			keys = keys || s.field == "safety_numbers" || s.field == "key_transparency"
		}
	}
	if len(still) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s no measure here.", upperFirst(andList(still)), map[bool]string{true: "moves", false: "move"}[len(still) == 1]))
	}
	if keys {
		parts = append(parts, "Key verification decides which active attacks users would detect, which these measures do not include.")
	}
	return strings.Join(parts, " ")
}

// variantPhrase names a variant in prose.
func variantPhrase(v string) string {
	if v == schema.PlatformVariantBase {
		return "baseline"
	}
	return "`" + v + "`"
}

// platformDifferences says what differs between the measured rows and the
// platforms themselves.
func (r *results) platformDifferences(pt platformTable) []string {
	out := []string{
		fmt.Sprintf("**Synthetic people and content.** Every platform is measured on %s, with synthetic texts and images: the same people everywhere, where real platforms differ in who uses them. "+
			"Offenders are over-sampled so that rates rest on enough accounts; the shares are per item, attempt or account, not prevalence.", r.platformsPopulation()),
		"**The study's offender model.** Offenders follow the coverage study's archetypes (package `corpus`), and behaviour flags come from scanlab's metadata detector, calibrated on its own synthetic populations, not any platform's. " +
			"What behaviour signals and reports catch rests on that model more than on anything the platforms publish.",
		"**Designs, not code.** Each row runs scanlab's own modes configured by the preset: the encrypted platforms share one implementation of the Signal protocol, the scanning platforms one server-side scanner (a PDQ hash list and a rule-based text classifier). " +
			"A platform's real classifiers, lists and review are not modelled.",
		"**After a flag** a reviewer reads the flagged account's messages where the provider can read the conversation, and otherwise the account's contact with minors is cut (Meta's stated practice for encrypted messaging), on every platform alike.",
		"**Reports** are honest. A forwarded report counts as catching its message although the provider cannot check it; a report without content flags the account only.",
		fmt.Sprintf("**Message defaults** are kept by a share of accounts (`%s`), the others keeping the setting the population drew for them; message requests count as open to everyone.", schema.AssumeDMKeep),
		"**Key verification** (safety numbers, key transparency) is recorded in the presets but moves nothing here: it matters against a provider that substitutes keys, which these measures do not include.",
		"**Stricter message defaults cost benign contact too** (a minor set to no-one hears from no friend either); the platforms table counts what they refuse of harmful attempts only, and the coverage study's prevention table counts benign messages refused.",
		"**Time and bytes** come from one machine's loopback relay over TLS 1.3: they compare the designs, not the platforms' networks or apps.",
	}
	if pt.anySealed() {
		out = append(out, "**Sealed sender.** scanlab's relay authenticates every connection, so the live provider still sees who sends a sealed message, where Signal's server takes sealed messages over unauthenticated connections; "+
			"what the provider stores holds no sender. The coverage measures follow the stored data: the behaviour detector sees a sealed message only when its recipient reports it.")
	}
	if m, ok := r.platformsManifest(); ok && m.Scale == schema.ScaleQuick {
		out = append(out, "**Quick run.** Only the baselines were audited for who recovers what; the variants' visibility cells say \"baseline only\".")
	}
	return out
}

// anySealed reports whether any run of any platform used sealed sender:
// a baseline whose provider sees senders that law enforcement does not
// get, or a sealed_sender sweep.
func (pt platformTable) anySealed() bool {
	for _, p := range pt.platforms {
		for _, s := range pt.sweeps(p) {
			if s.field == "sealed_sender" {
				return true
			}
		}
		live, ok1 := pt.providerShare(p, observe.SenderID)
		stored, ok2 := pt.at(p, schema.PlatformVariantBase, recovered(observe.SenderID), observe.LawEnforcement)
		if ok1 && ok2 && live > 0 && stored.Value == 0 {
			return true
		}
	}
	return false
}
