package schema

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"scanlab/observe"
)

// ActiveRow is one row of visibility/active.csv: in one mode, one attack
// by the provider acting in bad faith under one defence — what it
// recovered, and in how many of the attacked conversations someone
// noticed, who and when.
type ActiveRow struct {
	Mode    string
	Attack  observe.Attack
	Defence observe.Defence
	Log     observe.LogHandling // how the provider treated its key log; empty without one
	// Share is the share of users who compare safety numbers (NaN for the
	// other defences).
	Share float64
	// Pairs is the number of attacked conversations; Detected how many of
	// them someone noticed; Rate = Detected/Pairs with its 95%
	// Clopper–Pearson interval [Lo, Hi].
	Pairs, Detected int
	Rate, Lo, Hi    float64
	// DetectedBy lists who noticed, ";"-separated in the order of
	// observe.Detectors, or "nobody".
	DetectedBy string
	// When is the earliest stage at which anyone noticed (empty if nobody).
	When observe.Stage
	// Recovered lists the items the attack gave the provider beyond what it
	// holds passively, ";"-separated in the order of observe.Items ("" if
	// none); Text is the share of text canaries the provider recovered.
	Recovered string
	Text      float64
}

// Nobody is ActiveRow.DetectedBy when no one noticed.
const Nobody = "nobody"

// Active is visibility/active.csv.
var Active = &File[ActiveRow]{
	Path: "visibility/active.csv",
	Doc:  "one attack by the provider acting in bad faith under one defence in one mode: what it recovered, and who noticed, when, in how many conversations",
	Columns: []Column[ActiveRow]{
		Text("mode", func(r *ActiveRow) *string { return &r.Mode }),
		Enum("attack", func(r *ActiveRow) *observe.Attack { return &r.Attack }, observe.Attacks),
		Enum("defence", func(r *ActiveRow) *observe.Defence { return &r.Defence }, observe.Defences),
		OptEnum("log", func(r *ActiveRow) *observe.LogHandling { return &r.Log }, observe.LogHandlings),
		OptFraction("share", Shortest, func(r *ActiveRow) *float64 { return &r.Share }),
		Count("pairs", func(r *ActiveRow) *int { return &r.Pairs }),
		Count("detected", func(r *ActiveRow) *int { return &r.Detected }),
		Fraction("rate", Fixed(4), func(r *ActiveRow) *float64 { return &r.Rate }),
		Fraction("ci_low", Fixed(4), func(r *ActiveRow) *float64 { return &r.Lo }),
		Fraction("ci_high", Fixed(4), func(r *ActiveRow) *float64 { return &r.Hi }),
		Text("detected_by", func(r *ActiveRow) *string { return &r.DetectedBy }),
		OptEnum("when", func(r *ActiveRow) *observe.Stage { return &r.When }, observe.Stages),
		OptText("recovered", func(r *ActiveRow) *string { return &r.Recovered }),
		Fraction("text", Shortest, func(r *ActiveRow) *float64 { return &r.Text }),
	},
	Check: func(r *ActiveRow) error { return r.check() },
}

func (r *ActiveRow) check() error {
	if r.Detected > r.Pairs {
		return fmt.Errorf("detected %d of %d pairs", r.Detected, r.Pairs)
	}
	if r.Lo > r.Rate || r.Rate > r.Hi {
		return fmt.Errorf("rate %v outside its interval [%v, %v]", r.Rate, r.Lo, r.Hi)
	}
	if (r.Defence == observe.SafetyNumbers) == math.IsNaN(r.Share) {
		return errors.New("share is given exactly for safety numbers")
	}
	if (r.DetectedBy == Nobody) != (r.When == "") || (r.DetectedBy == Nobody) != (r.Detected == 0) {
		return errors.New("detected, detected_by and when disagree")
	}
	if r.DetectedBy != Nobody {
		for _, d := range strings.Split(r.DetectedBy, ";") {
			if !slices.Contains(observe.Detectors, observe.Detector(d)) {
				return fmt.Errorf("detected_by: %q is not one of %s", d, joinValues(observe.Detectors))
			}
		}
	}
	if r.Recovered != "" {
		for _, it := range strings.Split(r.Recovered, ";") {
			if !slices.Contains(observe.Items, observe.Item(it)) {
				return fmt.Errorf("recovered: %q is not an item", it)
			}
		}
	}
	return nil
}
