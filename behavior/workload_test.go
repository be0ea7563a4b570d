package behavior_test

import (
	"fmt"
	"reflect"
	"testing"

	"scanlab/behavior"
	"scanlab/corpus"
)

// TestObservedReadsNoTruth changes every ground-truth field of events and
// users and requires the provider's view to stay the same.
func TestObservedReadsNoTruth(t *testing.T) {
	pop, err := corpus.GeneratePopulation(smallPopulation(21))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := pop.Conversations(smallTraffic())
	if err != nil {
		t.Fatal(err)
	}
	before := make([]behavior.Event, len(msgs))
	for i := range msgs {
		before[i] = behavior.Observed(pop, &msgs[i], true)
	}
	for i := range pop.Users {
		u := &pop.Users[i]
		u.Persona, u.Offender, u.Archetype, u.Stealth = corpus.PersonaAdult, !u.Offender, corpus.ArchetypeRing, 0.7
		u.Evader, u.ModifiedClient, u.ReportProb = !u.Evader, !u.ModifiedClient, 0.5
	}
	for i := range msgs {
		m := &msgs[i]
		m.Class, m.Harmful, m.Reported, m.Archetype = corpus.ClassKnownImage, !m.Harmful, !m.Reported, corpus.ArchetypeGroomer
		if got := behavior.Observed(pop, m, true); got != before[i] {
			t.Fatalf("event %s: the provider's view changed with the ground truth:\n%+v\n%+v", m.ID, before[i], got)
		}
	}
}

// TestObserveWorkloadReports checks that only delivered messages carry a
// report to the detector (counted for adult senders, the only ones scored).
func TestObserveWorkloadReports(t *testing.T) {
	pc := smallPopulation(22)
	pc.ReportProb = 1
	pc.MinorPolicy = corpus.PolicyMix{Friends: 1}
	pop, err := corpus.GeneratePopulation(pc)
	if err != nil {
		t.Fatal(err)
	}
	events, err := pop.Events(smallTraffic())
	if err != nil {
		t.Fatal(err)
	}
	var want int
	gate := corpus.NewGate()
	for ev := range events {
		if gate.Admit(pop.User(ev.To).Policy, &ev) && ev.Reported && !pop.User(ev.From).Minor() {
			want++
		}
	}
	d := behavior.New(behavior.Config{})
	n := behavior.ObserveWorkload(d, pop, events)
	var got int
	for _, id := range d.Accounts() {
		f, _ := d.Features(id)
		got += f.Reports
	}
	if n == 0 || want == 0 || got != want {
		t.Errorf("%d events: %d reports counted, %d delivered and reported", n, got, want)
	}
}

// TestFlagsAt requires one pass with FlagsAt to give, at every threshold,
// the flags of a detector configured with it.
func TestFlagsAt(t *testing.T) {
	pc := smallPopulation(23)
	pc.OffenderShare = 0.1
	w := newWorld(t, pc, smallTraffic())
	one := run(behavior.Config{Threshold: 1}, w.events)
	for _, tau := range []float64{1, 2, 3, 4, 5, 6, 7} {
		t.Run(fmt.Sprintf("threshold=%v", tau), func(t *testing.T) {
			got, err := one.FlagsAt(tau)
			if err != nil {
				t.Fatal(err)
			}
			want := run(behavior.Config{Threshold: tau}, w.events).Flagged()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("FlagsAt(%v): %d flags, a detector at %v: %d", tau, len(got), tau, len(want))
			}
			for _, f := range got {
				if peak, ok := one.PeakScore(f.Account); !ok || peak < tau || f.Score < tau {
					t.Fatalf("flag %+v with peak %v", f, peak)
				}
			}
		})
	}
	if flags, _ := one.FlagsAt(3); len(flags) == 0 {
		t.Error("no flags at threshold 3 among 10% offenders")
	}
	cfg := behavior.DefaultConfig()
	cfg.Model = &behavior.Model{Scale: [behavior.NumInputs]float64{1, 1, 1, 1, 1, 1, 1, 1, 1}}
	if _, err := run(cfg, w.events).FlagsAt(3); err == nil {
		t.Error("FlagsAt with a model: no error")
	}
}

// BenchmarkDetector generates study-sized workloads and runs them through
// the rules, reporting accounts·days per second of the whole (generation
// and detection): the default study (10,000 × 30), the goal (100,000 × 30)
// and --full (100,000 × 90). Run the large ones with -benchtime=1x.
func BenchmarkDetector(b *testing.B) {
	for _, size := range []struct{ users, days int }{{10000, 30}, {100000, 30}, {100000, 90}} {
		b.Run(fmt.Sprintf("users=%d/days=%d", size.users, size.days), func(b *testing.B) {
			pc, cc := corpus.DefaultPopulationConfig(), corpus.DefaultConversationConfig()
			pc.Users, cc.Days = size.users, size.days
			var events int
			for b.Loop() {
				pop, err := corpus.GeneratePopulation(pc)
				if err != nil {
					b.Fatal(err)
				}
				seq, err := pop.Events(cc)
				if err != nil {
					b.Fatal(err)
				}
				events = behavior.ObserveWorkload(behavior.New(behavior.DefaultConfig()), pop, seq)
			}
			b.ReportMetric(float64(size.users*size.days)*float64(b.N)/b.Elapsed().Seconds(), "accounts·days/s")
			b.ReportMetric(float64(events), "events/op")
		})
	}
}
