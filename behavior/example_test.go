package behavior_test

import (
	"fmt"

	"scanlab/behavior"
	"scanlab/corpus"
)

// An experiment generates a population and its traffic, lets direct-message
// policies refuse what they refuse, feeds the provider's view of every
// attempt to the detector, and scores the flags against the ground truth.
func Example() {
	pc := corpus.DefaultPopulationConfig()
	pc.Users = 2000
	pop, err := corpus.GeneratePopulation(pc)
	if err != nil {
		panic(err)
	}
	msgs, err := pop.Conversations(corpus.DefaultConversationConfig())
	if err != nil {
		panic(err)
	}

	d := behavior.New(behavior.DefaultConfig())
	var harmful, prevented int
	for _, m := range msgs {
		from, to := pop.User(m.From), pop.User(m.To)
		delivered := corpus.Allowed(to.Policy, m.Connected)
		if m.Harmful {
			harmful++
			if !delivered {
				prevented++ // refused before any scanner runs
			}
		}
		// Metadata only: no content, no labels.
		d.Observe(behavior.Event{
			MessageID:   m.ID,
			From:        m.From,
			To:          m.To,
			At:          m.At,
			FromCreated: from.Created,
			FromMinor:   from.Minor(),
			ToMinor:     to.Minor(),
			Connected:   m.Connected,
			Hops:        m.Hops,
			Reported:    delivered && m.Reported,
		})
	}

	truth := behavior.Truth{}
	for _, u := range pop.Users {
		if !u.Minor() {
			truth[u.ID] = behavior.AccountTruth{Offender: u.Offender, LookAlike: u.LookAlike(), Group: string(u.Persona)}
		}
	}
	ev := behavior.Evaluate(d.Flagged(), truth)
	dets := d.Detections()

	fmt.Println("most harmful messages prevented by DM policy:", 2*prevented > harmful)
	fmt.Println("most offenders flagged:", ev.Recall > 0.5)
	fmt.Println("false flags under 1% of benign adults:", ev.FalseFlagRate < 0.01)
	fmt.Println("detections on pathway:", dets[0].Pathway)
	// Output:
	// most harmful messages prevented by DM policy: true
	// most offenders flagged: true
	// false flags under 1% of benign adults: true
	// detections on pathway: server-metadata
}
