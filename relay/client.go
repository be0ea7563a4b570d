package relay

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/relay/wire"
)

// ClientOptions tune a [Client]. Zero values mean the defaults named.
type ClientOptions struct {
	// Cert is the device's credential; a fresh one if nil.
	Cert *tls.Certificate
	// RetryFor is how long a request is retried, across reconnects, before
	// its error is returned; default 30 s. Negative: never retry.
	RetryFor time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts, which
	// doubles from the first to the second (with jitter); default 20 ms and
	// 2 s.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one attempt: connecting, or one request and its answer
	// (plus any wait the request asks for); default 30 s.
	Timeout time.Duration
	// MaxFrame is the largest frame the client reads; default the limit the
	// relay announces, at most MaxClientFrame.
	MaxFrame int
	// Recent is how many (sender, message ID) pairs [Client.Receive]
	// remembers to drop copies the relay stored twice; default 4096.
	Recent int
	// Window is how many requests may be outstanding on the connection at
	// once: requests from concurrent callers, and the sends of
	// [Client.SendAsync], are pipelined up to it; default 1 (one at a
	// time).
	Window int
}

// MaxClientFrame bounds the frame limit a relay can make a client accept.
const MaxClientFrame = 256 << 20

func (o ClientOptions) withDefaults() ClientOptions {
	if o.RetryFor == 0 {
		o.RetryFor = 30 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 20 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Recent <= 0 {
		o.Recent = 4096
	}
	o.Window = max(o.Window, 1)
	return o
}

// Client is one device's connection to the relay. Requests are answered in
// the order they were written; a Client is safe for concurrent use, and
// requests from concurrent callers are pipelined, up to
// ClientOptions.Window outstanding (one at a time by default). A fetch
// that waits for mail holds back the answers to requests written after it.
//
// A Client reconnects by itself: when the connection fails it dials again
// with exponential backoff and repeats the request, for up to
// ClientOptions.RetryFor. Sends are repeated safely (the relay stores a
// (sender, message ID) once), as are fetches and acks; a publish or a report
// whose frame was already written is not repeated (it could apply twice),
// and its error is returned. Errors the relay marks as temporary (rate
// limits, storage failures) are retried the same way.
type Client struct {
	addr  string
	roots *x509.CertPool
	user  scanlab.UserID
	cert  tls.Certificate
	opts  ClientOptions

	mu    sync.Mutex // guards connecting and the fields below
	pipe  *pipe      // the current connection; nil while disconnected
	max   int
	state tls.ConnectionState

	closeMu sync.Mutex // guards closed and live, so Close need not wait for mu
	closed  bool
	live    *pipe

	sent, received atomic.Int64
	reconnects     atomic.Int64

	inbox inbox

	ackMu   sync.Mutex
	ackNext []uint64 // acknowledgements to send with the next Receive

	pubMu     sync.Mutex
	published []byte // Identity part of the last bundle published
}

// RemoteError is an error the relay reported for a request.
type RemoteError struct {
	Code    wire.Code
	Closing bool // the relay closed the connection after it
	Msg     string
}

func (e *RemoteError) Error() string { return e.Msg }

// Temporary says the relay may accept the same request later.
func (e *RemoteError) Temporary() bool { return e.Code == wire.Retry }

// ErrClosed is returned by requests on a closed [Client].
var ErrClosed = errors.New("relay: client closed")

// Dial connects to the relay at addr over TLS 1.3, trusting only roots,
// presenting cert (the device's credential; a fresh one if cert is nil), and
// registers as user. The Client reconnects by itself after (see [Client]).
func Dial(addr string, roots *x509.CertPool, user scanlab.UserID, cert *tls.Certificate) (*Client, error) {
	return DialWith(addr, roots, user, ClientOptions{Cert: cert})
}

// DialWith is [Dial] with options. The first connection is made before it
// returns: an unreachable relay or a refused credential is an error here.
func DialWith(addr string, roots *x509.CertPool, user scanlab.UserID, o ClientOptions) (*Client, error) {
	o = o.withDefaults()
	if o.Cert == nil {
		c, err := pki.DeviceCert(string(user))
		if err != nil {
			return nil, err
		}
		o.Cert = &c
	}
	cl := &Client{addr: addr, roots: roots, user: user, cert: *o.Cert, opts: o, inbox: newInbox(o.Recent)}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if err := cl.connect(); err != nil {
		return nil, err
	}
	return cl, nil
}

// User returns the user this client registered as.
func (c *Client) User() scanlab.UserID { return c.user }

// TLSVersion returns the negotiated TLS version.
func (c *Client) TLSVersion() uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state.Version
}

// LocalAddr returns the client's current address, as the relay and a tap
// see it ("" while disconnected).
func (c *Client) LocalAddr() string {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.live == nil {
		return ""
	}
	return c.live.conn.LocalAddr().String()
}

// Bytes returns how many bytes crossed the client's TCP connections so far
// in each direction (TLS records included).
func (c *Client) Bytes() (sent, received int64) {
	return c.sent.Load(), c.received.Load()
}

// Reconnects returns how many times the client reconnected after a failure.
func (c *Client) Reconnects() int { return int(c.reconnects.Load()) }

// MaxFrame returns the frame limit in force: the relay's, once connected.
func (c *Client) MaxFrame() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max
}

// Close closes the connection; requests in progress and later fail with
// [ErrClosed].
func (c *Client) Close() error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	c.closed = true
	if c.live != nil {
		c.live.fail(ErrClosed)
	}
	return nil
}

// Drop closes the current connection as a network failure would, without
// closing the client: the next request reconnects. It exists for fault
// tests.
func (c *Client) Drop() {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.live != nil {
		c.live.conn.Close()
	}
}

func (c *Client) isClosed() bool {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.closed
}

// connect dials, handshakes and registers; c.mu is held.
func (c *Client) connect() error {
	if c.isClosed() {
		return ErrClosed
	}
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	tcp, err := net.DialTimeout("tcp", c.addr, c.opts.Timeout)
	if err != nil {
		return fmt.Errorf("relay: dial %s: %w", c.addr, err)
	}
	conn := tls.Client(&countingConn{Conn: tcp, sent: &c.sent, received: &c.received}, &tls.Config{
		MinVersion:   tls.VersionTLS13,
		RootCAs:      c.roots,
		ServerName:   host,
		Certificates: []tls.Certificate{c.cert},
	})
	conn.SetDeadline(time.Now().Add(c.opts.Timeout))
	if err := conn.Handshake(); err != nil {
		tcp.Close()
		return classify(fmt.Errorf("relay: TLS handshake: %w", err))
	}
	p := newPipe(conn, c.opts.Window, c.opts.Timeout)
	c.closeMu.Lock()
	if c.closed {
		c.closeMu.Unlock()
		p.fail(ErrClosed)
		return ErrClosed
	}
	c.live = p
	c.closeMu.Unlock()
	c.pipe, c.state, c.max = p, conn.ConnectionState(), wire.DefaultMaxFrame
	hello, _, err := c.exchange(p, outgoing{t: wire.Register, payload: wire.EncodeString(string(c.user)), want: wire.Registered})
	if err == nil {
		err = c.hello(p, hello)
	}
	if err != nil {
		c.drop(p)
		return classify(err)
	}
	return nil
}

// classify marks TLS failures that retrying cannot fix: a relay certificate
// the client does not trust, or an alert from the relay refusing the
// client's credential (under TLS 1.3 it arrives at the first read).
func classify(err error) error {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var op *net.OpError
	if errors.As(err, &cv) || errors.As(err, &ua) || (errors.As(err, &op) && op.Op == "remote error") {
		return &dialError{err}
	}
	return err
}

// hello applies the relay's announced limits; c.mu is held.
func (c *Client) hello(p *pipe, payload []byte) error {
	h, err := wire.DecodeHello(payload)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	limit := MaxClientFrame
	if c.opts.MaxFrame > 0 {
		limit = c.opts.MaxFrame
	}
	if h.MaxFrame > limit {
		return &RemoteError{Code: wire.Refused, Msg: fmt.Sprintf("relay: the relay's frame limit %d exceeds this client's %d", h.MaxFrame, limit)}
	}
	c.max = h.MaxFrame
	p.max.Store(int64(h.MaxFrame))
	return nil
}

// dialError is a failure to set up a connection that retrying will not fix
// on its own (see classify): it is returned at once.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// drop forgets p if it is the current connection and closes it; c.mu is
// held.
func (c *Client) drop(p *pipe) {
	p.fail(errDropped)
	if c.pipe != p {
		return
	}
	c.pipe = nil
	c.closeMu.Lock()
	c.live = nil
	c.closeMu.Unlock()
}

// current returns the connection to use, connecting if there is none (or
// the last one failed).
func (c *Client) current() (*pipe, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pipe != nil && !c.pipe.isDead() {
		return c.pipe, nil
	}
	if c.pipe != nil {
		c.drop(c.pipe)
	}
	if err := c.connect(); err != nil {
		return nil, err
	}
	c.reconnects.Add(1)
	return c.pipe, nil
}

// exchange writes one request on p and waits for its answer. written says
// whether the request reached the connection's buffer.
func (c *Client) exchange(p *pipe, o outgoing) (payload []byte, written bool, err error) {
	rqs, err := p.write(o)
	if err != nil {
		return nil, len(rqs) > 0, err
	}
	payload, err = p.await(rqs[0])
	return payload, true, err
}

// call sends one request and returns its answer's payload, reconnecting
// and retrying as [Client] describes. once marks requests that must not be
// repeated after their frame was written.
func (c *Client) call(t wire.Type, payload []byte, want wire.Type, wait time.Duration, once bool) ([]byte, error) {
	return c.retry(time.Now().Add(c.opts.RetryFor), outgoing{t: t, payload: payload, want: want, wait: wait}, once)
}

// retry makes attempts at a request until one succeeds, its error is not
// one to retry, or giveUp passes.
func (c *Client) retry(giveUp time.Time, o outgoing, once bool) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		p, err := c.attempt(o, once)
		if err == nil {
			return p, nil
		}
		if c.isClosed() {
			return nil, ErrClosed
		}
		if !c.retryable(err) || !time.Now().Before(giveUp) {
			return nil, err
		}
		c.backoff(attempt)
	}
}

// attempt makes one try at a request, connecting first if needed.
func (c *Client) attempt(o outgoing, once bool) ([]byte, error) {
	p, err := c.current()
	if err != nil {
		return nil, err
	}
	payload, written, err := c.exchange(p, o)
	return c.settle(p, payload, written, err, once)
}

// settle decides what a try's outcome means for the connection: a network
// failure or a relay error marked closing drops it, and a request that must
// not be repeated reports a network failure after writing as final.
func (c *Client) settle(p *pipe, payload []byte, written bool, err error, once bool) ([]byte, error) {
	var re *RemoteError
	switch {
	case err == nil:
		return payload, nil
	case errors.As(err, &re):
		if re.Closing {
			c.dropCurrent(p)
		}
		return nil, err
	default:
		c.dropCurrent(p)
		if once && written {
			return nil, &onceError{err}
		}
		return nil, err
	}
}

// dropCurrent is [Client.drop] taking c.mu.
func (c *Client) dropCurrent(p *pipe) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(p)
}

// onceError wraps the network failure of a request that must not be
// repeated.
type onceError struct{ err error }

func (e *onceError) Error() string {
	return e.err.Error() + " (not retried: the relay may have applied it)"
}
func (e *onceError) Unwrap() error { return e.err }

// retryable says whether err may go away by itself.
func (c *Client) retryable(err error) bool {
	var re *RemoteError
	var de *dialError
	var oe *onceError
	switch {
	case c.isClosed() || c.opts.RetryFor < 0:
		return false
	case errors.As(err, &re):
		return re.Temporary()
	case errors.As(err, &de), errors.As(err, &oe):
		return false
	}
	return true
}

// backoff sleeps before attempt+1: MinBackoff doubling to MaxBackoff, with
// ±50% jitter so reconnecting clients spread out. (Timing only: it does not
// touch any seeded workload.)
func (c *Client) backoff(attempt int) {
	d := c.opts.MinBackoff << min(attempt, 20)
	d = min(d, c.opts.MaxBackoff)
	d = d/2 + rand.N(d)
	time.Sleep(d)
}

// Send hands an envelope to the relay and returns its receipt. A Send
// that returns nil has been stored exactly once, however many times it was
// sent; one that returns an error may or may not have been, and sending
// the same envelope again is safe.
func (c *Client) Send(e scanlab.Envelope) (wire.Receipt, error) {
	return c.SendAsync(e)[0].Wait()
}

// PendingSend is a send written to the relay whose receipt may not have
// been read yet; [PendingSend.Wait] returns it.
type PendingSend struct {
	c      *Client
	req    outgoing
	giveUp time.Time
	p      *pipe    // the connection it was written on, if any
	rq     *request // its place on that connection; nil if not written
	err    error    // why it was not written
}

// SendAsync writes envelopes to the relay in order, in one write as far
// as the window allows, and returns without waiting for their receipts
// (it blocks only while ClientOptions.Window requests are outstanding).
// The relay stores them in the order written. Each [PendingSend.Wait]
// returns one's receipt, resending it as [Client.Send] would if the
// connection failed; resent envelopes are stored in the order the Waits
// run.
func (c *Client) SendAsync(es ...scanlab.Envelope) []*PendingSend {
	giveUp := time.Now().Add(c.opts.RetryFor)
	out := make([]*PendingSend, len(es))
	reqs := make([]outgoing, len(es))
	for i, e := range es {
		reqs[i] = outgoing{t: wire.Send, payload: wire.EncodeEnvelope(e), want: wire.Sent}
		out[i] = &PendingSend{c: c, req: reqs[i], giveUp: giveUp}
	}
	p, err := c.current()
	var rqs []*request
	if err == nil {
		rqs, err = p.write(reqs...)
	}
	for i, ps := range out {
		ps.p, ps.err = p, err
		if i < len(rqs) {
			ps.rq = rqs[i]
		}
	}
	return out
}

// Wait returns the send's receipt, as [Client.Send] does. Call it once.
func (ps *PendingSend) Wait() (wire.Receipt, error) {
	c := ps.c
	payload, err := ps.first()
	if err != nil {
		if c.isClosed() {
			return wire.Receipt{}, ErrClosed
		}
		if !c.retryable(err) || !time.Now().Before(ps.giveUp) {
			return wire.Receipt{}, err
		}
		c.backoff(0)
		if payload, err = c.retry(ps.giveUp, ps.req, false); err != nil {
			return wire.Receipt{}, err
		}
	}
	return wire.DecodeReceipt(payload)
}

// first returns the outcome of the send as first written.
func (ps *PendingSend) first() ([]byte, error) {
	if ps.rq == nil {
		if ps.p != nil {
			return ps.c.settle(ps.p, nil, false, ps.err, false)
		}
		return nil, ps.err
	}
	payload, err := ps.p.await(ps.rq)
	return ps.c.settle(ps.p, payload, true, err, false)
}

// Fetch returns up to max envelopes waiting in this device's mailbox, as
// the relay holds them: records fetched before and not yet acknowledged
// come again. They stay stored until acknowledged with [Client.Ack].
// Applications use [Client.Receive], which hands each message over once.
func (c *Client) Fetch(max int) ([]wire.Delivery, error) {
	return c.fetch(c.user, max, 0)
}

// FetchMailbox asks for another mailbox than the device's own; the relay
// refuses it. It exists to test that refusal.
func (c *Client) FetchMailbox(mailbox scanlab.UserID, max int) ([]wire.Delivery, error) {
	return c.fetch(mailbox, max, 0)
}

func (c *Client) fetch(mailbox scanlab.UserID, max int, wait time.Duration) ([]wire.Delivery, error) {
	return c.fetchAcking(mailbox, max, wait, nil)
}

// fetchAcking fetches after acknowledging acks in the same request.
func (c *Client) fetchAcking(mailbox scanlab.UserID, max int, wait time.Duration, acks []uint64) ([]wire.Delivery, error) {
	req := wire.FetchRequest{Mailbox: mailbox, Max: max, Wait: wait, Ack: acks}
	p, err := c.call(wire.Fetch, wire.EncodeFetch(req), wire.Batch, wait, false)
	if err != nil {
		return nil, err
	}
	if len(acks) > 0 {
		c.inbox.acked(acks)
	}
	return wire.DecodeBatch(p, c.maxFrame())
}

// AckNext queues acknowledgements to send with the next [Client.Receive],
// saving a round trip; [Client.Ack] sends them at once. Until the relay has
// them, the records stay stored (and are not handed over again).
func (c *Client) AckNext(seqs ...uint64) {
	c.ackMu.Lock()
	defer c.ackMu.Unlock()
	c.ackNext = append(c.ackNext, seqs...)
}

// FlushAcks sends the acknowledgements queued by [Client.AckNext] now.
func (c *Client) FlushAcks() error {
	for {
		acks := c.takeAcks()
		if len(acks) == 0 {
			return nil
		}
		if _, err := c.Ack(acks...); err != nil {
			c.requeueAcks(acks)
			return err
		}
	}
}

// takeAcks returns up to wire.MaxBatch queued acknowledgements.
func (c *Client) takeAcks() []uint64 {
	c.ackMu.Lock()
	defer c.ackMu.Unlock()
	n := min(len(c.ackNext), wire.MaxBatch)
	out := c.ackNext[:n:n]
	c.ackNext = c.ackNext[n:]
	return out
}

// requeueAcks puts acknowledgements back after a failed fetch.
func (c *Client) requeueAcks(seqs []uint64) {
	c.ackMu.Lock()
	defer c.ackMu.Unlock()
	c.ackNext = append(seqs, c.ackNext...)
}

func (c *Client) maxFrame() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max
}

// Ack deletes delivered envelopes from the relay and returns how many it
// deleted (a repeated ack deletes nothing the second time).
func (c *Client) Ack(seqs ...uint64) (int, error) {
	p, err := c.call(wire.Ack, wire.EncodeSeqs(seqs), wire.Acked, 0, false)
	if err != nil {
		return 0, err
	}
	c.inbox.acked(seqs)
	return wire.DecodeCount(p)
}

// Report sends an abuse report; it returns the number of detections the
// provider raised from it.
func (c *Client) Report(r scanlab.Report) (int, error) {
	p, err := c.call(wire.ReportMsg, wire.EncodeReport(r), wire.Reported, 0, true)
	if err != nil {
		return 0, err
	}
	return wire.DecodeCount(p)
}

// Publish implements [scanlab.Directory]: it publishes this device's keys.
func (c *Client) Publish(user scanlab.UserID, b scanlab.KeyBundle) error {
	if user != c.user {
		return errors.New("relay: a device publishes only its own keys")
	}
	if _, err := c.call(wire.Publish, wire.EncodeBundle(b), wire.Published, 0, true); err != nil {
		return err
	}
	c.pubMu.Lock()
	c.published = b.Identity
	c.pubMu.Unlock()
	return nil
}

// Certificate implements [scanlab.Directory]: it asks the relay for a
// sender certificate for this device's account, presenting the Identity
// part of the bundle the device last published.
func (c *Client) Certificate(user scanlab.UserID) ([]byte, error) {
	if user != c.user {
		return nil, errors.New("relay: a device fetches only its own sender certificate")
	}
	c.pubMu.Lock()
	identity := c.published
	c.pubMu.Unlock()
	if identity == nil {
		return nil, fmt.Errorf("relay: sender certificate before publishing keys: %w", scanlab.ErrNoKeys)
	}
	p, err := c.call(wire.CertFor, identity, wire.Cert, 0, false)
	var re *RemoteError
	if errors.As(err, &re) && strings.HasSuffix(re.Msg, scanlab.ErrNoCertificate.Error()) {
		return nil, scanlab.ErrNoCertificate
	}
	return p, err
}

// FetchKeys implements [scanlab.Directory]: it returns user's bundle with at
// most one one-time key.
func (c *Client) FetchKeys(user scanlab.UserID) (scanlab.KeyBundle, error) {
	p, err := c.call(wire.KeysFor, wire.EncodeString(string(user)), wire.Keys, 0, false)
	if err != nil {
		var re *RemoteError
		if errors.As(err, &re) && re.Msg == "relay: "+scanlab.ErrNoKeys.Error() {
			return scanlab.KeyBundle{}, scanlab.ErrNoKeys
		}
		return scanlab.KeyBundle{}, err
	}
	return wire.DecodeBundle(p)
}

// Directory returns the relay's key directory as seen through this client.
func (c *Client) Directory() scanlab.Directory { return directory{c} }

type directory struct{ c *Client }

func (d directory) Publish(u scanlab.UserID, b scanlab.KeyBundle) error { return d.c.Publish(u, b) }
func (d directory) Fetch(u scanlab.UserID) (scanlab.KeyBundle, error)   { return d.c.FetchKeys(u) }
func (d directory) Certificate(u scanlab.UserID) ([]byte, error)        { return d.c.Certificate(u) }

// countingConn counts the bytes crossing a connection into the client's
// counters.
type countingConn struct {
	net.Conn
	sent, received *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.received.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.sent.Add(int64(n))
	return n, err
}
