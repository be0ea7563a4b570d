package schema

import (
	"errors"
	"fmt"
)

// BelowThresholdRow is one row of privacy/below-threshold.csv: under one
// synthetic-voucher calibration, for accounts of one library size, how well
// the provider tells an account with K real matches from one with none,
// both below the threshold T, from the number of matching vouchers it sees
// (clientscan/psi.BelowThreshold). An advantage is
// P[guess "real" | K real] − P[guess "real" | none]: 0 means the provider
// cannot tell, 1 that it always can.
type BelowThresholdRow struct {
	// Calibration names the synthetic-voucher policy ("about-t",
	// "former-cap-3t", ...).
	Calibration string
	// Rate is the per-voucher probability of a synthetic voucher.
	Rate float64
	// Budget is the budget rule, as psi.Budget names it: "uniform" (a
	// secret budget drawn from {0, …, BudgetMax}), "fixed" (a cap of
	// BudgetMax) or "none".
	Budget string
	// BudgetMax is the budget's bound; absent for the rule "none".
	BudgetMax Opt[int]
	Library   int // images in the account
	K         int // real matches, compared with none
	T         int // the threshold
	// MeanSynthetic is the expected number of synthetic vouchers the
	// account sends (closed form).
	MeanSynthetic float64
	// ClosedForm is the best advantage from the count: the total variation
	// distance between the two count distributions.
	ClosedForm float64
	// Simulated is the advantage, on held-out simulated accounts, of the
	// threshold test learned on other simulated accounts, and SimulatedLo
	// and SimulatedHi its 95% interval (Newcombe's hybrid score interval).
	// A held-out estimate can fall below 0.
	Simulated, SimulatedLo, SimulatedHi float64
	// Trials is the number of simulated accounts per group and half.
	Trials int
}

// BelowThreshold is privacy/below-threshold.csv.
var BelowThreshold = &File[BelowThresholdRow]{
	Path: "privacy/below-threshold.csv",
	Doc:  "one calibration, library size and number of real matches: the provider's advantage below the threshold, closed form and simulated",
	Columns: []Column[BelowThresholdRow]{
		Text("calibration", func(r *BelowThresholdRow) *string { return &r.Calibration }),
		Fraction("rate", Shortest, func(r *BelowThresholdRow) *float64 { return &r.Rate }),
		Text("budget", func(r *BelowThresholdRow) *string { return &r.Budget }),
		OptCount("budget_max", func(r *BelowThresholdRow) *Opt[int] { return &r.BudgetMax }),
		Count("library", func(r *BelowThresholdRow) *int { return &r.Library }),
		Count("k", func(r *BelowThresholdRow) *int { return &r.K }),
		Count("t", func(r *BelowThresholdRow) *int { return &r.T }),
		NonNegative("mean_synthetic", Fixed(3), func(r *BelowThresholdRow) *float64 { return &r.MeanSynthetic }),
		Fraction("closed_form", Fixed(6), func(r *BelowThresholdRow) *float64 { return &r.ClosedForm }),
		advantage("simulated", func(r *BelowThresholdRow) *float64 { return &r.Simulated }),
		advantage("simulated_lo", func(r *BelowThresholdRow) *float64 { return &r.SimulatedLo }),
		advantage("simulated_hi", func(r *BelowThresholdRow) *float64 { return &r.SimulatedHi }),
		Count("trials", func(r *BelowThresholdRow) *int { return &r.Trials }),
	},
	Check: (*BelowThresholdRow).check,
}

// advantage is a column holding a difference of two proportions, in
// [−1, 1], with six decimals.
func advantage(name string, field func(*BelowThresholdRow) *float64) Column[BelowThresholdRow] {
	return numberColumn(name, Fixed(6), field, numberRange{lo: -1, hi: 1})
}

func (r *BelowThresholdRow) check() error {
	switch {
	case r.K < 1 || r.K > r.T:
		return fmt.Errorf("k (%d) outside [1, t = %d]", r.K, r.T)
	case r.Library < 1 || r.Trials < 1:
		return errors.New("library and trials must be positive")
	case !(r.SimulatedLo <= r.Simulated && r.Simulated <= r.SimulatedHi):
		return fmt.Errorf("simulated %v outside its interval [%v, %v]", r.Simulated, r.SimulatedLo, r.SimulatedHi)
	case r.BudgetMax.Valid == (r.Budget == "none"):
		return fmt.Errorf("budget %q with budget_max %v: a bound is set exactly when there is a budget", r.Budget, r.BudgetMax)
	}
	return nil
}
