package platform

import (
	"fmt"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/e2ee"
	"scanlab/hybrid"
	"scanlab/modes"
	"scanlab/serverscan"
	"scanlab/textscan"
)

// NewMode builds the platform's mode for the run from cfg (the hash list
// and clientscan's knobs):
//
//   - serverscan, scanning images against cfg's list if Scan.Hash and text
//     with the default rules if Scan.Text (otherwise not at all);
//   - e2ee, with sealed sender as the run says;
//   - clientscan from the registry (sealed sender is refused: vouchers are
//     counted per account);
//   - hybrid, with [Run.Chooser]'s choice, its clear conversations scanned
//     as serverscan's above and its encrypted ones as e2ee's.
//
// When what a report gives the provider differs from the mode's own (a
// verified copy in a clear conversation, a franking opening in an encrypted
// one), the mode's devices and server build and take reports as the run
// says instead; see [Report]. Safety numbers and key transparency are not
// part of the mode: they decide which active attacks the run's users detect,
// and the active-adversary experiments read them from the run.
func (r Run) NewMode(cfg modes.Config, t Truth) (scanlab.Mode, error) {
	base, err := r.baseMode(cfg, t)
	if err != nil {
		return nil, fmt.Errorf("platform: %s: %w", r.Platform, err)
	}
	return r.withReports(base), nil
}

// baseMode builds the mode before reports are adjusted.
func (r Run) baseMode(cfg modes.Config, t Truth) (scanlab.Mode, error) {
	switch r.Mode {
	case serverscan.Name:
		return serverscan.New(r.scanning(cfg)), nil
	case e2ee.Name:
		return e2ee.New(e2ee.Options{SealedSender: r.SealedSender}), nil
	case clientscan.Name:
		if r.SealedSender {
			return nil, fmt.Errorf("clientscan with sealed sender: vouchers are counted per account, which sealed sender hides")
		}
		return modes.New(clientscan.Name, cfg)
	case hybrid.Name:
		c, err := r.Chooser(t)
		if err != nil {
			return nil, err
		}
		return hybrid.New(hybrid.Options{Encrypt: c, E2EE: e2ee.Options{SealedSender: r.SealedSender}, Serverscan: r.scanning(cfg)}), nil
	}
	return nil, fmt.Errorf("unknown mode %q", r.Mode)
}

// scanning returns the serverscan options of the run's clear
// conversations: what the provider scans, per [Run.Scan].
func (r Run) scanning(cfg modes.Config) serverscan.Options {
	var o serverscan.Options
	if r.Scan.Hash {
		o.Image = serverscan.NewPDQScanner(cfg.List, cfg.Labels)
	}
	if !r.Scan.Text {
		o.Text = Unscanned{}
	}
	return o
}

// Unscanned is the text classifier of a provider that does not classify
// message text: it finds nothing harmful.
type Unscanned struct{}

// Name returns "none".
func (Unscanned) Name() string { return "none" }

// Classify returns a verdict of not harmful.
func (Unscanned) Classify(string) textscan.Verdict { return textscan.Verdict{} }
