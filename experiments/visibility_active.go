package experiments

import (
	"math"
	"slices"
	"strings"

	"scanlab/active"
	"scanlab/audit"
	"scanlab/modes"
	"scanlab/observe"
	"scanlab/schema"
	"scanlab/serverscan"
	"scanlab/stats"
)

// activeSetups are the runs of the provider acting in bad faith in each
// end-to-end encrypted mode: each attack with no defence, with pinning,
// with safety numbers, and with key transparency — the attack keys
// unlogged, logged, or logged in a split view, the last also with
// auditors comparing the heads apps gossip.
func activeSetups() []audit.Setup {
	var out []audit.Setup
	for _, a := range []observe.Attack{observe.KeySubstitution, observe.GhostDevice} {
		out = append(out,
			audit.Setup{Attack: a, Defence: observe.NoDefence},
			audit.Setup{Attack: a, Defence: observe.Pinning},
			audit.Setup{Attack: a, Defence: observe.SafetyNumbers},
			audit.Setup{Attack: a, Defence: observe.KeyTransparency, Log: observe.Unlogged},
			audit.Setup{Attack: a, Defence: observe.KeyTransparency, Log: observe.Logged},
			audit.Setup{Attack: a, Defence: observe.KeyTransparency, Log: observe.SplitView},
			audit.Setup{Attack: a, Defence: observe.KeyTransparencyGossip, Log: observe.SplitView},
		)
	}
	return out
}

// safetyShares are the shares of users who compare safety numbers that the
// experiment sweeps: how many users do is unknown, so it is swept.
var safetyShares = []float64{0, 0.1, 0.5, 1}

// safetyPairs is how many conversations the safety-number runs attack, so
// that each share's detection rate has a usable interval.
func safetyPairs(s Scale) int {
	switch s {
	case Quick:
		return 20
	case Full:
		return 400
	}
	return 100
}

// activeRows is what the active runs add to the visibility files.
type activeRows struct {
	vis    []schema.VisibilityRow
	active []schema.ActiveRow
	tokens []string // text canaries the runs planted
	runs   int
}

// runActive audits the provider acting in bad faith in every mode: in
// serverscan once (no attack is needed), in the others under every setup.
func runActiveAudits(o Options, cfg modes.Config, plan audit.Plan) (activeRows, error) {
	var out activeRows
	for _, name := range modes.Names {
		setups := activeSetups()
		if name == serverscan.Name {
			setups = []audit.Setup{{Attack: observe.NoAttackNeeded, Defence: observe.NoDefence}}
		}
		for _, s := range setups {
			o.progress("visibility: mode %s, %s under %s", name, s.Attack, strings.TrimSpace(string(s.Defence)+" "+string(s.Log)))
			p := plan
			if s.Defence == observe.SafetyNumbers {
				p.Pairs, p.PerPair, p.Listed, p.Texts = safetyPairs(o.Scale), 3, nil, nil
			}
			res, err := auditActive(o, name, cfg, s, p)
			if err != nil {
				return out, err
			}
			out.add(name, s, res, o)
			out.tokens = append(out.tokens, res.Tokens...)
			out.runs++
		}
	}
	return out, nil
}

// auditActive runs one setup in its own state directory, on the stream the
// passive audit uses, so the canaries are drawn the same way.
func auditActive(o Options, name string, cfg modes.Config, s audit.Setup, plan audit.Plan) (audit.ActiveResult, error) {
	state, cleanup, err := stateDir(o, "visibility-active-"+name+"-"+string(s.Attack)+"-"+string(s.Defence)+"-"+string(s.Log))
	if err != nil {
		return audit.ActiveResult{}, err
	}
	defer cleanup()
	return audit.RunActive(name, cfg, s, plan, o.rng("visibility"), state)
}

// add turns one run into its visibility rows and its active.csv rows (one
// per share swept, for safety numbers).
func (a *activeRows) add(mode string, s audit.Setup, res audit.ActiveResult, o Options) {
	passive := map[observe.Item]float64{}
	var text float64
	var beyond []string
	for _, c := range res.Cells {
		switch c.Party {
		case observe.Provider:
			passive[c.Item] = c.Fraction()
		case observe.ProviderActive:
			a.vis = append(a.vis, schema.VisibilityRow{Mode: mode, Party: c.Party, Item: c.Item, Recovered: c.Fraction(), Route: c.Route(),
				Attack: s.Attack, Defence: s.Defence, Log: s.Log})
			if c.Item == observe.Text {
				text = c.Fraction()
			}
		}
	}
	for _, c := range res.Cells {
		if c.Party == observe.ProviderActive && c.Fraction() > passive[c.Item] {
			beyond = append(beyond, string(c.Item))
		}
	}
	row := schema.ActiveRow{Mode: mode, Attack: s.Attack, Defence: s.Defence, Log: s.Log, Share: math.NaN(),
		Recovered: strings.Join(beyond, ";"), Text: text}
	if s.Defence != observe.SafetyNumbers {
		a.active = append(a.active, detectionRow(row, res.Pairs, func(p audit.PairOutcome) []active.Detection { return p.Detections }))
		return
	}
	for _, share := range safetyShares {
		r := row
		r.Share = share
		rng := o.rng("visibility-safety-numbers-" + mode + "-" + string(s.Attack))
		a.active = append(a.active, detectionRow(r, res.Pairs, func(p audit.PairOutcome) []active.Detection {
			if rng.Float64() < share && p.NumbersDiffer {
				return []active.Detection{{By: observe.BySender, At: observe.AtComparison}, {By: observe.ByRecipient, At: observe.AtComparison}}
			}
			return nil
		}))
	}
}

// detectionRow fills row's detection columns from the pairs' outcomes:
// how many pairs someone noticed, with the rate's 95% Clopper–Pearson
// interval, who, and the earliest stage.
func detectionRow(row schema.ActiveRow, pairs []audit.PairOutcome, seen func(audit.PairOutcome) []active.Detection) schema.ActiveRow {
	var all []active.Detection
	for _, p := range pairs {
		ds := seen(p)
		if len(ds) > 0 {
			row.Detected++
		}
		all = append(all, ds...)
	}
	row.Pairs = len(pairs)
	if ci, err := stats.ClopperPearson(row.Detected, row.Pairs, 0.95); err == nil {
		row.Rate, row.Lo, row.Hi = ci.Estimate, ci.Lo, ci.Hi
	}
	var by []string
	for _, d := range observe.Detectors {
		if slices.ContainsFunc(all, func(x active.Detection) bool { return x.By == d }) {
			by = append(by, string(d))
		}
	}
	row.DetectedBy = schema.Nobody
	if len(by) > 0 {
		row.DetectedBy = strings.Join(by, ";")
	}
	row.When, _ = audit.Earliest(all)
	return row
}
