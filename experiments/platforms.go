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
	"scanlab/harness"
	"scanlab/hybrid"
	"scanlab/modes"
	"scanlab/platform"
	"scanlab/schema"
)

func init() {
	register(Experiment{
		Name:    "platforms",
		Summary: "each platform's published design (presets/) through the real relay: who can read what, bytes and time per message",
		Run:     runPlatforms,
		spec:    func(o Options) any { return o.Platforms },
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

// runPlatforms measures, per preset and per variant of its undocumented
// fields (the baseline only at the quick scale), who recovers what through
// the real relay (package audit, the same canaries for every platform),
// and for the baseline the bytes and time of a message in each kind of
// conversation the platform has. Coverage measures (harmful items caught,
// innocent accounts flagged) come from the coverage engine and join the
// same file.
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
	var rows []schema.PlatformRow
	var timings []schema.PlatformTimingRow
	var m measured
	for i, p := range ps {
		o.advance(i, len(ps))
		r, t, err := m.platform(o, p, cfg, plan, n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Slug, err)
		}
		rows, timings = append(rows, r...), append(timings, t...)
	}
	err = errors.Join(schema.Platforms.WriteFile(o.Out, rows), schema.PlatformTimings.WriteFile(o.Out, timings))
	return map[string]any{"platforms": len(ps), "audits": m.audits, "pairs": plan.Pairs, "messages_per_pair": plan.PerPair,
		"messages_per_conversation_and_kind": n, "not_audited": m.notAudited, "not_audited_why": notAuditedWhy}, err
}

// notAuditedWhy says why sealed-sender runs have no visibility rows.
const notAuditedWhy = "the visibility audit (package audit) starts its relay without harness.Options.AllowSealedSender, " +
	"so the relay refuses sealed-sender envelopes; these variants are not audited rather than audited without sealed sender"

// measured counts what the experiment ran.
type measured struct {
	audits     int
	notAudited []string // "Platform variant" of sealed-sender runs
}

// runKey is what of a run the visibility audit depends on: variants that
// differ only elsewhere share one audit.
type runKey struct {
	mode   string
	share  float64
	sealed bool
}

// platform returns one preset's rows: visibility for every variant (one
// audit per distinct mode), bytes and timings for the baseline.
func (m *measured) platform(o Options, p *platform.Preset, cfg modes.Config, plan audit.Plan, n int) ([]schema.PlatformRow, []schema.PlatformTimingRow, error) {
	vs, err := p.Variants()
	if err != nil {
		return nil, nil, err
	}
	if o.Scale == Quick {
		vs = vs[:1]
	}
	seen := map[runKey][]schema.PlatformRow{}
	var rows []schema.PlatformRow
	for _, v := range vs {
		if v.Run.SealedSender {
			m.notAudited = append(m.notAudited, p.Name+" "+variantLabel(v))
			continue
		}
		key := runKey{v.Run.Mode, v.Run.EncryptedShare, v.Run.SealedSender}
		vis, ok := seen[key]
		if !ok {
			o.progress("platforms: %s, %s", p.Name, variantLabel(v))
			if vis, err = platformVisibility(o, p, v.Run, cfg, plan); err != nil {
				return nil, nil, err
			}
			seen[key] = vis
			m.audits++
		}
		for _, r := range vis {
			r.Platform, r.Variant = p.Name, variantLabel(v)
			rows = append(rows, r)
		}
	}
	traffic, timings, err := platformTraffic(o, p, vs[0].Run, cfg, n)
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
func platformVisibility(o Options, p *platform.Preset, r platform.Run, cfg modes.Config, plan audit.Plan) ([]schema.PlatformRow, error) {
	m, err := r.NewMode(cfg, auditTruth(o))
	if err != nil {
		return nil, err
	}
	state, cleanup, err := stateDir(o, fmt.Sprintf("platforms-%s-%s-%g-%v", p.Slug, r.Mode, r.EncryptedShare, r.SealedSender))
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
// the run's own mode when all its conversations are of that kind, the
// hybrid mode forced one way otherwise.
func conversationMode(o Options, r platform.Run, cfg modes.Config, encrypted bool) (scanlab.Mode, error) {
	if r.Mode != hybrid.Name {
		return r.NewMode(cfg, auditTruth(o))
	}
	return modes.Hybrid(cfg, func(scanlab.UserID, scanlab.UserID) bool { return encrypted }, r.SealedSender), nil
}
