package e2ee

import (
	"cmp"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"scanlab"
)

// Options configures the mode. The zero value is a usable configuration.
type Options struct {
	// Profile holds the key-schedule strings; the zero value means
	// [DefaultProfile].
	Profile Profile
	// Limits bounds out-of-order delivery and sets the padding bucket.
	Limits Limits
	// PQ makes devices publish an ML-KEM-1024 prekey, so sessions started
	// with them use PQXDH (+1568 bytes in the first message).
	PQ bool
	// SealedSender hides the sender from the provider: the envelope's From
	// is empty and the sender's name travels HPKE-encrypted to the
	// recipient's identity key (RFC 9180, DHKEM(X25519, HKDF-SHA256),
	// HKDF-SHA256, ChaCha20-Poly1305). The cost for franking: the relay tags
	// without knowing the sender, so a report still proves what the
	// reporter received but not who sent it; detections from such reports
	// have no Account.
	SealedSender bool
	// OneTimePrekeys is how many one-time prekeys a device publishes
	// (default 16). When they run out, sessions start without DH4.
	OneTimePrekeys int
	// ReportWindow is how many received messages per peer a device keeps
	// the franking openings of, for reports (default 32).
	ReportWindow int
}

func (o Options) withDefaults() Options {
	if o.Profile == (Profile{}) {
		o.Profile = DefaultProfile
	}
	o.Limits = o.Limits.withDefaults()
	if o.OneTimePrekeys <= 0 {
		o.OneTimePrekeys = 16
	}
	if o.ReportWindow <= 0 {
		o.ReportWindow = 32
	}
	return o
}

// Mode is the "e2ee" [scanlab.Mode].
type Mode struct{ opts Options }

// New returns the e2ee mode.
func New(opts Options) scanlab.Mode { return &Mode{opts: opts.withDefaults()} }

// Name is the mode's name in results.
const Name = "e2ee"

// Name returns "e2ee".
func (m *Mode) Name() string { return Name }

// NewDevice makes a device with [NewDevice].
func (m *Mode) NewDevice(user scanlab.UserID, dir scanlab.Directory) (scanlab.Device, error) {
	return NewDevice(m.opts, user, dir)
}

// NewServer makes the provider logic with [NewServer].
func (m *Mode) NewServer(env scanlab.ServerEnv) (scanlab.ServerLogic, error) {
	return NewServer(env)
}

// Device is one user's e2ee client. It is safe for concurrent use: a mutex
// serialises Seal, Open and Report, so one goroutine at a time works on the
// sessions (the relay client normally calls it from one goroutine anyway).
//
// Another mode that is "e2ee plus something" (clientscan) can embed a
// *Device and call [Device.SealWith] to add its own attachments.
type Device struct {
	mu    sync.Mutex
	user  scanlab.UserID
	dir   scanlab.Directory
	opts  Options
	id    *Identity
	pre   *Prekeys
	hpke  hpke.PrivateKey
	peers map[scanlab.UserID]*peer
}

// peer is what a device keeps about one correspondent.
type peer struct {
	identity    PublicIdentity
	hasIdentity bool
	// convs holds at most two sessions, the active one first (Sesame, rev.
	// 2, §3: the session that last decrypted becomes active; the other is
	// kept for late messages and simultaneous initiation).
	convs []*conv
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

// NewDevice generates a device's identity and prekeys and publishes its
// bundle through dir.
func NewDevice(opts Options, user scanlab.UserID, dir scanlab.Directory) (*Device, error) {
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
	if err := dir.Publish(user, kb); err != nil {
		return nil, fmt.Errorf("e2ee: publish keys of %q: %w", user, err)
	}
	return &Device{user: user, dir: dir, opts: opts, id: id, pre: pre, hpke: hk, peers: make(map[scanlab.UserID]*peer)}, nil
}

// User returns the device's user.
func (d *Device) User() scanlab.UserID { return d.user }

// Identity returns the device's public identity (for fingerprints).
func (d *Device) Identity() PublicIdentity { return d.id.Public() }

func (d *Device) peer(u scanlab.UserID) *peer {
	p := d.peers[u]
	if p == nil {
		p = new(peer)
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

var reserved = []string{AttachInit, AttachCommitment, AttachTag, AttachSender}

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
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.peer(m.To)
	if len(p.convs) == 0 {
		if err := d.initiate(m.To, p); err != nil {
			return scanlab.Envelope{}, err
		}
	}
	cv := p.convs[0]
	pt, err := encodeContent(p.sendSeq, &p.sendPrev, m.Content)
	if err != nil {
		return scanlab.Envelope{}, err
	}
	wire, c, err := cv.s.Encrypt(pt, ad)
	if err != nil {
		return scanlab.Envelope{}, err
	}
	p.sendPrev = chainHash(&p.sendPrev, c[:])
	p.sendSeq++
	e := scanlab.Envelope{ID: m.ID, From: m.From, To: m.To, Sent: m.Sent, Body: wire,
		Attach: make(map[string][]byte, len(extra)+3)}
	e.Attach[AttachCommitment] = c[:]
	switch {
	case d.opts.SealedSender:
		// The initial message names the sender's identity key, so under
		// sealed sender it travels inside the box.
		box, err := sealSender(p.identity, m, c[:], cv.init)
		if err != nil {
			return scanlab.Envelope{}, err
		}
		e.From = ""
		e.Attach[AttachSender] = box
	case cv.init != nil:
		e.Attach[AttachInit] = cv.init
	}
	for k, v := range extra {
		e.Attach[k] = v
	}
	return e, nil
}

// initiate fetches the peer's bundle and starts a session as initiator.
func (d *Device) initiate(to scanlab.UserID, p *peer) error {
	kb, err := d.dir.Fetch(to)
	if err != nil {
		return fmt.Errorf("e2ee: fetch keys of %q: %w", to, err)
	}
	b, err := ParseBundle(kb)
	if err != nil {
		return fmt.Errorf("e2ee: keys of %q: %w", to, err)
	}
	if d.opts.PQ && b.PQ == nil {
		return fmt.Errorf("e2ee: %q published no PQ prekey and PQ is required", to)
	}
	sk, ad, init, err := Initiate(d.id, b, d.opts.Profile)
	if err != nil {
		return fmt.Errorf("e2ee: X3DH with %q: %w", to, err)
	}
	s, err := NewInitiatorSession(sk, ad, b.Signed[:], d.opts.Profile, d.opts.Limits)
	if err != nil {
		return err
	}
	p.identity, p.hasIdentity = b.Identity, true
	p.convs = append([]*conv{{s: s, init: init.Marshal(), ephemeral: init.Ephemeral}}, p.convs...)
	if len(p.convs) > maxConvs {
		p.convs = p.convs[:maxConvs]
	}
	return nil
}

// Open decrypts an envelope addressed to this device, checks its franking
// commitment and returns the message. A message that fails any check is
// dropped with an error and changes nothing on the device.
func (d *Device) Open(e scanlab.Envelope) (scanlab.Message, error) {
	if e.To != d.user {
		return scanlab.Message{}, fmt.Errorf("e2ee: envelope for %q opened by %q", e.To, d.user)
	}
	c := e.Attach[AttachCommitment]
	if len(c) != CommitmentSize {
		return scanlab.Message{}, fmt.Errorf("%w: missing or malformed franking commitment", ErrMalformed)
	}
	from := e.From
	init, hasInit := e.Attach[AttachInit]
	_, sealed := e.Attach[AttachSender]
	if sealed {
		if from != "" || hasInit {
			return scanlab.Message{}, fmt.Errorf("%w: sealed-sender envelope names a sender or carries a clear initial message", ErrMalformed)
		}
		var err error
		if from, init, err = d.openSender(e, c); err != nil {
			return scanlab.Message{}, err
		}
		hasInit = init != nil
	}
	if from == "" {
		return scanlab.Message{}, fmt.Errorf("%w: envelope has no sender", ErrMalformed)
	}
	ad, err := envelopeAD(e.ID, from, e.To)
	if err != nil {
		return scanlab.Message{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.peers[from]
	var ct content
	check := func(m []byte) (err error) { ct, err = decodeContent(m); return err }
	var pt, kf []byte
	if hasInit {
		pt, kf, err = d.openInit(from, p, init, e.Body, c, ad, check)
	} else if p == nil || len(p.convs) == 0 {
		err = fmt.Errorf("e2ee: no session with %q", from)
	} else {
		pt, kf, err = p.decrypt(e.Body, c, ad, check)
	}
	if err != nil {
		return scanlab.Message{}, err
	}
	p = d.peers[from]
	// Keep the opening for reports.
	p.received = append(p.received, received{evidenceItem{id: e.ID, from: from, to: e.To, sealed: sealed,
		c: slices.Clone(c), kf: kf, tag: slices.Clone(e.Attach[AttachTag]), m: pt}, ct.seq})
	if len(p.received) > d.opts.ReportWindow {
		p.received = slices.Delete(p.received, 0, len(p.received)-d.opts.ReportWindow)
	}
	return scanlab.Message{ID: e.ID, From: from, To: e.To, Sent: e.Sent, Content: ct.c}, nil
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
// repeat of the initial message of a session the device already has is
// decrypted on that session; a new one starts a responder session, which
// is kept, and its one-time prekey deleted, only if the message decrypts.
func (d *Device) openInit(from scanlab.UserID, p *peer, raw, wire, c, ad []byte, check func([]byte) error) (m, kf []byte, err error) {
	init, err := ParseInitMessage(raw)
	if err != nil {
		return nil, nil, err
	}
	if p != nil && slices.ContainsFunc(p.convs, func(cv *conv) bool { return cv.ephemeral == init.Ephemeral }) {
		return p.decrypt(wire, c, ad, check)
	}
	sk, xad, err := Respond(d.id, d.pre, init, d.opts.Profile)
	if err != nil {
		return nil, nil, fmt.Errorf("e2ee: X3DH from %q: %w", from, err)
	}
	s := NewResponderSession(sk, xad, d.pre.Signed, d.opts.Profile, d.opts.Limits)
	if m, kf, err = s.decrypt(wire, c, ad, check); err != nil {
		return nil, nil, err
	}
	if init.HasOneTime {
		delete(d.pre.OneTime, init.OneTimeID)
	}
	p = d.peer(from)
	p.identity, p.hasIdentity = init.Identity, true
	p.convs = append([]*conv{{s: s, ephemeral: init.Ephemeral}}, p.convs...)
	if len(p.convs) > maxConvs {
		p.convs = p.convs[:maxConvs]
	}
	return m, kf, nil
}

const labelSealed = "scanlab-e2ee-v1 sealed sender"

var (
	sealedKDF  = hpke.HKDFSHA256()
	sealedAEAD = hpke.ChaCha20Poly1305()
)

// sealedAAD binds the sealed-sender box to its envelope.
func sealedAAD(id string, to scanlab.UserID, c []byte) []byte {
	b := appendField(nil, id)
	b = appendField(b, string(to))
	return append(b, c...)
}

// sealSender encrypts the sender's name, and the X3DH initial message if
// any, to the recipient's identity key with HPKE base mode; the box is enc ‖
// ciphertext of len(From) ‖ From ‖ init.
func sealSender(to PublicIdentity, m scanlab.Message, c, init []byte) ([]byte, error) {
	pub, err := x25519.NewPublicKey(to.DH[:])
	if err != nil {
		return nil, err
	}
	hpub, err := hpke.NewDHKEMPublicKey(pub)
	if err != nil {
		return nil, err
	}
	enc, snd, err := hpke.NewSender(hpub, sealedKDF, sealedAEAD, []byte(labelSealed))
	if err != nil {
		return nil, err
	}
	ct, err := snd.Seal(sealedAAD(m.ID, m.To, c), append(appendField(nil, string(m.From)), init...))
	if err != nil {
		return nil, err
	}
	return append(enc, ct...), nil
}

const sealedMaxLen = KeySize + 2 + maxField + initMaxLen + TagSize

// openSender opens the sealed-sender box and returns the sender and the
// initial message it carries (nil if none).
func (d *Device) openSender(e scanlab.Envelope, c []byte) (scanlab.UserID, []byte, error) {
	box := e.Attach[AttachSender]
	if len(box) < KeySize+2+TagSize || len(box) > sealedMaxLen {
		return "", nil, fmt.Errorf("%w: sealed-sender box of %d bytes", ErrMalformed, len(box))
	}
	r, err := hpke.NewRecipient(box[:KeySize], d.hpke, sealedKDF, sealedAEAD, []byte(labelSealed))
	if err != nil {
		return "", nil, fmt.Errorf("%w: sealed sender: %v", ErrAuth, err)
	}
	pt, err := r.Open(sealedAAD(e.ID, e.To, c), box[KeySize:])
	if err != nil {
		return "", nil, fmt.Errorf("%w: sealed sender", ErrAuth)
	}
	if len(pt) < 2 {
		return "", nil, fmt.Errorf("%w: sealed sender", ErrMalformed)
	}
	n := int(binary.BigEndian.Uint16(pt))
	if n == 0 || n > maxField || 2+n > len(pt) {
		return "", nil, fmt.Errorf("%w: sealed sender", ErrMalformed)
	}
	var init []byte
	if rest := pt[2+n:]; len(rest) > 0 {
		init = rest
	}
	return scanlab.UserID(pt[2 : 2+n]), init, nil
}

// ErrNotReportable is returned by [Device.Report] and [Device.ReportLast]
// for messages the device has no opening for: never received, evicted from
// the report window, or delivered without the relay's tag.
var ErrNotReportable = errors.New("e2ee: message cannot be reported")

// Report builds a report of one received message: its evidence carries the
// plaintext, the franking key and commitment and the relay's tag, and
// nothing about any other message.
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
				return scanlab.Report{MessageID: m.ID, Reporter: d.user, Accused: m.From,
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
	if p == nil || n <= 0 {
		return scanlab.Report{}, fmt.Errorf("%w: nothing received from %q", ErrNotReportable, from)
	}
	rs := slices.Clone(p.received)
	slices.SortFunc(rs, func(a, b received) int { return cmp.Compare(a.seq, b.seq) })
	start := len(rs) - 1
	for start > 0 && len(rs)-start < min(n, MaxReportMessages) && rs[start-1].seq+1 == rs[start].seq && len(rs[start-1].tag) == TagAttachSize {
		start--
	}
	if len(rs[len(rs)-1].tag) != TagAttachSize {
		return scanlab.Report{}, fmt.Errorf("%w: last message from %q was not relayed", ErrNotReportable, from)
	}
	items := make([]evidenceItem, 0, len(rs)-start)
	for _, r := range rs[start:] {
		items = append(items, r.evidenceItem)
	}
	return scanlab.Report{MessageID: items[len(items)-1].id, Reporter: d.user, Accused: from, Evidence: encodeEvidence(items)}, nil
}
