package e2ee

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"scanlab"
	"scanlab/keylog"
)

// AttachDevices carries a message's copies for the recipient's devices
// other than the primary, whose copy is the envelope's Body (with its
// initial message and sealed-sender box in their usual attachments). The
// provider sees how many devices a message was encrypted to.
const AttachDevices = "e2ee-devices"

// part is one device's copy of a message.
type part struct {
	device          uint32
	wire, init, box []byte
}

// encodeParts encodes count ‖ (device ‖ len32 ‖ wire ‖ len16 ‖ init ‖
// len16 ‖ box)*.
func encodeParts(ps []part) []byte {
	b := []byte{byte(len(ps))}
	for _, p := range ps {
		b = binary.BigEndian.AppendUint32(b, p.device)
		b = binary.BigEndian.AppendUint32(b, uint32(len(p.wire)))
		b = append(b, p.wire...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.init)))
		b = append(b, p.init...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.box)))
		b = append(b, p.box...)
	}
	return b
}

// parseParts decodes [AttachDevices], bounded by [MaxDevices] and the
// largest wire message, initial message and box.
func parseParts(b []byte) ([]part, error) {
	if len(b) < 1 || int(b[0]) > MaxDevices {
		return nil, fmt.Errorf("%w: device copies header", ErrMalformed)
	}
	n, r := int(b[0]), b[1:]
	ps := make([]part, 0, n)
	for range n {
		if len(r) < 8 {
			return nil, fmt.Errorf("%w: truncated device copy", ErrMalformed)
		}
		p := part{device: binary.BigEndian.Uint32(r)}
		var err error
		if p.wire, r, err = field(r[4:], 4, maxWire); err != nil {
			return nil, err
		}
		if p.init, r, err = field(r, 2, initMaxLen); err != nil {
			return nil, err
		}
		if p.box, r, err = field(r, 2, sealedMaxLen); err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	if len(r) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the device copies", ErrMalformed, len(r))
	}
	return ps, nil
}

// field reads a length-prefixed field (prefix of 2 or 4 bytes) of at most
// max bytes; an empty field reads as nil.
func field(r []byte, prefix, max int) ([]byte, []byte, error) {
	if len(r) < prefix {
		return nil, nil, fmt.Errorf("%w: truncated field", ErrMalformed)
	}
	var n int
	if prefix == 2 {
		n = int(binary.BigEndian.Uint16(r))
	} else {
		n = int(binary.BigEndian.Uint32(r))
	}
	if n > max || len(r) < prefix+n {
		return nil, nil, fmt.Errorf("%w: field of %d bytes", ErrMalformed, n)
	}
	if n == 0 {
		return nil, r[prefix:], nil
	}
	return slices.Clone(r[prefix : prefix+n]), r[prefix+n:], nil
}

// ownCopy returns the envelope as this device's copy: for a device other
// than the primary, its part of [AttachDevices] in place of the Body,
// initial message and sealed-sender box.
func (d *Device) ownCopy(e scanlab.Envelope) (scanlab.Envelope, error) {
	if d.device == PrimaryDevice {
		return e, nil
	}
	raw, ok := e.Attach[AttachDevices]
	if !ok {
		return e, fmt.Errorf("%w: no copy for device %d", ErrMalformed, d.device)
	}
	ps, err := parseParts(raw)
	if err != nil {
		return e, err
	}
	i := slices.IndexFunc(ps, func(p part) bool { return p.device == d.device })
	if i < 0 {
		return e, fmt.Errorf("%w: no copy for device %d", ErrMalformed, d.device)
	}
	out := e
	out.Body, out.Attach = ps[i].wire, maps.Clone(e.Attach)
	delete(out.Attach, AttachDevices)
	delete(out.Attach, AttachInit)
	delete(out.Attach, AttachSender)
	if ps[i].init != nil {
		out.Attach[AttachInit] = ps[i].init
	}
	if ps[i].box != nil {
		out.Attach[AttachSender] = ps[i].box
	}
	return out, nil
}

// served is one device of an account as a fetch returned it.
type served struct {
	device uint32
	bundle *Bundle
}

// fetchAccount fetches an account's devices from the directory, checks
// every bundle and, with [Options.CheckKeys], the key-transparency proof.
func (d *Device) fetchAccount(to scanlab.UserID) ([]served, error) {
	kb, err := d.dir.Fetch(to)
	if err != nil {
		return nil, fmt.Errorf("e2ee: fetch keys of %q: %w", to, err)
	}
	acct, err := ParseAccount(kb)
	if err != nil {
		return nil, fmt.Errorf("e2ee: keys of %q: %w", to, err)
	}
	var devs []served
	ids := map[uint32]PublicIdentity{}
	for _, dk := range acct.Devices {
		b, err := ParseBundle(dk.Keys)
		if err != nil {
			return nil, fmt.Errorf("e2ee: keys of %q device %d: %w", to, dk.Device, err)
		}
		if d.opts.PQ && b.PQ == nil {
			return nil, fmt.Errorf("e2ee: %q published no PQ prekey and PQ is required", to)
		}
		devs, ids[dk.Device] = append(devs, served{dk.Device, b}), b.Identity
	}
	if _, ok := ids[PrimaryDevice]; !ok {
		return nil, fmt.Errorf("e2ee: keys of %q list no primary device", to)
	}
	if d.opts.CheckKeys != nil {
		if err := d.opts.CheckKeys(d.user, LogEntry(to, ids), acct.Proof); err != nil {
			return nil, fmt.Errorf("e2ee: keys of %q: %w", to, err)
		}
	}
	return devs, nil
}

// syncDevices brings the sessions with an account's devices in line with
// what a fetch served: each device's key is checked against its pin (an
// identity change or a new device raises an event, and the policy may
// refuse it), a session is started with every new or changed device, and
// sessions with devices no longer listed are dropped. A refused primary
// device is an error; a refused other device is left out of the fan-out.
func (d *Device) syncDevices(to scanlab.UserID, p *peer, devs []served) error {
	listed := map[uint32]bool{}
	for _, sv := range devs {
		listed[sv.device] = true
		addr := address{to, sv.device}
		ch, err := d.pins.check(addr, sv.bundle.Identity)
		if err != nil {
			d.pins.commit(addr, sv.bundle.Identity, ch, true, false)
			if sv.device == PrimaryDevice {
				return err
			}
			delete(p.linked, sv.device)
			continue
		}
		primary := sv.device == PrimaryDevice
		need := ch != noChange || (primary && len(p.convs) == 0) || (!primary && p.linked[sv.device] == nil)
		var cv *conv
		if need {
			if cv, err = d.startSession(to, sv.bundle); err != nil {
				return err
			}
		}
		d.pins.commit(addr, sv.bundle.Identity, ch, true, true)
		switch {
		case primary && ch == identityChange:
			p.convs = []*conv{cv} // sessions with the old key are dropped
		case primary && need:
			p.addConv(cv)
		case need:
			p.linked[sv.device] = cv
		}
	}
	for dev := range p.linked {
		if !listed[dev] {
			delete(p.linked, dev)
			d.pins.forget(address{to, dev})
		}
	}
	return nil
}

// startSession runs X3DH with one device's bundle and starts a session as
// initiator.
func (d *Device) startSession(to scanlab.UserID, b *Bundle) (*conv, error) {
	sk, ad, init, err := Initiate(d.id, b, d.opts.Profile)
	if err != nil {
		return nil, fmt.Errorf("e2ee: X3DH with %q: %w", to, err)
	}
	s, err := NewInitiatorSession(sk, ad, b.Signed[:], d.opts.Profile, d.opts.Limits)
	if err != nil {
		return nil, err
	}
	return &conv{s: s, init: init.Marshal(), ephemeral: init.Ephemeral}, nil
}

// RefreshDevices fetches peer's device list and keys again and updates the
// sessions with them, as an app does when the server answers a send with
// "mismatched devices" (Sesame, rev. 2, §3: the server tells the sender
// which devices to add or remove; Signal's server answers 409 or 410). New
// devices and changed keys are checked against the pins as on first
// contact, with events for every change.
func (d *Device) RefreshDevices(peer scanlab.UserID) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	devs, err := d.fetchAccount(peer)
	if err != nil {
		return err
	}
	return d.syncDevices(peer, d.peer(peer), devs)
}

// KeyCheck checks the keys a directory served for an account before a
// device uses them: self is the checking device's account, served the
// account's devices and identity keys as a key-transparency entry, proof
// what the directory attached (nil if nothing). An error refuses the keys.
type KeyCheck func(self scanlab.UserID, served keylog.Entry, proof []byte) error
