package report

import (
	"cmp"
	"slices"

	"scanlab/schema"
)

// Findings over coverage/sensitivity.csv: how coverage moves with the
// offenders' stealth and the metadata detector's threshold.

// sensCurve is one mode's rows for one offender model at one stealth,
// sorted by detector threshold.
type sensCurve struct {
	stealth float64
	rows    []schema.SensitivityRow
}

// sensCurves returns one mode's curves for one offender model, sorted by
// stealth.
func sensCurves(rows []schema.SensitivityRow, mode, model string) []sensCurve {
	var out []sensCurve
	for _, s := range rows {
		if s.Mode != mode || s.OffenderModel != model {
			continue
		}
		i := slices.IndexFunc(out, func(c sensCurve) bool { return c.stealth == s.Stealth })
		if i < 0 {
			out = append(out, sensCurve{stealth: s.Stealth})
			i = len(out) - 1
		}
		if !slices.ContainsFunc(out[i].rows, func(o schema.SensitivityRow) bool { return o.DetectorThreshold == s.DetectorThreshold }) {
			out[i].rows = append(out[i].rows, s)
		}
	}
	for _, c := range out {
		slices.SortFunc(c.rows, func(a, b schema.SensitivityRow) int { return cmp.Compare(a.DetectorThreshold, b.DetectorThreshold) })
	}
	slices.SortFunc(out, func(a, b sensCurve) int { return cmp.Compare(a.stealth, b.stealth) })
	return out
}

// sensModes lists the modes of the sensitivity rows in file order.
func sensModes(rows []schema.SensitivityRow) []string {
	return distinct(mapSlice(rows, func(s schema.SensitivityRow) string { return s.Mode }))
}

// sameSensitivity reports whether two modes' rows agree in every figure,
// so that one plot shows both.
func sameSensitivity(rows []schema.SensitivityRow, a, b string) bool {
	strip := func(m string) []schema.SensitivityRow {
		var out []schema.SensitivityRow
		for _, s := range rows {
			if s.Mode == m {
				s.Mode = ""
				out = append(out, s)
			}
		}
		return out
	}
	x, y := strip(a), strip(b)
	return len(x) > 0 && slices.EqualFunc(x, y, func(p, q schema.SensitivityRow) bool {
		return p == q || (p.OffenderModel == q.OffenderModel && p.Stealth == q.Stealth && p.DetectorThreshold == q.DetectorThreshold &&
			sensItems(p) == sensItems(q) && sensOffenders(p) == sensOffenders(q) && p.FalseFlagRate == q.FalseFlagRate && p.FalseFlagHi == q.FalseFlagHi)
	})
}

// sensGroups groups modes whose sensitivity rows are identical: each
// group's first mode stands for the rest.
func sensGroups(rows []schema.SensitivityRow) [][]string {
	var out [][]string
	for _, m := range sensModes(rows) {
		i := slices.IndexFunc(out, func(g []string) bool { return sameSensitivity(rows, g[0], m) })
		if i < 0 {
			out = append(out, []string{m})
			continue
		}
		out[i] = append(out[i], m)
	}
	return out
}

// stealthEnds returns one mode's all-offender rows at a threshold for the
// lowest and the highest stealth swept; ok is false with fewer than two
// stealth values.
func stealthEnds(rows []schema.SensitivityRow, mode string, threshold float64) (lo, hi schema.SensitivityRow, ok bool) {
	var at []schema.SensitivityRow
	for _, c := range sensCurves(rows, mode, allOffenders) {
		if i := slices.IndexFunc(c.rows, func(s schema.SensitivityRow) bool { return s.DetectorThreshold == threshold }); i >= 0 {
			at = append(at, c.rows[i])
		}
	}
	if len(at) < 2 {
		return lo, hi, false
	}
	return at[0], at[len(at)-1], true
}

// thresholdEnds returns one mode's all-offender rows at one stealth for
// the highest and the lowest threshold swept; ok is false with fewer than
// two thresholds.
func thresholdEnds(rows []schema.SensitivityRow, mode string, stealth float64) (strict, loose schema.SensitivityRow, ok bool) {
	i := slices.IndexFunc(sensCurves(rows, mode, allOffenders), func(c sensCurve) bool { return c.stealth == stealth })
	if i < 0 {
		return strict, loose, false
	}
	c := sensCurves(rows, mode, allOffenders)[i].rows
	if len(c) < 2 {
		return strict, loose, false
	}
	return c[len(c)-1], c[0], true
}
