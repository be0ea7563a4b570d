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
	for _, m := range msgs {
		if !m.Harmful {
			continue
		}
		harmful++
		if !corpus.Allowed(pop.User(m.To).Policy, m.Connected) {
			prevented++
		}
	}
	fmt.Println(corpus.Allowed(corpus.DMFriends, false), corpus.Allowed(corpus.DMEveryone, false))
	fmt.Println("harmful messages:", harmful > 0, "some prevented:", prevented > 0, "all prevented:", prevented == harmful)
	// Output:
	// false true
	// harmful messages: true some prevented: true all prevented: false
}
