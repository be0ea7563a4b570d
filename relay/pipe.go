package relay

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"scanlab/relay/wire"
)

// pipe is one connection of a [Client] and the requests outstanding on it,
// answered in the order they were written. Up to its window of requests
// may be outstanding at once: callers write under wmu, each taking a place
// in queue (whose capacity is the window), and one reader goroutine hands
// each answer to the request at the head of the queue. Writes go through a
// buffer, flushed by the last of the callers waiting to write (and before
// waiting for room in the window), so requests written together leave in
// one TLS record.
type pipe struct {
	conn    *tls.Conn
	timeout time.Duration
	max     atomic.Int64 // frame limit for answers

	wmu     sync.Mutex // orders writes with their places in queue
	bw      *bufio.Writer
	writers atomic.Int32 // callers waiting for wmu

	queue chan *request // outstanding requests, oldest first

	dead     chan struct{} // closed when the connection failed
	failOnce sync.Once
	err      error // why it failed; set before dead closes
}

// request is one request written on a pipe and its answer.
type request struct {
	want    wire.Type
	wait    time.Duration // how long the relay may hold the answer back
	done    chan struct{}
	payload []byte
	err     error
}

// outgoing is one request to write.
type outgoing struct {
	t       wire.Type
	payload []byte
	want    wire.Type
	wait    time.Duration
}

func newPipe(conn *tls.Conn, window int, timeout time.Duration) *pipe {
	p := &pipe{conn: conn, timeout: timeout, bw: bufio.NewWriterSize(conn, connBuffer),
		queue: make(chan *request, max(window, 1)), dead: make(chan struct{})}
	p.max.Store(wire.DefaultMaxFrame)
	go p.read()
	return p
}

// write writes requests in order and returns them, outstanding. It blocks
// while the window is full. A request is returned once its frame is
// buffered: from then on the relay may receive it.
func (p *pipe) write(out ...outgoing) ([]*request, error) {
	p.writers.Add(1)
	p.wmu.Lock()
	p.writers.Add(-1)
	defer p.wmu.Unlock()
	var rqs []*request
	for _, o := range out {
		rq := &request{want: o.want, wait: o.wait, done: make(chan struct{})}
		if err := p.enqueue(rq); err != nil {
			return rqs, err
		}
		rqs = append(rqs, rq)
		p.conn.SetWriteDeadline(time.Now().Add(p.timeout))
		if err := wire.WriteFrame(p.bw, o.t, o.payload); err != nil {
			return rqs, p.fail(fmt.Errorf("relay: write: %w", err))
		}
	}
	if p.writers.Load() > 0 {
		return rqs, nil // the next writer flushes
	}
	return rqs, p.flush()
}

// enqueue takes a place in the window for rq, first flushing what is
// buffered if it must wait for one.
func (p *pipe) enqueue(rq *request) error {
	select {
	case p.queue <- rq:
		return nil
	case <-p.dead:
		return p.err
	default:
	}
	if err := p.flush(); err != nil {
		return err
	}
	select {
	case p.queue <- rq:
		return nil
	case <-p.dead:
		return p.err
	}
}

// flush writes the buffered requests; wmu is held.
func (p *pipe) flush() error {
	p.conn.SetWriteDeadline(time.Now().Add(p.timeout))
	if err := p.bw.Flush(); err != nil {
		return p.fail(fmt.Errorf("relay: write: %w", err))
	}
	return nil
}

// await returns rq's answer payload, or why there is none.
func (p *pipe) await(rq *request) ([]byte, error) {
	select {
	case <-rq.done:
		return rq.payload, rq.err
	case <-p.dead:
	}
	select {
	case <-rq.done:
		return rq.payload, rq.err
	default:
		return nil, p.err
	}
}

// read hands each answer to the oldest outstanding request, allowing it
// the timeout (plus its wait) from the moment the answer before it came.
func (p *pipe) read() {
	for {
		var rq *request
		select {
		case rq = <-p.queue:
		case <-p.dead:
			return
		}
		p.conn.SetReadDeadline(time.Now().Add(p.timeout + rq.wait))
		f, err := wire.ReadFrame(p.conn, int(p.max.Load()))
		if err != nil {
			p.fail(fmt.Errorf("relay: read: %w", err))
			return
		}
		rq.payload, rq.err = decodeAnswer(f, rq.want)
		close(rq.done)
	}
}

// decodeAnswer returns an answer's payload if it is of type want, or the
// relay's error.
func decodeAnswer(f wire.Frame, want wire.Type) ([]byte, error) {
	if f.Type == wire.Error {
		rep, err := wire.DecodeError(f.Payload)
		if err != nil {
			return nil, &RemoteError{Code: wire.Refused, Msg: "relay: unreadable error reply"}
		}
		return nil, &RemoteError{Code: rep.Code, Closing: rep.Closing, Msg: rep.Msg}
	}
	if f.Type != want {
		return nil, fmt.Errorf("relay: got frame type %d, want %d", f.Type, want)
	}
	return f.Payload, nil
}

// fail marks the pipe dead with err (the first error wins), closes the
// connection and returns the pipe's error.
func (p *pipe) fail(err error) error {
	p.failOnce.Do(func() {
		p.err = err
		close(p.dead)
		p.conn.Close()
	})
	return p.err
}

// isDead says whether the pipe failed.
func (p *pipe) isDead() bool {
	select {
	case <-p.dead:
		return true
	default:
		return false
	}
}

// errDropped is why a pipe the client gave up on failed.
var errDropped = errors.New("relay: connection dropped")
