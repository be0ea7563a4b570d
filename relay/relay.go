// Package relay is the provider's server: a TLS 1.3 listener that
// authenticates devices, runs the mode's server logic on every envelope,
// stores envelopes encrypted at rest until their recipient acknowledges them,
// serves the public-key directory, and takes abuse reports.
//
// The relay never imports a mode. It knows envelopes, the
// [scanlab.ServerLogic] a mode gives it, and opaque key bundles.
//
// Devices authenticate with mutual TLS: each presents its own self-signed
// Ed25519 certificate, and the relay binds that key to the device's user the
// first time the user registers (trust on first use, stored encrypted in the
// database). From then on the connection's key decides who it is: a device
// can send only as itself and fetch only its own mailbox.
//
// # Who sees what
//
// The provider sees every frame after TLS terminates: routing metadata
// (sender, recipient, time, size) always, and the body's plaintext only when
// the mode sends plaintext (serverscan). Whatever it handles is passed to
// [Config.Observe], which is how the visibility audit learns the provider's
// real view. At rest, records are sealed (package store); a network
// eavesdropper sees only TLS records (package tap).
package relay

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/kms"
	"scanlab/relay/store"
	"scanlab/relay/tap"
	"scanlab/relay/wire"
)

// Config configures a relay.
type Config struct {
	// Addr is the TCP address to listen on; default "127.0.0.1:0".
	Addr string
	// DBPath is the database file; it is created if missing.
	DBPath string
	// KMS holds the key-encryption keys; a fresh manager if nil.
	KMS *kms.Manager
	// Logic makes the mode's server logic; nil relays without any.
	Logic func(scanlab.ServerEnv) (scanlab.ServerLogic, error)
	// Tap, if set, records the raw bytes of every connection.
	Tap *tap.Recorder
	// Observe, if set, receives everything the relay handles after TLS
	// terminates: the provider's view.
	Observe func(route string, data []byte, fields map[string]string)
	// Log receives operational events (never key material); default discards.
	Log *slog.Logger
	// MaxFrame bounds a frame's payload in bytes; default wire.DefaultMaxFrame.
	MaxFrame int
	// NoSync skips fsync on database commits (see store.Options).
	NoSync bool
	// Hosts are the names in the server certificate; default the
	// listener's IP and "localhost".
	Hosts []string
	// AllowSealedSender accepts envelopes with an empty From.
	AllowSealedSender bool
	// Now is the relay's clock; default time.Now.
	Now func() time.Time
	// Keys, if set, is the provider's directory service around the store
	// (see [KeyService]); nil serves what the store holds.
	Keys KeyService
}

// KeyService is the provider's hand in its key directory. Published is
// told of every bundle a device publishes, once the store holds it. Serve
// decides what a key fetch returns: requester asked for user's keys, and
// stored is what the store handed out (found false if it holds none; its
// one-time key, if any, is already spent). A key-transparency directory
// attaches proofs here; a provider acting in bad faith substitutes keys or
// lists a device of its own here (package active). An error wrapping
// [scanlab.ErrNoKeys] reads as "no keys" on the device.
type KeyService interface {
	Published(user scanlab.UserID, b scanlab.KeyBundle)
	Serve(requester, user scanlab.UserID, stored scanlab.KeyBundle, found bool) (scanlab.KeyBundle, error)
}

// Relay is a running relay.
type Relay struct {
	cfg    Config
	ln     net.Listener
	ca     *pki.CA
	kms    *kms.Manager
	store  *store.Store
	logic  scanlab.ServerLogic
	log    *slog.Logger
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool

	detMu      sync.Mutex
	detections []scanlab.Detection
}

// Start opens the database, makes the certificates and starts serving.
func Start(cfg Config) (*Relay, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = wire.DefaultMaxFrame
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Relay{cfg: cfg, conns: map[net.Conn]bool{}, log: cfg.Log, kms: cfg.KMS}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if r.kms == nil {
		k, err := kms.New()
		if err != nil {
			return nil, err
		}
		r.kms = k
	}
	st, err := store.Open(cfg.DBPath, r.kms, store.Options{NoSync: cfg.NoSync})
	if err != nil {
		return nil, err
	}
	r.store = st
	if cfg.Logic != nil {
		env := scanlab.ServerEnv{Now: cfg.Now, Secret: r.kms.Secret, Record: cfg.Observe}
		if r.logic, err = cfg.Logic(env); err != nil {
			st.Close()
			return nil, fmt.Errorf("relay: server logic: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("relay: %w", err)
	}
	hosts := cfg.Hosts
	if len(hosts) == 0 {
		host, _, _ := net.SplitHostPort(ln.Addr().String())
		hosts = []string{host, "localhost"}
	}
	if r.ca, err = pki.NewCA("scanlab relay CA", 7*24*time.Hour); err != nil {
		ln.Close()
		st.Close()
		return nil, err
	}
	cert, err := r.ca.ServerCert(hosts, 7*24*time.Hour)
	if err != nil {
		ln.Close()
		st.Close()
		return nil, err
	}
	tcfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAnyClientCert,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) != 1 {
				return errors.New("relay: want exactly one device certificate")
			}
			_, err := pki.Fingerprint(raw[0])
			return err
		},
	}
	var inner net.Listener = ln
	if cfg.Tap != nil {
		inner = cfg.Tap.Listener(ln)
	}
	r.ln = tls.NewListener(inner, tcfg)
	r.wg.Add(1)
	go r.serve()
	r.log.Info("relay listening", "addr", ln.Addr().String(), "db", cfg.DBPath)
	return r, nil
}

// Addr returns the address the relay listens on.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// CA returns the certificate authority devices must trust.
func (r *Relay) CA() *pki.CA { return r.ca }

// Store returns the relay's at-rest store.
func (r *Relay) Store() *store.Store { return r.store }

// KMS returns the relay's key manager.
func (r *Relay) KMS() *kms.Manager { return r.kms }

// Detections returns a copy of every detection raised so far.
func (r *Relay) Detections() []scanlab.Detection {
	r.detMu.Lock()
	defer r.detMu.Unlock()
	return append([]scanlab.Detection(nil), r.detections...)
}

// Close stops accepting, closes every connection, waits for handlers and
// closes the database.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.ln.Close()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return r.store.Close()
}

func (r *Relay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			r.mu.Lock()
			closed := r.closed
			r.mu.Unlock()
			if closed {
				return
			}
			r.log.Warn("accept failed", "err", err)
			continue
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			c.Close()
			return
		}
		r.conns[c] = true
		r.wg.Add(1)
		r.mu.Unlock()
		go r.handle(c.(*tls.Conn))
	}
}

// session is one authenticated device connection.
type session struct {
	conn        *tls.Conn
	fingerprint []byte
	user        scanlab.UserID // empty until Register
	remote      string
}

func (r *Relay) handle(c *tls.Conn) {
	defer func() {
		c.Close()
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		r.wg.Done()
	}()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		r.log.Info("TLS handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	c.SetDeadline(time.Time{})
	st := c.ConnectionState()
	if st.Version != tls.VersionTLS13 || len(st.PeerCertificates) != 1 {
		return
	}
	fp, err := pki.Fingerprint(st.PeerCertificates[0].Raw)
	if err != nil {
		return
	}
	s := &session{conn: c, fingerprint: fp, remote: c.RemoteAddr().String()}
	for {
		f, err := wire.ReadFrame(c, r.cfg.MaxFrame)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				r.log.Info("bad frame; closing connection", "remote", s.remote, "user", s.user, "err", err)
				wire.WriteFrame(c, wire.Error, wire.EncodeString(err.Error()))
			}
			return
		}
		typ, payload, err := r.dispatch(s, f)
		if err != nil {
			r.log.Info("request refused", "remote", s.remote, "user", s.user, "frame", f.Type, "err", err)
			typ, payload = wire.Error, wire.EncodeString(err.Error())
		}
		if err := wire.WriteFrame(c, typ, payload); err != nil {
			return
		}
	}
}

// Errors a device sees (as text in an Error frame).
var (
	ErrNotRegistered = errors.New("relay: register first")
	ErrNotYours      = errors.New("relay: that mailbox belongs to another user")
	ErrSpoofedSender = errors.New("relay: envelope sender does not match the authenticated device")
)

func (r *Relay) dispatch(s *session, f wire.Frame) (wire.Type, []byte, error) {
	if f.Type == wire.Register {
		user, err := wire.DecodeString(f.Payload, wire.MaxID)
		if err != nil || user == "" {
			return 0, nil, fmt.Errorf("relay: register: bad user ID: %v", err)
		}
		if s.user != "" && s.user != scanlab.UserID(user) {
			return 0, nil, errors.New("relay: connection already registered to another user")
		}
		if err := r.store.BindDevice(scanlab.UserID(user), s.fingerprint); err != nil {
			return 0, nil, err
		}
		s.user = scanlab.UserID(user)
		return wire.Registered, nil, nil
	}
	if s.user == "" {
		return 0, nil, ErrNotRegistered
	}
	switch f.Type {
	case wire.Send:
		return r.send(s, f.Payload)
	case wire.Fetch:
		req, err := wire.DecodeFetch(f.Payload)
		if err != nil {
			return 0, nil, err
		}
		if req.Mailbox != s.user {
			return 0, nil, ErrNotYours
		}
		items, err := r.store.Pending(s.user, req.Max)
		if err != nil {
			// Unreadable records stay stored; the rest are delivered.
			r.log.Error("unreadable records in mailbox", "user", s.user, "err", err)
		}
		ds := make([]wire.Delivery, 0, len(items))
		for _, it := range items {
			e, err := wire.DecodeEnvelope(it.Data, r.cfg.MaxFrame)
			if err != nil {
				r.log.Error("stored envelope does not decode", "user", s.user, "seq", it.Seq, "err", err)
				continue
			}
			ds = append(ds, wire.Delivery{Seq: it.Seq, Envelope: e})
		}
		return wire.Batch, wire.EncodeBatch(ds), nil
	case wire.Ack:
		seqs, err := wire.DecodeSeqs(f.Payload)
		if err != nil {
			return 0, nil, err
		}
		n, err := r.store.Ack(s.user, seqs...)
		if err != nil {
			return 0, nil, err
		}
		return wire.Acked, wire.EncodeCount(n), nil
	case wire.Publish:
		b, err := wire.DecodeBundle(f.Payload)
		if err != nil {
			return 0, nil, err
		}
		if err := r.store.PutKeys(s.user, b.Identity, b.OneTime); err != nil {
			return 0, nil, err
		}
		if r.cfg.Keys != nil {
			r.cfg.Keys.Published(s.user, b)
		}
		return wire.Published, nil, nil
	case wire.KeysFor:
		user, err := wire.DecodeString(f.Payload, wire.MaxID)
		if err != nil {
			return 0, nil, err
		}
		id, ot, err := r.store.TakeKeys(scanlab.UserID(user))
		found := !errors.Is(err, store.ErrNotFound)
		if !found && r.cfg.Keys == nil {
			return 0, nil, fmt.Errorf("relay: %w", scanlab.ErrNoKeys)
		}
		if found && err != nil {
			return 0, nil, err
		}
		b := scanlab.KeyBundle{Identity: id}
		if ot != nil {
			b.OneTime = [][]byte{ot}
		}
		if r.cfg.Keys != nil {
			if b, err = r.cfg.Keys.Serve(s.user, scanlab.UserID(user), b, found); err != nil {
				return 0, nil, fmt.Errorf("relay: %w", err)
			}
		}
		return wire.Keys, wire.EncodeBundle(b), nil
	case wire.ReportMsg:
		return r.report(s, f.Payload)
	case wire.CertFor:
		return r.certificate(s, f.Payload)
	}
	return 0, nil, fmt.Errorf("relay: unexpected frame type %d from a device", f.Type)
}

func (r *Relay) send(s *session, payload []byte) (wire.Type, []byte, error) {
	e, err := wire.DecodeEnvelope(payload, r.cfg.MaxFrame)
	if err != nil {
		return 0, nil, err
	}
	if e.From != s.user && !(e.From == "" && r.cfg.AllowSealedSender) {
		return 0, nil, ErrSpoofedSender
	}
	r.observe("TLS-terminated envelope in relay memory", payload, envelopeFields(e, s))
	var rc wire.Receipt
	if r.logic != nil {
		t0 := time.Now()
		dets, err := r.logic.Accept(&e)
		rc.Logic = time.Since(t0)
		r.record(dets)
		if err != nil {
			return 0, nil, fmt.Errorf("relay: refused by server logic: %w", err)
		}
	}
	t0 := time.Now()
	seq, err := r.store.Enqueue(e.To, wire.EncodeEnvelope(e))
	rc.Store = time.Since(t0)
	if err != nil {
		return 0, nil, err
	}
	rc.Seq = seq
	return wire.Sent, wire.EncodeReceipt(rc), nil
}

func (r *Relay) report(s *session, payload []byte) (wire.Type, []byte, error) {
	rep, err := wire.DecodeReport(payload, r.cfg.MaxFrame)
	if err != nil {
		return 0, nil, err
	}
	if rep.Reporter != s.user {
		return 0, nil, errors.New("relay: a report must come from its reporter's device")
	}
	r.observe("abuse report in relay memory", rep.Evidence, map[string]string{"report-message": rep.MessageID, "reporter": string(rep.Reporter), "accused": string(rep.Accused)})
	if err := r.store.Append(store.Reports, payload); err != nil {
		return 0, nil, err
	}
	if r.logic == nil {
		return wire.Reported, wire.EncodeCount(0), nil
	}
	dets, err := r.logic.Verify(rep)
	r.record(dets)
	if err != nil {
		return 0, nil, fmt.Errorf("relay: report not verified: %w", err)
	}
	return wire.Reported, wire.EncodeCount(len(dets)), nil
}

// certificate asks the server logic, if it is a [scanlab.CertificateIssuer],
// for a sender certificate binding the connection's authenticated account
// to the identity bundle its device presents (the device may present only
// for its own account, as it may publish keys only for it).
func (r *Relay) certificate(s *session, identity []byte) (wire.Type, []byte, error) {
	issuer, ok := r.logic.(scanlab.CertificateIssuer)
	if !ok {
		return 0, nil, fmt.Errorf("relay: %w", scanlab.ErrNoCertificate)
	}
	r.observe("sender certificate request in relay memory", identity, map[string]string{"device": string(s.user)})
	cert, err := issuer.IssueCertificate(s.user, identity)
	if err != nil {
		return 0, nil, fmt.Errorf("relay: sender certificate: %w", err)
	}
	return wire.Cert, cert, nil
}

func envelopeFields(e scanlab.Envelope, s *session) map[string]string {
	return map[string]string{
		"message": e.ID,
		"from":    string(e.From),
		"to":      string(e.To),
		"sent":    strconv.FormatInt(e.Sent.UnixNano(), 10),
		"size":    strconv.Itoa(len(e.Body)),
		"device":  string(s.user),
	}
}

func (r *Relay) observe(route string, data []byte, fields map[string]string) {
	if r.cfg.Observe != nil {
		r.cfg.Observe(route, data, fields)
	}
}

// DetectionRecord is how a detection is written to the store's log and to a
// lawful-access export.
type DetectionRecord struct {
	MessageID string          `json:"message_id,omitempty"`
	Account   scanlab.UserID  `json:"account"`
	Pathway   scanlab.Pathway `json:"pathway"`
	At        time.Time       `json:"at"`
	Rule      string          `json:"rule,omitempty"`
	Distance  int             `json:"distance"`
}

func (r *Relay) record(dets []scanlab.Detection) {
	if len(dets) == 0 {
		return
	}
	r.detMu.Lock()
	r.detections = append(r.detections, dets...)
	r.detMu.Unlock()
	for _, d := range dets {
		b, _ := json.Marshal(DetectionRecord(d))
		if err := r.store.Append(store.Detected, b); err != nil {
			r.log.Error("detection not stored", "message", d.MessageID, "err", err)
		}
		r.observe("detection log in relay memory", b, map[string]string{"verdict-message": d.MessageID, "account": string(d.Account), "pathway": string(d.Pathway)})
	}
}
