package modetest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"image/jpeg"
	"image/png"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"scanlab"
	"scanlab/e2ee"
	"scanlab/internal/testimg"
)

// world is one in-process deployment of a mode: a directory, the server
// logic, devices made on demand, a clock, the provider's secrets and the
// provider's view.
type world struct {
	t    *testing.T
	mode scanlab.Mode
	rng  *mrand.Rand
	dir  *e2ee.MemoryDirectory
	srv  scanlab.ServerLogic
	devs map[scanlab.UserID]scanlab.Device
	n    int // messages made so far, for IDs

	mu      sync.Mutex
	clock   time.Time
	secrets map[string][]byte
	view    [][]byte // every byte string the provider handled
}

func newWorld(t *testing.T, newMode func(*testing.T) scanlab.Mode) *world {
	t.Helper()
	w := &world{t: t, mode: newMode(t), rng: mrand.New(mrand.NewPCG(1, 2)), dir: e2ee.NewMemoryDirectory(),
		devs: make(map[scanlab.UserID]scanlab.Device), clock: time.Now().UTC().Truncate(time.Second),
		secrets: make(map[string][]byte)}
	w.startServer()
	return w
}

// env is the server environment: the world's clock, secrets that survive a
// restart, and a Record that adds to the provider's view.
func (w *world) env() scanlab.ServerEnv {
	return scanlab.ServerEnv{
		Now: func() time.Time {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.clock = w.clock.Add(time.Millisecond)
			return w.clock
		},
		Secret: func(purpose string) ([]byte, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if k, ok := w.secrets[purpose]; ok {
				return slices.Clone(k), nil
			}
			k := make([]byte, 32)
			rand.Read(k)
			w.secrets[purpose] = k
			return slices.Clone(k), nil
		},
		Record: func(route string, data []byte, fields map[string]string) {
			w.see([]byte(route), data)
			for k, v := range fields {
				w.see([]byte(k), []byte(v))
			}
		},
	}
}

// startServer makes the server logic (again, for a restart) and makes it
// the directory's certificate issuer if it is one.
func (w *world) startServer() {
	w.t.Helper()
	srv, err := w.mode.NewServer(w.env())
	if err != nil {
		w.t.Fatalf("NewServer: %v", err)
	}
	w.srv = srv
	w.dir.Issuer, _ = srv.(scanlab.CertificateIssuer)
}

func (w *world) see(b ...[]byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, v := range b {
		w.view = append(w.view, slices.Clone(v))
	}
}

// seeEnvelope adds everything in an envelope the provider handles to its
// view.
func (w *world) seeEnvelope(e scanlab.Envelope) {
	w.see([]byte(e.ID), []byte(e.From), []byte(e.To), e.Body)
	for k, v := range e.Attach {
		w.see([]byte(k), v)
	}
}

func (w *world) device(u scanlab.UserID) scanlab.Device {
	w.t.Helper()
	if d, ok := w.devs[u]; ok {
		return d
	}
	d, err := w.mode.NewDevice(u, w.dir)
	if err != nil {
		w.t.Fatalf("NewDevice(%q): %v", u, err)
	}
	if d.User() != u {
		w.t.Fatalf("device of %q says it is %q", u, d.User())
	}
	w.devs[u] = d
	return d
}

// message makes a message with a fresh ID, making the recipient's and the
// sender's devices if they do not exist yet.
func (w *world) message(from, to scanlab.UserID, c scanlab.Content) scanlab.Message {
	w.device(to)
	w.device(from)
	w.n++
	return scanlab.Message{ID: fmt.Sprintf("msg-%d", w.n), From: from, To: to,
		Sent: time.Unix(1_700_000_000+int64(w.n), 0).UTC(), Content: c}
}

// deliver seals m on the sender's device and runs the server logic on it,
// returning the envelope as sealed and as delivered.
func (w *world) deliver(m scanlab.Message) (sealed, delivered scanlab.Envelope) {
	w.t.Helper()
	e, err := w.device(m.From).Seal(m)
	if err != nil {
		w.t.Fatalf("Seal %s: %v", m.ID, err)
	}
	sealed = clone(e)
	w.seeEnvelope(e)
	if _, err := w.srv.Accept(&e); err != nil {
		w.t.Fatalf("Accept %s: %v", m.ID, err)
	}
	w.seeEnvelope(e)
	return sealed, e
}

// open opens e on the recipient's device and checks it is m.
func (w *world) open(e scanlab.Envelope, m scanlab.Message) scanlab.Message {
	w.t.Helper()
	got, err := w.device(e.To).Open(clone(e))
	if err != nil {
		w.t.Fatalf("Open %s: %v", e.ID, err)
	}
	if err := same(got, m); err != nil {
		w.t.Fatalf("Open %s: %v", e.ID, err)
	}
	return got
}

// send delivers and opens one message.
func (w *world) send(from, to scanlab.UserID, c scanlab.Content) (opened scanlab.Message, delivered scanlab.Envelope) {
	w.t.Helper()
	m := w.message(from, to, c)
	_, delivered = w.deliver(m)
	return w.open(delivered, m), delivered
}

// same reports how got differs from the message that was sent.
func same(got, want scanlab.Message) error {
	switch {
	case got.ID != want.ID:
		return fmt.Errorf("ID %q, sent %q", got.ID, want.ID)
	case got.From != want.From || got.To != want.To:
		return fmt.Errorf("from %q to %q, sent from %q to %q", got.From, got.To, want.From, want.To)
	case !got.Sent.Equal(want.Sent):
		return fmt.Errorf("sent at %v, sent at %v", got.Sent, want.Sent)
	case got.Content.Kind != want.Content.Kind || got.Content.Text != want.Content.Text || !bytes.Equal(got.Content.Image, want.Content.Image):
		return fmt.Errorf("content %v of %d bytes, sent %v of %d bytes", got.Content.Kind, got.Content.Size(), want.Content.Kind, want.Content.Size())
	}
	return nil
}

func clone(e scanlab.Envelope) scanlab.Envelope {
	c := e
	c.Body = slices.Clone(e.Body)
	c.Attach = make(map[string][]byte, len(e.Attach))
	for k, v := range e.Attach {
		c.Attach[k] = slices.Clone(v)
	}
	return c
}

func text(s string) scanlab.Content { return scanlab.Content{Kind: scanlab.Text, Text: s} }

// pngImage is a deterministic 64×64 PNG.
func pngImage(seed int) scanlab.Content {
	return scanlab.Content{Kind: scanlab.Image, Image: testimg.Rectangles(seed, 0, 64)}
}

// jpegImage is the same picture re-encoded as a JPEG.
func jpegImage(t *testing.T, seed int) scanlab.Content {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(testimg.Rectangles(seed, 0, 64)))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return scanlab.Content{Kind: scanlab.Image, Image: b.Bytes()}
}

// positions returns the byte offsets to flip in a part of n bytes: all of
// them up to max, else the first, the last and a seeded sample.
func (w *world) positions(n, max int) []int {
	if n <= max {
		ps := make([]int, n)
		for i := range ps {
			ps[i] = i
		}
		return ps
	}
	ps := []int{0, n - 1}
	for len(ps) < max {
		ps = append(ps, w.rng.IntN(n))
	}
	slices.Sort(ps)
	return slices.Compact(ps)
}
