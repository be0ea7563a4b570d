package e2ee

import (
	"cmp"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"scanlab"
)

// Device is one user's e2ee client. It is safe for concurrent use: a mutex
// serialises Seal, Open and Report, so one goroutine at a time works on the
// sessions (the relay client normally calls it from one goroutine anyway).
//
// Another mode that is "e2ee plus something" (clientscan) can embed a
// *Device and call [Device.SealWith] to add its own attachments.
type Device struct {
	mu     sync.Mutex
	user   scanlab.UserID
	device uint32 // this device's number in its account
	dir    scanlab.Directory
	opts   Options
	id     *Identity
	pre    *Prekeys
	hpke   hpke.PrivateKey
	peers  map[scanlab.UserID]*peer
	pins   *pins
	bases  *baseKeys
	// own holds the identities of the account's devices this device knows
	// of: itself, and on the primary the devices it linked.
	own map[uint32]PublicIdentity
	// Sealed sender: the device's own certificate and the provider key
	// certificates must be signed by.
	cert        []byte
	certExpires time.Time
	root        ed25519.PublicKey
}

var _ scanlab.Device = (*Device)(nil)

// peer is what a device keeps about one correspondent (its pinned identity
// lives in the device's pins).
type peer struct {
	// convs holds at most two sessions with the peer's primary device,
	// the active one first (Sesame, rev. 2, §3: the session that last
	// decrypted becomes active; the other is kept for late messages and
	// simultaneous initiation).
	convs []*conv
	// linked holds the sending session with each of the peer's other
	// devices, which receive a copy of every message (they never send, so
	// each session keeps its initial message attached).
	linked map[uint32]*conv
	// Outgoing franking chain.
	sendSeq  uint64
	sendPrev [sha256.Size]byte
	// Openings of recently received messages, in arrival order.
	received []received
}

type received struct {
	evidenceItem
	seq uint64
}

type conv struct {
	s *Session
	// init is the X3DH initial message, attached to every message until
	// the peer has answered on this session.
	init []byte
	// ephemeral is the initiator's EK of the session, to recognise repeated
	// initial messages.
	ephemeral [KeySize]byte
}

const maxConvs = 2

// certRefreshMargin is how long before its expiry (by the device's clock) a
// device fetches a new sender certificate.
const certRefreshMargin = time.Hour

// NewDevice generates a device's identity and prekeys and publishes its
// bundle through dir. With sealed sender it also fetches its first sender
// certificate, so a directory whose provider issues none is an error here.
func NewDevice(opts Options, user scanlab.UserID, dir scanlab.Directory) (*Device, error) {
	return newDevice(opts, user, PrimaryDevice, dir)
}

// NewLinkedDevice makes device n (not the primary) of user's account: it
// generates its own identity and prekeys and publishes them under
// [DeviceName](user, n), so that a directory lists it with the account and
// senders encrypt a copy of every message to it. It receives and opens
// messages to the account; it does not send, so it fetches no sender
// certificate: to open sealed-sender messages it needs
// opts.CertificateRoot, which [Device.Provision] hands over. The primary
// learns of it with [Device.LinkDevice].
func NewLinkedDevice(opts Options, user scanlab.UserID, n uint32, dir scanlab.Directory) (*Device, error) {
	if n == PrimaryDevice || n == 0 {
		return nil, fmt.Errorf("e2ee: a linked device needs a number other than 0 and %d", PrimaryDevice)
	}
	if opts.SealedSender && opts.CertificateRoot == nil {
		return nil, errors.New("e2ee: a linked device opening sealed-sender messages needs the provider's certificate key")
	}
	sealed := opts.SealedSender
	opts.SealedSender = false // no certificate of its own
	d, err := newDevice(opts, user, n, dir)
	if d != nil {
		d.opts.SealedSender = sealed
	}
	return d, err
}

// Provision links a new device n to this (primary) device's account, as a
// user does by scanning a code on the new device: the new device gets this
// device's options and the provider's certificate key, publishes its keys
// through dir, and this device records it as its own.
func (d *Device) Provision(n uint32, dir scanlab.Directory) (*Device, error) {
	d.mu.Lock()
	opts := d.opts
	if d.root != nil {
		opts.CertificateRoot = d.root
	}
	d.mu.Unlock()
	nd, err := NewLinkedDevice(opts, d.user, n, dir)
	if err != nil {
		return nil, err
	}
	d.LinkDevice(n, nd.Identity())
	return nd, nil
}

func newDevice(opts Options, user scanlab.UserID, n uint32, dir scanlab.Directory) (*Device, error) {
	opts = opts.withDefaults()
	id, err := NewIdentity()
	if err != nil {
		return nil, err
	}
	pre, kb, err := id.NewPrekeys(opts.OneTimePrekeys, opts.PQ)
	if err != nil {
		return nil, err
	}
	hk, err := hpke.NewDHKEMPrivateKey(id.DH)
	if err != nil {
		return nil, err
	}
	if err := dir.Publish(DeviceName(user, n), kb); err != nil {
		return nil, fmt.Errorf("e2ee: publish keys of %q: %w", DeviceName(user, n), err)
	}
	d := &Device{user: user, device: n, dir: dir, opts: opts, id: id, pre: pre, hpke: hk, peers: make(map[scanlab.UserID]*peer),
		pins: newPins(opts.IdentityPolicy), bases: newBaseKeys(opts.BaseKeyHistory), root: opts.CertificateRoot,
		own: map[uint32]PublicIdentity{n: id.Public()}}
	if opts.SealedSender {
		if err := d.refreshCertificate(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// User returns the device's user.
func (d *Device) User() scanlab.UserID { return d.user }

// Identity returns the device's public identity (for fingerprints).
func (d *Device) Identity() PublicIdentity { return d.id.Public() }

// Number returns the device's number in its account.
func (d *Device) Number() uint32 { return d.device }

// LinkDevice records that device n of this device's account, with public
// identity id, belongs to the user (the user linked it, as by scanning a
// code). It is what this device counts as its own account's devices in a
// safety number.
func (d *Device) LinkDevice(n uint32, id PublicIdentity) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.own[n] = id
}

// OwnDevices returns the identities of the devices of this device's
// account that it knows of: itself, and the devices it linked.
func (d *Device) OwnDevices() map[uint32]PublicIdentity {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.own)
}

// PinnedDevices returns the identities this device has pinned for the
// devices of peer's account, by device number.
func (d *Device) PinnedDevices(peer scanlab.UserID) map[uint32]PublicIdentity {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pins.devices(peer)
}

// PinnedIdentity returns the identity key the device has pinned for peer.
func (d *Device) PinnedIdentity(peer scanlab.UserID) (PublicIdentity, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	id, ok := d.pins.keys[address{peer, PrimaryDevice}]
	return id, ok
}

// IdentityEvents returns the most recent [MaxIdentityEvents] identity
// changes the device observed, oldest first.
func (d *Device) IdentityEvents() []IdentityEvent {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.pins.events)
}

// IdentityChanges returns how many identity changes the device has observed
// in all.
func (d *Device) IdentityChanges() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pins.changes
}

// ResetSession drops the device's sessions with peer, as an app does after
// a reinstall or an undecryptable message; the next message to peer starts
// a new session from a fresh directory fetch. The pinned identity stays.
func (d *Device) ResetSession(peer scanlab.UserID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p := d.peers[peer]; p != nil {
		p.convs = nil
	}
}

// RotatePrekeys replaces the device's signed prekey (and, with PQ, its
// last-resort ML-KEM prekey), keeping the [KeptSignedPrekeys] previous ones
// for first messages in flight, and publishes the new bundle with oneTime
// new one-time prekey sets (PQXDH, rev. 3, §3.2: Bob uploads new signed
// prekeys at intervals and deletes old ones after a grace period). New
// one-time sets replace those the directory still holds; the device keeps
// the private halves of the replaced ones, up to [MaxOneTimePrekeys], in
// case a fetch of one is in flight.
func (d *Device) RotatePrekeys(oneTime int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	kb, err := d.id.Rotate(d.pre, oneTime)
	if err != nil {
		return err
	}
	if err := d.dir.Publish(d.user, kb); err != nil {
		return fmt.Errorf("e2ee: publish keys of %q: %w", d.user, err)
	}
	return nil
}

func (d *Device) peer(u scanlab.UserID) *peer {
	p := d.peers[u]
	if p == nil {
		p = &peer{linked: map[uint32]*conv{}}
		d.peers[u] = p
	}
	return p
}

// Seal encrypts a message for its recipient; see [Device.SealWith].
func (d *Device) Seal(m scanlab.Message) (scanlab.Envelope, error) {
	return d.SealWith(m, nil)
}

// ErrReservedAttachment is returned by [Device.SealWith] when an extra
// attachment uses one of the mode's own names.
var ErrReservedAttachment = errors.New("e2ee: attachment name is reserved")

var reserved = []string{AttachInit, AttachCommitment, AttachTag, AttachSender, AttachDevices}

// SealWith encrypts m for m.To and returns the envelope, with extra added
// to its attachments. On the first message to a peer it fetches the peer's
// bundle from the directory and runs X3DH; the initial message rides in
// [AttachInit] until the peer answers. The content (kind and bytes) is
// encrypted; ID, From and To are routing metadata in the clear and are bound
// into the associated data; Sent is copied as is. Extra attachments are not
// encrypted or authenticated by the mode; they are for the provider.
func (d *Device) SealWith(m scanlab.Message, extra map[string][]byte) (scanlab.Envelope, error) {
	for k := range extra {
		if slices.Contains(reserved, k) {
			return scanlab.Envelope{}, fmt.Errorf("%w: %q", ErrReservedAttachment, k)
		}
	}
	if m.From != d.user {
		return scanlab.Envelope{}, fmt.Errorf("e2ee: device of %q cannot send as %q", d.user, m.From)
	}
	ad, err := envelopeAD(m.ID, m.From, m.To)
	if err != nil {
		return scanlab.Envelope{}, err
	}
	if d.device != PrimaryDevice {
		return scanlab.Envelope{}, fmt.Errorf("e2ee: device %d of %q is a linked device and does not send", d.device, d.user)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.peer(m.To)
	if len(p.convs) == 0 {
		if err := d.initiate(m.To, p); err != nil {
			return scanlab.Envelope{}, err
		}
	}
	pt, err := encodeContent(p.sendSeq, &p.sendPrev, m.Content)
	if err != nil {
		return scanlab.Envelope{}, err
	}
	parts, c, err := d.encryptAll(p, pt, ad)
	if err != nil {
		return scanlab.Envelope{}, err
	}
	p.sendPrev = chainHash(&p.sendPrev, c[:])
	p.sendSeq++
	e := scanlab.Envelope{ID: m.ID, From: m.From, To: m.To, Sent: m.Sent, Body: parts[0].wire,
		Attach: make(map[string][]byte, len(extra)+4)}
	e.Attach[AttachCommitment] = c[:]
	if err := d.addSender(&e, c[:], parts); err != nil {
		return scanlab.Envelope{}, err
	}
	for k, v := range extra {
		e.Attach[k] = v
	}
	return e, nil
}

// encryptAll encrypts pt once per device of the peer's account, the
// primary first and the others in ascending order, all under one franking
// key, so every copy carries the same commitment c: the relay tags the
// message once, and a report from any of the recipient's devices verifies.
func (d *Device) encryptAll(p *peer, pt, ad []byte) ([]part, [CommitmentSize]byte, error) {
	var kf [FrankKeySize]byte
	rand.Read(kf[:])
	defer clear(kf[:])
	cv := p.convs[0]
	wire, c, err := cv.s.encrypt(pt, ad, kf[:])
	if err != nil {
		return nil, c, err
	}
	parts := []part{{device: PrimaryDevice, wire: wire, init: cv.init}}
	for _, dev := range slices.Sorted(maps.Keys(p.linked)) {
		lc := p.linked[dev]
		w, _, err := lc.s.encrypt(pt, ad, kf[:])
		if err != nil {
			return nil, c, err
		}
		parts = append(parts, part{device: dev, wire: w, init: lc.init})
	}
	return parts, c, nil
}

// addSender names the sender: in the clear (From and the initial
// messages), or, under sealed sender, inside a box to each recipient
// device that carries the device's certificate and that device's initial
// message, which names the sender's identity key. The copies for devices
// other than the primary go into [AttachDevices].
func (d *Device) addSender(e *scanlab.Envelope, c []byte, parts []part) error {
	if d.opts.SealedSender {
		if d.opts.Now().After(d.certExpires.Add(-certRefreshMargin)) {
			if err := d.refreshCertificate(); err != nil {
				return err
			}
		}
		for i := range parts {
			to, ok := d.pins.keys[address{e.To, parts[i].device}]
			if !ok {
				return fmt.Errorf("e2ee: no identity key for %q device %d", e.To, parts[i].device)
			}
			box, err := sealSender(to, e.ID, e.To, c, d.cert, parts[i].init)
			if err != nil {
				return err
			}
			parts[i].box, parts[i].init = box, nil
		}
		e.From = ""
		e.Attach[AttachSender] = parts[0].box
	} else if parts[0].init != nil {
		e.Attach[AttachInit] = parts[0].init
	}
	if len(parts) > 1 {
		e.Attach[AttachDevices] = encodeParts(parts[1:])
	}
	return nil
}

// initiate fetches the peer's account — every device's bundle — checks
// the keys against the pins, and starts a session as initiator with each
// device.
func (d *Device) initiate(to scanlab.UserID, p *peer) error {
	devs, err := d.fetchAccount(to)
	if err != nil {
		return err
	}
	return d.syncDevices(to, p, devs)
}

// addConv makes cv the active session, keeping at most maxConvs.
func (p *peer) addConv(cv *conv) {
	p.convs = append([]*conv{cv}, p.convs...)
	if len(p.convs) > maxConvs {
		p.convs = p.convs[:maxConvs]
	}
}

// inbound is who an envelope says it comes from, after the sealed-sender
// box (if any) is opened.
type inbound struct {
	from   scanlab.UserID
	init   *InitMessage
	cert   *SenderCertificate // sealed sender only
	sealed bool
}

// Open decrypts an envelope addressed to this device, checks its franking
// commitment and returns the message. A message that fails any check is
// dropped with an error and changes nothing on the device, except that an
// authenticated first message from a changed identity key is recorded as an
// [IdentityEvent] even when the policy refuses it.
func (d *Device) Open(e scanlab.Envelope) (scanlab.Message, error) {
	if e.To != d.user {
		return scanlab.Message{}, fmt.Errorf("e2ee: envelope for %q opened by %q", e.To, d.user)
	}
	e, err := d.ownCopy(e)
	if err != nil {
		return scanlab.Message{}, err
	}
	c := e.Attach[AttachCommitment]
	if len(c) != CommitmentSize {
		return scanlab.Message{}, fmt.Errorf("%w: missing or malformed franking commitment", ErrMalformed)
	}
	in, err := d.unwrap(e, c)
	if err != nil {
		return scanlab.Message{}, err
	}
	ad, err := envelopeAD(e.ID, in.from, e.To)
	if err != nil {
		return scanlab.Message{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkCertificateIdentity(in); err != nil {
		return scanlab.Message{}, err
	}
	p := d.peers[in.from]
	var ct content
	check := func(m []byte) (err error) { ct, err = decodeContent(m); return err }
	var pt, kf []byte
	switch {
	case in.init != nil:
		pt, kf, err = d.openInit(in.from, p, in.init, e.Body, c, ad, check)
	case p == nil || len(p.convs) == 0:
		err = fmt.Errorf("e2ee: no session with %q", in.from)
	default:
		pt, kf, err = p.decrypt(e.Body, c, ad, check)
	}
	if err != nil {
		return scanlab.Message{}, err
	}
	d.peers[in.from].keep(received{evidenceItem{id: e.ID, from: in.from, to: e.To, sealed: in.sealed,
		c: slices.Clone(c), kf: kf, tag: slices.Clone(e.Attach[AttachTag]), m: pt}, ct.seq}, d.opts.ReportWindow)
	return scanlab.Message{ID: e.ID, From: in.from, To: e.To, Sent: e.Sent, Content: ct.c}, nil
}

// keep stores the opening of a received message for reports, within the
// report window.
func (p *peer) keep(r received, window int) {
	p.received = append(p.received, r)
	if len(p.received) > window {
		p.received = slices.Delete(p.received, 0, len(p.received)-window)
	}
}

// unwrap finds the sender and the initial message of an envelope, opening
// the sealed-sender box if there is one.
func (d *Device) unwrap(e scanlab.Envelope, c []byte) (inbound, error) {
	rawInit, hasInit := e.Attach[AttachInit]
	in := inbound{from: e.From}
	if _, in.sealed = e.Attach[AttachSender]; in.sealed {
		if e.From != "" || hasInit {
			return in, fmt.Errorf("%w: sealed-sender envelope names a sender or carries a clear initial message", ErrMalformed)
		}
		var err error
		if in.cert, rawInit, err = d.openSender(e, c); err != nil {
			return in, err
		}
		in.from, hasInit = in.cert.Sender, rawInit != nil
	}
	if in.from == "" {
		return in, fmt.Errorf("%w: envelope has no sender", ErrMalformed)
	}
	if hasInit {
		init, err := ParseInitMessage(rawInit)
		if err != nil {
			return in, err
		}
		in.init = init
	}
	return in, nil
}

// checkCertificateIdentity checks that the identity key a sender
// certificate names is the one the message's session is agreed with: the
// key in the initial message, or else the key pinned for the sender.
func (d *Device) checkCertificateIdentity(in inbound) error {
	if in.cert == nil {
		return nil
	}
	if in.cert.Device != PrimaryDevice {
		return fmt.Errorf("%w: unknown device %d of %q", ErrCertificate, in.cert.Device, in.cert.Sender)
	}
	want, ok := d.pins.keys[address{in.cert.Sender, in.cert.Device}]
	if in.init != nil {
		want, ok = in.init.Identity, true
	}
	if !ok {
		return fmt.Errorf("e2ee: no session with %q", in.cert.Sender)
	}
	if want != in.cert.Identity {
		return fmt.Errorf("%w: certificate of %q names another identity key than the message's session", ErrCertificate, in.cert.Sender)
	}
	return nil
}

// decrypt tries the peer's sessions, active first; the one that decrypts
// becomes active, and a pending initial message is dropped once the peer
// has answered on its session.
func (p *peer) decrypt(wire, c, ad []byte, check func([]byte) error) (m, kf []byte, err error) {
	var first error
	for i, cv := range p.convs {
		m, kf, err := cv.s.decrypt(wire, c, ad, check)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		cv.init = nil
		if i > 0 {
			p.convs = slices.Insert(slices.Delete(p.convs, i, i+1), 0, cv)
		}
		return m, kf, nil
	}
	return nil, nil, first
}

// openInit handles a message that carries an X3DH initial message. A
// repeat of the initial message of a session the device still has is
// decrypted on that session; one whose session is gone is refused as a
// replay. A new one starts a responder session, which is kept — and its
// one-time prekeys deleted, its base key remembered, its identity pinned —
// only if the message decrypts and the identity policy allows the key.
func (d *Device) openInit(from scanlab.UserID, p *peer, init *InitMessage, wire, c, ad []byte, check func([]byte) error) (m, kf []byte, err error) {
	if p != nil && slices.ContainsFunc(p.convs, func(cv *conv) bool { return cv.ephemeral == init.Ephemeral }) {
		return p.decrypt(wire, c, ad, check)
	}
	if d.bases.has(init.Ephemeral) {
		return nil, nil, fmt.Errorf("%w: first message replayed after its session was dropped", ErrDuplicate)
	}
	sk, xad, err := Respond(d.id, d.pre, init, d.opts.Profile)
	if err != nil {
		return nil, nil, fmt.Errorf("e2ee: X3DH from %q: %w", from, err)
	}
	s := NewResponderSession(sk, xad, d.pre.Signed[init.SignedID], d.opts.Profile, d.opts.Limits)
	if m, kf, err = s.decrypt(wire, c, ad, check); err != nil {
		return nil, nil, err
	}
	// The message decrypted, so its sender holds the identity key it names
	// (DH1 needs the private key).
	addr := address{from, PrimaryDevice}
	ch, err := d.pins.check(addr, init.Identity)
	if err != nil {
		d.pins.commit(addr, init.Identity, ch, false, false)
		return nil, nil, err
	}
	d.pins.commit(addr, init.Identity, ch, false, true)
	d.pre.use(init)
	d.bases.add(init.Ephemeral)
	p = d.peer(from)
	if ch == identityChange {
		p.convs = nil // sessions with the old key
	}
	p.addConv(&conv{s: s, ephemeral: init.Ephemeral})
	return m, kf, nil
}

// ErrNotReportable is returned by [Device.Report] and [Device.ReportLast]
// for messages the device has no opening for: never received, evicted from
// the report window, or delivered without the relay's tag.
var ErrNotReportable = errors.New("e2ee: message cannot be reported")

// Report builds a report of one received message: its evidence carries the
// plaintext, the franking key and commitment and the relay's tag, and
// nothing about any other message. A report of a sealed-sender message
// accuses no one (Accused is empty): the provider could not check the
// accusation.
func (d *Device) Report(m scanlab.Message) (scanlab.Report, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.peers[m.From]
	if p != nil {
		for i := len(p.received) - 1; i >= 0; i-- {
			if r := p.received[i]; r.id == m.ID {
				if len(r.tag) != TagAttachSize {
					break
				}
				return scanlab.Report{MessageID: m.ID, Reporter: d.user, Accused: accused(r.evidenceItem),
					Evidence: encodeEvidence([]evidenceItem{r.evidenceItem})}, nil
			}
		}
	}
	return scanlab.Report{}, fmt.Errorf("%w: %q from %q", ErrNotReportable, m.ID, m.From)
}

// ReportLast builds a report of the last n messages received from peer,
// consecutive in the peer's franking chain, so the provider can check that
// none inside the window was left out. It reports fewer than n if fewer
// consecutive messages are held.
func (d *Device) ReportLast(from scanlab.UserID, n int) (scanlab.Report, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.peers[from]
	if p == nil || len(p.received) == 0 || n <= 0 {
		return scanlab.Report{}, fmt.Errorf("%w: nothing received from %q", ErrNotReportable, from)
	}
	rs := slices.Clone(p.received)
	slices.SortFunc(rs, func(a, b received) int { return cmp.Compare(a.seq, b.seq) })
	if len(rs[len(rs)-1].tag) != TagAttachSize {
		return scanlab.Report{}, fmt.Errorf("%w: last message from %q was not relayed", ErrNotReportable, from)
	}
	start := len(rs) - 1
	for start > 0 && len(rs)-start < min(n, MaxReportMessages) && rs[start-1].seq+1 == rs[start].seq && len(rs[start-1].tag) == TagAttachSize {
		start--
	}
	items := make([]evidenceItem, 0, len(rs)-start)
	for _, r := range rs[start:] {
		items = append(items, r.evidenceItem)
	}
	last := items[len(items)-1]
	return scanlab.Report{MessageID: last.id, Reporter: d.user, Accused: accused(last), Evidence: encodeEvidence(items)}, nil
}

// accused is whom a report of it accuses: its sender, or no one for a
// sealed-sender message, which the provider cannot attribute.
func accused(it evidenceItem) scanlab.UserID {
	if it.sealed {
		return ""
	}
	return it.from
}
