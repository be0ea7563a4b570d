package clientscan_test

import (
	"testing"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/internal/testimg"
	"scanlab/modetest"
	"scanlab/perceptual"
	"scanlab/textscan"
)

// TestConformance runs the mode conformance suite over clientscan with a
// list and a low threshold, with and without the on-device text verdict:
// end-to-end integrity, no content in the provider's view below the
// threshold, and vouchers and verdicts kept from recipients.
func TestConformance(t *testing.T) {
	s, err := perceptual.ScanImage(testimg.Rectangles(5, 0, 128))
	if err != nil {
		t.Fatal(err)
	}
	list := []perceptual.Hash{s.Hash}
	for _, tc := range []struct {
		name         string
		opts         clientscan.Options
		providerOnly []string
	}{
		{"default", clientscan.Options{List: list, Threshold: 3}, []string{clientscan.AttachVoucher}},
		{"chunks", clientscan.Options{List: list, Threshold: 3, Match: clientscan.MatchVariant{Chunks: 4}}, []string{clientscan.AttachVoucher}},
		// The text verdict rides in the clear for the provider: content
		// stays hidden, but the verdict is the provider's.
		{"device-text", clientscan.Options{List: list, Threshold: 3, DeviceText: textscan.Rules()},
			[]string{clientscan.AttachVoucher, clientscan.AttachTextVerdict}},
	} {
		t.Run("options="+tc.name, func(t *testing.T) {
			modetest.Run(t, func(*testing.T) scanlab.Mode { return clientscan.New(tc.opts) },
				modetest.Capabilities{EndToEnd: true, HidesContent: true, ProviderOnly: tc.providerOnly})
		})
	}
}
