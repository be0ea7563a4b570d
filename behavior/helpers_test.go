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

// events converts the workload into the detector's events: metadata only.
// Every attempt is fed, including those a direct-message policy refused (the
// provider sees the attempt); a report counts only when the message was
// delivered.
func events(pop *corpus.Population, msgs []corpus.MessageEvent) []behavior.Event {
	out := make([]behavior.Event, len(msgs))
	for i, m := range msgs {
		from, to := pop.User(m.From), pop.User(m.To)
		out[i] = behavior.Event{
			MessageID:   m.ID,
			From:        m.From,
			To:          m.To,
			At:          m.At,
			FromCreated: from.Created,
			FromMinor:   from.Minor(),
			ToMinor:     to.Minor(),
			Connected:   m.Connected,
			Hops:        m.Hops,
			Reported:    m.Reported && corpus.Allowed(to.Policy, m.Connected),
		}
	}
	return out
}

// truthOf is the ground truth about the population's adults (the detector
// scores adults only).
func truthOf(pop *corpus.Population) behavior.Truth {
	t := behavior.Truth{}
	for i := range pop.Users {
		u := &pop.Users[i]
		if u.Minor() {
			continue
		}
		t[u.ID] = behavior.AccountTruth{Offender: u.Offender, LookAlike: u.LookAlike(), Group: string(u.Persona)}
	}
	return t
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
	return &world{pop: pop, events: events(pop, msgs), truth: truthOf(pop)}
}

func run(cfg behavior.Config, evs []behavior.Event) *behavior.Detector {
	d := behavior.New(cfg)
	for _, e := range evs {
		d.Observe(e)
	}
	return d
}
