package experiments

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"scanlab"
	"scanlab/audit"
	"scanlab/corpus"
	"scanlab/harness"
	"scanlab/hybrid"
	"scanlab/modes"
	"scanlab/platform"
	"scanlab/schema"
)

func init() {
	register(Experiment{
		Name: "platforms",
		Summary: "each platform's published design (presets/), and each field it does not publish swept: what it catches, " +
			"whom it flags, who can read what, bytes and time per message",
		Run:  runPlatforms,
		spec: func(o Options) any { return o.Platforms },
	})
}

// PlatformsOptions configure the platforms experiment.
type PlatformsOptions struct {
	// Only runs these built-in presets (by slug); empty runs all six.
	Only []string `json:"only,omitempty"`
	// Presets are users' preset files (`--preset FILE`), run after the
	// built-in ones.
	Presets []string `json:"presets,omitempty"`
	// Messages per conversation and kind for bytes and timings (0: the
	// scale's default).
	Messages int `json:"messages,omitempty"`
}

// presets returns the presets to run, built-in first.
func (po PlatformsOptions) presets() ([]*platform.Preset, error) {
	slugs := po.Only
	if len(slugs) == 0 {
		slugs = platform.Slugs
	}
	var out []*platform.Preset
	for _, s := range slugs {
		p, err := platform.Builtin(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	for _, path := range po.Presets {
		p, err := platform.Load(path)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// runPlatforms measures every preset's baseline and one-at-a-time sweep
// (its undocumented fields, then the study's assumptions about users):
//
//   - coverage (harmful items caught, innocent accounts flagged, harmful
//     attempts refused by the recipients' settings) from the coverage
//     engine, over one synthetic population shared by every platform;
//   - who recovers what through the real relay (package audit, the same
//     canaries for every platform), for the baseline and each variant
//     that changes the mode (the baseline only at the quick scale);
//   - for the baseline, the bytes and time of a message in each kind of
//     conversation the platform has.
func runPlatforms(o Options, dir string) (map[string]any, error) {
	ps, err := o.Platforms.presets()
	if err != nil {
		return nil, err
	}
	// Three messages per pair plant one of each: a harmful text (reported),
	// an image and a benign text. More pairs than the visibility
	// experiment's, so that an opt-in share shows in the fractions.
	plan, n := audit.Plan{Pairs: 16, PerPair: 3}, 30
	if o.Scale == Quick {
		plan, n = audit.Plan{Pairs: 8, PerPair: 3}, 5
	}
	if o.Platforms.Messages > 0 {
		n = o.Platforms.Messages
	}
	cfg, err := visibilityList(o, &plan)
	if err != nil {
		return nil, err
	}
	var cases []platformCase
	for _, p := range ps {
		cs, err := platformCases(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Slug, err)
		}
		cases = append(cases, cs...)
	}
	var st coverageStats
	cov, err := platformCoverage(o, cases, &st)
	if err != nil {
		return nil, err
	}
	m := measured{audited: map[modeKey][]schema.PlatformRow{}}
	var rows []schema.PlatformRow
	var timings []schema.PlatformTimingRow
	for i, c := range cases {
		o.advance(i, len(cases))
		r, t, err := m.platformCase(o, c, cfg, plan, n)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", c.preset.Slug, c.label, err)
		}
		for _, cr := range cov[i] {
			cr.Platform, cr.Variant = c.preset.Name, c.label
			r = append(r, cr)
		}
		rows, timings = append(rows, r...), append(timings, t...)
	}
	err = errors.Join(schema.Platforms.WriteFile(o.Out, rows), schema.PlatformTimings.WriteFile(o.Out, timings))
	pc := platformsWorkload(o)
	return map[string]any{"platforms": len(ps), "cases": len(cases), "audits": len(m.audited),
		"audited_variants": auditedVariants(o), "pairs": plan.Pairs, "messages_per_pair": plan.PerPair,
		"messages_per_conversation_and_kind": n, "users": pc.Population.Users, "days": pc.Conversation.Days,
		"offender_share": pc.Population.OffenderShare, "metadata_passes": st.metadataPasses, "judgments": st.judgments,
		"assumptions": assumptionsManifest(), "synthetic_texts": corpus.SyntheticTexts, "synthetic_images": true}, err
}

// auditedVariants says which cases the visibility audit runs for.
func auditedVariants(o Options) string {
	if o.Scale == Quick {
		return "baseline only (quick scale)"
	}
	return "every case whose mode differs"
}

// measured holds the audits run, by mode: cases that differ only in what
// no mode reads share one.
type measured struct {
	audited map[modeKey][]schema.PlatformRow
}

// platformCase returns one case's visibility rows (every case but the
// baseline skipped at the quick scale) and, for the baseline, its bytes and
// timings.
func (m *measured) platformCase(o Options, c platformCase, cfg modes.Config, plan audit.Plan, n int) ([]schema.PlatformRow, []schema.PlatformTimingRow, error) {
	base := c.label == schema.PlatformVariantBase
	var rows []schema.PlatformRow
	if base || o.Scale != Quick {
		key := modeKey{run: c.modeKey().run, factor: 1}
		vis, ok := m.audited[key]
		if !ok {
			o.progress("platforms: %s, %s", c.preset.Name, c.label)
			var err error
			name := fmt.Sprintf("platforms-%s-%d", c.preset.Slug, len(m.audited))
			if vis, err = platformVisibility(o, name, c.run, cfg, plan); err != nil {
				return nil, nil, err
			}
			m.audited[key] = vis
		}
		for _, r := range vis {
			r.Platform, r.Variant = c.preset.Name, c.label
			rows = append(rows, r)
		}
	}
	if !base {
		return rows, nil, nil
	}
	traffic, timings, err := platformTraffic(o, c.preset, c.run, cfg, n)
	return append(rows, traffic...), timings, err
}

func variantLabel(v platform.Variant) string {
	if v.Field == "" {
		return schema.PlatformVariantBase
	}
	return v.Field + "=" + v.Value
}

// auditTruth is the ground truth of the audit's workload: no offenders,
// every user an adult.
func auditTruth(o Options) platform.Truth {
	return platform.Truth{Minor: func(scanlab.UserID) bool { return false }, OffenderFactor: 1, Seed: o.Seed}
}

// platformVisibility audits one run's mode over the relay.
func platformVisibility(o Options, name string, r platform.Run, cfg modes.Config, plan audit.Plan) ([]schema.PlatformRow, error) {
	m, err := r.NewMode(cfg, auditTruth(o))
	if err != nil {
		return nil, err
	}
	state, cleanup, err := stateDir(o, name)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	res, err := audit.Run(m, plan, o.rng("platforms-visibility"), state)
	if err != nil {
		return nil, err
	}
	var rows []schema.PlatformRow
	for _, it := range schema.PlatformVisibilityItems {
		for _, c := range res.Cells {
			if c.Item == it {
				rows = append(rows, schema.PlatformRow{Measure: "recovered-" + string(it), Party: c.Party,
					Value: c.Fraction(), Lo: math.NaN(), Hi: math.NaN(), N: c.Canaries})
			}
		}
	}
	return rows, nil
}

// renamed gives a mode another name, so that each conversation kind of a
// platform keeps its own state directory.
type renamed struct {
	scanlab.Mode
	name string
}

func (r renamed) Name() string { return r.name }

// platformTraffic sends n messages of each kind in each kind of
// conversation the run has (clear when some conversations are not
// encrypted, encrypted when some are) and returns the median bytes on the
// wire and the timings.
func platformTraffic(o Options, p *platform.Preset, r platform.Run, cfg modes.Config, n int) ([]schema.PlatformRow, []schema.PlatformTimingRow, error) {
	var rows []schema.PlatformRow
	var timings []schema.PlatformTimingRow
	for _, conv := range schema.PlatformConversations {
		encrypted := conv == "encrypted"
		if (encrypted && r.EncryptedShare == 0) || (!encrypted && r.EncryptedShare == 1) {
			continue
		}
		m, err := conversationMode(o, r, cfg, encrypted)
		if err != nil {
			return nil, nil, err
		}
		m = renamed{m, "platform-" + strings.ToLower(p.Slug) + "-" + conv}
		for _, kind := range []scanlab.Kind{scanlab.Text, scanlab.Image} {
			o.progress("platforms: %s, %s %s messages", p.Name, conv, kind)
			ss, err := trafficRun(o, m, kind, n, encrypted && r.SealedSender)
			if err != nil {
				return nil, nil, err
			}
			var wire, total []int64
			for _, s := range ss {
				wire, total = append(wire, s.wireUp+s.wireDown), append(total, s.ns[schema.TotalStage])
			}
			rows = append(rows, schema.PlatformRow{Platform: p.Name, Variant: schema.PlatformVariantBase,
				Measure: "wire-bytes-" + kind.String() + "-" + conv, Value: float64(median(wire)), Lo: math.NaN(), Hi: math.NaN(), N: len(ss)})
			timings = append(timings, schema.PlatformTimingRow{Platform: p.Name, Conversation: conv, Kind: kind.String(), Messages: len(ss),
				P50: micros(quantile(total, 0.5)), P95: micros(quantile(total, 0.95))})
		}
	}
	return rows, timings, nil
}

// trafficRun is [latencyRun] over the loopback relay, accepting
// sealed-sender envelopes when sealed is set.
func trafficRun(o Options, m scanlab.Mode, kind scanlab.Kind, n int, sealed bool) ([]latencySample, error) {
	rng := o.rng("latency-" + kind.String())
	state, cleanup, err := stateDir(o, "latency-"+m.Name()+"-"+kind.String())
	if err != nil {
		return nil, err
	}
	defer cleanup()
	w, err := harness.New(harness.Options{Mode: m, Transport: harness.Relay, StateDir: state, AllowSealedSender: sealed})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	var out []latencySample
	for i := range n {
		msg := scanlab.Message{ID: fmt.Sprintf("m-%d", i), From: "alice", To: "bob", Sent: time.Now().UTC(), Content: trafficContent(rng, kind, i)}
		s, err := latencyOne(w, msg)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// trafficContent is the i-th message of the latency workload.
func trafficContent(rng *rand.Rand, kind scanlab.Kind, i int) scanlab.Content {
	if kind == scanlab.Text {
		return scanlab.Content{Kind: kind, Text: audit.BenignTexts[i%len(audit.BenignTexts)] + " " + audit.RandomHex(rng, 8)}
	}
	return scanlab.Content{Kind: kind, Image: audit.Image(rng, 256)}
}

// conversationMode is the run's mode with every conversation of one kind:
// the run's own mode when all its conversations are of that kind, its
// hybrid mode with the choice forced one way otherwise.
func conversationMode(o Options, r platform.Run, cfg modes.Config, encrypted bool) (scanlab.Mode, error) {
	t := auditTruth(o)
	if r.Mode == hybrid.Name {
		t.Choose = func(scanlab.UserID, scanlab.UserID) bool { return encrypted }
	}
	return r.NewMode(cfg, t)
}
