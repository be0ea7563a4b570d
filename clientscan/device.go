package clientscan

import (
	"crypto/rand"
	"fmt"
	"sync"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/e2ee"
	"scanlab/perceptual"
)

// Device is one user's clientscan client: an e2ee.Device plus the on-device
// scanner. It holds the account's PSI keys (one psi.Account per PSI
// position: one for "exact", K for "chunks=K") and the mode's table. It is
// safe for concurrent use.
type Device struct {
	e        *e2ee.Device
	m        *Mode
	accounts []*psi.Account
	table    *psi.Table

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

// NewClient makes one user's client with the mode's table; it publishes the
// user's e2ee keys through dir.
func (m *Mode) NewClient(user scanlab.UserID, dir scanlab.Directory) (*Device, error) {
	if err := m.Setup(); err != nil {
		return nil, err
	}
	return m.newClient(user, dir, m.table)
}

// NewClientFromTable makes a client from a table it downloaded itself:
// the bytes must decode and match the mode's published root, as a device
// checks an update before using it. A table that fails gives an error
// wrapping ErrTable (and psi's reason).
func (m *Mode) NewClientFromTable(user scanlab.UserID, dir scanlab.Directory, table []byte) (*Device, error) {
	if err := m.Setup(); err != nil {
		return nil, err
	}
	if m.prov == nil {
		return nil, fmt.Errorf("%w: the plain variant has no blinded table", ErrOption)
	}
	t, err := LoadTable(table, m.prov.Root())
	if err != nil {
		return nil, err
	}
	return m.newClient(user, dir, t)
}

func (m *Mode) newClient(user scanlab.UserID, dir scanlab.Directory, t *psi.Table) (*Device, error) {
	e, err := e2ee.NewDevice(m.opts.E2EE, user, dir)
	if err != nil {
		return nil, err
	}
	d := &Device{e: e, m: m, table: t}
	if m.opts.Behaviour != nil {
		d.behaviour = m.opts.Behaviour(user)
	}
	if m.prov != nil {
		for range m.opts.Match.positions() {
			a, err := psi.NewAccount(m.params)
			if err != nil {
				return nil, err
			}
			d.accounts = append(d.accounts, a)
		}
	}
	return d, nil
}

// String describes the device without its keys.
func (d *Device) String() string {
	return fmt.Sprintf("clientscan.Device{user: %s, positions: %d}", d.e.User(), len(d.accounts))
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

// Synthetics returns how many synthetic vouchers the device's accounts sent
// in place of real ones (honest behaviour only).
func (d *Device) Synthetics() int {
	n := 0
	for _, a := range d.accounts {
		n += a.Synthetics()
	}
	return n
}

// Seal scans the message and encrypts it end to end. An image gets its
// voucher(s) (or, for the plain list, a match report when it matched); a
// text gets the device-text verdict when that is on. An image the device
// cannot decode, or whose PDQ quality is below the gate, is still sent, with
// vouchers for a random element: exactly what a non-matching image gets, so
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
	case m.Content.Kind == scanlab.Text && d.m.opts.DeviceText != nil:
		bit := byte(0)
		// A synthetic-only client looks compliant: it attaches a verdict,
		// always "harmless".
		if b == Honest && d.m.opts.DeviceText.Classify(m.Content.Text).Harmful {
			bit = 1
		}
		d.mu.Lock()
		d.stats.Verdicts++
		d.stats.Harmful += int(bit)
		d.mu.Unlock()
		extra = map[string][]byte{AttachTextVerdict: {bit}}
	}
	if err != nil {
		return scanlab.Envelope{}, err
	}
	return d.e.SealWith(m, extra)
}

// scanImage builds the provider-facing attachment of one image.
func (d *Device) scanImage(m scanlab.Message, b Behaviour) (map[string][]byte, error) {
	o := d.m.opts
	var h perceptual.Hash
	var derivative []byte
	usable := false
	d.count(func(s *DeviceStats) { s.Images++ })
	if b == Honest {
		img, err := perceptual.DecodeImage(m.Content.Image, o.MaxPixels)
		switch {
		case err != nil:
			d.count(func(s *DeviceStats) { s.Undecodable++ })
		default:
			var q int
			h, q = perceptual.PDQ(img)
			if q < o.MinQuality {
				d.count(func(s *DeviceStats) { s.LowQuality++ })
			} else {
				derivative, usable = VisualDerivative(img), true
			}
		}
	}
	if o.ListVariant == ListPlain {
		if !usable {
			return nil, nil
		}
		best, dist := -1, perceptual.MatchThreshold+1
		for _, mt := range d.m.index.Match(h, perceptual.MatchThreshold) {
			if mt.Distance < dist {
				best, dist = mt.Entry, mt.Distance
			}
		}
		if best < 0 {
			return nil, nil
		}
		d.count(func(s *DeviceStats) { s.PlainHits++ })
		return map[string][]byte{AttachPlainMatch: encodePlainReport(best, dist, h, derivative)}, nil
	}
	var ad []byte
	if usable {
		ad = encodeAD(h, derivative)
	} else {
		// A random element matches nothing; the voucher looks like any
		// non-matching image's.
		rand.Read(h[:])
	}
	k := o.Match.Chunks
	vs := make([][]byte, len(d.accounts))
	for pos, a := range d.accounts {
		elem := h[:]
		if k > 0 {
			elem = chunkElement(h, pos, k)
		}
		id := voucherID(m.ID, pos)
		var v *psi.Voucher
		var err error
		if b == SyntheticOnly {
			v, err = a.Synthetic(d.table, id)
		} else {
			v, err = a.Voucher(d.table, id, elem, ad)
		}
		if err != nil {
			return nil, fmt.Errorf("clientscan: voucher: %w", err)
		}
		if vs[pos], err = v.MarshalBinary(); err != nil {
			return nil, fmt.Errorf("clientscan: voucher: %w", err)
		}
	}
	d.count(func(s *DeviceStats) { s.Vouchers += len(vs) })
	return map[string][]byte{AttachVoucher: encodeBundle(vs)}, nil
}

func (d *Device) count(f func(*DeviceStats)) {
	d.mu.Lock()
	f(&d.stats)
	d.mu.Unlock()
}

// Open decrypts an envelope as e2ee does.
func (d *Device) Open(e scanlab.Envelope) (scanlab.Message, error) { return d.e.Open(e) }

// Report builds a franking report as e2ee does.
func (d *Device) Report(m scanlab.Message) (scanlab.Report, error) { return d.e.Report(m) }
