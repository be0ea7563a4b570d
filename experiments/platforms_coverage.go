package experiments

import (
	"fmt"
	"slices"
	"strconv"

	"scanlab"
	"scanlab/behavior"
	"scanlab/corpus"
	"scanlab/coverage"
	"scanlab/hybrid"
	"scanlab/modes"
	"scanlab/platform"
	"scanlab/schema"
	"scanlab/stats"
)

// assumptionPoints are the values each of the study's assumptions about
// users (schema.AssumeDMKeep, schema.AssumeOffenderFactor) is swept at for
// every preset, as an undocumented field is, the baseline first: keeping
// the default runs from half the accounts to all (baseline midway; the
// rest have the setting the population drew for them), adverse selection
// from none (1, uniform opt-in) to tenfold.
var assumptionPoints = map[string][]float64{schema.AssumeDMKeep: {0.75, 0.5, 1}, schema.AssumeOffenderFactor: {1, 3, 10}}

// platformCase is one run of a preset: its baseline, one undocumented field
// moved, or one of the study's assumptions moved.
type platformCase struct {
	preset *platform.Preset
	// label is the file's variant: "baseline" or "field=value".
	label string
	run   platform.Run
	// keep and factor are the assumptions' values.
	keep, factor float64
}

// platformCases returns a preset's baseline and its one-at-a-time sweep:
// each undocumented field's other values, then each assumption's.
func platformCases(p *platform.Preset) ([]platformCase, error) {
	vs, err := p.Variants()
	if err != nil {
		return nil, err
	}
	keep, factor := assumptionPoints[schema.AssumeDMKeep][0], assumptionPoints[schema.AssumeOffenderFactor][0]
	base := platformCase{preset: p, label: schema.PlatformVariantBase, run: vs[0].Run, keep: keep, factor: factor}
	out := []platformCase{base}
	for _, v := range vs[1:] {
		out = append(out, platformCase{preset: p, label: variantLabel(v), run: v.Run, keep: keep, factor: factor})
	}
	for _, k := range assumptionPoints[schema.AssumeDMKeep][1:] {
		c := base
		c.label, c.keep = schema.AssumeDMKeep+"="+formatFloat(k), k
		out = append(out, c)
	}
	if base.run.Mode == hybrid.Name {
		out = append(out, factorCases(p, base)...)
	}
	return out, nil
}

// factorCases sweeps the adverse-selection factor of a hybrid platform's
// baseline, then sweeps it again with scanning on where the platform does
// not document its scanning (schema.VariantScanOn): who opts in matters for
// what scanning would have caught, which a platform that scans nothing
// never shows.
func factorCases(p *platform.Preset, base platformCase) []platformCase {
	var out []platformCase
	for _, f := range assumptionPoints[schema.AssumeOffenderFactor][1:] {
		c := base
		c.label, c.factor = schema.AssumeOffenderFactor+"="+formatFloat(f), f
		out = append(out, c)
	}
	scan := base.run.Scan
	scan.Hash = scan.Hash || p.Field(platform.KeyScanHash).State == platform.Undocumented
	scan.Text = scan.Text || p.Field(platform.KeyScanText).State == platform.Undocumented
	if scan == base.run.Scan {
		return out
	}
	for _, f := range assumptionPoints[schema.AssumeOffenderFactor] {
		c := base
		c.label, c.factor, c.run.Scan = schema.AssumeOffenderFactor+"="+formatFloat(f)+schema.VariantScanOn, f, scan
		out = append(out, c)
	}
	return out
}

// platformsWorkload is the synthetic population every platform is measured
// on: the coverage study's (offenders over-sampled at 5% of adults, the
// same detector and content pools as its quick scale), smaller, so that
// every preset and variant fits in a couple of minutes. The presets differ
// in modes and policies, not in people.
func platformsWorkload(o Options) coverage.Config {
	pop := corpus.DefaultPopulationConfig()
	pop.Seed, pop.OffenderShare, pop.Users = o.Seed, 0.05, 3000
	conv := corpus.DefaultConversationConfig()
	conv.Seed, conv.Days = o.Seed, 14
	content := coverage.ContentConfig{Images: 12, Attacks: 2, ListExtra: 2000, Texts: 200}
	switch o.Scale {
	case Quick:
		pop.Users, conv.Days = 1000, 7
	case Full:
		pop.Users, conv.Days = 10_000, 30
		content.Images, content.Attacks = 48, 6
	}
	return coverage.Config{Seed: o.Seed, Population: pop, Conversation: conv, Content: content, Detector: behavior.DefaultConfig()}
}

// metaKey is what of a case the metadata pass depends on: the contact gate
// and which messages are sealed.
type metaKey struct {
	dm     platform.DMDefaults
	keep   float64
	sealed string // "" when nothing is sealed, else the design whose encrypted conversations are
}

// modeKey is what of a case the content pass depends on: the run without
// what no mode reads (the platform's name, DM defaults, key verification)
// and, for hybrid, the adverse-selection factor.
type modeKey struct {
	run    platform.Run
	factor float64
}

func (c platformCase) metaKey() metaKey {
	k := metaKey{dm: c.run.DM, keep: c.keep}
	if c.run.SealedSender {
		m := c.modeKey()
		k.sealed = fmt.Sprintf("%s/%g/%s/%g/%g", m.run.Mode, m.run.EncryptedShare, m.run.OptIn, m.run.PayingShare, m.factor)
	}
	return k
}

func (c platformCase) modeKey() modeKey {
	r := c.run
	r.Platform, r.DM, r.SafetyNumbers, r.KeyTransparency = "", platform.DMDefaults{}, false, false
	k := modeKey{run: r, factor: 1}
	if r.Mode == hybrid.Name {
		k.factor = c.factor
	}
	return k
}

// truth is the ground truth a platform's mode draws its opt-in from.
func (c platformCase) truth(o Options, pop *corpus.Population) platform.Truth {
	return platform.Truth{Offender: func(u scanlab.UserID) bool { return pop.User(u).Offender },
		Minor: func(u scanlab.UserID) bool { return pop.User(u).Minor() }, OffenderFactor: c.factor, Seed: o.Seed}
}

// coverageStats counts the coverage passes run.
type coverageStats struct {
	metadataPasses, judgments int
}

// platformCoverage measures the coverage rows of every case, grouped so
// that cases with the same contact gate and sealing share one metadata pass
// and cases with the same mode one judgment. It returns the rows of case i
// at index i.
func platformCoverage(o Options, cases []platformCase, st *coverageStats) ([][]schema.PlatformRow, error) {
	var order []metaKey
	groups := map[metaKey][]int{}
	for i, c := range cases {
		k := c.metaKey()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	out := make([][]schema.PlatformRow, len(cases))
	for gi, k := range order {
		o.progress("platforms: coverage, population %d of %d", gi+1, len(order))
		if err := coverageGroup(o, cases, groups[k], out, st); err != nil {
			c := cases[groups[k][0]]
			return nil, fmt.Errorf("%s %s: coverage: %w", c.preset.Name, c.label, err)
		}
	}
	return out, nil
}

// coverageGroup runs one metadata pass and one content pass for the cases
// at idx, which share a metaKey, and puts their rows in out.
func coverageGroup(o Options, cases []platformCase, idx []int, out [][]schema.PlatformRow, st *coverageStats) error {
	first := cases[idx[0]]
	cfg := platformsWorkload(o)
	cfg.DMDefaults = &coverage.DMDefaults{Adults: first.run.DM.Adults, Minors: first.run.DM.Minors, Keep: first.keep}
	w, err := coverage.NewWorkload(cfg)
	if err != nil {
		return err
	}
	var sealed func(a, b scanlab.UserID) bool
	if first.run.SealedSender {
		if sealed, err = first.run.Chooser(first.truth(o, w.Population())); err != nil {
			return err
		}
	}
	meta, err := w.MetadataSealed(sealed)
	if err != nil {
		return err
	}
	st.metadataPasses++
	specs, which := judgeSpecs(o, cases, idx)
	js, err := coverage.JudgeAll(meta, specs, coverage.PassOptions{})
	if err != nil {
		return err
	}
	st.judgments += len(js)
	gate := fmt.Sprintf("%s-%s-%g-%t", first.run.DM.Adults, first.run.DM.Minors, first.keep, sealed != nil)
	for _, i := range idx {
		j := js[which[i]]
		res := coverage.Result{Meta: meta, Judgment: j, Key: "platforms/" + gate, Bootstrap: stats.Bootstrap{Seed: o.Seed}}
		if out[i], err = coverageRows(res); err != nil {
			return err
		}
	}
	return nil
}

// judgeSpecs returns one mode per distinct modeKey among the cases at idx,
// and which spec each case uses.
func judgeSpecs(o Options, cases []platformCase, idx []int) ([]coverage.ModeSpec, map[int]int) {
	var specs []coverage.ModeSpec
	seen := map[modeKey]int{}
	which := map[int]int{}
	for _, i := range idx {
		c := cases[i]
		k := c.modeKey()
		n, ok := seen[k]
		if !ok {
			n = len(specs)
			seen[k] = n
			specs = append(specs, coverage.ModeSpec{Name: c.preset.Slug + "/" + c.label,
				Build: func(cfg modes.Config, pop *corpus.Population) (scanlab.Mode, error) {
					return c.run.NewMode(cfg, c.truth(o, pop))
				}})
		}
		which[i] = n
	}
	return specs, which
}

// coverageRows are one case's coverage measures.
func coverageRows(res coverage.Result) ([]schema.PlatformRow, error) {
	sens, err := res.SensitivityRows(0)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(sens, func(s schema.SensitivityRow) bool { return s.OffenderModel == "all" })
	if i < 0 {
		return nil, fmt.Errorf("no item recall over all offenders")
	}
	s := sens[i]
	caught := schema.PlatformRow{Measure: schema.MeasureHarmfulCaught, Value: s.ItemRecall, Lo: s.ItemRecallLo, Hi: s.ItemRecallHi, N: s.Items}
	stopped, err := attemptRow(schema.MeasureHarmfulStopped, res.Stopped)
	if err != nil {
		return nil, err
	}
	flagged, err := innocentFlagged(res)
	if err != nil {
		return nil, err
	}
	refused, err := attemptRow(schema.MeasureHarmfulRefused, res.Refusal)
	return []schema.PlatformRow{caught, stopped, flagged, refused}, err
}

// attemptRow is a share of harmful attempts as a row.
func attemptRow(measure string, share func() (rate, lo, hi float64, n int, err error)) (schema.PlatformRow, error) {
	rate, lo, hi, n, err := share()
	return schema.PlatformRow{Measure: measure, Value: rate, Lo: lo, Hi: hi, N: n}, err
}

// innocentFlagged is the share of innocent accounts — benign adults and
// minors — an automated pathway flagged, with its Clopper–Pearson interval.
func innocentFlagged(res coverage.Result) (schema.PlatformRow, error) {
	accounts, err := res.AccountRows()
	if err != nil {
		return schema.PlatformRow{}, err
	}
	var k, n int
	for _, a := range accounts {
		if a.Group == schema.GroupBenignAdult || a.Group == schema.GroupMinor {
			k, n = k+a.Flagged, n+a.Accounts
		}
	}
	iv, err := stats.ClopperPearson(k, n, stats.Level95)
	if err != nil {
		return schema.PlatformRow{}, err
	}
	return schema.PlatformRow{Measure: schema.MeasureInnocentFlagged, Value: iv.Estimate, Lo: iv.Lo, Hi: iv.Hi, N: n}, nil
}

// assumptionsManifest describes the swept assumptions for the manifest.
func assumptionsManifest() map[string]string {
	out := map[string]string{}
	for k, pts := range assumptionPoints {
		s := make([]string, len(pts))
		for i, p := range pts {
			s[i] = strconv.FormatFloat(p, 'g', -1, 64)
		}
		out[k] = fmt.Sprintf("baseline %s, swept %v", s[0], s[1:])
	}
	return out
}
