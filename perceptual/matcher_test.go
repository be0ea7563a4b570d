package perceptual

import (
	"math/rand/v2"
	"testing"
)

// TestMatcherNearest checks Nearest against a brute-force search over every
// entry and query, including ties, several queries and empty results.
func TestMatcherNearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	list := make([]Hash, 500)
	labels := make([]string, len(list))
	for i := range list {
		list[i] = randomHash(rng)
		if i%3 == 0 {
			labels[i] = "entry"
		}
	}
	list[7] = list[3] // a duplicate: the lower entry must win the tie
	m := NewMatcherOf(list, labels)
	for _, tc := range []struct {
		name      string
		queries   func() []Hash
		threshold int
	}{
		{"exact", func() []Hash { return []Hash{list[3]} }, 0},
		{"near", func() []Hash { return []Hash{nearBy(rng, list[42], 9, "random")} }, MatchThreshold},
		{"far", func() []Hash { return []Hash{randomHash(rng)} }, MatchThreshold},
		{"several", func() []Hash {
			return []Hash{randomHash(rng), nearBy(rng, list[100], 20, "even"), nearBy(rng, list[200], 12, "packed")}
		}, MatchThreshold},
		{"wide", func() []Hash { return []Hash{randomHash(rng)} }, 100},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			for range 20 {
				qs := tc.queries()
				want, wantOK := Hit{}, false
				for qi, q := range qs {
					for e, h := range list {
						d := Distance(q, h)
						if d > tc.threshold {
							continue
						}
						if !wantOK || d < want.Distance || d == want.Distance && e < want.Entry {
							want, wantOK = Hit{Entry: e, Hash: h, Label: labels[e], Distance: d, Transform: Transform(qi)}, true
						}
					}
				}
				got, ok := m.Nearest(tc.threshold, qs...)
				if ok != wantOK || got != want {
					t.Fatalf("Nearest = %+v, %v; want %+v, %v", got, ok, want, wantOK)
				}
			}
		})
	}
}

func TestMatcherAllAndName(t *testing.T) {
	h1, h2 := Hash{1}, Hash{1, 1}
	m := NewMatcher(&List{Hashes: []Hash{h2, h1}, Labels: []string{"", "one"}})
	all := m.All(h1, 1)
	if len(all) != 2 || all[0].Entry != 1 || all[0].Distance != 0 || all[1].Entry != 0 || all[1].Distance != 1 {
		t.Fatalf("All = %+v", all)
	}
	if all[0].Name() != "one" || all[1].Name() != h2.String() {
		t.Fatalf("names %q, %q", all[0].Name(), all[1].Name())
	}
	if _, ok := NewMatcher(nil).Nearest(MatchThreshold, h1); ok {
		t.Fatal("an empty list matched")
	}
}

func TestScanImageUsesOneLimit(t *testing.T) {
	if _, err := ScanImage(nil); err == nil {
		t.Fatal("ScanImage accepted empty input")
	}
	s := Scan{Quality: MinQuality}
	if !s.Usable() || (Scan{Quality: MinQuality - 1}).Usable() {
		t.Fatal("Usable does not gate at MinQuality")
	}
}
