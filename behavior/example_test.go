package behavior_test

import (
	"fmt"

	"scanlab/behavior"
	"scanlab/corpus"
)

// An experiment generates a population and its traffic, feeds the
// provider's view of every attempt to the detector (direct-message policies
// refuse what they refuse; a report counts only for a delivered message),
// and scores the flags against the ground truth.
func Example() {
	pc := corpus.DefaultPopulationConfig()
	pc.Users = 2000
	pc.OffenderShare = 0.05 // over-sampled, so that a small example has offenders to find
	pop, err := corpus.GeneratePopulation(pc)
	if err != nil {
		panic(err)
	}
	events, err := pop.Events(corpus.DefaultConversationConfig())
	if err != nil {
		panic(err)
	}
	d := behavior.New(behavior.DefaultConfig())
	behavior.ObserveWorkload(d, pop, events)

	ev := behavior.Evaluate(d.Flagged(), behavior.TruthOf(pop))
	dets := d.Detections()
	fmt.Println("threshold:", d.Config().Threshold)
	fmt.Println("some offenders flagged:", ev.OffendersFlagged > 0)
	fmt.Println("false flags under 0.5% of benign adults:", ev.FalseFlagRate < 0.005)
	fmt.Println("detections on pathway:", dets[0].Pathway)
	// Output:
	// threshold: 6
	// some offenders flagged: true
	// false flags under 0.5% of benign adults: true
	// detections on pathway: server-metadata
}
