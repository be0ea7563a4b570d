package audit

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"scanlab"
	"scanlab/active"
	"scanlab/keylog"
	"scanlab/kms"
	"scanlab/modes"
	"scanlab/observe"
	"scanlab/relay"
)

// Setup is one run of the provider acting in bad faith: its attack, the
// defence users and apps have, and how the provider treats its key log
// (under key transparency).
type Setup struct {
	Attack  observe.Attack
	Defence observe.Defence
	Log     observe.LogHandling
}

// ActiveResult is what an audit of an active provider found.
type ActiveResult struct {
	// Cells are the provider's passive cells (observe.Provider) and the
	// active provider's (observe.ProviderActive), in that order.
	Cells []observe.Cell
	// Pairs has one outcome per attacked conversation, in plan order.
	Pairs []PairOutcome
	// Delivered counts the planted messages their recipients opened.
	Delivered int
	// Tokens are the planted text tokens, in the order they were sent.
	Tokens []string
}

// PairOutcome is who noticed the attack on one conversation.
type PairOutcome struct {
	// Detections are the defence's own (safety-number comparison aside).
	Detections []active.Detection
	// NumbersDiffer is whether the two users, had they compared safety
	// numbers after the messages, would have found them different.
	NumbersDiffer bool
}

// warmUp is the exchange each pair has before the provider turns: it
// gives both apps sessions and pins, so that what happens next is a change.
var warmUp = [2]string{"hi, it's me", "hey, good to hear from you"}

// RunActive audits the provider acting in bad faith in mode name (built
// from cfg) over a real relay in stateDir: each pair of plan first
// exchanges a message each way, then the provider mounts s.Attack, the
// senders' apps re-read their recipients' keys (as after the server's
// "mismatched devices" answer), and the plan's messages are sent,
// delivered and reported. The active provider's view is everything the
// provider holds plus what its own devices decrypted. For a mode without
// end-to-end encryption no attack is mounted (observe.NoAttackNeeded):
// its view is the provider's own, each route marked as needing no attack.
func RunActive(name string, cfg modes.Config, s Setup, plan Plan, rng *rand.Rand, stateDir string) (ActiveResult, error) {
	if plan.Pairs < 1 {
		return ActiveResult{}, errors.New("audit: a plan needs at least one pair")
	}
	ar, err := runActive(name, cfg, s, plan, rng, stateDir)
	if err != nil {
		return ActiveResult{}, fmt.Errorf("audit: %s under %s/%s: %w", name, s.Attack, s.Defence, err)
	}
	return ar, nil
}

func runActive(name string, cfg modes.Config, s Setup, plan Plan, rng *rand.Rand, stateDir string) (ActiveResult, error) {
	recovered := &observe.Log{}
	prov, err := active.New(active.Config{Attack: s.Attack, Transparency: active.Transparent(s.Defence), Log: s.Log,
		Device: cfg.E2EE, Recovered: recovered.Record})
	if err != nil {
		return ActiveResult{}, err
	}
	clients := keylog.NewClients(prov.LogKey())
	cfg.E2EE = active.Apps(cfg.E2EE, s.Defence, clients)
	m, err := modes.New(name, cfg)
	if err != nil {
		return ActiveResult{}, err
	}
	cw, err := newWorldWith(prov.Mode(m), rng, stateDir, prov)
	if err != nil {
		return ActiveResult{}, err
	}
	cw.run.hashList = plan.PlantedHash
	var ar ActiveResult
	at, err := cw.exerciseActive(plan, prov, s, clients, &ar)
	cw.recorder.Close()
	if err != nil {
		return ActiveResult{}, err
	}
	views, err := activeViews(at, cw.providerLog, recovered, s.Attack == observe.NoAttackNeeded)
	if err != nil {
		return ActiveResult{}, err
	}
	if ar.Cells, err = observe.Audit(views, cw.run.canaries()); err != nil {
		return ActiveResult{}, err
	}
	ar.Delivered, ar.Tokens = cw.run.delivered, cw.run.tokens()
	return ar, nil
}

// exerciseActive runs the plan with the attack between the warm-up and the
// planted messages, and collects the detections before the relay stops.
func (cw *world) exerciseActive(plan Plan, prov *active.Provider, s Setup, clients *keylog.Clients, ar *ActiveResult) (rest, error) {
	defer cw.Close()
	at := rest{keys: cw.Keys(), dbPath: cw.DBPath()}
	if err := cw.makePairs(plan.Pairs); err != nil {
		return at, err
	}
	if err := cw.warmUp(); err != nil {
		return at, err
	}
	pairs, err := cw.startAttack(prov, s)
	if err != nil {
		return at, err
	}
	if err := cw.plantMessages(plan); err != nil {
		return at, err
	}
	if err := cw.deliverAll(); err != nil {
		return at, err
	}
	for _, pr := range pairs {
		ar.Pairs = append(ar.Pairs, PairOutcome{Detections: prov.Detect(s.Defence, pr, false, clients), NumbersDiffer: active.Compared(pr)})
	}
	return at, nil
}

// warmUp has each pair exchange one message each way.
func (cw *world) warmUp() error {
	for _, p := range cw.run.pairs {
		for i, dir := range [][2]scanlab.UserID{{p[0], p[1]}, {p[1], p[0]}} {
			msg := scanlab.Message{ID: "msg-" + RandomHex(cw.rng, 8), From: dir[0], To: dir[1], Sent: cw.sentTime(),
				Content: scanlab.Content{Kind: scanlab.Text, Text: warmUp[i]}}
			if _, err := cw.Send(msg); err != nil {
				return err
			}
			if _, err := cw.Deliver(dir[1], 10); err != nil {
				return err
			}
		}
	}
	return nil
}

// startAttack mounts the attack on every pair and has each sender's app
// re-read its recipient's keys, as it does when the server answers a send
// with "mismatched devices" (which the attacking provider makes it do). A
// mode without end-to-end encryption is not attacked.
func (cw *world) startAttack(prov *active.Provider, s Setup) ([]active.Pair, error) {
	if s.Attack == observe.NoAttackNeeded {
		return nil, nil
	}
	if err := prov.Start(cw.run.pairs); err != nil {
		return nil, err
	}
	var out []active.Pair
	for _, p := range cw.run.pairs {
		from, err := cw.Device(p[0])
		if err != nil {
			return nil, err
		}
		to, err := cw.Device(p[1])
		if err != nil {
			return nil, err
		}
		pr := active.Pair{From: active.E2EE(from), To: active.E2EE(to)}
		if pr.From == nil || pr.To == nil {
			return nil, fmt.Errorf("mode %s has no end-to-end encryption to attack", cw.Mode().Name())
		}
		pr.RefreshErr = pr.From.RefreshDevices(p[1])
		out = append(out, pr)
	}
	return out, nil
}

// activeViews are the provider's view and the active provider's: the same
// holdings, plus what its devices decrypted. Without an attack the active
// provider's routes say none was needed.
func activeViews(at rest, providerLog, recovered *observe.Log, noAttack bool) ([]observe.View, error) {
	keySet, err := kms.FromKeys(at.keys.Export())
	if err != nil {
		return nil, err
	}
	held := []observe.Source{providerLog, relay.DatabaseSource(at.dbPath, keySet)}
	activeSrc := append([]observe.Source{recovered}, held...)
	if noAttack {
		activeSrc = []observe.Source{relabel(held, "no attack needed: ")}
	}
	return []observe.View{
		{Party: observe.Provider, Sources: held},
		{Party: observe.ProviderActive, Sources: activeSrc},
	}, nil
}

// relabel returns the sources' evidence with prefix before every route.
func relabel(srcs []observe.Source, prefix string) observe.Source {
	return observe.SourceFunc(func() ([]observe.Evidence, error) {
		var out []observe.Evidence
		for _, s := range srcs {
			evs, err := s.Open()
			if err != nil {
				return nil, err
			}
			for _, e := range evs {
				e.Route = prefix + e.Route
				out = append(out, e)
			}
		}
		return out, nil
	})
}

// Earliest returns the earliest stage among detections, and false if there
// are none.
func Earliest(ds []active.Detection) (observe.Stage, bool) {
	best := -1
	for _, d := range ds {
		for i, st := range observe.Stages {
			if st == d.At && (best < 0 || i < best) {
				best = i
			}
		}
	}
	if best < 0 {
		return "", false
	}
	return observe.Stages[best], true
}
