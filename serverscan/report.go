package serverscan

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"scanlab"
	"scanlab/internal/replay"
)

// Reports in serverscan: the provider saw the plaintext when it relayed the
// message, so a report need only prove that the reported content is what
// it relayed, from whom and to whom. Instead of keeping a digest of every
// message (memory without bound, lost at a restart), the provider attaches
// to each envelope a tag — its relay time and HMAC-SHA-256 under its own
// key over the message ID, sender, recipient, SHA-256 of the body and that
// time — which the recipient's device keeps and sends back with the
// content. Verification recomputes the tag from the report.

// AttachReportTag is the attachment the provider adds to every envelope it
// relays: [ReportTagSize] bytes, its time as 8 bytes of big-endian Unix
// nanoseconds, then the tag.
const AttachReportTag = "report-tag"

// ReportTagSize is the size in bytes of the [AttachReportTag] attachment.
const ReportTagSize = 8 + sha256.Size

// DefaultReportWindow is how many of its most recent received messages a
// device can report by default.
const DefaultReportWindow = 256

const (
	labelReportTag  = "scanlab-serverscan-v1 report tag"
	secretReportTag = "serverscan report tag"
	evidenceVersion = 1
)

// ErrNotReportable is returned by a device's Report for a message it did
// not receive through the provider, or received too long ago.
var ErrNotReportable = errors.New("serverscan: message cannot be reported")

// reportTag computes the [AttachReportTag] value for a message relayed at
// time at (Unix nanoseconds).
func reportTag(key []byte, id string, from, to scanlab.UserID, body []byte, at int64) []byte {
	out := binary.BigEndian.AppendUint64(make([]byte, 0, ReportTagSize), uint64(at))
	return append(out, tagMAC(key, id, from, to, body, at)...)
}

// tagMAC is HMAC-SHA-256(key, label ‖ len ‖ ID ‖ len ‖ from ‖ len ‖ to ‖
// SHA-256(body) ‖ at), lengths as 32-bit big-endian.
func tagMAC(key []byte, id string, from, to scanlab.UserID, body []byte, at int64) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(labelReportTag))
	for _, f := range []string{id, string(from), string(to)} {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(f))))
		h.Write([]byte(f))
	}
	d := sha256.Sum256(body)
	h.Write(d[:])
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(at)))
	return h.Sum(nil)
}

// evidence is a decoded report: the provider's tag and the reported body.
type evidence struct {
	at   int64
	mac  []byte
	body []byte
}

// encodeEvidence is version ‖ tag attachment ‖ body.
func encodeEvidence(tag, body []byte) []byte {
	b := make([]byte, 0, 1+len(tag)+len(body))
	return append(append(append(b, evidenceVersion), tag...), body...)
}

// decodeEvidence is the bounded decoder of report evidence.
func decodeEvidence(b []byte) (evidence, error) {
	if len(b) < 1+ReportTagSize+1 || len(b) > 1+ReportTagSize+MaxBody {
		return evidence{}, fmt.Errorf("%w: evidence of %d bytes", ErrReport, len(b))
	}
	if b[0] != evidenceVersion {
		return evidence{}, fmt.Errorf("%w: unknown evidence version %d", ErrReport, b[0])
	}
	return evidence{at: int64(binary.BigEndian.Uint64(b[1:])), mac: b[9 : 1+ReportTagSize], body: b[1+ReportTagSize:]}, nil
}

// verify recomputes the tag for the report's message ID, accused,
// reporter and content, in constant time.
func (ev evidence) verify(key []byte, r scanlab.Report) bool {
	return hmac.Equal(tagMAC(key, r.MessageID, r.Accused, r.Reporter, ev.body, ev.at), ev.mac)
}

func (ev evidence) replayItem() replay.Item {
	return replay.Item{Key: replay.Key(ev.mac), RelayedAt: time.Unix(0, ev.at)}
}

// device is a serverscan client. It keeps the provider's tags of the last
// window messages it received, to report them.
type device struct {
	user   scanlab.UserID
	window int

	mu    sync.Mutex
	tags  map[string][]byte // message ID → tag attachment
	order []string          // message IDs, oldest first
}

var _ scanlab.Device = (*device)(nil)

func newDevice(user scanlab.UserID, window int) *device {
	return &device{user: user, window: window, tags: make(map[string][]byte)}
}

func (d *device) User() scanlab.UserID { return d.user }

func (d *device) Seal(m scanlab.Message) (scanlab.Envelope, error) {
	body, err := EncodeContent(m.Content)
	if err != nil {
		return scanlab.Envelope{}, err
	}
	return scanlab.Envelope{ID: m.ID, From: m.From, To: m.To, Sent: m.Sent, Body: body}, nil
}

// Open decodes the content and keeps the provider's tag, if the envelope
// carries one, for a later report.
func (d *device) Open(e scanlab.Envelope) (scanlab.Message, error) {
	c, err := DecodeContent(e.Body)
	if err != nil {
		return scanlab.Message{}, err
	}
	if t := e.Attach[AttachReportTag]; len(t) == ReportTagSize {
		d.keep(e.ID, t)
	}
	return scanlab.Message{ID: e.ID, From: e.From, To: e.To, Sent: e.Sent, Content: c}, nil
}

func (d *device) keep(id string, tag []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.tags[id]; !ok {
		d.order = append(d.order, id)
	}
	d.tags[id] = slices.Clone(tag)
	for len(d.order) > d.window {
		delete(d.tags, d.order[0])
		d.order = d.order[1:]
	}
}

// Report sends the reported message's plaintext with the provider's tag;
// the provider checks the one against the other.
func (d *device) Report(m scanlab.Message) (scanlab.Report, error) {
	d.mu.Lock()
	tag, ok := d.tags[m.ID]
	d.mu.Unlock()
	if !ok {
		return scanlab.Report{}, fmt.Errorf("%w: %q", ErrNotReportable, m.ID)
	}
	body, err := EncodeContent(m.Content)
	if err != nil {
		return scanlab.Report{}, err
	}
	return scanlab.Report{MessageID: m.ID, Reporter: d.user, Accused: m.From, Evidence: encodeEvidence(tag, body)}, nil
}
