package coverage

import (
	"slices"
	"time"

	"scanlab"
	"scanlab/corpus"
)

// FlagCredit is what a metadata flag meant for a harmful message delivered
// at or after it. What a flag leads to differs by mode: where the provider
// can read messages (serverscan, the clear conversations of a [Split]
// mode), a reviewer confirms the content; where it
// cannot, it restricts the flagged account's contact with minors (Meta's
// stated practice for end-to-end encrypted messaging, refs/metadata.md), so
// a message to a minor is prevented and one to an adult goes unseen.
type FlagCredit int

// The credits of a metadata flag.
const (
	NotFlagged    FlagCredit = iota // delivered before any flag, or never flagged
	Confirmed                       // content confirmed by a reviewer
	PreventedFlag                   // the restriction would have stopped it
	Unseen                          // flagged, content unseen
)

// Outcome is what happened to one harmful attempt in one mode at one
// detector threshold.
type Outcome struct {
	*Attempt
	// Content holds the content pathways (user reports included) that
	// judged it, and when each first did.
	Content map[scanlab.Pathway]time.Time
	// Flag is the metadata credit.
	Flag FlagCredit
}

// Caught reports whether any pathway caught the attempt: a content pathway
// judged it, or a metadata flag led to its content being confirmed or its
// delivery prevented. "Flagged, content unseen" is not caught.
func (o Outcome) Caught() bool {
	return len(o.Content) > 0 || o.Flag == Confirmed || o.Flag == PreventedFlag
}

// By reports whether pathway p is credited with the attempt (server-metadata
// with any credit but NotFlagged).
func (o Outcome) By(p scanlab.Pathway) bool {
	if p == scanlab.ServerMetadata {
		return o.Flag != NotFlagged
	}
	_, ok := o.Content[p]
	return ok
}

// Outcomes credits every admitted harmful attempt in mode j at detector
// threshold k (an index into Meta.Thresholds), in time order.
func Outcomes(meta *Meta, j *Judgment, k int) []Outcome {
	var out []Outcome
	for i := range meta.attempts {
		a := &meta.attempts[i]
		if !a.Admitted {
			continue
		}
		o := Outcome{Attempt: a, Content: j.harmful[a.ID]}
		if t, ok := meta.flagAt(k, a.From); ok && !a.At.Before(t) {
			o.Flag = flagCredit(j, a)
		}
		out = append(out, o)
	}
	return out
}

// flagCredit is what a flag means for attempt a in mode j: confirmed where
// the provider can read the conversation (every one in serverscan, the clear
// ones of a [Split] mode), otherwise prevented if to a minor, else unseen.
func flagCredit(j *Judgment, a *Attempt) FlagCredit {
	switch {
	case j.readable != nil && j.readable(a.From, a.To):
		return Confirmed
	case a.ToMinor:
		return PreventedFlag
	}
	return Unseen
}

// AccountFlag is how and when one account was flagged at one threshold.
type AccountFlag struct {
	// Automated is true when the metadata detector or a content scanner
	// flagged it; At is the first such flag.
	Automated bool
	At        time.Time
	// Metadata and ContentScan say which kind flagged it.
	Metadata, ContentScan bool
	// Reported is true when a verified report named it.
	Reported bool
}

// Flag returns how account u was flagged in mode j at threshold k.
func (meta *Meta) Flag(j *Judgment, k int, u scanlab.UserID) AccountFlag {
	var f AccountFlag
	if t, ok := meta.flagAt(k, u); ok {
		f.Automated, f.Metadata, f.At = true, true, t
	}
	if t, ok := j.firstContent[u]; ok {
		f.ContentScan = true
		if !f.Automated || t.Before(f.At) {
			f.At = t
		}
		f.Automated = true
	}
	_, f.Reported = j.firstReport[u]
	return f
}

// BenignTally is one benign sender's messages of one class and how many a
// pathway flagged.
type BenignTally struct {
	From    scanlab.UserID
	Items   int
	Flagged map[scanlab.Pathway]int
	// Any counts the items flagged by any pathway, server-metadata included.
	Any int
}

// Benign tallies the messages of class c sent by benign senders in mode j:
// per sender, how many there were and how many each pathway flagged
// (server-metadata: sent at or after the sender's false flag at the
// operating point).
func (meta *Meta) Benign(j *Judgment, c corpus.ContentClass) []BenignTally {
	byFrom := map[scanlab.UserID]*BenignTally{}
	tally := func(u scanlab.UserID) *BenignTally {
		t := byFrom[u]
		if t == nil {
			t = &BenignTally{From: u, Flagged: map[scanlab.Pathway]int{}}
			byFrom[u] = t
		}
		return t
	}
	for u, counts := range meta.benign {
		if n := counts[c]; n > 0 {
			tally(u).Items = n
		}
	}
	flagged := map[string]map[scanlab.Pathway]bool{}
	for id, h := range j.benignFlagged {
		if h.class == c {
			flagged[id] = h.pathways
		}
	}
	for id, it := range j.postFlag {
		if it.class != c {
			continue
		}
		if flagged[id] == nil {
			flagged[id] = map[scanlab.Pathway]bool{}
		}
		flagged[id][scanlab.ServerMetadata] = true
	}
	for id, ps := range flagged {
		from := j.benignFlagged[id]
		var u scanlab.UserID
		if from != nil {
			u = from.from
		} else {
			u = j.postFlag[id].from
		}
		t := tally(u)
		t.Any++
		for p := range ps {
			t.Flagged[p]++
		}
	}
	out := make([]BenignTally, 0, len(byFrom))
	for _, t := range byFrom {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b BenignTally) int {
		if a.From < b.From {
			return -1
		}
		if a.From > b.From {
			return 1
		}
		return 0
	})
	return out
}

// Attempts returns every harmful attempt, admitted or not, in time order.
func (meta *Meta) Attempts() []Attempt { return meta.attempts }

// BenignPrevention returns the benign messages of benign senders attempted
// and those the recipients' settings refused.
func (meta *Meta) BenignPrevention() (attempts, prevented int) {
	return meta.benignAttempts, meta.benignPrevented
}

// Events returns the number of messages in the workload.
func (meta *Meta) Events() int { return meta.events }
