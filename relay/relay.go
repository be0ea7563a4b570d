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
// database), one user per credential. From then on the connection's key
// decides who it is: a device can send only as itself and fetch only its own
// mailbox.
//
// # Limits and failures
//
// Every resource a device can make the relay hold is bounded (see [Config]
// for the values): frames are read under deadlines that demand a minimum
// transfer rate, into buffers that grow only as bytes arrive, charged to a
// global in-flight byte budget; responses are written under deadlines;
// connections are capped globally and per credential; sends, directory
// requests and one-time prekeys are rate-limited. An envelope that could
// never be delivered (its delivery frame would exceed the limit) is refused
// at send, and a stored record that cannot be delivered is quarantined
// instead of blocking its mailbox. The relay stores each (sender, message
// ID) once within a window that survives restarts, so a client may resend
// until it holds a receipt ([Client] does). A panic in one request closes
// that connection only. At start the database is checked (meta pages, page
// structure, every record), and keys that do not open it are refused.
//
// # Throughput
//
// Every commit is fsynced (unless Config.NoSync) and shared: concurrent
// devices' writes join one transaction (group commit, package store). A
// device may pipeline its requests ([ClientOptions.Window],
// [Client.SendAsync]); the relay answers them in order, stores a run of
// pipelined sends in one transaction in the order sent, and writes the
// answers to a burst of requests at once, so a busy connection costs few
// system calls per message.
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
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/kms"
	"scanlab/relay/store"
	"scanlab/relay/tap"
	"scanlab/relay/wire"
)

// Config configures a relay. Zero values mean the defaults named.
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
	// Log receives operational events; default discards. It never receives
	// key material, content, attachment names or raw user IDs: a user
	// appears as a keyed hash ("user" attribute, see [Relay.LogTag]).
	Log *slog.Logger
	// NoSync skips fsync on database commits (see store.Options).
	NoSync bool
	// Hosts are the names in the server certificate; default the
	// listener's IP and "localhost".
	Hosts []string
	// AllowSealedSender accepts envelopes with an empty From.
	AllowSealedSender bool
	// Now is the relay's clock; default time.Now.
	Now func() time.Time

	// CAPath, if set, keeps the relay's certificate authority in that file,
	// sealed under a key derived from KMS: made on first start, reused
	// after, so devices keep trusting the relay across restarts. Empty: a
	// new CA at every start.
	CAPath string
	// RotateKEK re-wraps every record under a new key-encryption key at
	// start, before listening (see store.Store.RotateKEK).
	RotateKEK bool
	// SaveKeys persists KMS durably; rotation calls it before re-wrapping
	// and after retiring the old key. Nil: keys live in memory only.
	SaveKeys func() error
	// Repair starts on a damaged database by quarantining the records that
	// do not open (see store.Options.Repair).
	Repair bool

	// MaxFrame bounds a frame's payload in bytes, both ways; default
	// wire.DefaultMaxFrame. An envelope is accepted only if its delivery
	// frame fits.
	MaxFrame int
	// FrameTimeout is the time a frame may take beyond what MinRate buys
	// (and the limit on the TLS handshake and on registering); default 10 s.
	FrameTimeout time.Duration
	// MinRate is the minimum transfer rate, in bytes per second, a peer must
	// sustain within a frame, both reading and writing; default 64 KiB/s.
	MinRate int
	// IdleTimeout closes a connection with no request for that long;
	// default 2 min. A long-polling fetch is not idle.
	IdleTimeout time.Duration
	// MaxInFlight bounds the bytes of frames being read and responses being
	// written across all connections; default 256 MiB, at least 2×MaxFrame.
	MaxInFlight int64
	// MaxConns bounds open connections; default 1024.
	MaxConns int
	// MaxConnsPerDevice bounds open connections per device credential;
	// default 8.
	MaxConnsPerDevice int
	// SendRate limits sends and reports per device; default 1000/s, bursts
	// of 2000.
	SendRate Rate
	// DirectoryRate limits key publications and key-bundle requests per
	// device; default 20/s, bursts of 200.
	DirectoryRate Rate
	// OneTimeRate limits the one-time prekeys handed out per target user,
	// whoever asks; past it, bundles come without one (X3DH runs without,
	// Signal X3DH spec §3.3); default 1/s, bursts of 20.
	OneTimeRate Rate
	// MaxWait caps how long a fetch may wait for mail; default 30 s.
	MaxWait time.Duration
	// FetchLinger is how long a waiting fetch, woken by new mail, waits for
	// more before answering; default 2 ms. Negative: not at all.
	FetchLinger time.Duration
	// DedupWindow is how long the relay remembers a (sender, message ID) it
	// stored, so a resend is not stored twice; default 24 h. MaxDedup caps
	// the pairs remembered (oldest forgotten first; about 100 bytes of
	// memory each); default 1<<20, which at 10,000 sends a second still
	// covers the last 100 s, beyond a client's default retry horizon (30 s).
	DedupWindow time.Duration
	MaxDedup    int
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

// Default limits (see [Config]).
const (
	DefaultFrameTimeout      = 10 * time.Second
	DefaultMinRate           = 64 << 10
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxInFlight       = 256 << 20
	DefaultMaxConns          = 1024
	DefaultMaxConnsPerDevice = 8
	DefaultMaxWait           = 30 * time.Second
	DefaultFetchLinger       = 2 * time.Millisecond
	DefaultDedupWindow       = 24 * time.Hour
	DefaultMaxDedup          = 1 << 20
)

// Default rates (see [Config]).
var (
	DefaultSendRate      = Rate{Per: 1000, Burst: 2000}
	DefaultDirectoryRate = Rate{Per: 20, Burst: 200}
	DefaultOneTimeRate   = Rate{Per: 1, Burst: 20}
)

// withDefaults fills every zero field.
func (cfg Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = wire.DefaultMaxFrame
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	def(&cfg.FrameTimeout, DefaultFrameTimeout)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	def(&cfg.MaxWait, DefaultMaxWait)
	if cfg.FetchLinger == 0 {
		cfg.FetchLinger = DefaultFetchLinger
	}
	def(&cfg.DedupWindow, DefaultDedupWindow)
	if cfg.MinRate <= 0 {
		cfg.MinRate = DefaultMinRate
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	cfg.MaxInFlight = max(cfg.MaxInFlight, 2*int64(cfg.MaxFrame))
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxConnsPerDevice <= 0 {
		cfg.MaxConnsPerDevice = DefaultMaxConnsPerDevice
	}
	if cfg.MaxDedup <= 0 {
		cfg.MaxDedup = DefaultMaxDedup
	}
	for _, r := range []struct {
		v *Rate
		d Rate
	}{{&cfg.SendRate, DefaultSendRate}, {&cfg.DirectoryRate, DefaultDirectoryRate}, {&cfg.OneTimeRate, DefaultOneTimeRate}} {
		if r.v.Per == 0 {
			*r.v = r.d
		}
	}
	return cfg
}

// Relay is a running relay.
type Relay struct {
	cfg     Config
	ln      net.Listener
	ca      *pki.CA
	kms     *kms.Manager
	store   *store.Store
	logic   scanlab.ServerLogic
	log     *slog.Logger
	logKey  []byte
	gate    *logGate
	budget  *budget
	limits  *limiter
	hub     *hub
	stats   counters
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]bool
	devices map[string]int // open connections per credential
	closed  bool
	done    chan struct{}

	detMu      sync.Mutex
	detections []scanlab.Detection
}

// Start opens (and checks) the database, rotates the key-encryption key if
// asked, loads or makes the certificates, and starts serving.
func Start(cfg Config) (*Relay, error) {
	cfg = cfg.withDefaults()
	r := &Relay{cfg: cfg, conns: map[net.Conn]bool{}, devices: map[string]int{}, log: cfg.Log, kms: cfg.KMS,
		gate: newLogGate(time.Second), budget: newBudget(cfg.MaxInFlight), limits: newLimiter(), hub: newHub(), done: make(chan struct{})}
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
	var err error
	if r.logKey, err = r.kms.Secret("relay log tag"); err != nil {
		return nil, err
	}
	if err := r.openStore(); err != nil {
		return nil, err
	}
	if err := r.listen(); err != nil {
		r.store.Close()
		return nil, err
	}
	r.wg.Add(2)
	go r.serve()
	go r.sweep()
	r.log.Info("relay listening", "addr", r.ln.Addr().String(), "db", cfg.DBPath, "max_frame", cfg.MaxFrame)
	return r, nil
}

// openStore opens and checks the database, rotates the KEK if asked and
// makes the server logic.
func (r *Relay) openStore() error {
	st, err := store.Open(r.cfg.DBPath, r.kms, store.Options{NoSync: r.cfg.NoSync, Repair: r.cfg.Repair, Validate: validateRecord, Now: r.cfg.Now})
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	r.store = st
	r.reportRepairs()
	if r.cfg.RotateKEK {
		save := r.cfg.SaveKeys
		if save == nil {
			save = func() error { return nil }
		}
		n, err := st.RotateKEK(save)
		if err != nil {
			st.Close()
			return fmt.Errorf("relay: rotate key-encryption key: %w", err)
		}
		r.log.Info("key-encryption key rotated", "records", n, "kek", r.kms.Current())
	}
	if r.cfg.Logic != nil {
		env := scanlab.ServerEnv{Now: r.cfg.Now, Secret: r.kms.Secret, Record: r.cfg.Observe}
		if r.logic, err = r.cfg.Logic(env); err != nil {
			st.Close()
			return fmt.Errorf("relay: server logic: %w", err)
		}
	}
	return nil
}

// reportRepairs logs what a repairing start salvaged and what sits in the
// quarantine.
func (r *Relay) reportRepairs() {
	if rep := r.store.Salvaged(); rep != nil {
		r.log.Warn("damaged database salvaged", "records_kept", rep.Kept, "elements_rejected", rep.Rejected, "damaged_file", rep.Damaged)
	}
	if q, err := r.store.QuarantineList(); err == nil && len(q) > 0 {
		r.log.Warn("records in quarantine", "n", len(q))
	}
}

// validateRecord checks a stored mail record decodes as an envelope.
func validateRecord(rec store.Record) error {
	if rec.Bucket != store.Mail {
		return nil
	}
	_, err := wire.DecodeEnvelope(rec.Data, len(rec.Data))
	return err
}

// listen loads or makes the CA, issues the server certificate and opens the
// TLS listener.
func (r *Relay) listen() error {
	ln, err := net.Listen("tcp", r.cfg.Addr)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	if r.ca, err = r.loadCA(); err != nil {
		ln.Close()
		return err
	}
	hosts := r.cfg.Hosts
	if len(hosts) == 0 {
		host, _, _ := net.SplitHostPort(ln.Addr().String())
		hosts = []string{host, "localhost"}
	}
	cert, err := r.ca.ServerCert(hosts, serverCertValidity)
	if err != nil {
		ln.Close()
		return err
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
	if r.cfg.Tap != nil {
		inner = r.cfg.Tap.Listener(ln)
	}
	r.ln = tls.NewListener(inner, tcfg)
	return nil
}

// Validity of the certificates the relay makes.
const (
	caValidity         = 10 * 365 * 24 * time.Hour
	runCAValidity      = 7 * 24 * time.Hour
	serverCertValidity = 30 * 24 * time.Hour
)

// loadCA opens the sealed CA at cfg.CAPath, or makes one (and seals it
// there, durably). Without CAPath the CA lives for this run only.
func (r *Relay) loadCA() (*pki.CA, error) {
	if r.cfg.CAPath == "" {
		return pki.NewCA("scanlab relay CA", runCAValidity)
	}
	key, err := r.kms.Secret("relay CA sealing key")
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(r.cfg.CAPath)
	if err == nil {
		ca, err := pki.OpenCA(data, key)
		if err != nil {
			return nil, fmt.Errorf("relay: CA file %s: %w (it was sealed under other keys?)", r.cfg.CAPath, err)
		}
		return ca, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("relay: %w", err)
	}
	ca, err := pki.NewCA("scanlab relay CA", caValidity)
	if err != nil {
		return nil, err
	}
	sealed, err := ca.Seal(key)
	if err != nil {
		return nil, err
	}
	if err := kms.WriteFileDurable(r.cfg.CAPath, sealed, 0o600); err != nil {
		return nil, fmt.Errorf("relay: save CA: %w", err)
	}
	return ca, nil
}

// Addr returns the address the relay listens on.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// CA returns the certificate authority devices must trust.
func (r *Relay) CA() *pki.CA { return r.ca }

// Store returns the relay's at-rest store.
func (r *Relay) Store() *store.Store { return r.store }

// KMS returns the relay's key manager.
func (r *Relay) KMS() *kms.Manager { return r.kms }

// Config returns the relay's configuration with every default filled in.
func (r *Relay) Config() Config { return r.cfg }

// LogTag returns how user appears in the relay's log: a keyed hash (HMAC
// under a KMS secret, 48 bits), stable for this key set, so log lines about
// one user can be correlated without the log naming the user.
func (r *Relay) LogTag(user scanlab.UserID) string {
	if user == "" {
		return "-"
	}
	m := hmac.New(sha256.New, r.logKey)
	m.Write([]byte(user))
	return hex.EncodeToString(m.Sum(nil)[:6])
}

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
	close(r.done)
	r.ln.Close()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return r.store.Close()
}

// Stats counts what the relay refused, set aside or survived.
type Stats struct {
	Conns        int   // connections open now
	Refused      int64 // connections refused by a cap
	AcceptErrors int64 // failed accepts (e.g. out of file descriptors)
	TimedOut     int64 // connections closed by a deadline
	RateLimited  int64 // requests refused by a rate limit
	Panics       int64 // requests whose handler panicked
	Quarantined  int64 // stored records set aside as undeliverable
	Duplicates   int64 // sends already stored, not stored again
	InFlight     int64 // bytes charged to the in-flight budget now
}

// counters are the atomic counters behind [Stats].
type counters struct {
	refused, acceptErrors, timedOut, rateLimited, panics, quarantined, duplicates atomic.Int64
}

// Stats returns the relay's counters.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	n := len(r.conns)
	r.mu.Unlock()
	c := &r.stats
	return Stats{Conns: n, Refused: c.refused.Load(), AcceptErrors: c.acceptErrors.Load(), TimedOut: c.timedOut.Load(),
		RateLimited: c.rateLimited.Load(), Panics: c.panics.Load(), Quarantined: c.quarantined.Load(),
		Duplicates: c.duplicates.Load(), InFlight: r.budget.inUse()}
}

// Accept-loop backoff after an error (EMFILE and the like), as net/http's
// server does.
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

func (r *Relay) serve() {
	defer r.wg.Done()
	var delay time.Duration
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if r.isClosed() {
				return
			}
			r.stats.acceptErrors.Add(1)
			delay = min(max(2*delay, minAcceptBackoff), maxAcceptBackoff)
			r.warn("accept", "accept failed; backing off", "err", err, "backoff", delay)
			select {
			case <-time.After(delay):
			case <-r.done:
				return
			}
			continue
		}
		delay = 0
		if !r.admit(c) {
			continue
		}
		go r.handle(c.(*tls.Conn))
	}
}

// admit registers a new connection under the global cap, or closes it.
func (r *Relay) admit(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		c.Close()
		return false
	}
	if len(r.conns) >= r.cfg.MaxConns {
		c.Close()
		r.stats.refused.Add(1)
		r.warn("cap", "connection refused: relay at its connection cap", "cap", r.cfg.MaxConns)
		return false
	}
	r.conns[c] = true
	r.wg.Add(1)
	return true
}

func (r *Relay) isClosed() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// warn logs at warning level through the log gate: at most one line of a
// kind per second, with the count of lines suppressed before it.
func (r *Relay) warn(kind, msg string, args ...any) {
	ok, suppressed := r.gate.pass(kind)
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	r.log.Warn(msg, args...)
}

// sweep forgets old (sender, message ID) pairs and idle rate-limit buckets
// once a minute.
func (r *Relay) sweep() {
	defer r.wg.Done()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if n, err := r.store.SweepDedup(r.cfg.DedupWindow, r.cfg.MaxDedup); err != nil {
			r.warn("sweep", "dedup sweep failed", "err", err)
		} else if n > 0 {
			r.log.Debug("dedup pairs forgotten", "n", n)
		}
		r.limits.prune(r.slowestRate())
		select {
		case <-t.C:
		case <-r.done:
			return
		}
	}
}

// slowestRate is the rate limit that refills slowest relative to its burst.
func (r *Relay) slowestRate() Rate {
	slow := r.cfg.SendRate
	for _, x := range []Rate{r.cfg.DirectoryRate, r.cfg.OneTimeRate} {
		if x.Per > 0 && (slow.Per <= 0 || float64(x.Burst)/x.Per > float64(slow.Burst)/slow.Per) {
			slow = x
		}
	}
	return slow
}
