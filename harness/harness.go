// Package harness delivers messages through one mode the way a deployment
// would: the sender's device seals, a transport carries the envelope to the
// provider's server logic and the recipient's mailbox, the recipient's device
// fetches and opens it, and a report travels back to the provider. Every
// experiment, the demo and the tests drive the modes through a [World]; no
// other code calls Seal, Accept and Open in a loop.
//
// A World has one of two transports, chosen in [Options]:
//
//   - [InProcess]: the server logic is called directly and mailboxes live in
//     memory. It is for sweeps over large populations, where a TLS handshake
//     per device would dominate.
//   - [Relay]: the real TLS 1.3 relay (package relay) on loopback, with its
//     encrypted-at-rest bbolt database, or a relay running elsewhere.
//
// Both apply the same provider rules (the contact gate of [Options.Admit], a
// device may send only as itself, envelopes are copied through the wire
// encoding) so that one workload gives the same detections and deliveries
// over either; TestTransportsAgree checks it.
//
// # Who sees what
//
// The harness holds every device and so every party's keys; it hands each
// piece to whoever asks. What a party really holds is decided by the caller
// that builds views from it (package observe): the relay transport exposes
// the relay, its database and key manager, the in-process transport has no
// database and no wire. The provider's view flows through [Options.Observe].
package harness

import (
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"scanlab"
	"scanlab/kms"
	"scanlab/relay"
	"scanlab/relay/tap"
	"scanlab/relay/wire"
)

// Transport names how envelopes travel between devices and the provider.
type Transport int

// The transports.
const (
	// InProcess calls the server logic directly; mailboxes live in memory.
	InProcess Transport = iota
	// Relay runs the real TLS relay on loopback (or dials [Options.External]).
	Relay
)

// String returns "in-process" or "relay".
func (t Transport) String() string {
	if t == Relay {
		return "relay"
	}
	return "in-process"
}

// Options configure a [World].
type Options struct {
	// Mode is the architecture under test.
	Mode scanlab.Mode
	// Transport is how envelopes travel.
	Transport Transport
	// Now is the provider's clock, handed to the server logic; nil means
	// time.Now. Sweeps over simulated days set it to the workload's time.
	Now func() time.Time
	// Admit is the provider's contact gate, a recipient's direct-message
	// setting: a message it refuses is neither sealed nor delivered, in
	// every mode, before any scanner runs. Nil admits every message.
	Admit func(from, to scanlab.UserID) bool
	// Observe receives the provider's view: what the server logic records,
	// and with the relay transport everything the relay handles after TLS
	// terminates. Nil discards it.
	Observe func(route string, data []byte, fields map[string]string)
	// Keys is the provider's key manager; a fresh one when nil.
	Keys *kms.Manager
	// Directory, if set, is the provider's directory service around its
	// stored keys, over either transport (see relay.KeyService): key
	// transparency, or a provider acting in bad faith (package active).
	Directory relay.KeyService

	// The relay transport only:

	// StateDir holds the relay's database (relay.db). Required unless
	// External is set.
	StateDir string
	// Tap, if set, records the raw bytes of every connection.
	Tap *tap.Recorder
	// NoSync skips fsync on database commits (faster, not crash-safe).
	NoSync bool
	// AllowSealedSender makes the provider accept envelopes without a
	// sender (e2ee's sealed sender).
	AllowSealedSender bool
	// External, if set, is a relay started elsewhere ("scanlab relay"):
	// devices dial it and its own server logic runs; detections made there
	// are not visible to the World.
	External *External
}

// External names a relay running in another process.
type External struct {
	Addr  string
	Roots *x509.CertPool
}

// World is one mode's deployment: its provider behind a transport, the
// devices of the users who have sent or received, and their connections. Its
// methods are safe for concurrent use but the harness measures per-call
// detections and timings only when calls do not overlap.
type World struct {
	opts Options
	prov provider

	mu      sync.Mutex
	devices map[scanlab.UserID]*endpoint
}

// endpoint is one user's device and its link to the provider.
type endpoint struct {
	device scanlab.Device
	link   link
}

// provider is a transport's provider side.
type provider interface {
	connect(user scanlab.UserID) (link, error)
	// detections returns every detection the provider raised so far, in
	// the order it raised them.
	detections() []scanlab.Detection
	close() error
}

// link is one device's connection to the provider.
type link interface {
	directory() scanlab.Directory
	send(e scanlab.Envelope) (wire.Receipt, error)
	fetch(max int) ([]wire.Delivery, error)
	ack(seqs ...uint64) error
	report(r scanlab.Report) error
	// bytes returns the bytes sent and received on the connection so far
	// (TLS records included); the in-process link counts frame bytes.
	bytes() (sent, received int64)
	close() error
}

// New starts a world: for the relay transport, a relay listening on
// loopback (or a link to the external one).
func New(o Options) (*World, error) {
	if o.Mode == nil {
		return nil, errors.New("harness: no mode")
	}
	if o.Keys == nil && o.External == nil {
		k, err := kms.New()
		if err != nil {
			return nil, err
		}
		o.Keys = k
	}
	w := &World{opts: o, devices: map[scanlab.UserID]*endpoint{}}
	var err error
	switch {
	case o.Transport == InProcess:
		w.prov, err = newMemProvider(o)
	case o.External != nil:
		w.prov = &relayProvider{addr: o.External.Addr, roots: o.External.Roots}
	default:
		w.prov, err = startRelay(o)
	}
	if err != nil {
		return nil, fmt.Errorf("harness: %s: %w", o.Mode.Name(), err)
	}
	return w, nil
}

// Mode returns the mode under test.
func (w *World) Mode() scanlab.Mode { return w.opts.Mode }

// Keys returns the provider's key manager (nil with an external relay).
func (w *World) Keys() *kms.Manager { return w.opts.Keys }

// Relay returns the running relay, or nil for the in-process transport and
// an external relay.
func (w *World) Relay() *relay.Relay {
	if p, ok := w.prov.(*relayProvider); ok {
		return p.relay
	}
	return nil
}

// DBPath returns the relay database's file, or "" when there is none.
func (w *World) DBPath() string {
	if r := w.Relay(); r != nil {
		return r.Store().Path()
	}
	return ""
}

// Close closes every connection and stops the provider.
func (w *World) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for _, ep := range w.devices {
		errs = append(errs, ep.link.close())
	}
	w.devices = map[scanlab.UserID]*endpoint{}
	errs = append(errs, w.prov.close())
	return errors.Join(errs...)
}

// Device returns user's device, making it (and connecting it, which
// publishes its keys) on first use.
func (w *World) Device(user scanlab.UserID) (scanlab.Device, error) {
	ep, err := w.endpoint(user)
	if err != nil {
		return nil, err
	}
	return ep.device, nil
}

func (w *World) endpoint(user scanlab.UserID) (*endpoint, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ep, ok := w.devices[user]; ok {
		return ep, nil
	}
	l, err := w.prov.connect(user)
	if err != nil {
		return nil, fmt.Errorf("harness: connect %s: %w", user, err)
	}
	d, err := w.opts.Mode.NewDevice(user, l.directory())
	if err != nil {
		l.close()
		return nil, fmt.Errorf("harness: device of %s: %w", user, err)
	}
	ep := &endpoint{device: d, link: l}
	w.devices[user] = ep
	return ep, nil
}

// Detections returns every detection the provider raised so far (none with
// an external relay).
func (w *World) Detections() []scanlab.Detection { return w.prov.detections() }

// Sent is what sending one message did.
type Sent struct {
	// Prevented is true when the contact gate refused the message: nothing
	// was sealed or sent.
	Prevented bool
	// Envelope is the envelope as the sender's device sealed it.
	Envelope scanlab.Envelope
	// Detections are those the provider raised while accepting it.
	Detections []scanlab.Detection
	// Seal is the time the device took to scan and encrypt; RoundTrip the
	// time from handing the envelope to the transport to the provider's
	// receipt, of which Logic was the server logic and Store the database
	// write (both as the provider reports them).
	Seal, RoundTrip, Logic, Store time.Duration
	// WireBytes is what the send moved on the sender's connection, both
	// directions (with the relay: TLS records included).
	WireBytes int64
	// EnvelopeBytes is the wire encoding of the envelope.
	EnvelopeBytes int
}

// ErrSpoofed is returned by [World.Send] for a message whose sender is not
// the device that sends it: the provider authenticates devices.
var ErrSpoofed = errors.New("harness: a device can send only as its own user")

// Admits reports whether the provider's contact gate lets from start a
// message to to.
func (w *World) Admits(from, to scanlab.UserID) bool {
	return w.opts.Admit == nil || w.opts.Admit(from, to)
}

// Send seals m on its sender's device and hands the envelope to the
// provider, unless the contact gate refuses it. The recipient's device is
// made first if needed, so that its keys are published. An error from the
// provider (the server logic refused the envelope) comes back with the
// detections it raised.
func (w *World) Send(m scanlab.Message) (Sent, error) {
	if !w.Admits(m.From, m.To) {
		return Sent{Prevented: true}, nil
	}
	from, err := w.endpoint(m.From)
	if err != nil {
		return Sent{}, err
	}
	if _, err := w.endpoint(m.To); err != nil {
		return Sent{}, err
	}
	t0 := time.Now()
	env, err := from.device.Seal(m)
	s := Sent{Seal: time.Since(t0), Envelope: env}
	if err != nil {
		return s, fmt.Errorf("harness: seal %s: %w", m.ID, err)
	}
	s.EnvelopeBytes = len(wire.EncodeEnvelope(env))
	before := len(w.prov.detections())
	up0, down0 := from.link.bytes()
	t1 := time.Now()
	rc, err := from.link.send(env)
	s.RoundTrip, s.Logic, s.Store = time.Since(t1), rc.Logic, rc.Store
	up1, down1 := from.link.bytes()
	s.WireBytes = (up1 - up0) + (down1 - down0)
	s.Detections = since(w.prov.detections(), before)
	if err != nil {
		return s, fmt.Errorf("harness: send %s: %w", m.ID, err)
	}
	return s, nil
}

func since(ds []scanlab.Detection, n int) []scanlab.Detection {
	if n >= len(ds) {
		return nil
	}
	return ds[n:]
}

// Delivered is one message a recipient fetched and opened.
type Delivered struct {
	Message  scanlab.Message
	Envelope scanlab.Envelope // as the provider delivered it
	// Open is the time the device took to decrypt and verify.
	Open time.Duration
}

// Batch is what one [World.Deliver] call fetched.
type Batch struct {
	Messages []Delivered
	// Fetch is the time the fetch took, WireBytes what it and the
	// acknowledgement moved on the recipient's connection.
	Fetch     time.Duration
	WireBytes int64
}

// Deliver fetches up to max envelopes waiting for user, opens each on the
// user's device and acknowledges them. An envelope the device refuses is an
// error (and stays in the mailbox, unacknowledged).
func (w *World) Deliver(user scanlab.UserID, max int) (Batch, error) {
	ep, err := w.endpoint(user)
	if err != nil {
		return Batch{}, err
	}
	up0, down0 := ep.link.bytes()
	t0 := time.Now()
	ds, err := ep.link.fetch(max)
	b := Batch{Fetch: time.Since(t0)}
	if err != nil {
		return b, fmt.Errorf("harness: fetch for %s: %w", user, err)
	}
	seqs := make([]uint64, 0, len(ds))
	for _, d := range ds {
		t := time.Now()
		m, err := ep.device.Open(d.Envelope)
		if err != nil {
			return b, fmt.Errorf("harness: %s opening %s: %w", user, d.Envelope.ID, err)
		}
		b.Messages = append(b.Messages, Delivered{Message: m, Envelope: d.Envelope, Open: time.Since(t)})
		seqs = append(seqs, d.Seq)
	}
	if len(seqs) > 0 {
		if err := ep.link.ack(seqs...); err != nil {
			return b, fmt.Errorf("harness: ack for %s: %w", user, err)
		}
	}
	up1, down1 := ep.link.bytes()
	b.WireBytes = (up1 - up0) + (down1 - down0)
	return b, nil
}

// Report has user's device report m, a message it received, and returns
// the detections the provider raised on verifying it. A report the provider
// does not verify is an error.
func (w *World) Report(user scanlab.UserID, m scanlab.Message) ([]scanlab.Detection, error) {
	ep, err := w.endpoint(user)
	if err != nil {
		return nil, err
	}
	r, err := ep.device.Report(m)
	if err != nil {
		return nil, fmt.Errorf("harness: %s reporting %s: %w", user, m.ID, err)
	}
	before := len(w.prov.detections())
	err = ep.link.report(r)
	dets := since(w.prov.detections(), before)
	if err != nil {
		return dets, fmt.Errorf("harness: report of %s: %w", m.ID, err)
	}
	return dets, nil
}

// startRelay starts the relay transport's relay in StateDir.
func startRelay(o Options) (*relayProvider, error) {
	if o.StateDir == "" {
		return nil, errors.New("the relay transport needs a state directory")
	}
	rl, err := relay.Start(relay.Config{
		DBPath: filepath.Join(o.StateDir, "relay.db"), KMS: o.Keys, Logic: o.Mode.NewServer,
		Tap: o.Tap, Observe: o.Observe, NoSync: o.NoSync, Now: o.Now, AllowSealedSender: o.AllowSealedSender,
		Keys: o.Directory,
	})
	if err != nil {
		return nil, err
	}
	return &relayProvider{relay: rl, addr: rl.Addr(), roots: rl.CA().Pool()}, nil
}
