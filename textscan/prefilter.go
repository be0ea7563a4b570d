package textscan

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// maxExact bounds the size of the literal sets built by [factors].
const maxExact = 64

// prefilter is a cheap necessary condition for a regular expression to match:
// every match contains at least one of the literals. A nil prefilter admits
// every text.
type prefilter []string

// admits reports whether s contains one of the literals. idx must be the
// [pairIndex] of s; it rules most literals out without a search.
func (p prefilter) admits(s string, idx *pairIndex) bool {
	if p == nil {
		return true
	}
	for _, lit := range p {
		if idx.mayContain(lit) && strings.Contains(s, lit) {
			return true
		}
	}
	return false
}

// pairIndex is a 1024-bit set of the adjacent byte pairs in a text, each byte
// reduced to its low 5 bits. Collisions only make it answer "maybe".
type pairIndex [16]uint64

func newPairIndex(s string) *pairIndex {
	var idx pairIndex
	for i := 0; i+1 < len(s); i++ {
		k := pairKey(s[i], s[i+1])
		idx[k>>6] |= 1 << (k & 63)
	}
	return &idx
}

func pairKey(a, b byte) uint { return uint(a&31)<<5 | uint(b&31) }

// mayContain reports false only if lit cannot occur in the indexed text.
func (idx *pairIndex) mayContain(lit string) bool {
	for i := 0; i+1 < len(lit); i++ {
		k := pairKey(lit[i], lit[i+1])
		if idx[k>>6]&(1<<(k&63)) == 0 {
			return false
		}
	}
	return true
}

// newPrefilter derives a prefilter from re. It is nil when no useful set of
// literals exists (for example when the pattern can match the empty string).
func newPrefilter(re *regexp.Regexp) prefilter {
	t, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		panic("textscan: reparsing a compiled pattern: " + err.Error())
	}
	_, f := factors(t.Simplify())
	if len(f) == 0 || slices.Contains(f, "") {
		return nil
	}
	return prefilter(f)
}

// factors returns, for the expression t, the exact set of strings it matches
// (nil when unknown or larger than maxExact) and a set of literals at least
// one of which occurs in every match (nil when unknown).
func factors(t *syntax.Regexp) (exact, need []string) {
	switch t.Op {
	case syntax.OpLiteral:
		if t.Flags&syntax.FoldCase != 0 {
			return nil, nil
		}
		s := string(t.Rune)
		return []string{s}, []string{s}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}, nil
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(t.Rune); i += 2 {
			for r := t.Rune[i]; r <= t.Rune[i+1]; r++ {
				if len(set) == 8 {
					return nil, nil
				}
				set = append(set, string(r))
			}
		}
		return set, set
	case syntax.OpCapture:
		return factors(t.Sub[0])
	case syntax.OpQuest:
		e, _ := factors(t.Sub[0])
		if e != nil {
			e = union(e, []string{""})
		}
		return e, nil
	case syntax.OpPlus:
		_, n := factors(t.Sub[0])
		return nil, n
	case syntax.OpRepeat:
		if t.Min >= 1 {
			_, n := factors(t.Sub[0])
			return nil, n
		}
		return nil, nil
	case syntax.OpAlternate:
		var exact, need []string
		exactOK, needOK := true, true
		for _, s := range t.Sub {
			e, n := factors(s)
			if e == nil {
				exactOK = false
			}
			if n == nil {
				needOK = false
			}
			exact = union(exact, e)
			need = union(need, n)
		}
		if !exactOK || len(exact) > maxExact {
			exact = nil
		}
		if !needOK {
			need = nil
		}
		return exact, need
	case syntax.OpConcat:
		var best []string
		consider := func(set []string) {
			if better(set, best) {
				best = set
			}
		}
		run := []string{""} // product of the current run of exact children
		exactAll := true
		for _, s := range t.Sub {
			e, n := factors(s)
			consider(n)
			if e == nil {
				consider(run)
				run = []string{""}
				exactAll = false
				continue
			}
			run = product(run, e)
			if run == nil {
				exactAll = false
				run = e
			}
		}
		consider(run)
		if exactAll {
			return run, best
		}
		return nil, best
	}
	return nil, nil
}

// better reports whether a is a more selective literal set than b: its
// shortest literal is longer, or as long with fewer literals.
func better(a, b []string) bool {
	if a == nil || slices.Contains(a, "") {
		return false
	}
	if b == nil {
		return true
	}
	ma, mb := minLen(a), minLen(b)
	return ma > mb || ma == mb && len(a) < len(b)
}

func minLen(set []string) int {
	m := -1
	for _, s := range set {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// union returns a ∪ b without duplicates.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

// product returns every concatenation of a string of a with one of b, or nil
// when there would be more than maxExact.
func product(a, b []string) []string {
	if len(a)*len(b) > maxExact {
		return nil
	}
	var out []string
	for _, x := range a {
		for _, y := range b {
			out = union(out, []string{x + y})
		}
	}
	return out
}
