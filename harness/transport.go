package harness

import (
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"scanlab"
	"scanlab/e2ee"
	"scanlab/relay"
	"scanlab/relay/wire"
)

// relayProvider is the relay transport: a relay this World started, or one
// running elsewhere (relay nil).
type relayProvider struct {
	relay *relay.Relay
	addr  string
	roots *x509.CertPool
}

func (p *relayProvider) connect(user scanlab.UserID) (link, error) {
	c, err := relay.Dial(p.addr, p.roots, user, nil)
	if err != nil {
		return nil, err
	}
	return relayLink{c}, nil
}

func (p *relayProvider) detections() []scanlab.Detection {
	if p.relay == nil {
		return nil
	}
	return p.relay.Detections()
}

func (p *relayProvider) close() error {
	if p.relay == nil {
		return nil
	}
	return p.relay.Close()
}

// relayLink is a device's TLS connection to the relay.
type relayLink struct{ c *relay.Client }

func (l relayLink) directory() scanlab.Directory                  { return l.c.Directory() }
func (l relayLink) send(e scanlab.Envelope) (wire.Receipt, error) { return l.c.Send(e) }
func (l relayLink) fetch(max int) ([]wire.Delivery, error)        { return l.c.Fetch(max) }
func (l relayLink) bytes() (int64, int64)                         { return l.c.Bytes() }
func (l relayLink) close() error                                  { return l.c.Close() }

func (l relayLink) ack(seqs ...uint64) error {
	_, err := l.c.Ack(seqs...)
	return err
}

func (l relayLink) report(r scanlab.Report) error {
	_, err := l.c.Report(r)
	return err
}

// LocalAddr returns the address of user's connection as the relay and a
// wire tap see it ("" for the in-process transport or an unknown user).
func (w *World) LocalAddr(user scanlab.UserID) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ep, ok := w.devices[user]; ok {
		if l, ok := ep.link.(relayLink); ok {
			return l.c.LocalAddr()
		}
	}
	return ""
}

// memProvider is the in-process transport: the provider's directory, its
// server logic and its mailboxes in memory, with the relay's rules.
type memProvider struct {
	logic       scanlab.ServerLogic
	dir         *e2ee.MemoryDirectory
	keys        relay.KeyService // nil: serve what dir holds
	allowSealed bool

	mu    sync.Mutex
	boxes map[scanlab.UserID][]stored
	seq   uint64
	dets  []scanlab.Detection
}

// stored is one envelope awaiting delivery, in its wire encoding (so that
// sender, provider and recipient never share memory).
type stored struct {
	seq uint64
	raw []byte
}

func newMemProvider(o Options) (*memProvider, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	logic, err := o.Mode.NewServer(scanlab.ServerEnv{Now: now, Secret: o.Keys.Secret, Record: o.Observe})
	if err != nil {
		return nil, err
	}
	dir := e2ee.NewMemoryDirectory()
	// The provider issues sender certificates when its logic can, as the
	// relay does.
	if issuer, ok := logic.(scanlab.CertificateIssuer); ok {
		dir.Issuer = issuer
	}
	return &memProvider{logic: logic, dir: dir, keys: o.Directory, allowSealed: o.AllowSealedSender,
		boxes: map[scanlab.UserID][]stored{}}, nil
}

func (p *memProvider) connect(user scanlab.UserID) (link, error) {
	return &memLink{p: p, user: user}, nil
}

func (p *memProvider) detections() []scanlab.Detection {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]scanlab.Detection(nil), p.dets...)
}

func (p *memProvider) record(d []scanlab.Detection) {
	if len(d) == 0 {
		return
	}
	p.mu.Lock()
	p.dets = append(p.dets, d...)
	p.mu.Unlock()
}

func (p *memProvider) close() error { return nil }

// memLink is one device's link to the in-process provider. It counts the
// frame bytes a relay connection would carry (without TLS overhead).
type memLink struct {
	p    *memProvider
	user scanlab.UserID

	mu             sync.Mutex
	sent, received int64
}

func (l *memLink) directory() scanlab.Directory {
	if l.p.keys == nil {
		return l.p.dir
	}
	return servedDirectory{l.p.dir, l.p.keys, l.user}
}

// servedDirectory is the in-process directory as a device reaches it
// through the provider's directory service, as relay.Config.Keys does on
// the relay.
type servedDirectory struct {
	*e2ee.MemoryDirectory
	svc       relay.KeyService
	requester scanlab.UserID
}

func (d servedDirectory) Publish(user scanlab.UserID, b scanlab.KeyBundle) error {
	if err := d.MemoryDirectory.Publish(user, b); err != nil {
		return err
	}
	d.svc.Published(user, b)
	return nil
}

func (d servedDirectory) Fetch(user scanlab.UserID) (scanlab.KeyBundle, error) {
	b, err := d.MemoryDirectory.Fetch(user)
	if err != nil && !errors.Is(err, scanlab.ErrNoKeys) {
		return b, err
	}
	return d.svc.Serve(d.requester, user, b, err == nil)
}
func (l *memLink) close() error { return nil }

func (l *memLink) bytes() (int64, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent, l.received
}

func (l *memLink) count(sent, received int) {
	l.mu.Lock()
	l.sent += int64(sent)
	l.received += int64(received)
	l.mu.Unlock()
}

// receiptSize is the payload of a send receipt: seq, logic and store times.
const receiptSize = 24

func (l *memLink) send(e scanlab.Envelope) (wire.Receipt, error) {
	if e.From != l.user && !(e.From == "" && l.p.allowSealed) {
		return wire.Receipt{}, ErrSpoofed
	}
	raw := wire.EncodeEnvelope(e)
	l.count(wire.HeaderSize+len(raw), wire.HeaderSize+receiptSize)
	env, err := wire.DecodeEnvelope(raw, wire.DefaultMaxFrame)
	if err != nil {
		return wire.Receipt{}, err
	}
	t0 := time.Now()
	dets, err := l.p.logic.Accept(&env)
	logic := time.Since(t0)
	l.p.record(dets)
	if err != nil {
		return wire.Receipt{Logic: logic}, fmt.Errorf("refused by server logic: %w", err)
	}
	p := l.p
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.boxes[env.To] = append(p.boxes[env.To], stored{seq: seq, raw: wire.EncodeEnvelope(env)})
	p.mu.Unlock()
	return wire.Receipt{Seq: seq, Logic: logic}, nil
}

func (l *memLink) fetch(max int) ([]wire.Delivery, error) {
	p := l.p
	p.mu.Lock()
	box := p.boxes[l.user]
	box = box[:min(max, len(box), wire.MaxBatch)]
	var ds []wire.Delivery
	size := 4
	for _, s := range box {
		e, err := wire.DecodeEnvelope(s.raw, wire.DefaultMaxFrame)
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		ds = append(ds, wire.Delivery{Seq: s.seq, Envelope: e})
		size += 12 + len(s.raw)
	}
	p.mu.Unlock()
	l.count(wire.HeaderSize+4+len(l.user)+4, wire.HeaderSize+size)
	return ds, nil
}

func (l *memLink) ack(seqs ...uint64) error {
	p := l.p
	p.mu.Lock()
	box := p.boxes[l.user]
	kept := box[:0]
	for _, s := range box {
		acked := false
		for _, q := range seqs {
			acked = acked || q == s.seq
		}
		if !acked {
			kept = append(kept, s)
		}
	}
	p.boxes[l.user] = kept
	p.mu.Unlock()
	l.count(wire.HeaderSize+4+8*len(seqs), wire.HeaderSize+4)
	return nil
}

// errReporter mirrors the relay's rule that a report comes from its
// reporter's own device.
var errReporter = errors.New("a report must come from its reporter's device")

func (l *memLink) report(r scanlab.Report) error {
	if r.Reporter != l.user {
		return errReporter
	}
	dets, err := l.p.logic.Verify(r)
	l.p.record(dets)
	if err != nil {
		return fmt.Errorf("report not verified: %w", err)
	}
	return nil
}
