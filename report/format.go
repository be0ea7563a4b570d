package report

import (
	"math"
	"strconv"
	"strings"
)

// fraction formats a value in [0, 1] for a table cell: "0", "1", "0.67".
func fraction(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return trimFloat(math.Round(v*100)/100, 3)
}

// pct formats a fraction as a percentage, keeping small values and values
// just short of 100% distinguishable from 0% and 100%.
func pct(v float64) string {
	p := v * 100
	switch {
	case math.IsNaN(p):
		return "n/a"
	case p == 0 || p == 100:
		return strconv.Itoa(int(p)) + "%"
	case p < 1:
		return strconv.FormatFloat(p, 'g', 2, 64) + "%"
	case p > 99 && p < 100:
		return strconv.FormatFloat(math.Floor(p*10)/10, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(math.Round(p), 'f', 0, 64) + "%"
}

// duration formats a time in microseconds with a readable unit.
func duration(us float64) string {
	switch {
	case us >= 1e6:
		return trimFloat(us/1e6, 3) + " s"
	case us >= 1e3:
		return trimFloat(us/1e3, 3) + " ms"
	}
	return trimFloat(us, 3) + " µs"
}

// count formats a whole number with thousands separators: 86388 → "86,388".
func count(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// sci formats a probability compactly: 0.0012 → "0.0012", 3e-13 → "3e-13".
func sci(v float64) string {
	if v == 0 {
		return "0"
	}
	if v >= 1e-4 {
		return trimFloat(v, 2)
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

// andList joins words as prose: "a", "a and b", "a, b and c".
func andList(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// code wraps each word in backquotes.
func code(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = "`" + w + "`"
	}
	return out
}

// fileName makes a value safe for use in a plot file name.
func fileName(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// article returns "a" or "an" for the word that follows.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// measure formats a measured value: whole numbers of 1,000 or more with
// thousands separators, anything else with three significant digits.
func measure(v float64) string {
	if math.Abs(v) >= 1000 {
		return count(v)
	}
	return trimFloat(v, 3)
}
