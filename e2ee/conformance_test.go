package e2ee_test

import (
	"testing"

	"scanlab"
	"scanlab/e2ee"
	"scanlab/modetest"
)

// TestConformance runs the mode conformance suite with the mode's options
// that change what crosses the wire.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts e2ee.Options
	}{
		{"pq=no/sealed=no", e2ee.Options{}},
		{"pq=yes/sealed=no", e2ee.Options{PQ: true}},
		{"pq=no/sealed=yes", e2ee.Options{SealedSender: true}},
		{"pq=yes/sealed=yes", e2ee.Options{PQ: true, SealedSender: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			modetest.Run(t, func(*testing.T) scanlab.Mode { return e2ee.New(tc.opts) },
				modetest.Capabilities{EndToEnd: true, HidesContent: true})
		})
	}
}
