package platform_test

import (
	"fmt"
	"testing"

	"scanlab"
	"scanlab/harness"
	"scanlab/internal/testimg"
	"scanlab/modes"
	"scanlab/perceptual"
	"scanlab/platform"
)

const harmfulText = "you should just kill yourself"

// converse sends one message from alice to bob through the run's mode,
// delivers it and has bob report it; it returns the send's and the
// report's detections.
func converse(t *testing.T, r platform.Run, cfg modes.Config, c scanlab.Content) (sent, reported []scanlab.Detection) {
	t.Helper()
	m, err := r.NewMode(cfg, platform.Truth{Seed: 1, OffenderFactor: 1})
	if err != nil {
		t.Fatal(err)
	}
	w, err := harness.New(harness.Options{Mode: m, Transport: harness.InProcess, AllowSealedSender: r.SealedSender})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s, err := w.Send(scanlab.Message{ID: "m1", From: "alice", To: "bob", Content: c})
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.Deliver("bob", 1)
	if err != nil || len(b.Messages) != 1 {
		t.Fatalf("deliver: %v, %d messages", err, len(b.Messages))
	}
	reported, err = w.Report("bob", b.Messages[0].Message)
	if err != nil {
		t.Fatal(err)
	}
	return s.Detections, reported
}

// TestReportsFollowThePreset: a report carries what the preset says — the
// mode's own verified report, the forwarded plaintext (which flags the
// message), or no content (which flags only the account) — in clear and
// encrypted conversations, with and without sealed sender.
func TestReportsFollowThePreset(t *testing.T) {
	text := scanlab.Content{Kind: scanlab.Text, Text: "see you at eight"}
	for _, c := range []struct {
		mode     string
		sealed   bool
		reports  platform.Reports
		rule     string // "" for the mode's own
		message  bool   // the detection names the message
		accusing bool   // the detection names alice
	}{
		{"serverscan", false, platform.Reports{Clear: platform.ReportProviderCopy}, "", true, true},
		{"serverscan", false, platform.Reports{Clear: platform.ReportForwarded}, platform.RuleForwarded, true, true},
		{"serverscan", false, platform.Reports{Clear: platform.ReportMetadataOnly}, platform.RuleMetadata, false, true},
		{"serverscan", false, platform.Reports{Clear: platform.ReportNone}, platform.RuleAccount, false, true},
		{"e2ee", false, platform.Reports{Encrypted: platform.ReportFranked}, "", true, true},
		{"e2ee", true, platform.Reports{Encrypted: platform.ReportFranked}, "", true, false},
		{"e2ee", true, platform.Reports{Encrypted: platform.ReportForwarded}, platform.RuleForwarded, true, true},
		{"e2ee", false, platform.Reports{Encrypted: platform.ReportMetadataOnly}, platform.RuleMetadata, false, true},
		{"e2ee", true, platform.Reports{Encrypted: platform.ReportNone}, platform.RuleAccount, false, true},
	} {
		name := fmt.Sprintf("mode=%s/sealed=%v/report=%s%s", c.mode, c.sealed, c.reports.Clear, c.reports.Encrypted)
		t.Run(name, func(t *testing.T) {
			r := platform.Run{Platform: "test", Mode: c.mode, SealedSender: c.sealed, Reports: c.reports}
			_, dets := converse(t, r, modes.Config{}, text)
			if len(dets) != 1 {
				t.Fatalf("report raised %d detections, want 1: %+v", len(dets), dets)
			}
			d := dets[0]
			switch {
			case d.Pathway != scanlab.UserReport:
				t.Errorf("pathway %s", d.Pathway)
			case c.rule != "" && d.Rule != c.rule:
				t.Errorf("rule %q, want %q", d.Rule, c.rule)
			case (d.MessageID == "m1") != c.message:
				t.Errorf("detection names message %q; want the message named: %v", d.MessageID, c.message)
			case (d.Account == "alice") != c.accusing:
				t.Errorf("detection accuses %q; want alice accused: %v", d.Account, c.accusing)
			}
		})
	}
}

// TestHybridReportsPerConversation: in X's design a report of a clear
// message is the provider's copy and one of an encrypted message is not
// possible; the same mode does both, by conversation.
func TestHybridReportsPerConversation(t *testing.T) {
	x, err := platform.Builtin("x")
	if err != nil {
		t.Fatal(err)
	}
	for _, share := range []string{"0", "1"} {
		t.Run("opt_in_share="+share, func(t *testing.T) {
			c := x.Baseline()
			r, err := x.Config(c)
			if err != nil {
				t.Fatal(err)
			}
			// The preset's range does not reach 0 or 1: force the share.
			r.EncryptedShare = map[string]float64{"0": 1e-9, "1": 1}[share]
			_, dets := converse(t, r, modes.Config{}, scanlab.Content{Kind: scanlab.Text, Text: "hello"})
			if len(dets) != 1 {
				t.Fatalf("%d detections", len(dets))
			}
			if own := dets[0].Rule != platform.RuleAccount; own != (share == "0") {
				t.Errorf("share %s: rule %q", share, dets[0].Rule)
			}
		})
	}
}

// TestScanFollowsThePreset: the provider scans text and images of clear
// messages only as the run's Scan says.
func TestScanFollowsThePreset(t *testing.T) {
	img := testimg.Rectangles(3, 0, 64)
	s, err := perceptual.ScanImage(img)
	if err != nil {
		t.Fatal(err)
	}
	cfg := modes.Config{List: []perceptual.Hash{s.Hash}, Labels: []string{"listed"}}
	for _, mode := range []string{"serverscan", "hybrid"} {
		for _, scan := range []platform.Scan{{}, {Hash: true}, {Text: true}, {Hash: true, Text: true}} {
			t.Run(fmt.Sprintf("mode=%s/hash=%v/text=%v", mode, scan.Hash, scan.Text), func(t *testing.T) {
				r := platform.Run{Platform: "test", Mode: mode, Scan: scan, OptIn: platform.OptInAll, EncryptedShare: 1e-9,
					Reports: platform.Reports{Clear: platform.ReportProviderCopy, Encrypted: platform.ReportFranked}}
				for _, c := range []struct {
					content scanlab.Content
					want    bool
					pathway scanlab.Pathway
				}{
					{scanlab.Content{Kind: scanlab.Image, Image: img}, scan.Hash, scanlab.ServerHash},
					{scanlab.Content{Kind: scanlab.Text, Text: harmfulText}, scan.Text, scanlab.ServerText},
				} {
					sent, _ := converse(t, r, cfg, c.content)
					if got := len(sent) == 1 && sent[0].Pathway == c.pathway; got != c.want {
						t.Errorf("%s: detections %+v, want one: %v", c.pathway, sent, c.want)
					}
				}
			})
		}
	}
}

// TestClientscanRefusesSealedSender: a preset cannot ask for on-device
// scanning with sealed sender, which hides the account vouchers count for.
func TestClientscanRefusesSealedSender(t *testing.T) {
	r := platform.Run{Platform: "test", Mode: "clientscan", SealedSender: true}
	if _, err := r.NewMode(modes.Config{}, platform.Truth{}); err == nil {
		t.Error("clientscan with sealed sender built")
	}
}
