package report

import (
	"fmt"
	"math"
	"strconv"

	"scanlab/stats"
)

// rate is k events out of n with its 95% interval [lo, hi]. The interval
// comes from the result file wherever the file carries one (the coverage
// files: a bootstrap over sender accounts, or Clopper–Pearson over
// accounts); only where a file has none does the report compute one, and
// then it is exact (Clopper–Pearson) and the text says what it treats as
// independent.
type rate struct {
	k, n   int
	lo, hi float64
	// prec is the rounding step of a file's interval (1e-4 for four
	// decimals), 0 for an interval computed here.
	prec float64
}

// Rounding steps of the result files' interval columns.
const (
	fourDecimals = 1e-4
	sixDecimals  = 1e-6
)

// fileRate is k of n with the interval the file gives, written with four
// decimals.
func fileRate(k, n int, lo, hi float64) rate { return fileRateAt(k, n, lo, hi, fourDecimals) }

// fileRateAt is k of n with the interval the file gives, rounded to prec.
func fileRateAt(k, n int, lo, hi, prec float64) rate {
	if n <= 0 {
		return rate{k: k, n: n, lo: 0, hi: 1}
	}
	return rate{k: k, n: n, lo: lo, hi: hi, prec: prec}
}

// countOf recovers the count behind a rate a file wrote with four
// decimals: round(p·n).
func countOf(p float64, n int) int { return int(math.Round(p * float64(n))) }

// exactRate is k of n with its exact 95% Clopper–Pearson interval
// (Clopper and Pearson, Biometrika 1934), for files that carry no
// interval. It treats the n trials as independent: right for distinct
// images or accounts, too narrow for messages of the same account.
func exactRate(k, n int) rate {
	iv, err := stats.ClopperPearson(k, n, stats.Level95)
	if err != nil || iv.NoData {
		return rate{k: k, n: n, lo: 0, hi: 1}
	}
	return rate{k: k, n: n, lo: iv.Lo, hi: iv.Hi}
}

// p returns k/n, NaN without data.
func (r rate) p() float64 {
	if r.n == 0 {
		return math.NaN()
	}
	return float64(r.k) / float64(r.n)
}

// String formats a rate for prose: "81% (95% CI 73–87%; 89 of 110)".
func (r rate) String() string {
	if r.n == 0 {
		return "no data (0 items)"
	}
	return fmt.Sprintf("%s (95%% CI %s; %s of %s)", r.est(), r.interval(), count(float64(r.k)), count(float64(r.n)))
}

// short formats a rate with its interval but without counts, for
// sentences that give the counts elsewhere: "81% (95% CI 73–87%)".
func (r rate) short() string {
	if r.n == 0 {
		return "no data"
	}
	return fmt.Sprintf("%s (95%% CI %s)", r.est(), r.interval())
}

// cell formats a rate for a table: "81% (73–87%) 89/110".
func (r rate) cell() string {
	if r.n == 0 {
		return "–"
	}
	return fmt.Sprintf("%s (%s) %d/%d", r.est(), r.interval(), r.k, r.n)
}

// interval formats the interval: "73–87%". Where a file's rounding hides
// the interval (its ends less than two rounding steps apart, as for
// false-alarm rates of a few in a hundred thousand), it shows the widest
// interval the rounded ends allow, "within 0.005–0.015%", which contains
// the true one; an upper end rounded to zero shows as "0–<0.005%".
func (r rate) interval() string {
	if r.prec == 0 || r.hi-r.lo >= 2*r.prec {
		return pctRange(r.lo, r.hi)
	}
	if r.hi == 0 {
		return "0–<" + pct(r.prec/2)
	}
	return "within " + pctRange(math.Max(0, r.lo-r.prec/2), r.hi+r.prec/2)
}

// pctRange formats an interval of fractions: "73–87%", with a decimal
// more ("5.0–5.3%") where whole percentages would print a range that is
// not one as a single value.
func pctRange(lo, hi float64) string {
	l, h := pctWith(lo, rangeDigits(lo, hi)), pctWith(hi, rangeDigits(lo, hi))
	return l[:len(l)-1] + "–" + h
}

// rangeDigits is the number of decimals an interval needs so that its
// ends print apart: 0 (pct's own format) unless pct prints both alike.
func rangeDigits(lo, hi float64) int {
	digits := 0
	for pctWith(lo, digits) == pctWith(hi, digits) && lo != hi && digits < 3 {
		digits++
	}
	return digits
}

// pctWith formats a fraction as pct does with digits 0, else with that
// many decimals.
func pctWith(v float64, digits int) string {
	if digits == 0 {
		return pct(v)
	}
	return pctDigits(v, digits)
}

// est formats the rate's estimate with as many decimals as its interval.
func (r rate) est() string { return pctWith(r.p(), rangeDigits(r.lo, r.hi)) }

// pctDigits formats a fraction as a percentage with the given decimals.
func pctDigits(v float64, digits int) string {
	return strconv.FormatFloat(v*100, 'f', digits, 64) + "%"
}

// of formats a rate as its count with its interval: "0 of 73, 95% CI
// 0–5%".
func (r rate) of() string {
	if r.n == 0 {
		return "no data (0 items)"
	}
	return fmt.Sprintf("%s of %s, 95%% CI %s", count(float64(r.k)), count(float64(r.n)), r.interval())
}

// boundOf formats a rate as a count of what with its upper 95% bound:
// "0 of 1,425 benign adults (95% upper bound 0.26%)".
func (r rate) boundOf(what string) string {
	n := count(float64(r.n))
	if what != "" {
		n += " " + what
	}
	return fmt.Sprintf("%s of %s (95%% upper bound %s)", count(float64(r.k)), n, pct(r.hi))
}

// sameShown reports whether two rates print the same estimate and
// interval, so that a sentence must not compare them.
func sameShown(a, b rate) bool { return a.short() == b.short() }
