// Package hybrid is opt-in end-to-end encryption as a mode: a share of
// conversations is end-to-end encrypted with the e2ee mode's devices and
// server logic, and the rest is sent in the clear to the serverscan mode's
// scanning server — the design of platforms whose "secret conversations",
// "encrypted chats" or "Chat" inbox sit beside ordinary direct messages
// (Messenger's Secret Conversations from 2016, Instagram's opt-in encrypted
// chats until May 2026, X's encrypted messages and Chat).
//
// Which conversations are encrypted is the workload's ground truth, handed
// to the mode as a per-conversation choice function ([Options.Encrypt]):
// both devices of a conversation apply the same choice, as both apps of a
// real secret conversation show it as one. [OptIn] builds the choice from a
// share and a knob for who opts in: uniformly, or offenders at a multiple
// of the benign rate (adverse selection).
//
// Nothing cryptographic is new here: an encrypted conversation is exactly
// an e2ee conversation (X3DH or PQXDH, Double Ratchet, franking, optional
// sealed sender), a clear one exactly a serverscan conversation (TLS to the
// provider, classifier and hash list on the server, report tags). The mode
// adds one attachment, [AttachMode], that tells the provider which of the
// two an envelope belongs to, and one byte in front of report evidence that
// tells it which verifier to use.
//
// # Who sees what
//
// The provider learns which conversations are encrypted: every envelope
// carries [AttachMode] in the clear, as a real platform's server must know
// whether to scan and store a message or only relay ciphertext (and as its
// apps show secret conversations apart). For a clear conversation it sees
// and scans everything serverscan's provider sees; for an encrypted one,
// everything and only what e2ee's provider sees (routing metadata, sizes in
// padding buckets, the franking commitment; not the sender under sealed
// sender). So its view of the encrypted share is the e2ee view, and the
// choice itself — who opted in, how often, with whom — is metadata it keeps.
//
// A recipient's device refuses an envelope whose [AttachMode] contradicts
// the conversation's choice, so a provider cannot silently downgrade an
// encrypted conversation by relabelling it or by inventing clear messages
// in it; it can still read, alter and forge clear conversations, as in
// serverscan. Reports verify as in the mode of their conversation: against
// the provider's tag in a clear one, by franking in an encrypted one.
package hybrid

import (
	"errors"
	"fmt"

	"scanlab"
	"scanlab/e2ee"
	"scanlab/serverscan"
)

// Name is the mode's name in results.
const Name = "hybrid"

// AttachMode is the attachment that says which mode an envelope belongs
// to: [ModeE2EE] or [ModeClear]. The sender's device adds it; the provider
// reads it to pick its server logic; the recipient's device checks it
// against the conversation's choice.
const AttachMode = "hybrid-mode"

// The values of [AttachMode]. They differ in many bits, so no single
// flipped bit turns one into the other.
const (
	ModeE2EE  = "e2ee"
	ModeClear = "serverscan"
)

// Report evidence starts with one of these bytes, then the evidence of the
// conversation's mode.
const (
	evidenceE2EE  byte = 'E'
	evidenceClear byte = 'S'
)

// Choose reports whether the conversation between a and b is end-to-end
// encrypted. The mode calls it with a ≤ b (byte order), so a choice is one
// per conversation whichever way a message goes.
type Choose func(a, b scanlab.UserID) bool

// Options configures the mode.
type Options struct {
	// Encrypt chooses the encrypted conversations; nil encrypts none.
	Encrypt Choose
	// E2EE configures the encrypted conversations.
	E2EE e2ee.Options
	// Serverscan configures the clear conversations and their scanning.
	Serverscan serverscan.Options
}

// Mode is the "hybrid" [scanlab.Mode].
type Mode struct {
	encrypt Choose
	e2ee    *e2ee.Mode
	clear   *serverscan.Mode
}

var _ scanlab.Mode = (*Mode)(nil)

// New returns the hybrid mode.
func New(o Options) *Mode {
	enc := o.Encrypt
	if enc == nil {
		enc = func(scanlab.UserID, scanlab.UserID) bool { return false }
	}
	return &Mode{encrypt: enc, e2ee: e2ee.New(o.E2EE), clear: serverscan.New(o.Serverscan)}
}

// Name returns "hybrid".
func (m *Mode) Name() string { return Name }

// Encrypted reports whether the conversation between a and b is end-to-end
// encrypted, in either order.
func (m *Mode) Encrypted(a, b scanlab.UserID) bool {
	if b < a {
		a, b = b, a
	}
	return m.encrypt(a, b)
}

// Clear returns the serverscan mode of the clear conversations. The
// provider's server logic for a clear envelope is this mode's, so its
// verdict on a message is a function of the message's content alone.
func (m *Mode) Clear() *serverscan.Mode { return m.clear }

// NewDevice makes a client holding an e2ee device (which publishes its keys
// through dir) and a serverscan device.
func (m *Mode) NewDevice(user scanlab.UserID, dir scanlab.Directory) (scanlab.Device, error) {
	e, err := m.e2ee.NewDevice(user, dir)
	if err != nil {
		return nil, fmt.Errorf("hybrid: %w", err)
	}
	c, err := m.clear.NewDevice(user, dir)
	if err != nil {
		return nil, fmt.Errorf("hybrid: %w", err)
	}
	return &device{user: user, mode: m, e2ee: e, clear: c}, nil
}

// NewServer makes the provider's logic: e2ee's and serverscan's, each with
// its own secrets from env, picked per envelope by [AttachMode]. It issues
// sender certificates through e2ee's server logic.
func (m *Mode) NewServer(env scanlab.ServerEnv) (scanlab.ServerLogic, error) {
	e, err := m.e2ee.NewServer(env)
	if err != nil {
		return nil, fmt.Errorf("hybrid: %w", err)
	}
	c, err := m.clear.NewServer(env)
	if err != nil {
		return nil, fmt.Errorf("hybrid: %w", err)
	}
	return &server{e2ee: e, clear: c}, nil
}

// ErrMode means an envelope's [AttachMode] is missing, unknown, or
// contradicts the conversation's choice, or a report's evidence names no
// mode.
var ErrMode = errors.New("hybrid: envelope mode does not match the conversation")

// device routes each message to the device of its conversation's mode.
type device struct {
	user        scanlab.UserID
	mode        *Mode
	e2ee, clear scanlab.Device
}

func (d *device) User() scanlab.UserID { return d.user }

// Seal seals m with the device of its conversation's mode and labels the
// envelope with [AttachMode].
func (d *device) Seal(m scanlab.Message) (scanlab.Envelope, error) {
	sub, label := d.clear, ModeClear
	if d.mode.Encrypted(m.From, m.To) {
		sub, label = d.e2ee, ModeE2EE
	}
	e, err := sub.Seal(m)
	if err != nil {
		return scanlab.Envelope{}, err
	}
	if e.Attach == nil {
		e.Attach = make(map[string][]byte, 1)
	}
	e.Attach[AttachMode] = []byte(label)
	return e, nil
}

// Open opens e with the device its [AttachMode] names, then refuses it if
// the conversation it came from was chosen the other way.
func (d *device) Open(e scanlab.Envelope) (scanlab.Message, error) {
	if e.To != d.user {
		return scanlab.Message{}, fmt.Errorf("hybrid: envelope for %q opened by %q", e.To, d.user)
	}
	encrypted, err := envelopeMode(e)
	if err != nil {
		return scanlab.Message{}, err
	}
	sub := d.clear
	if encrypted {
		sub = d.e2ee
	}
	m, err := sub.Open(e)
	if err != nil {
		return scanlab.Message{}, err
	}
	if d.mode.Encrypted(m.From, m.To) != encrypted {
		return scanlab.Message{}, fmt.Errorf("%w: %q arrived as %s from %q", ErrMode, e.ID, e.Attach[AttachMode], m.From)
	}
	return m, nil
}

// Report builds the report with the device of m's conversation and marks
// its evidence with that mode.
func (d *device) Report(m scanlab.Message) (scanlab.Report, error) {
	sub, mark := d.clear, evidenceClear
	if d.mode.Encrypted(m.From, m.To) {
		sub, mark = d.e2ee, evidenceE2EE
	}
	r, err := sub.Report(m)
	if err != nil {
		return scanlab.Report{}, err
	}
	r.Evidence = append([]byte{mark}, r.Evidence...)
	return r, nil
}

// envelopeMode reads [AttachMode]: true for an encrypted conversation.
func envelopeMode(e scanlab.Envelope) (bool, error) {
	switch string(e.Attach[AttachMode]) {
	case ModeE2EE:
		return true, nil
	case ModeClear:
		return false, nil
	}
	return false, fmt.Errorf("%w: %q has no valid %s attachment", ErrMode, e.ID, AttachMode)
}

// server routes envelopes and reports to e2ee's or serverscan's logic.
type server struct {
	e2ee, clear scanlab.ServerLogic
}

// Accept runs the server logic of the envelope's [AttachMode]: scanning for
// a clear conversation, franking tags for an encrypted one. An envelope
// without a valid label is refused.
func (s *server) Accept(e *scanlab.Envelope) ([]scanlab.Detection, error) {
	encrypted, err := envelopeMode(*e)
	if err != nil {
		return nil, err
	}
	if encrypted {
		return s.e2ee.Accept(e)
	}
	return s.clear.Accept(e)
}

// Verify strips the mode byte from the evidence and verifies the rest with
// that mode's logic.
func (s *server) Verify(r scanlab.Report) ([]scanlab.Detection, error) {
	if len(r.Evidence) == 0 {
		return nil, fmt.Errorf("%w: empty report evidence", ErrMode)
	}
	mark := r.Evidence[0]
	r.Evidence = r.Evidence[1:]
	switch mark {
	case evidenceE2EE:
		return s.e2ee.Verify(r)
	case evidenceClear:
		return s.clear.Verify(r)
	}
	return nil, fmt.Errorf("%w: report evidence names mode %#x", ErrMode, mark)
}

// IssueCertificate implements [scanlab.CertificateIssuer] with e2ee's
// server logic, so that sealed sender works in encrypted conversations.
func (s *server) IssueCertificate(user scanlab.UserID, identity []byte) ([]byte, error) {
	ci, ok := s.e2ee.(scanlab.CertificateIssuer)
	if !ok {
		return nil, scanlab.ErrNoCertificate
	}
	return ci.IssueCertificate(user, identity)
}
