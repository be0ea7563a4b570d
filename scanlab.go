// Package scanlab is the shared vocabulary of a research harness that runs three
// architectures for private messaging side by side and measures what each
// catches, what it costs and who can read what:
//
//   - serverscan: TLS 1.3 in transit, envelope encryption at rest, and a server
//     that decrypts and scans every message;
//   - e2ee: end-to-end encryption (X3DH + Double Ratchet); the server relays
//     ciphertext and learns of abuse only through verifiable user reports;
//   - clientscan: end-to-end encryption with an on-device scanner that attaches
//     threshold private-set-intersection safety vouchers.
//
// This package holds only the types every part agrees on: [Message], [Content],
// [Envelope], [Report], [Detection] and the [Mode], [Device] and [ServerLogic]
// interfaces that each architecture implements. The relay (package relay)
// knows envelopes and server logic but never imports a mode; the experiments
// wire modes, workloads and the relay together.
//
// # Who sees what
//
// Nothing in this package encrypts anything. An [Envelope] is what crosses the
// wire and is stored by the provider: its routing fields (ID, From, To, Sent)
// are visible to the provider in every mode, its Body is plaintext in
// serverscan and ciphertext otherwise. Ground-truth labels never enter a
// Message or an Envelope; they live beside them in the workload.
package scanlab

import (
	"errors"
	"time"
)

// UserID names one account. It is also the device name: the harness models one
// device per account.
type UserID string

// Kind says what a [Content] holds.
type Kind uint8

// The kinds of content.
const (
	Text  Kind = 1
	Image Kind = 2
)

// String returns "text" or "image".
func (k Kind) String() string {
	switch k {
	case Text:
		return "text"
	case Image:
		return "image"
	}
	return "unknown"
}

// Content is what a person sends: a text, or an encoded image (JPEG, PNG, GIF
// or WebP bytes) exactly as the app would upload it.
type Content struct {
	Kind  Kind
	Text  string
	Image []byte
}

// Size returns the length of the content in bytes: the UTF-8 length of a
// text, the encoded length of an image.
func (c Content) Size() int {
	if c.Kind == Image {
		return len(c.Image)
	}
	return len(c.Text)
}

// Message is a message as the sender's and recipient's apps see it. ID is
// unique and doubles as the idempotency key for retries.
type Message struct {
	ID      string
	From    UserID
	To      UserID
	Sent    time.Time
	Content Content
}

// Envelope is what crosses the wire and what the relay stores: the routing
// metadata the relay must see, an opaque Body (an encoding of the plaintext in
// serverscan, ciphertext otherwise) and mode-specific attachments such as a
// franking commitment or a safety voucher, keyed by name.
//
// From is empty when the mode hides the sender from the provider (sealed
// sender); the relay then routes on To alone.
type Envelope struct {
	ID     string
	From   UserID
	To     UserID
	Sent   time.Time
	Body   []byte
	Attach map[string][]byte
}

// Report is a recipient's abuse report about one message it received. Evidence
// is mode-specific: the plaintext in serverscan, the franking opening and the
// relay's tag in e2ee and clientscan, so the provider can check that the
// accused really sent what is reported.
type Report struct {
	MessageID string
	Reporter  UserID
	Accused   UserID
	Evidence  []byte
}

// Pathway names how a detection reached the provider.
type Pathway string

// The detection pathways of docs/DESIGN.md §3.
const (
	ServerHash     Pathway = "server-hash"     // server matched an image hash against its list
	ServerText     Pathway = "server-text"     // server classified a plaintext text as harmful
	ServerMetadata Pathway = "server-metadata" // behavioural signals the server sees in every mode
	DeviceHash     Pathway = "device-hash"     // safety vouchers past the threshold
	DeviceText     Pathway = "device-text"     // on-device text classifier verdict
	UserReport     Pathway = "user-report"     // a verified report from a recipient
)

// Pathways lists every pathway in a stable order.
var Pathways = []Pathway{ServerHash, ServerText, ServerMetadata, DeviceHash, DeviceText, UserReport}

// Detection is one flag raised by one pathway about one message or account.
// MessageID is empty for an account-level flag. Rule names the rule, list
// entry or classifier that fired; Distance is the Hamming distance of a hash
// match (-1 when not a hash match).
type Detection struct {
	MessageID string
	Account   UserID
	Pathway   Pathway
	At        time.Time
	Rule      string
	Distance  int
}

// KeyBundle is the public key material one device publishes to the provider's
// directory so others can start sessions with it. Identity holds the
// long-term public keys and signed prekeys in the mode's own encoding;
// OneTime holds one-time prekeys, each handed out at most once.
type KeyBundle struct {
	Identity []byte
	OneTime  [][]byte
}

// Directory is the provider's public-key directory as a device reaches it.
// Publish replaces the user's Identity part and, if b carries one-time keys,
// the user's one-time keys not yet handed out (as Signal's server does on a
// key upload; a reinstalled device must not inherit stale ones). Fetch
// returns the user's bundle with at most one
// one-time key, which the directory then forgets (so it is never handed out
// twice).
//
// Certificate returns a sender certificate for the user's own device: the
// provider's signed, short-lived statement that the account holds the
// identity in its published bundle, in the mode's own encoding (Signal's
// sealed sender carries one inside every sealed envelope). A directory asks
// the provider's server logic for it through [CertificateIssuer]; one whose
// provider issues none returns [ErrNoCertificate].
type Directory interface {
	Publish(user UserID, b KeyBundle) error
	Fetch(user UserID) (KeyBundle, error)
	Certificate(user UserID) ([]byte, error)
}

// ErrNoKeys is returned by a [Directory] that holds no bundle for a user.
var ErrNoKeys = errors.New("scanlab: no key bundle published for user")

// ErrNoCertificate is returned by [Directory.Certificate] when the provider
// issues no sender certificates (its server logic is no [CertificateIssuer]).
var ErrNoCertificate = errors.New("scanlab: provider issues no sender certificates")

// CertificateIssuer is implemented by server logic that issues sender
// certificates. identity is the Identity part of the bundle the account
// published, in the mode's encoding; the logic checks it, binds it to user
// and signs. Callers must pass only the authenticated account's own user
// and bundle: a certificate is the provider vouching for that binding.
type CertificateIssuer interface {
	IssueCertificate(user UserID, identity []byte) ([]byte, error)
}

// Mode is one architecture under test: it makes the device side and the
// provider side.
type Mode interface {
	// Name is the mode's name as it appears in results: "serverscan", "e2ee"
	// or "clientscan".
	Name() string
	// NewDevice makes the client of one user. The device publishes its keys
	// through dir if the mode has any.
	NewDevice(user UserID, dir Directory) (Device, error)
	// NewServer makes the provider's logic, run by the relay on every
	// envelope and report.
	NewServer(env ServerEnv) (ServerLogic, error)
}

// Device is one user's client: it seals outgoing messages (scan, encrypt),
// opens incoming ones (decrypt, verify) and builds reports.
type Device interface {
	User() UserID
	Seal(m Message) (Envelope, error)
	Open(e Envelope) (Message, error)
	Report(m Message) (Report, error)
}

// ServerLogic runs inside the relay on every envelope before it is stored,
// and on every report. Accept may add attachments to the envelope (for
// example the relay's franking tag) before it is stored and delivered; an
// error from Accept makes the relay refuse the envelope, and the detections
// it returned are recorded either way.
type ServerLogic interface {
	Accept(e *Envelope) ([]Detection, error)
	Verify(r Report) ([]Detection, error)
}

// ServerEnv is what the relay hands a mode's server logic.
type ServerEnv struct {
	// Now is the relay's clock.
	Now func() time.Time
	// Secret returns a provider-held key for the named purpose (for example
	// the franking key), created on first use by the provider's key manager.
	Secret func(purpose string) ([]byte, error)
	// Record adds data the server logic handled (a scan log line, an opened
	// voucher) to the provider's view for the visibility audit. Fields
	// describe it ("message" → envelope ID, ...). Record may be nil.
	Record func(route string, data []byte, fields map[string]string)
}
