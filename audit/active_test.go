package audit_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"scanlab/audit"
	"scanlab/modes"
	"scanlab/observe"
)

// TestActiveProvider audits the provider acting in bad faith: without a
// defence its ghost device or its substituted keys really decrypt the
// texts the passive provider cannot read; in serverscan it needs no
// attack; with key transparency and gossip an auditor catches the split
// view in every pair.
func TestActiveProvider(t *testing.T) {
	plan := audit.Plan{Pairs: 2, PerPair: 3}
	for _, tc := range []struct {
		mode           string
		setup          audit.Setup
		activeText     float64
		routeHas       string
		detectedByPair bool
	}{
		{"e2ee", audit.Setup{Attack: observe.GhostDevice, Defence: observe.NoDefence}, 1, "ghost device", false},
		{"clientscan", audit.Setup{Attack: observe.KeySubstitution, Defence: observe.NoDefence}, 1, "substituted", false},
		{"e2ee", audit.Setup{Attack: observe.KeySubstitution, Defence: observe.KeyTransparency, Log: observe.Unlogged}, 0, "", true},
		{"e2ee", audit.Setup{Attack: observe.GhostDevice, Defence: observe.KeyTransparencyGossip, Log: observe.SplitView}, 1, "ghost device", true},
		{"serverscan", audit.Setup{Attack: observe.NoAttackNeeded, Defence: observe.NoDefence}, 1, "no attack needed", false},
	} {
		name := "mode=" + tc.mode + "/attack=" + string(tc.setup.Attack) + "/defence=" + string(tc.setup.Defence) + "/log=" + string(tc.setup.Log)
		t.Run(name, func(t *testing.T) {
			res, err := audit.RunActive(tc.mode, modes.Config{}, tc.setup, plan, rand.New(rand.NewPCG(3, 4)), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			var passive, act observe.Cell
			for _, c := range res.Cells {
				if c.Item != observe.Text {
					continue
				}
				switch c.Party {
				case observe.Provider:
					passive = c
				case observe.ProviderActive:
					act = c
				}
			}
			if act.Fraction() != tc.activeText || !strings.Contains(act.Route(), tc.routeHas) {
				t.Fatalf("active provider recovered %v of the texts by %q, want %v by %q", act.Fraction(), act.Route(), tc.activeText, tc.routeHas)
			}
			if tc.mode != "serverscan" && passive.Fraction() != 0 {
				t.Fatalf("the passive provider read %v of the texts", passive.Fraction())
			}
			if res.Delivered != plan.Pairs*plan.PerPair {
				t.Fatalf("%d delivered", res.Delivered)
			}
			for i, p := range res.Pairs {
				if detected := len(p.Detections) > 0; detected != tc.detectedByPair {
					t.Fatalf("pair %d: detections %+v, want detected %t", i, p.Detections, tc.detectedByPair)
				}
			}
		})
	}
}
