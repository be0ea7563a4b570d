package e2ee

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"scanlab"
	"scanlab/internal/replay"
)

// Franking (verifiable abuse reports) follows the symmetric scheme of
// Facebook's "Messenger Secret Conversations" whitepaper (2016), with the
// recipient-side check Grubbs, Lu and Ristenpart ("Message Franking via
// Committing Authenticated Encryption", CRYPTO 2017) show is needed:
//
//  1. The sender draws a franking key kf per message and commits:
//     c = HMAC-SHA-256(kf, label ‖ len(ad) ‖ ad ‖ m), where ad binds the
//     message ID, sender and recipient and m is the encoded content with its
//     sequence number and the hash of the previous commitment. kf travels
//     inside the ciphertext; c travels beside it and is bound into the AEAD
//     associated data ([Session.Encrypt]).
//  2. The relay tags c with its own key: tag = HMAC-SHA-256(K, label ‖ c ‖
//     ID ‖ sender ‖ recipient ‖ time) ([Server.Accept]).
//  3. The recipient decrypts and drops the message if kf does not open c
//     ([Session.Decrypt]), so a sender cannot deliver a message it could
//     not be reported for ("invisible salamanders", Dodis et al., CRYPTO
//     2018).
//  4. A report reveals (m, kf, c, tag, time, ID, sender, recipient); the
//     provider checks the tag, then the commitment ([Server.Verify]).
//
// Chained commitments: each message's m carries its sequence number in the
// sender→recipient direction and h = SHA-256(label ‖ h' ‖ c') over the
// previous message's h' and commitment c'. A report of several consecutive
// messages is accepted only if every link matches, so leaving out or
// reordering a message inside the reported window is detected.

// Attachment names the mode uses on a [scanlab.Envelope].
const (
	// AttachInit carries the X3DH initial message until the peer answers.
	AttachInit = "e2ee-init"
	// AttachCommitment carries the 32-byte franking commitment.
	AttachCommitment = "frank-commit"
	// AttachTag carries the relay's franking tag: the relay's time as
	// 8 bytes of big-endian Unix nanoseconds, then the 32-byte tag.
	AttachTag = "frank-tag"
	// AttachSender carries the sealed-sender box (HPKE encapsulated key and
	// ciphertext) when sealed sender is on.
	AttachSender = "sealed-sender"
)

// TagAttachSize is the size in bytes of the [AttachTag] attachment.
const TagAttachSize = 8 + sha256.Size

const (
	labelTag       = "scanlab-e2ee-v1 relay franking tag"
	labelChain     = "scanlab-e2ee-v1 franking chain"
	labelEnvelope  = "scanlab-e2ee-v1 envelope"
	contentVersion = 1
	contentHdrLen  = 1 + 8 + sha256.Size + 1
	evidenceVer    = 1
	// MaxReportMessages is the most messages one report may carry.
	MaxReportMessages = 64
	maxField          = 1024 // bytes in an ID or user name inside evidence
)

// ErrBadReport is returned by [Server.Verify] for evidence that does not
// parse or does not verify.
var ErrBadReport = errors.New("e2ee: report does not verify")

// appendField appends a 16-bit length and s.
func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// envelopeAD is the associated data the mode binds to each message: a label
// and the message ID, sender and recipient, each length-prefixed.
func envelopeAD(id string, from, to scanlab.UserID) ([]byte, error) {
	if len(id) > maxField || len(from) > maxField || len(to) > maxField {
		return nil, fmt.Errorf("e2ee: message ID or user name longer than %d bytes", maxField)
	}
	b := make([]byte, 0, len(labelEnvelope)+6+len(id)+len(from)+len(to))
	b = append(b, labelEnvelope...)
	b = appendField(b, id)
	b = appendField(b, string(from))
	return appendField(b, string(to)), nil
}

// chainHash links a commitment into its direction's chain.
func chainHash(prev *[sha256.Size]byte, c []byte) (h [sha256.Size]byte) {
	d := sha256.New()
	d.Write([]byte(labelChain))
	d.Write(prev[:])
	d.Write(c)
	d.Sum(h[:0])
	return h
}

// content is the decoded plaintext of one message.
type content struct {
	seq  uint64
	prev [sha256.Size]byte
	c    scanlab.Content
}

// encodeContent encodes version ‖ seq ‖ prev ‖ kind ‖ bytes.
func encodeContent(seq uint64, prev *[sha256.Size]byte, c scanlab.Content) ([]byte, error) {
	var data []byte
	switch c.Kind {
	case scanlab.Text:
	case scanlab.Image:
		data = c.Image
	default:
		return nil, fmt.Errorf("e2ee: unknown content kind %d", c.Kind)
	}
	n := len(data) + len(c.Text)
	if n > MaxPlaintext-contentHdrLen {
		return nil, fmt.Errorf("e2ee: content of %d bytes exceeds %d", n, MaxPlaintext-contentHdrLen)
	}
	b := make([]byte, 0, contentHdrLen+n)
	b = append(b, contentVersion)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, prev[:]...)
	b = append(b, byte(c.Kind))
	b = append(b, c.Text...)
	return append(b, data...), nil
}

func decodeContent(b []byte) (content, error) {
	var c content
	if len(b) < contentHdrLen {
		return c, fmt.Errorf("%w: content of %d bytes", ErrMalformed, len(b))
	}
	if b[0] != contentVersion {
		return c, fmt.Errorf("%w: unknown content version %d", ErrMalformed, b[0])
	}
	c.seq = binary.BigEndian.Uint64(b[1:])
	copy(c.prev[:], b[9:])
	c.c.Kind = scanlab.Kind(b[contentHdrLen-1])
	data := b[contentHdrLen:]
	switch c.c.Kind {
	case scanlab.Text:
		c.c.Text = string(data)
	case scanlab.Image:
		c.c.Image = bytes.Clone(data) // the caller may keep b as evidence
	default:
		return c, fmt.Errorf("%w: unknown content kind %d", ErrMalformed, c.c.Kind)
	}
	return c, nil
}

// tag computes the relay's tag over a commitment and the routing data the
// relay saw (from is empty under sealed sender).
func tag(key, c []byte, id string, from, to scanlab.UserID, at int64) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(labelTag))
	h.Write(c)
	var b []byte
	b = appendField(b, id)
	b = appendField(b, string(from))
	b = appendField(b, string(to))
	b = binary.BigEndian.AppendUint64(b, uint64(at))
	h.Write(b)
	return h.Sum(nil)
}

// evidenceItem is one reported message.
type evidenceItem struct {
	id       string
	from, to scanlab.UserID // from is the true sender, bound in c
	sealed   bool           // the relay saw no sender
	c, kf    []byte
	tag      []byte // AttachTag value
	m        []byte // the committed plaintext
}

// encodeEvidence: version ‖ count ‖ items, each: flags ‖ ID ‖ from ‖ to
// (16-bit length-prefixed) ‖ c ‖ kf ‖ tag attachment ‖ 32-bit length ‖ m.
func encodeEvidence(items []evidenceItem) []byte {
	b := []byte{evidenceVer, byte(len(items))}
	for _, it := range items {
		var flags byte
		if it.sealed {
			flags = 1
		}
		b = append(b, flags)
		b = appendField(b, it.id)
		b = appendField(b, string(it.from))
		b = appendField(b, string(it.to))
		b = append(b, it.c...)
		b = append(b, it.kf...)
		b = append(b, it.tag...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(it.m)))
		b = append(b, it.m...)
	}
	return b
}

// decodeEvidence is the bounded decoder for report evidence.
func decodeEvidence(b []byte) ([]evidenceItem, error) {
	bad := func(why string) ([]evidenceItem, error) {
		return nil, fmt.Errorf("%w: %s", ErrBadReport, why)
	}
	if len(b) < 2 {
		return bad("evidence too short")
	}
	if b[0] != evidenceVer {
		return bad(fmt.Sprintf("unknown evidence version %d", b[0]))
	}
	n := int(b[1])
	if n == 0 || n > MaxReportMessages {
		return bad(fmt.Sprintf("%d messages, want 1 to %d", n, MaxReportMessages))
	}
	r := b[2:]
	take := func(k int) ([]byte, bool) {
		if k > len(r) {
			return nil, false
		}
		v := r[:k:k]
		r = r[k:]
		return v, true
	}
	field := func() (string, bool) {
		l, ok := take(2)
		if !ok {
			return "", false
		}
		k := int(binary.BigEndian.Uint16(l))
		if k > maxField {
			return "", false
		}
		v, ok := take(k)
		return string(v), ok
	}
	items := make([]evidenceItem, 0, n)
	for range n {
		var it evidenceItem
		flags, ok := take(1)
		if !ok || flags[0]&^1 != 0 {
			return bad("bad flags")
		}
		it.sealed = flags[0] == 1
		var from, to string
		var ok1, ok2, ok3 bool
		it.id, ok1 = field()
		from, ok2 = field()
		to, ok3 = field()
		if !ok1 || !ok2 || !ok3 {
			return bad("truncated or oversized field")
		}
		it.from, it.to = scanlab.UserID(from), scanlab.UserID(to)
		var okc, okk, okt bool
		it.c, okc = take(CommitmentSize)
		it.kf, okk = take(FrankKeySize)
		it.tag, okt = take(TagAttachSize)
		l, okl := take(4)
		if !okc || !okk || !okt || !okl {
			return bad("truncated")
		}
		k := binary.BigEndian.Uint32(l)
		if k > MaxPlaintext || int(k) > len(r) {
			return bad("truncated or oversized message")
		}
		it.m, _ = take(int(k))
		items = append(items, it)
	}
	if len(r) != 0 {
		return bad("trailing bytes")
	}
	return items, nil
}

// ReportedMessage is one message the provider learned from a verified
// report.
type ReportedMessage struct {
	ID string
	// From is the sender, empty when the message was sealed-sender and so
	// cannot be attributed.
	From      scanlab.UserID
	To        scanlab.UserID
	RelayedAt time.Time
	// Seq is the message's number in the sender→recipient direction.
	Seq     uint64
	Content scanlab.Content
}

// Server is the provider's logic for the e2ee mode: it relays envelopes,
// tags franking commitments, verifies reports and issues sender
// certificates. Verification is stateless except for a bounded memory of
// the messages already reported, so a report cannot be replayed (see
// package internal/replay for the bound and its cost); that memory does
// not survive a restart. It is safe for concurrent use.
type Server struct {
	key      []byte
	now      func() time.Time
	reported *replay.Guard
	certs    *certIssuer
}

var (
	_ scanlab.ServerLogic       = (*Server)(nil)
	_ scanlab.CertificateIssuer = (*Server)(nil)
)

// ErrReplayedReport is returned by [Server.Verify] for a report whose
// messages were all reported before, or that names a message relayed
// before the replay memory's horizon. It wraps [ErrBadReport].
var ErrReplayedReport = fmt.Errorf("%w: already reported", ErrBadReport)

// NewServer returns the provider logic; the franking key comes from
// env.Secret("franking"), the certificate-signing key from
// env.Secret("sender-certificate").
func NewServer(env scanlab.ServerEnv) (*Server, error) {
	if env.Secret == nil {
		return nil, errors.New("e2ee: server environment has no key manager")
	}
	key, err := env.Secret("franking")
	if err != nil {
		return nil, fmt.Errorf("e2ee: franking key: %w", err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("e2ee: franking key of %d bytes, want at least 32", len(key))
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	certs, err := newCertIssuer(env, now)
	if err != nil {
		return nil, err
	}
	return &Server{key: key, now: now, reported: replay.New(replay.DefaultCapacity), certs: certs}, nil
}

// IssueCertificate implements [scanlab.CertificateIssuer]: it checks the
// account's published identity bundle and signs a [SenderCertificate]
// binding user's device to its identity key for
// [DefaultCertificateLifetime].
func (s *Server) IssueCertificate(user scanlab.UserID, identity []byte) ([]byte, error) {
	return s.certs.issue(user, identity)
}

// CertificateKey returns the public key sender certificates are signed
// with, for devices configured with it ([Options.CertificateRoot]).
func (s *Server) CertificateKey() ed25519.PublicKey {
	return s.certs.key.Public().(ed25519.PublicKey)
}

// Accept tags the envelope's franking commitment (the [AttachTag]
// attachment) with the relay's key, the routing fields and the relay's
// time. It refuses an envelope without a well-formed commitment. It raises
// no detections: the provider cannot read the content.
func (s *Server) Accept(e *scanlab.Envelope) ([]scanlab.Detection, error) {
	c := e.Attach[AttachCommitment]
	if len(c) != CommitmentSize {
		return nil, fmt.Errorf("e2ee: envelope %q has no valid franking commitment", e.ID)
	}
	at := s.now().UnixNano()
	t := binary.BigEndian.AppendUint64(make([]byte, 0, TagAttachSize), uint64(at))
	e.Attach[AttachTag] = append(t, tag(s.key, c, e.ID, e.From, e.To, at)...)
	return nil, nil
}

// Verify checks a report and returns one detection per newly reported
// message, with pathway [scanlab.UserReport]. The report must come from the
// recipient of every message, accuse their sender (no one, for
// sealed-sender messages, whose sender the relay never saw), and name the
// last message's ID; several messages must be consecutive in the sender's chain.
// A report whose messages were all reported before is refused
// ([ErrReplayedReport]); in a window that overlaps an earlier report only
// the new messages raise detections.
func (s *Server) Verify(r scanlab.Report) ([]scanlab.Detection, error) {
	msgs, tags, err := s.open(r)
	if err != nil {
		return nil, err
	}
	items := make([]replay.Item, len(msgs))
	for i, m := range msgs {
		items[i] = replay.Item{Key: replay.Key(tags[i]), RelayedAt: m.RelayedAt}
	}
	fresh, err := s.reported.Admit(items)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReplayedReport, err)
	}
	at := s.now()
	var ds []scanlab.Detection
	for i, m := range msgs {
		if !fresh[i] {
			continue
		}
		rule := "franking"
		if m.From == "" {
			rule = "franking-unattributed"
		}
		ds = append(ds, scanlab.Detection{MessageID: m.ID, Account: m.From, Pathway: scanlab.UserReport, At: at, Rule: rule, Distance: -1})
	}
	return ds, nil
}

// Open verifies a report like [Server.Verify] and returns the reported
// messages: what a moderator would see. It does not consult or change the
// memory of reported messages.
func (s *Server) Open(r scanlab.Report) ([]ReportedMessage, error) {
	msgs, _, err := s.open(r)
	return msgs, err
}

// open verifies a report's evidence and returns the messages and the
// relay's tag of each.
func (s *Server) open(r scanlab.Report) ([]ReportedMessage, [][]byte, error) {
	items, err := decodeEvidence(r.Evidence)
	if err != nil {
		return nil, nil, err
	}
	out := make([]ReportedMessage, 0, len(items))
	tags := make([][]byte, 0, len(items))
	var prev content
	var prevC []byte
	for i, it := range items {
		ct, err := s.openItem(r, it, i)
		if err != nil {
			return nil, nil, err
		}
		if i > 0 {
			if it.from != items[0].from || it.sealed != items[0].sealed {
				return nil, nil, fmt.Errorf("%w: messages from different senders", ErrBadReport)
			}
			if ct.seq != prev.seq+1 || ct.prev != chainHash(&prev.prev, prevC) {
				return nil, nil, fmt.Errorf("%w: message %d does not follow message %d (omitted or reordered)", ErrBadReport, i, i-1)
			}
		}
		prev, prevC = ct, it.c
		from := it.from
		if it.sealed {
			from = ""
		}
		at := int64(binary.BigEndian.Uint64(it.tag))
		out = append(out, ReportedMessage{ID: it.id, From: from, To: it.to, RelayedAt: time.Unix(0, at).UTC(), Seq: ct.seq, Content: ct.c})
		tags = append(tags, it.tag[8:])
	}
	if last := items[len(items)-1].id; r.MessageID != last {
		return nil, nil, fmt.Errorf("%w: report names message %q, evidence ends with %q", ErrBadReport, r.MessageID, last)
	}
	return out, tags, nil
}

// openItem checks one reported message: the relay's tag, the commitment,
// the content and that reporter and accused are its recipient and sender.
func (s *Server) openItem(r scanlab.Report, it evidenceItem, i int) (content, error) {
	relayFrom := it.from
	if it.sealed {
		relayFrom = ""
	}
	at := int64(binary.BigEndian.Uint64(it.tag))
	if !hmac.Equal(tag(s.key, it.c, it.id, relayFrom, it.to, at), it.tag[8:]) {
		return content{}, fmt.Errorf("%w: message %d: relay tag does not match", ErrBadReport, i)
	}
	ad, err := envelopeAD(it.id, it.from, it.to)
	if err != nil {
		return content{}, fmt.Errorf("%w: %v", ErrBadReport, err)
	}
	if got := commit(it.kf, ad, it.m); !hmac.Equal(got[:], it.c) {
		return content{}, fmt.Errorf("%w: message %d: commitment does not open", ErrBadReport, i)
	}
	ct, err := decodeContent(it.m)
	if err != nil {
		return content{}, fmt.Errorf("%w: message %d: %v", ErrBadReport, i, err)
	}
	if it.to != r.Reporter {
		return content{}, fmt.Errorf("%w: message %d was sent to %q, not the reporter", ErrBadReport, i, it.to)
	}
	if it.sealed && r.Accused != "" {
		return content{}, fmt.Errorf("%w: message %d was sealed-sender, so the report cannot accuse %q", ErrBadReport, i, r.Accused)
	}
	if !it.sealed && it.from != r.Accused {
		return content{}, fmt.Errorf("%w: message %d was sent by %q, not the accused", ErrBadReport, i, it.from)
	}
	return ct, nil
}
