package report

import (
	"cmp"
	"slices"

	"scanlab/schema"
)

// Findings over privacy/below-threshold.csv: pure functions of the typed
// rows.

// privacyCal is one synthetic-voucher calibration as the file describes it.
type privacyCal struct {
	name, budget string
	rate         float64
	max          schema.Opt[int]
}

// privacyKey names one cell of the below-threshold table.
type privacyKey struct {
	cal        string
	library, k int
}

// privacyTable is the below-threshold table of one threshold: its library
// sizes and numbers of real matches in increasing order, its calibrations
// in file order, and its rows by cell.
type privacyTable struct {
	t         int
	libraries []int
	ks        []int
	cals      []privacyCal
	cells     map[privacyKey]schema.BelowThresholdRow
}

// privacyTableOf gathers the rows of the file's first threshold (the
// experiment writes one). It returns false when there are no rows.
func privacyTableOf(rows []schema.BelowThresholdRow) (privacyTable, bool) {
	if len(rows) == 0 {
		return privacyTable{}, false
	}
	pt := privacyTable{t: rows[0].T, cells: map[privacyKey]schema.BelowThresholdRow{}}
	for _, r := range rows {
		if r.T != pt.t {
			continue
		}
		if !slices.ContainsFunc(pt.cals, func(c privacyCal) bool { return c.name == r.Calibration }) {
			pt.cals = append(pt.cals, privacyCal{name: r.Calibration, budget: r.Budget, rate: r.Rate, max: r.BudgetMax})
		}
		pt.libraries = append(pt.libraries, r.Library)
		pt.ks = append(pt.ks, r.K)
		pt.cells[privacyKey{r.Calibration, r.Library, r.K}] = r
	}
	pt.libraries = slices.Compact(slices.Sorted(slices.Values(pt.libraries)))
	pt.ks = slices.Compact(slices.Sorted(slices.Values(pt.ks)))
	return pt, true
}

// at returns the row of one cell.
func (pt privacyTable) at(cal string, library, k int) (schema.BelowThresholdRow, bool) {
	r, ok := pt.cells[privacyKey{cal, library, k}]
	return r, ok
}

// smallest and largest are the extreme library sizes; fewest and most the
// extreme numbers of real matches.
func (pt privacyTable) smallest() int { return pt.libraries[0] }
func (pt privacyTable) largest() int  { return pt.libraries[len(pt.libraries)-1] }
func (pt privacyTable) fewest() int   { return pt.ks[0] }
func (pt privacyTable) most() int     { return pt.ks[len(pt.ks)-1] }

// across returns the rows of every calibration for one library size and k,
// in the order of the calibrations.
func (pt privacyTable) across(library, k int) []schema.BelowThresholdRow {
	var out []schema.BelowThresholdRow
	for _, c := range pt.cals {
		if r, ok := pt.at(c.name, library, k); ok {
			out = append(out, r)
		}
	}
	return out
}

// curve returns one calibration's rows for k, in order of library size.
func (pt privacyTable) curve(cal string, k int) []schema.BelowThresholdRow {
	var out []schema.BelowThresholdRow
	for _, n := range pt.libraries {
		if r, ok := pt.at(cal, n, k); ok {
			out = append(out, r)
		}
	}
	return out
}

// leakiest splits rows into the one with the largest closed-form
// advantage (the first such in calibration order) and the others.
func leakiest(rows []schema.BelowThresholdRow) (schema.BelowThresholdRow, []schema.BelowThresholdRow) {
	i := 0
	for j, r := range rows {
		if r.ClosedForm > rows[i].ClosedForm {
			i = j
		}
	}
	return rows[i], slices.Delete(slices.Clone(rows), i, i+1)
}

// closedRange returns the smallest and largest closed-form advantage of
// rows, and the rows that hold them.
func closedRange(rows []schema.BelowThresholdRow) (lo, hi schema.BelowThresholdRow) {
	by := func(a, b schema.BelowThresholdRow) int { return cmp.Compare(a.ClosedForm, b.ClosedForm) }
	return slices.MinFunc(rows, by), slices.MaxFunc(rows, by)
}

// syntheticRange returns the smallest and largest expected number of
// synthetic vouchers among rows.
func syntheticRange(rows []schema.BelowThresholdRow) (lo, hi float64) {
	by := func(a, b schema.BelowThresholdRow) int { return cmp.Compare(a.MeanSynthetic, b.MeanSynthetic) }
	return slices.MinFunc(rows, by).MeanSynthetic, slices.MaxFunc(rows, by).MeanSynthetic
}

// agreement counts the rows whose simulated interval holds the closed
// form, and those where the closed form lies above or below it.
type agreement struct{ held, above, below, rows int }

func simulationAgreement(pt privacyTable) agreement {
	var a agreement
	for _, r := range pt.cells {
		a.rows++
		switch {
		case r.ClosedForm > r.SimulatedHi:
			a.above++
		case r.ClosedForm < r.SimulatedLo:
			a.below++
		default:
			a.held++
		}
	}
	return a
}

// trialsRange returns the fewest and most simulated accounts per group of
// the table's rows.
func (pt privacyTable) trialsRange() (lo, hi int) {
	lo, hi = -1, 0
	for _, r := range pt.cells {
		if lo < 0 || r.Trials < lo {
			lo = r.Trials
		}
		hi = max(hi, r.Trials)
	}
	return lo, hi
}
