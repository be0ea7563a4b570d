// Package tap records the raw bytes of TCP connections: the network
// eavesdropper's view. It wraps a net.Listener so every accepted connection's
// bytes, in both directions, are appended to files as they cross the socket,
// together with an index of when each chunk was seen.
//
// # Who sees what
//
// The capture is exactly what someone on the path between devices and relay
// sees: TLS records. Their contents are encrypted; their lengths, directions
// and times are not. Nothing is recorded after TLS terminates.
package tap

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Direction of a chunk of bytes.
type Direction string

// The two directions, named from the relay's side.
const (
	ToRelay   Direction = "to-relay"
	FromRelay Direction = "from-relay"
)

// Chunk is one read or write seen on a tapped connection.
type Chunk struct {
	Conn   int
	Dir    Direction
	Remote string // the device's address as the relay sees it
	At     time.Time
	Offset int64 // offset of the chunk in its stream file
	Len    int
}

// Recorder writes captures into one directory. It is safe for concurrent use.
type Recorder struct {
	dir    string
	mu     sync.Mutex
	next   int
	chunks []Chunk
	files  []*stream
	closed bool
}

type stream struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	path string
	off  int64
}

// New returns a recorder writing into dir (created if needed). Files are
// named wire-NNNN-to-relay.bin, wire-NNNN-from-relay.bin and wire-index.csv.
func New(dir string) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tap: %w", err)
	}
	return &Recorder{dir: dir}, nil
}

// Listener wraps l so every accepted connection is recorded.
func (r *Recorder) Listener(l net.Listener) net.Listener { return &listener{l, r} }

type listener struct {
	net.Listener
	r *Recorder
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.r.Wrap(c)
}

// Wrap records c, seen from the relay's side: reads are bytes to the relay,
// writes are bytes from it.
func (r *Recorder) Wrap(c net.Conn) (net.Conn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("tap: recorder closed")
	}
	r.next++
	id := r.next
	in, err := r.open(fmt.Sprintf("wire-%04d-%s.bin", id, ToRelay))
	if err != nil {
		return nil, err
	}
	out, err := r.open(fmt.Sprintf("wire-%04d-%s.bin", id, FromRelay))
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, r: r, id: id, in: in, out: out, remote: c.RemoteAddr().String()}, nil
}

func (r *Recorder) open(name string) (*stream, error) {
	path := filepath.Join(r.dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("tap: %w", err)
	}
	s := &stream{f: f, w: bufio.NewWriterSize(f, 64<<10), path: path}
	r.files = append(r.files, s)
	return s, nil
}

type conn struct {
	net.Conn
	r       *Recorder
	id      int
	in, out *stream
	remote  string
}

func (c *conn) record(s *stream, d Direction, p []byte) {
	if len(p) == 0 {
		return
	}
	now := time.Now()
	s.mu.Lock()
	off := s.off
	s.w.Write(p)
	s.off += int64(len(p))
	s.mu.Unlock()
	c.r.mu.Lock()
	c.r.chunks = append(c.r.chunks, Chunk{Conn: c.id, Dir: d, Remote: c.remote, At: now, Offset: off, Len: len(p)})
	c.r.mu.Unlock()
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.record(c.in, ToRelay, p[:n])
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.record(c.out, FromRelay, p[:n])
	return n, err
}

// Chunks returns a copy of the chunk index so far.
func (r *Recorder) Chunks() []Chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Chunk(nil), r.chunks...)
}

// Flush writes buffered bytes to the files.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	files := append([]*stream(nil), r.files...)
	r.mu.Unlock()
	for _, s := range files {
		s.mu.Lock()
		err := s.w.Flush()
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("tap: %w", err)
		}
	}
	return nil
}

// Stream returns the captured bytes of one connection and direction.
func (r *Recorder) Stream(id int, d Direction) ([]byte, error) {
	if err := r.Flush(); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(r.dir, fmt.Sprintf("wire-%04d-%s.bin", id, d)))
}

// Files returns the paths of the stream files written so far.
func (r *Recorder) Files() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.files))
	for i, s := range r.files {
		out[i] = s.path
	}
	return out
}

// Close flushes and closes every file and writes wire-index.csv.
func (r *Recorder) Close() error {
	if err := r.Flush(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	for _, s := range r.files {
		s.f.Close()
	}
	f, err := os.Create(filepath.Join(r.dir, "wire-index.csv"))
	if err != nil {
		return fmt.Errorf("tap: %w", err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"conn", "direction", "remote", "time_unix_ns", "offset", "length"})
	for _, c := range r.chunks {
		w.Write([]string{strconv.Itoa(c.Conn), string(c.Dir), c.Remote, strconv.FormatInt(c.At.UnixNano(), 10), strconv.FormatInt(c.Offset, 10), strconv.Itoa(c.Len)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
