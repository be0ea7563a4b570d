package relay

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/relay/wire"
)

// Client is one device's connection to the relay. Requests are answered in
// order; a Client is safe for concurrent use (requests are serialised).
type Client struct {
	user  scanlab.UserID
	conn  *tls.Conn
	raw   *countingConn
	max   int
	mu    sync.Mutex
	state tls.ConnectionState

	pubMu     sync.Mutex
	published []byte // Identity part of the last bundle published
}

// RemoteError is an error the relay reported for a request.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return e.Msg }

// Dial connects to the relay at addr over TLS 1.3, trusting only roots,
// presenting cert (the device's credential; a fresh one if cert is nil), and
// registers as user.
func Dial(addr string, roots *x509.CertPool, user scanlab.UserID, cert *tls.Certificate) (*Client, error) {
	if cert == nil {
		c, err := pki.DeviceCert(string(user))
		if err != nil {
			return nil, err
		}
		cert = &c
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	tcp, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("relay: dial %s: %w", addr, err)
	}
	counted := &countingConn{Conn: tcp}
	c := tls.Client(counted, &tls.Config{
		MinVersion:   tls.VersionTLS13,
		RootCAs:      roots,
		ServerName:   host,
		Certificates: []tls.Certificate{*cert},
	})
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		tcp.Close()
		return nil, fmt.Errorf("relay: TLS handshake: %w", err)
	}
	c.SetDeadline(time.Time{})
	cl := &Client{user: user, conn: c, raw: counted, max: wire.DefaultMaxFrame, state: c.ConnectionState()}
	if _, err := cl.call(wire.Register, wire.EncodeString(string(user)), wire.Registered); err != nil {
		c.Close()
		return nil, err
	}
	return cl, nil
}

// User returns the user this client registered as.
func (c *Client) User() scanlab.UserID { return c.user }

// TLSVersion returns the negotiated TLS version.
func (c *Client) TLSVersion() uint16 { return c.state.Version }

// LocalAddr returns the client's address, as the relay and a tap see it.
func (c *Client) LocalAddr() string { return c.conn.LocalAddr().String() }

// Bytes returns how many bytes crossed the TCP connection so far in each
// direction (TLS records included).
func (c *Client) Bytes() (sent, received int64) {
	return c.raw.sent.Load(), c.raw.received.Load()
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) call(t wire.Type, payload []byte, want wire.Type) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := wire.WriteFrame(c.conn, t, payload); err != nil {
		return nil, fmt.Errorf("relay: write: %w", err)
	}
	f, err := wire.ReadFrame(c.conn, c.max)
	if err != nil {
		return nil, fmt.Errorf("relay: read: %w", err)
	}
	if f.Type == wire.Error {
		msg, err := wire.DecodeString(f.Payload, c.max)
		if err != nil {
			msg = "relay: unreadable error"
		}
		return nil, &RemoteError{Msg: msg}
	}
	if f.Type != want {
		return nil, fmt.Errorf("relay: got frame type %d, want %d", f.Type, want)
	}
	return f.Payload, nil
}

// Send hands an envelope to the relay and returns its receipt.
func (c *Client) Send(e scanlab.Envelope) (wire.Receipt, error) {
	p, err := c.call(wire.Send, wire.EncodeEnvelope(e), wire.Sent)
	if err != nil {
		return wire.Receipt{}, err
	}
	return wire.DecodeReceipt(p)
}

// Fetch returns up to max envelopes waiting in this device's mailbox. They
// stay stored until acknowledged with [Client.Ack].
func (c *Client) Fetch(max int) ([]wire.Delivery, error) {
	return c.FetchMailbox(c.user, max)
}

// FetchMailbox asks for another mailbox than the device's own; the relay
// refuses it. It exists to test that refusal.
func (c *Client) FetchMailbox(mailbox scanlab.UserID, max int) ([]wire.Delivery, error) {
	p, err := c.call(wire.Fetch, wire.EncodeFetch(wire.FetchRequest{Mailbox: mailbox, Max: max}), wire.Batch)
	if err != nil {
		return nil, err
	}
	return wire.DecodeBatch(p, c.max)
}

// Ack deletes delivered envelopes from the relay and returns how many it deleted.
func (c *Client) Ack(seqs ...uint64) (int, error) {
	p, err := c.call(wire.Ack, wire.EncodeSeqs(seqs), wire.Acked)
	if err != nil {
		return 0, err
	}
	return wire.DecodeCount(p)
}

// Report sends an abuse report; it returns the number of detections the
// provider raised from it.
func (c *Client) Report(r scanlab.Report) (int, error) {
	p, err := c.call(wire.ReportMsg, wire.EncodeReport(r), wire.Reported)
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
	if _, err := c.call(wire.Publish, wire.EncodeBundle(b), wire.Published); err != nil {
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
	p, err := c.call(wire.CertFor, identity, wire.Cert)
	var re *RemoteError
	if errors.As(err, &re) && re.Msg == "relay: "+scanlab.ErrNoCertificate.Error() {
		return nil, scanlab.ErrNoCertificate
	}
	return p, err
}

// Fetch keys: implements [scanlab.Directory].
func (c *Client) FetchKeys(user scanlab.UserID) (scanlab.KeyBundle, error) {
	p, err := c.call(wire.KeysFor, wire.EncodeString(string(user)), wire.Keys)
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

// countingConn counts the bytes crossing a connection.
type countingConn struct {
	net.Conn
	sent, received atomic.Int64
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
