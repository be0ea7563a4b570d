package hybrid_test

import (
	"testing"

	"scanlab"
	"scanlab/e2ee"
	"scanlab/hybrid"
	"scanlab/modetest"
)

// pair chooses exactly the conversation between a and b.
func pair(a, b scanlab.UserID) hybrid.Choose {
	if b < a {
		a, b = b, a
	}
	return func(x, y scanlab.UserID) bool { return x == a && y == b }
}

// TestConformance runs the conformance suite with every conversation
// encrypted (the e2ee promises must hold), with none (serverscan's), and
// mixed both ways: the suite's provider-view check plants its tokens in
// alice↔bob, so encrypting only that conversation must hide them and
// encrypting everything else must not.
func TestConformance(t *testing.T) {
	all := func(scanlab.UserID, scanlab.UserID) bool { return true }
	alicebob := pair("alice", "bob")
	notAlicebob := func(a, b scanlab.UserID) bool { return !alicebob(a, b) }
	for _, tc := range []struct {
		name string
		opts hybrid.Options
		caps modetest.Capabilities
	}{
		{"encrypted=all/sealed=no", hybrid.Options{Encrypt: all}, modetest.Capabilities{EndToEnd: true, HidesContent: true}},
		{"encrypted=all/sealed=yes", hybrid.Options{Encrypt: all, E2EE: e2ee.Options{SealedSender: true}},
			modetest.Capabilities{EndToEnd: true, HidesContent: true}},
		{"encrypted=none", hybrid.Options{}, modetest.Capabilities{}},
		{"encrypted=alice-bob", hybrid.Options{Encrypt: alicebob}, modetest.Capabilities{HidesContent: true}},
		{"encrypted=all-but-alice-bob", hybrid.Options{Encrypt: notAlicebob}, modetest.Capabilities{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			modetest.Run(t, func(*testing.T) scanlab.Mode { return hybrid.New(tc.opts) }, tc.caps)
		})
	}
}
