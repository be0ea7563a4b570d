package behavior

import (
	"iter"

	"scanlab/corpus"
)

// Observed returns the provider's view of a workload event: its routing
// metadata (sender, recipient, time, whether the two are connected and how
// far apart they are in the social graph) and the facts the platform holds
// about the two accounts (creation time, declared minor or not). reported
// says whether a verified report of this message reached the provider; only
// a delivered message can be reported. Observed reads none of the event's
// ground truth (Class, Harmful, Reported, Archetype) and none of the
// users' (persona, offender, archetype, stealth): this function is the one
// place where workload events become detector input.
func Observed(p *corpus.Population, ev *corpus.MessageEvent, reported bool) Event {
	return observed(p.User(ev.From), p.User(ev.To), ev, reported)
}

func observed(from, to *corpus.User, ev *corpus.MessageEvent, reported bool) Event {
	return Event{
		MessageID:   ev.ID,
		From:        ev.From,
		To:          ev.To,
		At:          ev.At,
		FromCreated: from.Created,
		FromMinor:   from.Minor(),
		ToMinor:     to.Minor(),
		Connected:   ev.Connected,
		Hops:        ev.Hops,
		Reported:    reported,
	}
}

// ObserveWorkload feeds every event of a workload to d as the provider sees
// it: every attempt, including those the recipient's direct-message policy
// refuses (the provider enforces the policy, so it sees the attempt), with a
// report only where the message was delivered and its recipient reports
// it. It returns the number of events.
func ObserveWorkload(d *Detector, p *corpus.Population, events iter.Seq[corpus.MessageEvent]) int {
	n := 0
	gate := corpus.NewGate()
	for ev := range events {
		from, to := p.User(ev.From), p.User(ev.To)
		delivered := gate.Admit(to.Policy, &ev)
		d.Observe(observed(from, to, &ev, delivered && ev.Reported))
		n++
	}
	return n
}

// TruthOf returns the ground truth about a population's adults (the
// detector scores adults only). Group is the persona of a benign adult and
// "offender/<archetype>" for an offender.
func TruthOf(p *corpus.Population) Truth {
	t := Truth{}
	for i := range p.Users {
		u := &p.Users[i]
		if u.Minor() {
			continue
		}
		g := string(u.Persona)
		if u.Offender {
			g = "offender/" + string(u.Archetype)
		}
		t[u.ID] = AccountTruth{Offender: u.Offender, LookAlike: u.LookAlike(), Group: g}
	}
	return t
}
