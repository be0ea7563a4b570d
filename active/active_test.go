package active_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"scanlab"
	"scanlab/active"
	"scanlab/e2ee"
	"scanlab/harness"
	"scanlab/keylog"
	"scanlab/modes"
	"scanlab/observe"
)

// outcome is what one attack run measured.
type outcome struct {
	recovered bool // the provider's devices decrypted the secret
	delivered bool // the real recipient opened it
	by        []observe.Detector
}

// runAttack plays one pair through mode over the real relay: a first
// exchange, then the attack, the sender's app re-reading the keys (the
// server's "mismatched devices"), and a secret message.
func runAttack(t *testing.T, modeName string, attack observe.Attack, d observe.Defence, lh observe.LogHandling, compare bool) outcome {
	return runAttackOver(t, harness.Relay, modeName, attack, d, lh, compare)
}

// runAttackOver is runAttack over the given transport.
func runAttackOver(t *testing.T, tr harness.Transport, modeName string, attack observe.Attack, d observe.Defence, lh observe.LogHandling, compare bool) outcome {
	t.Helper()
	var got []string
	prov, err := active.New(active.Config{Attack: attack, Transparency: active.Transparent(d), Log: lh,
		Recovered: func(route string, data []byte, _ map[string]string) { got = append(got, string(data)) }})
	if err != nil {
		t.Fatal(err)
	}
	clients := keylog.NewClients(prov.LogKey())
	m, err := modes.New(modeName, modes.Config{E2EE: active.Apps(e2ee.Options{}, d, clients)})
	if err != nil {
		t.Fatal(err)
	}
	w, err := harness.New(harness.Options{Mode: prov.Mode(m), Transport: tr, StateDir: t.TempDir(), NoSync: true, Directory: prov})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	n := 0
	send := func(from, to scanlab.UserID, text string) []harness.Delivered {
		n++
		msg := scanlab.Message{ID: "m" + string(rune('a'+n)), From: from, To: to, Sent: time.Unix(int64(n), 0), Content: scanlab.Content{Kind: scanlab.Text, Text: text}}
		if _, err := w.Send(msg); err != nil {
			t.Fatal(err)
		}
		b, err := w.Deliver(to, 10)
		if err != nil {
			t.Fatal(err)
		}
		return b.Messages
	}
	send("alice", "bob", "hello")
	send("bob", "alice", "hi")
	if err := prov.Start([][2]scanlab.UserID{{"alice", "bob"}}); err != nil {
		t.Fatal(err)
	}
	da, _ := w.Device("alice")
	db, _ := w.Device("bob")
	pr := active.Pair{From: active.E2EE(da), To: active.E2EE(db)}
	pr.RefreshErr = pr.From.RefreshDevices("bob")
	const secret = "the secret after the attack began"
	delivered := send("alice", "bob", secret)
	var o outcome
	o.recovered = slices.Contains(got, secret)
	o.delivered = len(delivered) == 1 && delivered[0].Message.Content.Text == secret
	for _, det := range prov.Detect(d, pr, compare, clients) {
		if !slices.Contains(o.by, det.By) {
			o.by = append(o.by, det.By)
		}
	}
	slices.SortFunc(o.by, func(a, b observe.Detector) int {
		return slices.Index(observe.Detectors, a) - slices.Index(observe.Detectors, b)
	})
	return o
}

// TestAttacks runs each attack under each defence through e2ee and
// clientscan and checks what the provider recovered and who noticed. The
// recipient always gets the message: the machine in the middle
// re-encrypts it.
func TestAttacks(t *testing.T) {
	S, R, A := observe.BySender, observe.ByRecipient, observe.ByAuditor
	for _, tc := range []struct {
		attack    observe.Attack
		defence   observe.Defence
		log       observe.LogHandling
		compare   bool
		recovered bool
		by        []observe.Detector
	}{
		{observe.KeySubstitution, observe.NoDefence, "", false, true, nil},
		{observe.GhostDevice, observe.NoDefence, "", false, true, nil},
		{observe.KeySubstitution, observe.Pinning, "", false, true, []observe.Detector{S, R}},
		{observe.GhostDevice, observe.Pinning, "", false, true, []observe.Detector{S}},
		{observe.KeySubstitution, observe.SafetyNumbers, "", true, true, []observe.Detector{S, R}},
		{observe.GhostDevice, observe.SafetyNumbers, "", true, true, []observe.Detector{S, R}},
		{observe.GhostDevice, observe.SafetyNumbers, "", false, true, nil},
		{observe.KeySubstitution, observe.KeyTransparency, observe.Unlogged, false, false, []observe.Detector{S}},
		{observe.GhostDevice, observe.KeyTransparency, observe.Unlogged, false, false, []observe.Detector{S}},
		{observe.KeySubstitution, observe.KeyTransparency, observe.Logged, false, true, []observe.Detector{S, R}},
		{observe.GhostDevice, observe.KeyTransparency, observe.Logged, false, true, []observe.Detector{R}},
		{observe.KeySubstitution, observe.KeyTransparency, observe.SplitView, false, true, nil},
		{observe.GhostDevice, observe.KeyTransparency, observe.SplitView, false, true, nil},
		{observe.KeySubstitution, observe.KeyTransparencyGossip, observe.SplitView, false, true, []observe.Detector{A}},
		{observe.GhostDevice, observe.KeyTransparencyGossip, observe.SplitView, false, true, []observe.Detector{A}},
	} {
		for _, mode := range []string{"e2ee", "clientscan"} {
			name := strings.Join([]string{"mode=" + mode, "attack=" + string(tc.attack), "defence=" + string(tc.defence), "log=" + string(tc.log)}, "/")
			if tc.defence == observe.SafetyNumbers {
				name += "/compared=" + map[bool]string{true: "yes", false: "no"}[tc.compare]
			}
			t.Run(name, func(t *testing.T) {
				o := runAttack(t, mode, tc.attack, tc.defence, tc.log, tc.compare)
				if o.recovered != tc.recovered || !o.delivered || !slices.Equal(o.by, tc.by) {
					t.Fatalf("recovered %t, delivered %t, detected by %v; want recovered %t, delivered, detected by %v",
						o.recovered, o.delivered, o.by, tc.recovered, tc.by)
				}
			})
		}
	}
}

// TestAttacksInProcess runs two attacks through the in-process transport,
// whose directory reaches the provider's service as the relay's does.
func TestAttacksInProcess(t *testing.T) {
	for _, tc := range []struct {
		attack    observe.Attack
		defence   observe.Defence
		log       observe.LogHandling
		recovered bool
	}{
		{observe.GhostDevice, observe.NoDefence, "", true},
		{observe.KeySubstitution, observe.KeyTransparency, observe.Unlogged, false},
	} {
		t.Run("attack="+string(tc.attack)+"/defence="+string(tc.defence), func(t *testing.T) {
			o := runAttackOver(t, harness.InProcess, "e2ee", tc.attack, tc.defence, tc.log, false)
			if o.recovered != tc.recovered || !o.delivered {
				t.Fatalf("recovered %t, delivered %t; want recovered %t", o.recovered, o.delivered, tc.recovered)
			}
		})
	}
}
