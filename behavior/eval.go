package behavior

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"scanlab"
)

// AccountTruth is the ground truth about one account, for evaluation only.
type AccountTruth struct {
	// Offender is true for an account that contacts minors with harmful
	// intent.
	Offender bool
	// LookAlike is true for a benign adult with many young contacts
	// (teacher, coach, family): the accounts a metadata detector is most
	// likely to flag wrongly.
	LookAlike bool
	// Group names the account's kind for a per-group breakdown ("teacher",
	// "parent", ...); it may be empty.
	Group string
}

// Truth is the ground truth about the accounts under evaluation. Accounts
// not in it are ignored by [Evaluate].
type Truth map[scanlab.UserID]AccountTruth

// Split divides truth into a training and a test part with no account in
// both. The test part holds round(testShare × n) accounts of each stratum
// (offenders, benign look-alikes, other benign accounts), chosen by a PCG
// stream of seed, so the split is deterministic.
func Split(truth Truth, testShare float64, seed uint64) (train, test Truth) {
	strata := map[[2]bool][]scanlab.UserID{}
	for id, t := range truth {
		k := [2]bool{t.Offender, t.LookAlike}
		strata[k] = append(strata[k], id)
	}
	train, test = Truth{}, Truth{}
	r := rand.New(rand.NewPCG(seed, 0x62656861)) // "beha"
	for _, k := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		ids := strata[k]
		slices.Sort(ids)
		nTest := int(math.Round(testShare * float64(len(ids))))
		for i, p := range r.Perm(len(ids)) {
			if i < nTest {
				test[ids[p]] = truth[ids[p]]
			} else {
				train[ids[p]] = truth[ids[p]]
			}
		}
	}
	return train, test
}

// Examples returns the training examples of the accounts in truth that the
// detector has scored, sorted by account. Accounts it never saw sending are
// left out: they have no features.
func (d *Detector) Examples(truth Truth) []Example {
	ids := make([]scanlab.UserID, 0, len(truth))
	for id := range truth {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []Example
	for _, id := range ids {
		if f, ok := d.Features(id); ok {
			out = append(out, Example{Account: id, Features: f, Offender: truth[id].Offender})
		}
	}
	return out
}

// GroupResult is the share of flagged accounts in one group.
type GroupResult struct {
	Group    string
	Accounts int
	Flagged  int
	Rate     float64 // Flagged / Accounts
}

// Evaluation is how well a set of flags matches the ground truth.
type Evaluation struct {
	// Accounts is the number of accounts in the truth.
	Accounts int
	// Offenders and OffendersFlagged count offenders and flagged offenders.
	Offenders, OffendersFlagged int
	// Benign and BenignFlagged count benign accounts and flagged ones.
	Benign, BenignFlagged int
	// LookAlikes and LookAlikesFlagged count benign adults with many young
	// contacts and flagged ones.
	LookAlikes, LookAlikesFlagged int
	// Precision is the share of flagged accounts that are offenders (NaN
	// when none is flagged).
	Precision float64
	// Recall is the share of offenders flagged (NaN without offenders).
	Recall float64
	// FalseFlagRate is the share of benign accounts flagged.
	FalseFlagRate float64
	// LookAlikeFalseFlagRate is the share of benign look-alikes flagged
	// (NaN without look-alikes). Report it beside Recall.
	LookAlikeFalseFlagRate float64
	// Groups breaks the flag rate down by [AccountTruth.Group], sorted by
	// group name.
	Groups []GroupResult
}

// Evaluate scores flags against truth. Flags on accounts not in truth are
// ignored, so a detector that observed every account can be evaluated on a
// test split alone.
func Evaluate(flags []Flag, truth Truth) Evaluation {
	flagged := map[scanlab.UserID]bool{}
	for _, f := range flags {
		if _, ok := truth[f.Account]; ok {
			flagged[f.Account] = true
		}
	}
	var ev Evaluation
	groups := map[string]*GroupResult{}
	for id, t := range truth {
		ev.Accounts++
		fl := flagged[id]
		g := groups[t.Group]
		if g == nil {
			g = &GroupResult{Group: t.Group}
			groups[t.Group] = g
		}
		g.Accounts++
		if fl {
			g.Flagged++
		}
		switch {
		case t.Offender:
			ev.Offenders++
			if fl {
				ev.OffendersFlagged++
			}
		default:
			ev.Benign++
			if fl {
				ev.BenignFlagged++
			}
			if t.LookAlike {
				ev.LookAlikes++
				if fl {
					ev.LookAlikesFlagged++
				}
			}
		}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return math.NaN()
		}
		return float64(a) / float64(b)
	}
	ev.Precision = ratio(ev.OffendersFlagged, ev.OffendersFlagged+ev.BenignFlagged)
	ev.Recall = ratio(ev.OffendersFlagged, ev.Offenders)
	ev.FalseFlagRate = ratio(ev.BenignFlagged, ev.Benign)
	ev.LookAlikeFalseFlagRate = ratio(ev.LookAlikesFlagged, ev.LookAlikes)
	for _, g := range groups {
		g.Rate = ratio(g.Flagged, g.Accounts)
		ev.Groups = append(ev.Groups, *g)
	}
	slices.SortFunc(ev.Groups, func(a, b GroupResult) int { return strings.Compare(a.Group, b.Group) })
	return ev
}

// String formats the evaluation on one line: recall and precision on
// offenders, then false-flag rates overall and on look-alikes.
func (ev Evaluation) String() string {
	return fmt.Sprintf("recall %.3f (%d/%d) precision %.3f false-flag rate %.4f (%d/%d) look-alike false-flag rate %.3f (%d/%d)",
		ev.Recall, ev.OffendersFlagged, ev.Offenders, ev.Precision,
		ev.FalseFlagRate, ev.BenignFlagged, ev.Benign,
		ev.LookAlikeFalseFlagRate, ev.LookAlikesFlagged, ev.LookAlikes)
}
