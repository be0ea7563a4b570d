package experiments

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"scanlab/audit"
	"scanlab/clientscan"
	"scanlab/modes"
	"scanlab/observe"
	"scanlab/perceptual"
	"scanlab/schema"
)

func init() {
	register(Experiment{
		Name:    "visibility",
		Summary: "who recovers what: plant canaries, then search every party's real view with only its keys; then a provider acting in bad faith under each defence",
		Run:     runVisibility,
	})
}

// visibilityThreshold is clientscan's t in this experiment: small, so that one
// account crosses it with t+1 listed images.
const visibilityThreshold = 2

func runVisibility(o Options, dir string) (map[string]any, error) {
	plan := audit.Plan{Pairs: 6, PerPair: 4}
	if o.Scale == Quick {
		plan.Pairs, plan.PerPair = 3, 3
	}
	cfg, err := visibilityList(o, &plan)
	if err != nil {
		return nil, err
	}
	var rows []schema.VisibilityRow
	var tokens []string
	results := map[string]any{"pairs": plan.Pairs, "messages_per_pair": plan.PerPair, "clientscan_threshold": visibilityThreshold}
	for i, name := range modes.Names {
		o.progress("visibility: mode %s", name)
		o.advance(i, len(modes.Names))
		res, err := auditMode(o, name, cfg, plan)
		if err != nil {
			return nil, err
		}
		for _, c := range res.Cells {
			rows = append(rows, schema.VisibilityRow{Mode: name, Party: c.Party, Item: c.Item, Recovered: c.Fraction(), Route: c.Route()})
		}
		if tokens == nil {
			tokens = res.Tokens
		}
		results[name+"_delivered"] = res.Delivered
	}
	act, err := runActiveAudits(o, cfg, plan)
	if err != nil {
		return nil, err
	}
	results["active_runs"] = act.runs
	results["safety_number_pairs"] = safetyPairs(o.Scale)
	if err := schema.Visibility.WriteFile(o.Out, append(rows, act.vis...)); err != nil {
		return nil, err
	}
	if err := schema.Active.WriteFile(o.Out, act.active); err != nil {
		return nil, err
	}
	return results, schema.Canaries.WriteFile(o.Out, append(tokens, act.tokens...))
}

// visibilityList makes the curator's list: a planted entry nobody else
// should know, and the hashes of listed images that the first pair's sender
// will send — one more than the threshold, so that in clientscan that
// account crosses it. It adds those images to plan.
func visibilityList(o Options, plan *audit.Plan) (modes.Config, error) {
	lr := o.rng("visibility-list")
	planted := randomHash(lr)
	// A roomy cuckoo table: with a handful of entries the default load
	// drops one now and then (the protocol's false negatives), which would
	// make this experiment's result depend on the draw.
	cfg := modes.Config{List: []perceptual.Hash{planted}, Labels: []string{"planted"}, Second: []perceptual.Hash{randomHash(lr)},
		Clientscan: modes.Clientscan{Threshold: visibilityThreshold, Seed: o.Seed, TableFactor: 16}}
	curated := planted.String() + ",planted\n"
	for i := range visibilityThreshold + 1 {
		img := audit.Image(lr, 96)
		s, err := perceptual.ScanImage(img)
		if err != nil {
			return cfg, err
		}
		plan.Listed = append(plan.Listed, img)
		cfg.List = append(cfg.List, s.Hash)
		cfg.Second = append(cfg.Second, clientscan.SecondHash(s.Image))
		cfg.Labels = append(cfg.Labels, fmt.Sprintf("listed-%d", i))
		curated += s.Hash.String() + fmt.Sprintf(",listed-%d\n", i)
	}
	plan.PlantedHash = planted
	plan.Curated = observe.Evidence{Route: "hash list the curator supplies", Data: []byte(curated)}
	return cfg, nil
}

// auditMode audits plan in one mode, in its own state directory. Every mode
// gets the same stream, so the canaries are identical across modes.
func auditMode(o Options, name string, cfg modes.Config, plan audit.Plan) (audit.Result, error) {
	m, err := modes.New(name, cfg)
	if err != nil {
		return audit.Result{}, err
	}
	state, cleanup, err := stateDir(o, "visibility-"+name)
	if err != nil {
		return audit.Result{}, err
	}
	defer cleanup()
	return audit.Run(m, plan, o.rng("visibility"), state)
}

// stateDir returns where a run keeps its database and wire capture: under
// KeepState if set (kept), else a temporary directory removed by cleanup.
func stateDir(o Options, name string) (string, func(), error) {
	if o.KeepState != "" {
		d := filepath.Join(o.KeepState, name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", nil, err
		}
		return d, func() {}, nil
	}
	d, err := os.MkdirTemp("", "scanlab-"+name+"-")
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}

func randomHash(r *rand.Rand) perceptual.Hash {
	var h perceptual.Hash
	for i := range h {
		h[i] = byte(r.Uint32())
	}
	return h
}
