package audit_test

import (
	"math/rand/v2"
	"testing"

	"scanlab/audit"
	"scanlab/modes"
	"scanlab/observe"
)

// TestWhoReadsText audits a small plan in two modes: the serverscan
// provider reads texts, the e2ee provider does not, and a database thief
// without keys reads none in either.
func TestWhoReadsText(t *testing.T) {
	plan := audit.Plan{Pairs: 1, PerPair: 3, Texts: []string{"a text the audience typed, long enough"}}
	for _, tc := range []struct {
		mode           string
		providerReads  float64
		recipientReads float64
	}{
		{"serverscan", 1, 1},
		{"e2ee", 0, 1},
	} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			m, err := modes.New(tc.mode, modes.Config{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := audit.Run(m, plan, rand.New(rand.NewPCG(1, 2)), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			got := map[observe.Party]float64{}
			for _, c := range res.Cells {
				if c.Item == observe.Text {
					got[c.Party] = c.Fraction()
				}
			}
			if got[observe.Provider] != tc.providerReads || got[observe.Recipient] != tc.recipientReads || got[observe.DBThief] != 0 || got[observe.Eavesdropper] != 0 {
				t.Fatalf("text recovered: %v", got)
			}
			if len(res.Tokens) != 3 || res.Delivered != 4 {
				t.Fatalf("%d tokens, %d delivered", len(res.Tokens), res.Delivered)
			}
		})
	}
}
