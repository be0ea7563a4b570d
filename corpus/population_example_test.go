package corpus_test

import (
	"fmt"

	"scanlab/corpus"
)

// Direct-message policies decide before any scanner runs: count the harmful
// messages a recipient's setting refuses.
func ExampleAllowed() {
	pc := corpus.DefaultPopulationConfig()
	pc.Users = 1000
	pop, err := corpus.GeneratePopulation(pc)
	if err != nil {
		panic(err)
	}
	msgs, err := pop.Conversations(corpus.DefaultConversationConfig())
	if err != nil {
		panic(err)
	}
	var harmful, prevented int
	gate := corpus.NewGate()
	for _, m := range msgs {
		admitted := gate.Admit(pop.User(m.To).Policy, &m)
		if !m.Harmful {
			continue
		}
		harmful++
		if !admitted {
			prevented++
		}
	}
	fmt.Println(corpus.Allowed(corpus.DMFriends, false, true), corpus.Allowed(corpus.DMEveryone, false, true))
	fmt.Println("harmful messages:", harmful > 0, "some prevented:", prevented > 0, "all prevented:", prevented == harmful)
	// Output:
	// false true
	// harmful messages: true some prevented: true all prevented: false
}
