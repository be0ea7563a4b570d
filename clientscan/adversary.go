package clientscan

import "scanlab/perceptual"

// ScopeCreep models a malicious (or coerced) curator: it returns the list it
// claims is abuse material with extra non-abuse targets appended (a political
// image, a leaked document), and labels to match. The provider blinds whatever
// it is given, so the table and its root change like at any list update: a
// device sees only that the root and the number of slots changed, never what
// was added; the provider's auditor, rebuilding the table from the list the
// curator supplied, finds it consistent. Only a check of the list itself
// catches it, such as Apple's rule of using only hashes supplied by at least
// two curators in different jurisdictions ([IntersectLists]).
func ScopeCreep(list []perceptual.Hash, labels []string, extra []perceptual.Hash, extraLabels []string) ([]perceptual.Hash, []string) {
	outList := append(append([]perceptual.Hash(nil), list...), extra...)
	outLabels := make([]string, 0, len(outList))
	for i := range list {
		l := ""
		if i < len(labels) {
			l = labels[i]
		}
		outLabels = append(outLabels, l)
	}
	for i := range extra {
		l := ""
		if i < len(extraLabels) {
			l = extraLabels[i]
		}
		outLabels = append(outLabels, l)
	}
	return outList, outLabels
}

// IntersectLists returns the entries of the first list that every other list
// also holds, in the first list's order, without repeats: Apple's mitigation
// against a single curator's scope creep (only hashes supplied by at least two
// child-safety organisations in different jurisdictions ship).
func IntersectLists(lists ...[]perceptual.Hash) []perceptual.Hash {
	if len(lists) == 0 {
		return nil
	}
	count := map[perceptual.Hash]int{}
	for _, l := range lists[1:] {
		seen := map[perceptual.Hash]bool{}
		for _, h := range l {
			if !seen[h] {
				seen[h] = true
				count[h]++
			}
		}
	}
	var out []perceptual.Hash
	seen := map[perceptual.Hash]bool{}
	for _, h := range lists[0] {
		if !seen[h] && count[h] == len(lists)-1 {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}
