// Package serverscan is the server-side scanning mode: messages are
// encrypted in transit (TLS 1.3 to the relay) and at rest (the relay's
// envelope-encrypted store), but not end to end. The provider's server
// decrypts nothing because it never needed to: it receives each message's
// plaintext after TLS terminates, classifies every text, matches every
// image's perceptual hash against its list, and keeps the verdicts. This is
// the model of direct messages on most large platforms (TikTok DMs, Instagram
// DMs before end-to-end encryption).
//
// # Who sees what
//
// Sender and recipient see their messages. The provider sees every message's
// content and metadata, and so do its employees with database and key
// management access, law enforcement through a lawful-access export, and a
// thief who steals both the database and the key-management keys. A thief
// with the database file alone, and a network eavesdropper, see ciphertext
// (and, on the wire, TLS record sizes and timing).
//
// Nothing is protected end to end: integrity rests on TLS and on the
// provider. What a recipient reports is checked against a tag the provider
// attached when it relayed the message ([AttachReportTag]), so a report of
// altered content, or accusing someone else, is refused without the
// provider keeping anything per message; a bounded memory of reported
// messages refuses replays until the server restarts (package
// internal/replay).
package serverscan

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"scanlab"
	"scanlab/internal/replay"
	"scanlab/textscan"
)

// Name is the mode's name in results.
const Name = "serverscan"

// MaxBody bounds an encoded content body, in bytes.
const MaxBody = 32 << 20

// Options configure the mode.
type Options struct {
	// Text classifies every text message; nil means the default rules.
	Text textscan.Classifier
	// Image, if set, scans every image message (see [ImageScanner]).
	Image ImageScanner
	// ReportWindow is how many received messages a device can report, the
	// most recent ones (default [DefaultReportWindow]).
	ReportWindow int
}

// ImageScanner scans one encoded image on the server.
type ImageScanner interface {
	ScanImage(image []byte) (ImageVerdict, error)
}

// ImageVerdict is what an [ImageScanner] found.
type ImageVerdict struct {
	Hit      bool   // the image matched the list
	Rule     string // the list entry that matched
	Distance int    // Hamming distance of the match
	// Logged is what the provider keeps in its scan log about the image,
	// such as its perceptual hash (hex); it joins the provider's view.
	Logged []byte
}

// Mode is the serverscan architecture.
type Mode struct{ opts Options }

var _ scanlab.Mode = (*Mode)(nil)

// New returns the serverscan mode.
func New(o Options) *Mode {
	if o.Text == nil {
		o.Text = textscan.Rules()
	}
	if o.ReportWindow <= 0 {
		o.ReportWindow = DefaultReportWindow
	}
	return &Mode{opts: o}
}

// Name returns "serverscan".
func (m *Mode) Name() string { return Name }

// NewDevice returns a client that sends plaintext (inside TLS).
func (m *Mode) NewDevice(user scanlab.UserID, _ scanlab.Directory) (scanlab.Device, error) {
	return newDevice(user, m.opts.ReportWindow), nil
}

// NewServer returns the scanning server logic; its report-tag key comes
// from env.Secret("serverscan report tag").
// If the image scanner holds a hash list (a List() []byte method), the list
// is recorded into the provider's view: the provider holds it in the clear.
func (m *Mode) NewServer(env scanlab.ServerEnv) (scanlab.ServerLogic, error) {
	if env.Secret == nil || env.Now == nil {
		return nil, errors.New("serverscan: server environment needs a clock and a key manager")
	}
	key, err := env.Secret(secretReportTag)
	if err != nil {
		return nil, fmt.Errorf("serverscan: report tag key: %w", err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("serverscan: report tag key of %d bytes, want at least 32", len(key))
	}
	if l, ok := m.opts.Image.(interface{ List() []byte }); ok && env.Record != nil {
		env.Record("hash list loaded by the server's scanner", l.List(), nil)
	}
	return &server{opts: m.opts, env: env, key: key, reported: replay.New(replay.DefaultCapacity)}, nil
}

// EncodeContent is the body format of serverscan: kind (1 byte) ‖ bytes.
func EncodeContent(c scanlab.Content) ([]byte, error) {
	switch c.Kind {
	case scanlab.Text:
		return append([]byte{byte(scanlab.Text)}, c.Text...), nil
	case scanlab.Image:
		return append([]byte{byte(scanlab.Image)}, c.Image...), nil
	}
	return nil, fmt.Errorf("serverscan: unknown content kind %d", c.Kind)
}

// ErrBody means a body is not a valid serverscan content encoding.
var ErrBody = errors.New("serverscan: malformed message body")

// DecodeContent decodes a body made by [EncodeContent].
func DecodeContent(b []byte) (scanlab.Content, error) {
	if len(b) < 1 || len(b) > MaxBody {
		return scanlab.Content{}, fmt.Errorf("%w: %d bytes", ErrBody, len(b))
	}
	switch scanlab.Kind(b[0]) {
	case scanlab.Text:
		if !utf8.Valid(b[1:]) {
			return scanlab.Content{}, fmt.Errorf("%w: text is not UTF-8", ErrBody)
		}
		return scanlab.Content{Kind: scanlab.Text, Text: string(b[1:])}, nil
	case scanlab.Image:
		return scanlab.Content{Kind: scanlab.Image, Image: append([]byte(nil), b[1:]...)}, nil
	}
	return scanlab.Content{}, fmt.Errorf("%w: unknown kind %d", ErrBody, b[0])
}

type server struct {
	opts     Options
	env      scanlab.ServerEnv
	key      []byte // report-tag key
	reported *replay.Guard
}

// Accept tags the envelope for reports ([AttachReportTag]), then scans it:
// texts with the classifier, images with the image scanner.
func (s *server) Accept(e *scanlab.Envelope) ([]scanlab.Detection, error) {
	c, err := DecodeContent(e.Body)
	if err != nil {
		return nil, err
	}
	now := s.env.Now()
	if e.Attach == nil {
		e.Attach = make(map[string][]byte, 1)
	}
	e.Attach[AttachReportTag] = reportTag(s.key, e.ID, e.From, e.To, e.Body, now.UnixNano())
	det := scanlab.Detection{MessageID: e.ID, Account: e.From, At: now, Distance: -1}
	switch c.Kind {
	case scanlab.Text:
		v := s.opts.Text.Classify(c.Text)
		if v.Harmful {
			det.Pathway, det.Rule = scanlab.ServerText, v.Rule
			return []scanlab.Detection{det}, nil
		}
	case scanlab.Image:
		if s.opts.Image == nil {
			return nil, nil
		}
		v, err := s.opts.Image.ScanImage(c.Image)
		if v.Logged != nil && s.env.Record != nil {
			s.env.Record("server scan log", v.Logged, map[string]string{"message": e.ID})
		}
		if err != nil {
			// An image the scanner cannot read is still delivered: the
			// provider does not block on scanner errors, it logs them.
			return nil, nil
		}
		if v.Hit {
			det.Pathway, det.Rule, det.Distance = scanlab.ServerHash, v.Rule, v.Distance
			return []scanlab.Detection{det}, nil
		}
	}
	return nil, nil
}

// ErrReport means a report's evidence does not match what was relayed, or
// the message was already reported.
var ErrReport = errors.New("serverscan: reported content does not match the relayed message")

// Verify checks the report's tag against the message ID, accused sender,
// reporter and reported content, then that the message was not reported
// before.
func (s *server) Verify(r scanlab.Report) ([]scanlab.Detection, error) {
	ev, err := decodeEvidence(r.Evidence)
	if err != nil {
		return nil, err
	}
	if !ev.verify(s.key, r) {
		return nil, ErrReport
	}
	if _, err := s.reported.Admit([]replay.Item{ev.replayItem()}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReport, err)
	}
	return []scanlab.Detection{{MessageID: r.MessageID, Account: r.Accused, Pathway: scanlab.UserReport, At: s.env.Now(), Rule: "verified report", Distance: -1}}, nil
}
