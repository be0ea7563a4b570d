package clientscan

import (
	"crypto/rand"
	"fmt"
	"sync"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/e2ee"
	"scanlab/perceptual"
	"scanlab/textscan"
)

// Device is one user's clientscan client: an e2ee.Device plus the on-device
// scanner. It holds what the provider published ([Published]) and its
// account's PSI keys (shared with the account's other devices), and nothing
// of the provider's: no code path from a Device reaches the blinding
// secret. It is safe for concurrent use.
type Device struct {
	e    *e2ee.Device
	pub  *Published
	keys *psi.Account // nil for the plain variant
	text textscan.Classifier

	mu        sync.Mutex
	behaviour Behaviour
	stats     DeviceStats
}

// DeviceStats counts what a device's scanner did.
type DeviceStats struct {
	Images      int // image messages sealed
	Vouchers    int // vouchers attached
	Undecodable int // images the device could not decode (sent with decoy vouchers)
	LowQuality  int // images below the quality gate (sent with decoy vouchers)
	PlainHits   int // plain variant: matches reported
	Verdicts    int // device-text verdicts attached
	Harmful     int // of which harmful
}

// newDevice makes a device from its e2ee device, the published part and its
// account's keys.
func newDevice(e *e2ee.Device, pub *Published, keys *psi.Account, text textscan.Classifier, b Behaviour) *Device {
	return &Device{e: e, pub: pub, keys: keys, text: text, behaviour: b}
}

// String describes the device without its keys.
func (d *Device) String() string {
	return fmt.Sprintf("clientscan.Device{user: %s, match: %s, list: %s}", d.e.User(), d.pub.Match, d.pub.List)
}

// GoString is String, for %#v.
func (d *Device) GoString() string { return d.String() }

// E2EE returns the underlying e2ee device (for ReportLast and fingerprints).
func (d *Device) E2EE() *e2ee.Device { return d.e }

// User returns the device's user.
func (d *Device) User() scanlab.UserID { return d.e.User() }

// SetBehaviour switches the scanner's behaviour (modified clients).
func (d *Device) SetBehaviour(b Behaviour) {
	d.mu.Lock()
	d.behaviour = b
	d.mu.Unlock()
}

// Stats returns the scanner's counters.
func (d *Device) Stats() DeviceStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// Synthetics returns how many synthetic vouchers the device's account (all
// its devices) sent in place of real ones (honest behaviour only).
func (d *Device) Synthetics() int {
	if d.keys == nil {
		return 0
	}
	return d.keys.Synthetics()
}

func (d *Device) count(f func(*DeviceStats)) {
	d.mu.Lock()
	f(&d.stats)
	d.mu.Unlock()
}

// Seal scans the message and encrypts it end to end. An image gets its
// voucher (or, for the plain list, a match report when it matched); a text
// gets the device-text verdict when that is on. An image the device cannot
// decode, or whose PDQ quality is below the gate, is still sent, with a
// voucher for a random element: exactly what a non-matching image gets, so
// the provider cannot tell.
func (d *Device) Seal(m scanlab.Message) (scanlab.Envelope, error) {
	d.mu.Lock()
	b := d.behaviour
	d.mu.Unlock()
	var extra map[string][]byte
	var err error
	switch {
	case b == SkipScan:
	case m.Content.Kind == scanlab.Image:
		extra, err = d.scanImage(m, b)
	case m.Content.Kind == scanlab.Text && d.text != nil:
		extra = d.textVerdict(m.Content.Text, b)
	}
	if err != nil {
		return scanlab.Envelope{}, err
	}
	return d.e.SealWith(m, extra)
}

// textVerdict classifies a text and returns its verdict attachment. A
// synthetic-only client looks compliant: it attaches a verdict, always
// "harmless".
func (d *Device) textVerdict(text string, b Behaviour) map[string][]byte {
	bit := byte(0)
	if b == Honest && d.text.Classify(text).Harmful {
		bit = 1
	}
	d.count(func(s *DeviceStats) { s.Verdicts++; s.Harmful += int(bit) })
	return map[string][]byte{AttachTextVerdict: {bit}}
}

// scanImage builds the provider-facing attachment of one image.
func (d *Device) scanImage(m scanlab.Message, b Behaviour) (map[string][]byte, error) {
	d.count(func(s *DeviceStats) { s.Images++ })
	var sc perceptual.Scan
	usable := false
	if b == Honest {
		var err error
		sc, err = perceptual.ScanImage(m.Content.Image)
		switch {
		case err != nil:
			d.count(func(s *DeviceStats) { s.Undecodable++ })
		case !sc.Usable():
			d.count(func(s *DeviceStats) { s.LowQuality++ })
		default:
			usable = true
		}
	}
	if d.pub.List == ListPlain {
		return d.plainMatch(sc, usable), nil
	}
	h, ad := sc.Hash, []byte(nil)
	if usable {
		ad = encodeAD(h, VisualDerivative(sc.Image))
	} else {
		// A random element matches nothing; the voucher looks like any
		// non-matching image's.
		rand.Read(h[:])
	}
	v, err := d.voucher(m.ID, h, ad, b)
	if err != nil {
		return nil, err
	}
	d.count(func(s *DeviceStats) { s.Vouchers++ })
	return map[string][]byte{AttachVoucher: v}, nil
}

// voucher makes the image's one voucher: for "chunks=K", for the chunk the
// account's PRF picks from the identifier.
func (d *Device) voucher(messageID string, h perceptual.Hash, ad []byte, b Behaviour) ([]byte, error) {
	id := voucherID(messageID)
	var v *psi.Voucher
	var err error
	switch {
	case b == SyntheticOnly:
		v, err = d.keys.Synthetic(d.pub.table, id)
	case d.pub.Match.Chunks > 0:
		k := d.pub.Match.Chunks
		v, err = d.keys.Voucher(d.pub.table, id, chunkElement(h, d.keys.Choose(id, k), k), ad)
	default:
		v, err = d.keys.Voucher(d.pub.table, id, h[:], ad)
	}
	if err != nil {
		return nil, fmt.Errorf("clientscan: voucher: %w", err)
	}
	out, err := v.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("clientscan: voucher: %w", err)
	}
	return out, nil
}

// plainMatch is the plain variant: the device matches against the list it
// holds and reports a match, with hash and derivative, at once.
func (d *Device) plainMatch(sc perceptual.Scan, usable bool) map[string][]byte {
	if !usable {
		return nil
	}
	if _, ok := d.pub.plain.Nearest(perceptual.MatchThreshold, sc.Hash); !ok {
		return nil
	}
	d.count(func(s *DeviceStats) { s.PlainHits++ })
	return map[string][]byte{AttachPlainMatch: encodeAD(sc.Hash, VisualDerivative(sc.Image))}
}

// Open decrypts an envelope as e2ee does.
func (d *Device) Open(e scanlab.Envelope) (scanlab.Message, error) { return d.e.Open(e) }

// Report builds a franking report as e2ee does.
func (d *Device) Report(m scanlab.Message) (scanlab.Report, error) { return d.e.Report(m) }
