// Package wire is the relay protocol's framing and encodings: the bytes that
// travel inside the TLS connection between a device and the relay.
//
// A frame is
//
//	version (1 byte) ‖ type (1 byte) ‖ payload length (4 bytes, big endian) ‖ payload
//
// Every decoder bounds its input: a frame longer than the reader's limit, an
// unknown version or type, a field longer than its limit or a payload with
// bytes left over is an error, never a panic.
//
// # Who sees what
//
// These bytes are visible to the relay after TLS terminates (the provider)
// and to nobody on the network: the eavesdropper sees them only as TLS
// records, whose lengths and timing do leak.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"scanlab"
)

// Version is the protocol version this package speaks.
const Version = 1

// Limits on what a decoder accepts.
const (
	HeaderSize      = 6
	DefaultMaxFrame = 32 << 20 // bytes of payload in one frame
	MaxID           = 256      // bytes in a message or user ID
	MaxAttachName   = 64       // bytes in an attachment name
	MaxAttachments  = 32       // attachments per envelope
	MaxBatch        = 1024     // envelopes per fetch
)

// Type says what a frame carries.
type Type uint8

// Frame types. Requests go from device to relay, each answered by exactly
// one response frame (or [Error]), in the order of the requests: a device
// may write several requests before reading their answers (pipelining).
const (
	Register   Type = 1  // → user ID: bind this connection's credential to a user
	Registered Type = 2  // ← hello: the relay's limits
	Send       Type = 3  // → envelope
	Sent       Type = 4  // ← receipt: server timings
	Fetch      Type = 5  // → mailbox user ID, max count, wait
	Batch      Type = 6  // ← list of (sequence, envelope)
	Ack        Type = 7  // → list of sequences
	Acked      Type = 8  // ← count deleted
	Publish    Type = 9  // → key bundle
	Published  Type = 10 // ← empty
	KeysFor    Type = 11 // → user ID
	Keys       Type = 12 // ← key bundle (at most one one-time key)
	ReportMsg  Type = 13 // → report
	Reported   Type = 14 // ← number of detections raised
	Error      Type = 15 // ← error reply: code and text
	CertFor    Type = 16 // → the identity bundle the device published: ask for a sender certificate
	Cert       Type = 17 // ← sender certificate, in the mode's encoding
	maxType    Type = 17
)

// Errors callers branch on.
var (
	ErrVersion   = errors.New("wire: unknown protocol version")
	ErrTooLarge  = errors.New("wire: frame exceeds size limit")
	ErrMalformed = errors.New("wire: malformed payload")
)

// Frame is one decoded frame.
type Frame struct {
	Type    Type
	Payload []byte
}

// WriteFrame writes one frame.
func WriteFrame(w io.Writer, t Type, payload []byte) error {
	if len(payload) > 1<<31-1 {
		return ErrTooLarge
	}
	buf := make([]byte, HeaderSize, HeaderSize+len(payload))
	buf[0] = Version
	buf[1] = byte(t)
	binary.BigEndian.PutUint32(buf[2:], uint32(len(payload)))
	_, err := w.Write(append(buf, payload...))
	return err
}

// Complete reports whether b begins with a whole frame of a known version
// (header and payload), and its type: what a reader can take from a buffer
// without waiting for the network.
func Complete(b []byte) (Type, bool) {
	if len(b) < HeaderSize || b[0] != Version {
		return 0, false
	}
	n := binary.BigEndian.Uint32(b[2:HeaderSize])
	return Type(b[1]), uint64(len(b)-HeaderSize) >= uint64(n)
}

// ReadFrame reads one frame whose payload is at most max bytes.
func ReadFrame(r io.Reader, max int) (Frame, error) { return ReadFrameWith(r, max, nil) }

// ChunkSize is how many payload bytes [ReadFrameWith] reads at a time, and
// so how far its buffer runs ahead of the bytes that actually arrived.
const ChunkSize = 64 << 10

// ReadFrameWith reads one frame whose payload is at most max bytes. The
// payload buffer grows as bytes arrive, never to the header's announced
// length up front, so a peer that announces a large frame and stalls holds
// at most [ChunkSize] bytes more than it sent.
//
// If before is not nil it is called after the header and before each read
// of the payload, with the number of payload bytes received so far and the
// most the read may return (it may return fewer); a non-nil error stops the
// read and is returned wrapped. Callers use it to set deadlines that enforce
// a minimum transfer rate and to charge the bytes to a memory budget.
func ReadFrameWith(r io.Reader, max int, before func(have, next int) error) (Frame, error) {
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Frame{}, err
	}
	if h[0] != Version {
		return Frame{}, fmt.Errorf("%w %d (this relay speaks %d)", ErrVersion, h[0], Version)
	}
	t := Type(h[1])
	if t == 0 || t > maxType {
		return Frame{}, fmt.Errorf("%w: unknown frame type %d", ErrMalformed, t)
	}
	n := int(binary.BigEndian.Uint32(h[2:]))
	if uint64(n) > uint64(max) {
		return Frame{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, max)
	}
	p := make([]byte, 0, min(n, ChunkSize))
	for len(p) < n {
		next := min(n-len(p), ChunkSize)
		if before != nil {
			if err := before(len(p), next); err != nil {
				return Frame{}, fmt.Errorf("wire: frame abandoned after %d of %d bytes: %w", len(p), n, err)
			}
		}
		if cap(p)-len(p) < next {
			p = slices.Grow(p, min(n, 2*cap(p))-len(p))
		}
		got, err := r.Read(p[len(p) : len(p)+next])
		p = p[:len(p)+got]
		if err != nil && len(p) < n {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Frame{}, fmt.Errorf("wire: truncated frame: %w", err)
		}
	}
	return Frame{Type: t, Payload: p}, nil
}

// builder appends length-prefixed fields.
type builder []byte

func (b builder) u8(v uint8) builder   { return append(b, v) }
func (b builder) u32(v uint32) builder { return binary.BigEndian.AppendUint32(b, v) }
func (b builder) u64(v uint64) builder { return binary.BigEndian.AppendUint64(b, v) }
func (b builder) bytes(v []byte) builder {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(v))), v...)
}
func (b builder) str(v string) builder { return b.bytes([]byte(v)) }

// parser reads fields, remembering the first error.
type parser struct {
	b   []byte
	err error
}

func (p *parser) fail(format string, a ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
	}
}

func (p *parser) take(n int) []byte {
	if p.err != nil {
		return nil
	}
	if n < 0 || n > len(p.b) {
		p.fail("need %d bytes, have %d", n, len(p.b))
		return nil
	}
	v := p.b[:n:n]
	p.b = p.b[n:]
	return v
}

func (p *parser) u8() uint8 {
	v := p.take(1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (p *parser) u32() uint32 {
	v := p.take(4)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

func (p *parser) u64() uint64 {
	v := p.take(8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (p *parser) bytes(max int, what string) []byte {
	n := p.u32()
	if p.err == nil && uint64(n) > uint64(max) {
		p.fail("%s is %d bytes, limit %d", what, n, max)
		return nil
	}
	return p.take(int(n))
}

func (p *parser) str(max int, what string) string { return string(p.bytes(max, what)) }

func (p *parser) done() error {
	if p.err == nil && len(p.b) != 0 {
		p.fail("%d trailing bytes", len(p.b))
	}
	return p.err
}

// AppendEnvelope appends the encoding of e to b. Attachments are written in
// strictly increasing name order (the decoder insists), so an envelope has
// exactly one encoding.
func AppendEnvelope(b []byte, e scanlab.Envelope) []byte {
	w := builder(b).str(e.ID).str(string(e.From)).str(string(e.To)).u64(uint64(e.Sent.UnixNano())).bytes(e.Body)
	names := make([]string, 0, len(e.Attach))
	for n := range e.Attach {
		names = append(names, n)
	}
	slices.Sort(names)
	w = w.u8(uint8(len(names)))
	for _, n := range names {
		w = w.str(n).bytes(e.Attach[n])
	}
	return w
}

// EncodeEnvelope returns the encoding of e.
func EncodeEnvelope(e scanlab.Envelope) []byte { return AppendEnvelope(nil, e) }

func (p *parser) envelope(max int) scanlab.Envelope {
	var e scanlab.Envelope
	e.ID = p.str(MaxID, "message ID")
	e.From = scanlab.UserID(p.str(MaxID, "sender ID"))
	e.To = scanlab.UserID(p.str(MaxID, "recipient ID"))
	e.Sent = time.Unix(0, int64(p.u64())).UTC()
	e.Body = p.bytes(max, "body")
	n := int(p.u8())
	if n > MaxAttachments {
		p.fail("%d attachments, limit %d", n, MaxAttachments)
		return e
	}
	if n > 0 {
		e.Attach = make(map[string][]byte, n)
	}
	prev := ""
	for i := range n {
		name := p.str(MaxAttachName, "attachment name")
		v := p.bytes(max, "attachment")
		if p.err != nil {
			break
		}
		if i > 0 && name <= prev {
			// The name is the sender's choice: errors end up in logs, so
			// they never quote it.
			p.fail("attachment names out of order or repeated")
		}
		prev = name
		e.Attach[name] = v
	}
	return e
}

// DecodeEnvelope decodes an envelope whose body and attachments are at most
// max bytes each.
func DecodeEnvelope(b []byte, max int) (scanlab.Envelope, error) {
	p := parser{b: b}
	e := p.envelope(max)
	if err := p.done(); err != nil {
		return scanlab.Envelope{}, fmt.Errorf("envelope: %w", err)
	}
	if e.ID == "" || e.To == "" {
		return scanlab.Envelope{}, fmt.Errorf("envelope: %w: empty message or recipient ID", ErrMalformed)
	}
	return e, nil
}

// Delivery is one stored envelope handed to its recipient.
type Delivery struct {
	Seq      uint64
	Envelope scanlab.Envelope
}

// EncodeBatch encodes a fetch response.
func EncodeBatch(ds []Delivery) []byte {
	b := builder(nil).u32(uint32(len(ds)))
	for _, d := range ds {
		b = b.u64(d.Seq)
		b = b.bytes(EncodeEnvelope(d.Envelope))
	}
	return b
}

// RawDelivery is a stored envelope in its encoded form, as the relay keeps it.
type RawDelivery struct {
	Seq      uint64
	Envelope []byte
}

// EncodeRawBatch encodes a fetch response from already encoded envelopes;
// its output is the same as [EncodeBatch] on the decoded ones.
func EncodeRawBatch(ds []RawDelivery) []byte {
	n := BatchHeader
	for _, d := range ds {
		n += DeliveryHeader + len(d.Envelope)
	}
	b := builder(make([]byte, 0, n)).u32(uint32(len(ds)))
	for _, d := range ds {
		b = b.u64(d.Seq).bytes(d.Envelope)
	}
	return b
}

// DecodeBatch decodes a fetch response.
func DecodeBatch(b []byte, max int) ([]Delivery, error) {
	p := parser{b: b}
	n := p.u32()
	if n > MaxBatch {
		return nil, fmt.Errorf("batch: %w: %d envelopes, limit %d", ErrMalformed, n, MaxBatch)
	}
	ds := make([]Delivery, 0, n)
	for range n {
		seq := p.u64()
		raw := p.bytes(max, "envelope")
		if p.err != nil {
			break
		}
		e, err := DecodeEnvelope(raw, max)
		if err != nil {
			return nil, fmt.Errorf("batch: %w", err)
		}
		ds = append(ds, Delivery{seq, e})
	}
	if err := p.done(); err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	return ds, nil
}

// FetchRequest asks for up to Max envelopes from Mailbox. If the mailbox is
// empty the relay holds the request up to Wait (capped by the relay's own
// limit, rounded down to milliseconds) and answers as soon as something
// arrives: a long poll. Ack lists records to delete first (at most
// [MaxBatch]), so a device receiving steadily needs one round trip per
// batch rather than two.
type FetchRequest struct {
	Mailbox scanlab.UserID
	Max     int
	Wait    time.Duration
	Ack     []uint64
}

// MaxWait bounds the Wait a fetch request can carry.
const MaxWait = time.Hour

// EncodeFetch encodes a fetch request.
func EncodeFetch(f FetchRequest) []byte {
	w := min(max(f.Wait, 0), MaxWait)
	b := builder(nil).str(string(f.Mailbox)).u32(uint32(f.Max)).u32(uint32(w / time.Millisecond))
	return append(b, EncodeSeqs(f.Ack)...)
}

// DecodeFetch decodes a fetch request.
func DecodeFetch(b []byte) (FetchRequest, error) {
	p := parser{b: b}
	f := FetchRequest{Mailbox: scanlab.UserID(p.str(MaxID, "mailbox")), Max: int(p.u32())}
	f.Wait = min(time.Duration(p.u32())*time.Millisecond, MaxWait)
	f.Ack = p.seqs()
	if err := p.done(); err != nil {
		return FetchRequest{}, fmt.Errorf("fetch: %w", err)
	}
	if f.Max < 1 || f.Max > MaxBatch {
		f.Max = MaxBatch
	}
	return f, nil
}

// Batch framing overheads: a batch payload is a count followed by, for each
// delivery, its sequence number and the length-prefixed envelope.
const (
	BatchHeader     = 4
	DeliveryHeader  = 8 + 4
	MinDeliveryCost = BatchHeader + DeliveryHeader
)

// DeliverySize returns the payload size of a batch holding one envelope whose
// encoding is n bytes long: an envelope is deliverable under a frame limit
// only if this is within it.
func DeliverySize(n int) int { return MinDeliveryCost + n }

// Hello is the relay's answer to a registration: the limits a device must
// respect. MaxFrame is the largest payload the relay reads or writes in one
// frame; a device reads frames up to this size.
type Hello struct {
	MaxFrame int
}

// EncodeHello encodes a registration answer.
func EncodeHello(h Hello) []byte { return builder(nil).u32(uint32(h.MaxFrame)) }

// DecodeHello decodes a registration answer.
func DecodeHello(b []byte) (Hello, error) {
	p := parser{b: b}
	h := Hello{MaxFrame: int(p.u32())}
	if err := p.done(); err != nil {
		return Hello{}, fmt.Errorf("hello: %w", err)
	}
	if h.MaxFrame < MinDeliveryCost {
		return Hello{}, fmt.Errorf("hello: %w: frame limit %d too small", ErrMalformed, h.MaxFrame)
	}
	return h, nil
}

// Code classifies an error the relay reports, so a device knows whether to
// try again.
type Code uint8

// Error codes.
const (
	// Refused: the request is wrong and will fail again (bad frame, not
	// authorised, too large).
	Refused Code = 1
	// Retry: the relay could not do it now (rate limit, busy, storage
	// failure); the same request may succeed later. Nothing was stored.
	Retry Code = 2
	// Fatal: the relay failed on this request (an internal error). Nothing
	// was stored; the same request would fail the same way.
	Fatal Code = 3
)

// ErrorReply is the payload of an [Error] frame. Closing says the relay
// closes the connection after it.
type ErrorReply struct {
	Code    Code
	Closing bool
	Msg     string
}

// MaxErrorText bounds the text of an error reply, in bytes.
const MaxErrorText = 4096

// EncodeError encodes an error reply; text beyond [MaxErrorText] is cut.
func EncodeError(e ErrorReply) []byte {
	msg := e.Msg
	if len(msg) > MaxErrorText {
		msg = msg[:MaxErrorText]
	}
	var closing uint8
	if e.Closing {
		closing = 1
	}
	return builder(nil).u8(uint8(e.Code)).u8(closing).str(msg)
}

// DecodeError decodes an error reply.
func DecodeError(b []byte) (ErrorReply, error) {
	p := parser{b: b}
	e := ErrorReply{Code: Code(p.u8())}
	switch p.u8() {
	case 0:
	case 1:
		e.Closing = true
	default:
		p.fail("closing flag not 0 or 1")
	}
	e.Msg = p.str(MaxErrorText, "error text")
	if err := p.done(); err != nil {
		return ErrorReply{}, fmt.Errorf("error reply: %w", err)
	}
	if e.Code != Refused && e.Code != Retry && e.Code != Fatal {
		return ErrorReply{}, fmt.Errorf("error reply: %w: unknown code %d", ErrMalformed, e.Code)
	}
	return e, nil
}

// EncodeSeqs encodes a list of sequence numbers (an ack).
func EncodeSeqs(seqs []uint64) []byte {
	b := builder(nil).u32(uint32(len(seqs)))
	for _, s := range seqs {
		b = b.u64(s)
	}
	return b
}

// DecodeSeqs decodes a list of sequence numbers.
func DecodeSeqs(b []byte) ([]uint64, error) {
	p := parser{b: b}
	out := p.seqs()
	if err := p.done(); err != nil {
		return nil, fmt.Errorf("ack: %w", err)
	}
	return out, nil
}

// seqs reads a count and that many sequence numbers (at most MaxBatch).
func (p *parser) seqs() []uint64 {
	n := p.u32()
	if p.err == nil && n > MaxBatch {
		p.fail("%d sequence numbers, limit %d", n, MaxBatch)
		return nil
	}
	var out []uint64
	if n > 0 {
		out = make([]uint64, 0, n)
	}
	for range n {
		out = append(out, p.u64())
	}
	return out
}

// EncodeBundle encodes a key bundle.
func EncodeBundle(k scanlab.KeyBundle) []byte {
	b := builder(nil).bytes(k.Identity).u32(uint32(len(k.OneTime)))
	for _, o := range k.OneTime {
		b = b.bytes(o)
	}
	return b
}

// MaxKeyBytes bounds one key field and MaxOneTime the one-time keys per publish.
const (
	MaxKeyBytes = 64 << 10
	MaxOneTime  = 1000
)

// DecodeBundle decodes a key bundle.
func DecodeBundle(b []byte) (scanlab.KeyBundle, error) {
	p := parser{b: b}
	k := scanlab.KeyBundle{Identity: p.bytes(MaxKeyBytes, "identity keys")}
	n := p.u32()
	if n > MaxOneTime {
		return scanlab.KeyBundle{}, fmt.Errorf("bundle: %w: %d one-time keys, limit %d", ErrMalformed, n, MaxOneTime)
	}
	for range n {
		k.OneTime = append(k.OneTime, p.bytes(MaxKeyBytes, "one-time key"))
	}
	if err := p.done(); err != nil {
		return scanlab.KeyBundle{}, fmt.Errorf("bundle: %w", err)
	}
	return k, nil
}

// EncodeReport encodes an abuse report.
func EncodeReport(r scanlab.Report) []byte {
	return builder(nil).str(r.MessageID).str(string(r.Reporter)).str(string(r.Accused)).bytes(r.Evidence)
}

// DecodeReport decodes an abuse report whose evidence is at most max bytes.
func DecodeReport(b []byte, max int) (scanlab.Report, error) {
	p := parser{b: b}
	r := scanlab.Report{
		MessageID: p.str(MaxID, "message ID"),
		Reporter:  scanlab.UserID(p.str(MaxID, "reporter")),
		Accused:   scanlab.UserID(p.str(MaxID, "accused")),
		Evidence:  p.bytes(max, "evidence"),
	}
	if err := p.done(); err != nil {
		return scanlab.Report{}, fmt.Errorf("report: %w", err)
	}
	return r, nil
}

// Receipt is the relay's answer to a send: how long its own stages took, so
// a client can split a round trip into wire and server time. It says
// nothing of detections: a sender must not learn whether it was flagged
// (in clientscan, that it crossed the threshold). The timings are a side
// channel of their own — a reveal takes longer than a non-match — which a
// measurement harness accepts and a deployment would not.
type Receipt struct {
	Seq   uint64
	Logic time.Duration // the mode's server logic (scan, voucher processing)
	Store time.Duration // sealing and writing the record
	// Dup says the relay had already stored this (sender, message ID) and
	// stored nothing new: Seq is the first copy's.
	Dup bool
}

// EncodeReceipt encodes a receipt.
func EncodeReceipt(r Receipt) []byte {
	var dup uint8
	if r.Dup {
		dup = 1
	}
	return builder(nil).u64(r.Seq).u64(uint64(r.Logic)).u64(uint64(r.Store)).u8(dup)
}

// DecodeReceipt decodes a receipt.
func DecodeReceipt(b []byte) (Receipt, error) {
	p := parser{b: b}
	r := Receipt{Seq: p.u64(), Logic: time.Duration(p.u64()), Store: time.Duration(p.u64())}
	switch p.u8() {
	case 0:
	case 1:
		r.Dup = true
	default:
		p.fail("receipt flag not 0 or 1")
	}
	if err := p.done(); err != nil {
		return Receipt{}, fmt.Errorf("receipt: %w", err)
	}
	return r, nil
}

// EncodeString encodes a single string (a user ID, an error text).
func EncodeString(s string) []byte { return builder(nil).str(s) }

// DecodeString decodes a single string of at most max bytes.
func DecodeString(b []byte, max int) (string, error) {
	p := parser{b: b}
	s := p.str(max, "string")
	if err := p.done(); err != nil {
		return "", err
	}
	return s, nil
}

// EncodeCount encodes a count.
func EncodeCount(n int) []byte { return builder(nil).u32(uint32(n)) }

// DecodeCount decodes a count.
func DecodeCount(b []byte) (int, error) {
	p := parser{b: b}
	n := p.u32()
	return int(n), p.done()
}
