package behavior_test

import (
	"testing"

	"scanlab/behavior"
	"scanlab/corpus"
)

// world is a generated population, its traffic as the provider sees it, and
// the ground truth.
type world struct {
	pop    *corpus.Population
	events []behavior.Event
	truth  behavior.Truth
}

func newWorld(t testing.TB, pc corpus.PopulationConfig, cc corpus.ConversationConfig) *world {
	t.Helper()
	pop, err := corpus.GeneratePopulation(pc)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := pop.Conversations(cc)
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]behavior.Event, len(msgs))
	gate := corpus.NewGate()
	for i := range msgs {
		m := &msgs[i]
		delivered := gate.Admit(pop.User(m.To).Policy, m)
		evs[i] = behavior.Observed(pop, m, delivered && m.Reported)
	}
	return &world{pop: pop, events: evs, truth: behavior.TruthOf(pop)}
}

func run(cfg behavior.Config, evs []behavior.Event) *behavior.Detector {
	d := behavior.New(cfg)
	for _, e := range evs {
		d.Observe(e)
	}
	return d
}
