package schema

import (
	"fmt"
	"strconv"
)

// FaultRow is one row of faults/faults.csv: one fault scenario run against
// the relay as its own process, serving devices of one mode, and what
// became of the messages as counted at the recipients. Lost counts
// acknowledged messages neither delivered nor set aside; Quarantined
// counts acknowledged messages the scenario damaged on purpose, which the
// relay set aside and reported instead of delivering; Duplicates counts
// deliveries beyond a message's first; Wrong deliveries that did not open
// or did not match what was sent. Recovered says the relay ended serving
// every acknowledged message it still held intact; Outcome says what
// happened, in words.
type FaultRow struct {
	Scenario, Mode                                         string
	Sent, Acknowledged, Delivered, Lost, Duplicates, Wrong int
	Quarantined                                            int
	Recovered                                              bool
	Outcome                                                string
}

// Faults is faults/faults.csv: counts and outcomes, the same for a seed.
var Faults = &File[FaultRow]{
	Path: "faults/faults.csv",
	Doc:  "one fault scenario and mode: messages sent, acknowledged, delivered, lost, duplicated and set aside, whether the relay recovered, and what happened",
	Columns: []Column[FaultRow]{
		Text("scenario", func(r *FaultRow) *string { return &r.Scenario }),
		Text("mode", func(r *FaultRow) *string { return &r.Mode }),
		Count("sent", func(r *FaultRow) *int { return &r.Sent }),
		Count("acknowledged", func(r *FaultRow) *int { return &r.Acknowledged }),
		Count("delivered", func(r *FaultRow) *int { return &r.Delivered }),
		Count("lost", func(r *FaultRow) *int { return &r.Lost }),
		Count("duplicates", func(r *FaultRow) *int { return &r.Duplicates }),
		Count("wrong", func(r *FaultRow) *int { return &r.Wrong }),
		Count("quarantined", func(r *FaultRow) *int { return &r.Quarantined }),
		boolColumn("recovered", func(r *FaultRow) *bool { return &r.Recovered }),
		Text("outcome", func(r *FaultRow) *string { return &r.Outcome }),
	},
	Check: func(r *FaultRow) error {
		if err := checkDelivery(r.Sent, r.Acknowledged, r.Delivered, r.Lost); err != nil {
			return err
		}
		if r.Lost+r.Quarantined > r.Acknowledged {
			return fmt.Errorf("lost (%d) and quarantined (%d) exceed acknowledged (%d)", r.Lost, r.Quarantined, r.Acknowledged)
		}
		return nil
	},
}

// FaultTimingRow is one row of faults/faults-timings.csv: for the
// scenario of the same key in faults/faults.csv, the sends the relay
// refused for want of storage (each retried by its device; how many
// depends on timing) and the scenario's wall time in seconds.
type FaultTimingRow struct {
	Scenario, Mode string
	Refused        int
	Seconds        float64
}

// FaultTimings is faults/faults-timings.csv.
var FaultTimings = &File[FaultTimingRow]{
	Path: "faults/faults-timings.csv",
	Doc:  "one fault scenario and mode: sends refused for want of storage, and wall time in seconds",
	Columns: []Column[FaultTimingRow]{
		Text("scenario", func(r *FaultTimingRow) *string { return &r.Scenario }),
		Text("mode", func(r *FaultTimingRow) *string { return &r.Mode }),
		Count("refused", func(r *FaultTimingRow) *int { return &r.Refused }),
		NonNegative("seconds", Fixed(2), func(r *FaultTimingRow) *float64 { return &r.Seconds }),
	},
}

// boolColumn is a column holding "true" or "false".
func boolColumn[R any](name string, field func(*R) *bool) Column[R] {
	return Column[R]{
		Name: name,
		get:  func(r *R) string { return strconv.FormatBool(*field(r)) },
		set: func(r *R, s string) error {
			if s != "true" && s != "false" {
				return fmt.Errorf("%q is neither true nor false", s)
			}
			*field(r) = s == "true"
			return nil
		},
	}
}
