package active

import (
	"errors"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/e2ee"
	"scanlab/keylog"
	"scanlab/observe"
)

// Apps returns the options users' apps run with under defence d. Each
// defence is measured alone: apps pin keys and show changes
// ([e2ee.WarnOnChange], Signal's default for unverified contacts) only
// under observe.Pinning, and accept changes silently ([e2ee.NoPinning])
// otherwise; under key transparency every fetched account is checked
// against the log with the app's client in clients.
func Apps(base e2ee.Options, d observe.Defence, clients *keylog.Clients) e2ee.Options {
	base.IdentityPolicy = e2ee.NoPinning
	if d == observe.Pinning {
		base.IdentityPolicy = e2ee.WarnOnChange
	}
	if d == observe.KeyTransparency || d == observe.KeyTransparencyGossip {
		base.CheckKeys = ClientCheck(clients)
	}
	return base
}

// Transparent reports whether defence d runs a key log.
func Transparent(d observe.Defence) bool {
	return d == observe.KeyTransparency || d == observe.KeyTransparencyGossip
}

// E2EE returns the e2ee device inside a mode's device (e2ee or
// clientscan), or nil for a mode without end-to-end encryption.
func E2EE(d scanlab.Device) *e2ee.Device {
	switch v := d.(type) {
	case *e2ee.Device:
		return v
	case *clientscan.Device:
		return v.E2EE()
	}
	return nil
}

// Detection is one party noticing an attack on one pair.
type Detection struct {
	By observe.Detector
	At observe.Stage
	// How says what they saw.
	How string
}

// Pair is one attacked conversation as the defences see it after the
// messages: both users' devices, and the error (if any) the sender's app
// got when it re-read the recipient's keys after the attack started.
type Pair struct {
	From, To   *e2ee.Device
	RefreshErr error
}

// Detect collects who noticed the attack on pr under defence d, by the
// defence's own means only: the apps' "safety number changed" and "new
// device" notices (pinning), a failed key-log check when the sender's app
// re-read the keys, the owners' monitors and, with gossip, an auditor
// comparing the heads both apps were shown (key transparency), and, if
// compare, the two users comparing safety numbers.
func (p *Provider) Detect(d observe.Defence, pr Pair, compare bool, clients *keylog.Clients) []Detection {
	var out []Detection
	add := func(by observe.Detector, at observe.Stage, how string) {
		out = append(out, Detection{By: by, At: at, How: how})
	}
	from, to := pr.From.User(), pr.To.User()
	if ev := eventsAbout(pr.From, to); ev != "" {
		add(observe.BySender, observe.BeforeSend, ev)
	}
	if ev := eventsAbout(pr.To, from); ev != "" {
		add(observe.ByRecipient, observe.OnReceipt, ev)
	}
	if errors.Is(pr.RefreshErr, keylog.ErrInclusion) || errors.Is(pr.RefreshErr, keylog.ErrConsistency) || errors.Is(pr.RefreshErr, keylog.ErrSignature) {
		add(observe.BySender, observe.BeforeSend, "key-log check failed: "+pr.RefreshErr.Error())
	}
	if Transparent(d) {
		if err := p.Monitor(from, pr.From.OwnDevices()); err != nil {
			add(observe.BySender, observe.AtMonitoring, err.Error())
		}
		if err := p.Monitor(to, pr.To.OwnDevices()); err != nil {
			add(observe.ByRecipient, observe.AtMonitoring, err.Error())
		}
	}
	if d == observe.KeyTransparencyGossip && clients != nil {
		heads := append(clients.Client(string(from)).Heads(), clients.Client(string(to)).Heads()...)
		if err := p.Audit(heads); err != nil {
			add(observe.ByAuditor, observe.AtAudit, err.Error())
		}
	}
	if compare && Compared(pr) {
		add(observe.BySender, observe.AtComparison, "safety numbers differ")
		add(observe.ByRecipient, observe.AtComparison, "safety numbers differ")
	}
	return out
}

// Compared reports whether the two users, comparing safety numbers out of
// band, find them different: each app computes the number from its own
// state, and the recipient checks the sender's.
func Compared(pr Pair) bool {
	n, err := pr.From.SafetyNumber(pr.To.User())
	if err != nil {
		return false
	}
	return errors.Is(pr.To.VerifySafetyNumber(pr.From.User(), n), e2ee.ErrSafetyNumber)
}

// eventsAbout says what d's app showed about peer: the notice of its
// first identity event about peer, or "" if none.
func eventsAbout(d *e2ee.Device, peer scanlab.UserID) string {
	for _, ev := range d.IdentityEvents() {
		if ev.Peer == peer {
			if ev.Kind == e2ee.DeviceAdded {
				return `the app showed "new device"`
			}
			return `the app showed "safety number changed"`
		}
	}
	return ""
}
