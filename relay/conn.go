package relay

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"time"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/relay/wire"
)

// session is one authenticated device connection.
type session struct {
	conn   *tls.Conn
	br     *bufio.Reader  // requests, read a TLS record at a time
	bw     *bufio.Writer  // answers, flushed once no request waits in br
	device string         // the credential fingerprint, as a map key
	user   scanlab.UserID // empty until Register
	tag    string         // the user's log tag
	remote string
	held   int64 // bytes of the in-flight budget this request holds
}

// Errors a device sees (as text in an Error frame).
var (
	ErrNotRegistered = errors.New("relay: register first")
	ErrNotYours      = errors.New("relay: that mailbox belongs to another user")
	ErrSpoofedSender = errors.New("relay: envelope sender does not match the authenticated device")
	ErrTooManyConns  = errors.New("relay: too many connections for this device")
	ErrRateLimited   = errors.New("relay: rate limit exceeded; try again later")
	ErrBusy          = errors.New("relay: busy; try again later")
	ErrUndeliverable = errors.New("relay: envelope too large to deliver")
	ErrInternal      = errors.New("relay: internal error")
	ErrStorage       = errors.New("relay: storage failure; nothing stored, try again later")
)

// retryable lists the errors a device may retry: the relay stored nothing
// and the same request may succeed later. (ErrInternal is not among them:
// the same request would fail the same way.)
var retryable = []error{ErrTooManyConns, ErrRateLimited, ErrBusy, ErrStorage}

// handle runs one connection: handshake, then requests until the device
// leaves, a deadline passes or a request fails in a way that desynchronises
// the stream.
func (r *Relay) handle(c *tls.Conn) {
	s := &session{conn: c, remote: c.RemoteAddr().String(), br: bufio.NewReaderSize(c, connBuffer), bw: bufio.NewWriterSize(c, connBuffer)}
	defer func() {
		c.Close()
		r.mu.Lock()
		delete(r.conns, c)
		if s.device != "" {
			if r.devices[s.device]--; r.devices[s.device] <= 0 {
				delete(r.devices, s.device)
			}
		}
		r.mu.Unlock()
		r.wg.Done()
	}()
	if !r.handshake(s) {
		return
	}
	for r.serveOne(s) {
	}
}

// handshake completes TLS within FrameTimeout, identifies the device by its
// credential and applies the per-credential connection cap.
func (r *Relay) handshake(s *session) bool {
	c := s.conn
	c.SetDeadline(time.Now().Add(r.cfg.FrameTimeout))
	if err := c.Handshake(); err != nil {
		r.warn("handshake", "TLS handshake failed", "remote", s.remote, "err", err)
		return false
	}
	c.SetDeadline(time.Time{})
	st := c.ConnectionState()
	if st.Version != tls.VersionTLS13 || len(st.PeerCertificates) != 1 {
		return false
	}
	fp, err := pki.Fingerprint(st.PeerCertificates[0].Raw)
	if err != nil {
		return false
	}
	r.mu.Lock()
	over := r.devices[string(fp)] >= r.cfg.MaxConnsPerDevice
	if !over {
		s.device = string(fp)
		r.devices[s.device]++
	}
	r.mu.Unlock()
	if over {
		r.stats.refused.Add(1)
		r.warn("device-cap", "connection refused: device at its connection cap", "remote", s.remote, "cap", r.cfg.MaxConnsPerDevice)
		r.writeError(s, ErrTooManyConns, true)
		return false
	}
	return true
}

// Pipelining. A device may write several requests before reading their
// answers. The relay reads them through a buffer of connBuffer bytes (one
// TLS record's plaintext, so a buffered reader never holds more than what
// one record brought), answers them in order into a write buffer, and
// flushes it once no complete request waits in the read buffer: a burst of
// requests costs one write. A run of Send frames already in the buffer
// (at most maxGroup) is committed in one transaction ([Relay.sends]).
const (
	connBuffer = 16 << 10
	maxGroup   = 64
)

// serveOne reads one request (with any pipelined sends behind it), answers
// it, and says whether to go on.
func (r *Relay) serveOne(s *session) bool {
	defer r.release(s)
	f, err := r.readFrame(s)
	if err != nil {
		r.readFailed(s, err)
		return false
	}
	if f.Type == wire.Send && s.user != "" {
		return r.serveSends(s, f)
	}
	typ, payload, err, fatal := r.safeDispatch(s, f)
	if !r.answer(s, f.Type, answer{typ, payload, err}, fatal) {
		return false
	}
	return r.flushIdle(s) == nil
}

// serveSends answers first and every complete Send frame buffered behind
// it, up to maxGroup, stored in one transaction.
func (r *Relay) serveSends(s *session, first wire.Frame) bool {
	payloads := [][]byte{first.Payload}
	var readErr error
	for len(payloads) < maxGroup && s.buffered(wire.Send) {
		f, err := r.readFrame(s)
		if err != nil {
			readErr = err
			break
		}
		payloads = append(payloads, f.Payload)
	}
	answers, fatal := r.safeSends(s, payloads)
	for _, a := range answers {
		if !r.answer(s, wire.Send, a, fatal) {
			return false
		}
	}
	if readErr != nil {
		r.readFailed(s, readErr)
		return false
	}
	return r.flushIdle(s) == nil
}

// buffered says whether a complete frame of type t waits in the read
// buffer.
func (s *session) buffered(t wire.Type) bool {
	b, _ := s.br.Peek(s.br.Buffered())
	typ, ok := wire.Complete(b)
	return ok && typ == t
}

// answer is one request's answer: a frame, or an error.
type answer struct {
	typ     wire.Type
	payload []byte
	err     error
}

// answer writes one answer to a request of type req into the write buffer
// (an error closing the connection if fatal) and says whether to go on.
func (r *Relay) answer(s *session, req wire.Type, a answer, fatal bool) bool {
	if a.err != nil {
		r.log.Info("request refused", "remote", s.remote, "user", s.tag, "frame", req, "err", loggable(a.err))
		r.writeError(s, a.err, fatal)
		return !fatal
	}
	return r.writeFrame(s, a.typ, a.payload) == nil
}

// flushIdle sends the buffered answers unless a complete request waits to
// be answered first (its answer will join them).
func (r *Relay) flushIdle(s *session) error {
	b, _ := s.br.Peek(s.br.Buffered())
	if _, ok := wire.Complete(b); ok {
		return nil
	}
	return r.flush(s)
}

// readFailed logs a failed read and, if the stream may still be read by the
// device, tells it why.
func (r *Relay) readFailed(s *session, err error) {
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed):
	case errors.Is(err, os.ErrDeadlineExceeded):
		r.stats.timedOut.Add(1)
		r.log.Info("connection timed out", "remote", s.remote, "user", s.tag, "err", err)
	case errors.Is(err, ErrBusy):
		r.warn("budget", "in-flight budget exhausted; connection closed", "remote", s.remote, "user", s.tag)
		r.writeError(s, ErrBusy, true)
	default:
		r.log.Info("bad frame; closing connection", "remote", s.remote, "user", s.tag, "err", err)
		r.writeError(s, err, true)
	}
}

// readFrame reads one request. The header must come within IdleTimeout
// (FrameTimeout before registering); then the payload must keep up with
// MinRate on average from the header on, after FrameTimeout of grace,
// checked at every read, and every byte is charged to the in-flight budget
// before it is taken from the connection's read buffer (whose connBuffer
// bytes are a fixed cost of each connection).
func (r *Relay) readFrame(s *session) (wire.Frame, error) {
	idle := r.cfg.IdleTimeout
	if s.user == "" {
		idle = r.cfg.FrameTimeout
	}
	s.conn.SetReadDeadline(time.Now().Add(idle))
	var start time.Time
	charged := 0
	return wire.ReadFrameWith(s.br, r.cfg.MaxFrame, func(have, next int) error {
		if start.IsZero() {
			start = time.Now()
		}
		deadline := start.Add(r.cfg.FrameTimeout + r.transferTime(have))
		s.conn.SetReadDeadline(deadline)
		if need := have + next - charged; need > 0 {
			if !r.budget.take(int64(need), deadline) {
				return ErrBusy
			}
			s.held += int64(need)
			charged += need
		}
		return nil
	})
}

// transferTime is how long n bytes take at the minimum rate.
func (r *Relay) transferTime(n int) time.Duration {
	return time.Duration(float64(n) / float64(r.cfg.MinRate) * float64(time.Second))
}

// release gives back the budget the last request held.
func (r *Relay) release(s *session) {
	r.budget.give(s.held)
	s.held = 0
}

// hold charges n more bytes to the request (a response being built),
// waiting at most the write deadline.
func (r *Relay) hold(s *session, n int) error {
	if !r.budget.take(int64(n), time.Now().Add(r.cfg.FrameTimeout)) {
		return ErrBusy
	}
	s.held += int64(n)
	return nil
}

// writeFrame buffers one answer; buffered answers are written when the
// buffer fills or at [Relay.flush], within FrameTimeout plus their size at
// MinRate: a device that stops reading is cut off, not waited for.
func (r *Relay) writeFrame(s *session, t wire.Type, payload []byte) error {
	r.writeDeadline(s, len(payload)+wire.HeaderSize)
	return r.wrote(s, wire.WriteFrame(s.bw, t, payload))
}

// flush writes the buffered answers.
func (r *Relay) flush(s *session) error {
	r.writeDeadline(s, 0)
	return r.wrote(s, s.bw.Flush())
}

// writeDeadline allows the buffered answers and n more bytes FrameTimeout
// plus their time at MinRate.
func (r *Relay) writeDeadline(s *session, n int) {
	s.conn.SetWriteDeadline(time.Now().Add(r.cfg.FrameTimeout + r.transferTime(s.bw.Buffered()+n)))
}

// wrote counts and logs a write that timed out, and returns err.
func (r *Relay) wrote(s *session, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		r.stats.timedOut.Add(1)
		r.log.Info("write timed out; closing connection", "remote", s.remote, "user", s.tag)
	}
	return err
}

// writeError sends err as an Error frame, coded Retry if the device may try
// again, Fatal for an internal error, and marked closing if the relay closes
// the connection after it (then at once, with any answers buffered before
// it).
func (r *Relay) writeError(s *session, err error, closing bool) {
	code := wire.Refused
	for _, e := range retryable {
		if errors.Is(err, e) {
			code = wire.Retry
		}
	}
	if errors.Is(err, ErrInternal) {
		code = wire.Fatal
	}
	if r.writeFrame(s, wire.Error, wire.EncodeError(wire.ErrorReply{Code: code, Closing: closing, Msg: err.Error()})) == nil && closing {
		r.flush(s)
	}
}

// safeDispatch runs dispatch, turning a panic into [ErrInternal] for this
// request and closing this connection only (fatal). The panic value is not
// logged (it may quote content); the stack is.
func (r *Relay) safeDispatch(s *session, f wire.Frame) (typ wire.Type, payload []byte, err error, fatal bool) {
	defer r.recoverRequest(s, f.Type, func() { typ, payload, err, fatal = 0, nil, ErrInternal, true })
	typ, payload, err = r.dispatch(s, f)
	return typ, payload, err, false
}

// safeSends is [Relay.sends] with a panic turned into [ErrInternal] for
// every send of the group, closing the connection (fatal).
func (r *Relay) safeSends(s *session, payloads [][]byte) (answers []answer, fatal bool) {
	defer r.recoverRequest(s, wire.Send, func() {
		answers, fatal = []answer{{err: ErrInternal}}, true
	})
	return r.sends(s, payloads), false
}

// recoverRequest, deferred, recovers a panic in a request's handler: it
// counts and logs it (the stack, not the value, which may quote content)
// and calls failed.
func (r *Relay) recoverRequest(s *session, t wire.Type, failed func()) {
	if p := recover(); p != nil {
		r.stats.panics.Add(1)
		r.log.Error("request handler panicked; closing its connection", "remote", s.remote, "user", s.tag, "frame", t, "panic_type", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
		failed()
	}
}
