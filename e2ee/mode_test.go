package e2ee

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"scanlab"
)

type world struct {
	t    testing.TB
	dir  *MemoryDirectory
	srv  *Server
	devs map[scanlab.UserID]*Device
	n    int
}

// testEnv is a server environment whose clock starts now and moves one
// second per reading, and whose every secret is key.
func testEnv(key []byte) scanlab.ServerEnv {
	var mu sync.Mutex
	clock := time.Now().UTC().Truncate(time.Second)
	return scanlab.ServerEnv{
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Second)
			return clock
		},
		Secret: func(string) ([]byte, error) { return key, nil },
	}
}

func newWorld(t testing.TB, opts Options, users ...scanlab.UserID) *world {
	t.Helper()
	mode := New(opts)
	if mode.Name() != "e2ee" {
		t.Fatalf("Name() = %q", mode.Name())
	}
	key := make([]byte, 32)
	rand.Read(key)
	logic, err := mode.NewServer(testEnv(key))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, dir: NewMemoryDirectory(), srv: logic.(*Server), devs: make(map[scanlab.UserID]*Device)}
	w.dir.Issuer = w.srv
	for _, u := range users {
		d, err := mode.NewDevice(u, w.dir)
		if err != nil {
			t.Fatal(err)
		}
		w.devs[u] = d.(*Device)
	}
	return w
}

func (w *world) msg(from, to scanlab.UserID, text string) scanlab.Message {
	w.n++
	return scanlab.Message{ID: fmt.Sprintf("m%d", w.n), From: from, To: to, Sent: time.Unix(int64(w.n), 0),
		Content: scanlab.Content{Kind: scanlab.Text, Text: text}}
}

// seal seals and relays a message (Seal, then the server's Accept).
func (w *world) seal(m scanlab.Message) scanlab.Envelope {
	w.t.Helper()
	e, err := w.devs[m.From].Seal(m)
	if err != nil {
		w.t.Fatalf("seal %s: %v", m.ID, err)
	}
	if _, err := w.srv.Accept(&e); err != nil {
		w.t.Fatalf("accept %s: %v", m.ID, err)
	}
	return e
}

func (w *world) open(e scanlab.Envelope) scanlab.Message {
	w.t.Helper()
	m, err := w.devs[e.To].Open(e)
	if err != nil {
		w.t.Fatalf("open %s: %v", e.ID, err)
	}
	return m
}

func (w *world) send(from, to scanlab.UserID, text string) scanlab.Message {
	w.t.Helper()
	m := w.msg(from, to, text)
	got := w.open(w.seal(m))
	if got.ID != m.ID || got.From != from || got.To != to || !got.Sent.Equal(m.Sent) || got.Content.Text != text {
		w.t.Fatalf("opened %+v, want %+v", got, m)
	}
	return got
}

// TestModeRoundTrip runs Seal → Accept → Open → Report → Verify through the
// in-memory directory, with and without PQ and sealed sender, for a text and
// an image.
func TestModeRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"pq=no/sealed=no", Options{}},
		{"pq=yes/sealed=no", Options{PQ: true}},
		{"pq=no/sealed=yes", Options{SealedSender: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.opts, "alice", "bob")
			m := w.msg("alice", "bob", "hello bob")
			e := w.seal(m)
			if _, ok := e.Attach[AttachInit]; ok == tc.opts.SealedSender {
				t.Fatalf("initial message in the clear = %t with sealed sender %t", ok, tc.opts.SealedSender)
			}
			if tc.opts.SealedSender {
				// Nothing in the envelope names alice: not her user name,
				// not her identity keys.
				ik := w.devs["alice"].Identity()
				for name, v := range e.Attach {
					for _, secret := range [][]byte{[]byte("alice"), ik.DH[:], ik.Sign[:]} {
						if bytes.Contains(v, secret) || bytes.Contains(e.Body, secret) {
							t.Fatalf("attachment %s or body reveals the sender", name)
						}
					}
				}
			}
			if tc.opts.SealedSender != (e.From == "") {
				t.Fatalf("envelope From = %q with sealed sender %t", e.From, tc.opts.SealedSender)
			}
			if bytes.Contains(e.Body, []byte("hello bob")) {
				t.Fatal("plaintext visible in the body")
			}
			if len(w.devs["bob"].pre.OneTime) != 16 {
				t.Fatal("one-time prekey deleted before use")
			}
			got := w.open(e)
			if got.Content.Text != "hello bob" || got.From != "alice" {
				t.Fatalf("opened %+v", got)
			}
			if n := len(w.devs["bob"].pre.OneTime); n != 15 {
				t.Fatalf("bob holds %d one-time prekeys after one session, want 15", n)
			}
			// Until bob answers, alice keeps attaching the initial message.
			e2 := w.seal(w.msg("alice", "bob", "still there?"))
			if _, ok := e2.Attach[AttachInit]; !ok && !tc.opts.SealedSender {
				t.Fatal("second message before an answer carries no initial message")
			}
			w.open(e2)
			w.send("bob", "alice", "hi alice")
			e3 := w.seal(w.msg("alice", "bob", "good"))
			if _, ok := e3.Attach[AttachInit]; ok {
				t.Fatal("initial message still attached after the peer answered")
			}
			w.open(e3)
			img := make([]byte, 3000)
			rand.Read(img)
			im := w.msg("alice", "bob", "")
			im.Content = scanlab.Content{Kind: scanlab.Image, Image: img}
			gotImg := w.open(w.seal(im))
			if gotImg.Content.Kind != scanlab.Image || !bytes.Equal(gotImg.Content.Image, img) {
				t.Fatal("image changed in transit")
			}

			r, err := w.devs["bob"].Report(got)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := w.srv.Verify(r)
			if err != nil {
				t.Fatal(err)
			}
			wantAccount := scanlab.UserID("alice")
			if tc.opts.SealedSender {
				wantAccount = ""
			}
			if len(ds) != 1 || ds[0].Pathway != scanlab.UserReport || ds[0].MessageID != m.ID || ds[0].Account != wantAccount {
				t.Fatalf("detections = %+v", ds)
			}
			msgs, err := w.srv.Open(r)
			if err != nil || len(msgs) != 1 || msgs[0].Content.Text != "hello bob" {
				t.Fatalf("server learned %+v, %v", msgs, err)
			}
			if bytes.Contains(r.Evidence, []byte("still there?")) || bytes.Contains(r.Evidence, []byte("hi alice")) {
				t.Fatal("report carries other messages")
			}
		})
	}
}

func TestModeSimultaneousInitiation(t *testing.T) {
	w := newWorld(t, Options{}, "alice", "bob")
	ea := w.seal(w.msg("alice", "bob", "a1"))
	eb := w.seal(w.msg("bob", "alice", "b1"))
	w.open(ea)
	w.open(eb)
	for i := range 4 {
		w.send("alice", "bob", fmt.Sprint("a", i+2))
		w.send("bob", "alice", fmt.Sprint("b", i+2))
	}
}

// TestModeOutOfOrder delivers a burst in reverse and a late first message.
func TestModeOutOfOrder(t *testing.T) {
	w := newWorld(t, Options{}, "alice", "bob")
	var es []scanlab.Envelope
	for i := range 5 {
		es = append(es, w.seal(w.msg("alice", "bob", fmt.Sprint(i))))
	}
	for _, e := range slices.Backward(es) {
		w.open(e)
	}
	w.send("bob", "alice", "got them")
	for _, e := range es {
		if _, err := w.devs["bob"].Open(e); err == nil {
			t.Fatalf("replay of %s accepted", e.ID)
		}
	}
}

func cloneEnvelope(e scanlab.Envelope) scanlab.Envelope {
	c := e
	c.Body = slices.Clone(e.Body)
	c.Attach = make(map[string][]byte)
	for k, v := range e.Attach {
		c.Attach[k] = slices.Clone(v)
	}
	return c
}

// TestModeRejectsBadEnvelopes: each bad envelope is refused and nothing on
// the device changes, so the genuine envelope still opens afterwards; a
// forged first message does not burn a one-time prekey.
func TestModeRejectsBadEnvelopes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		first  bool
		sealed bool
		mutate func(*scanlab.Envelope)
	}{
		{"body", true, false, func(e *scanlab.Envelope) { e.Body[len(e.Body)-3] ^= 1 }},
		{"body-later", false, false, func(e *scanlab.Envelope) { e.Body[HeaderSize] ^= 1 }},
		{"header-dh", false, false, func(e *scanlab.Envelope) { e.Body[2] ^= 1 }},
		{"init", true, false, func(e *scanlab.Envelope) { e.Attach[AttachInit][70] ^= 1 }},
		{"init-truncated", true, false, func(e *scanlab.Envelope) { e.Attach[AttachInit] = e.Attach[AttachInit][:50] }},
		{"commitment", false, false, func(e *scanlab.Envelope) { e.Attach[AttachCommitment][0] ^= 1 }},
		{"no-commitment", false, false, func(e *scanlab.Envelope) { delete(e.Attach, AttachCommitment) }},
		{"id", false, false, func(e *scanlab.Envelope) { e.ID += "x" }},
		{"from", false, false, func(e *scanlab.Envelope) { e.From = "carol" }},
		{"to", false, false, func(e *scanlab.Envelope) { e.To = "carol" }},
		{"sealed-box", false, true, func(e *scanlab.Envelope) { e.Attach[AttachSender][40] ^= 1 }},
		{"sealed-with-from", false, true, func(e *scanlab.Envelope) { e.From = "alice" }},
		{"sealed-box-short", false, true, func(e *scanlab.Envelope) { e.Attach[AttachSender] = e.Attach[AttachSender][:10] }},
		{"sealed-box-first", true, true, func(e *scanlab.Envelope) { e.Attach[AttachSender][100] ^= 1 }},
		{"sealed-box-moved", false, true, func(e *scanlab.Envelope) { e.ID = "other" }},
		{"sealed-plus-clear-init", true, true, func(e *scanlab.Envelope) { e.Attach[AttachInit] = []byte{1} }},
	} {
		t.Run("field="+tc.name, func(t *testing.T) {
			w := newWorld(t, Options{SealedSender: tc.sealed}, "alice", "bob", "carol")
			if !tc.first {
				w.send("alice", "bob", "hello")
				w.send("bob", "alice", "hi")
			}
			e := w.seal(w.msg("alice", "bob", "target"))
			bad := cloneEnvelope(e)
			tc.mutate(&bad)
			opk := len(w.devs["bob"].pre.OneTime)
			var before snap
			if p := w.devs["bob"].peers["alice"]; p != nil {
				before = snapshot(p.convs[0].s)
			}
			dev := w.devs["bob"]
			if bad.To == "carol" {
				dev = w.devs["carol"]
			}
			if _, err := dev.Open(bad); err == nil {
				t.Fatal("bad envelope opened")
			}
			if len(w.devs["bob"].pre.OneTime) != opk {
				t.Fatal("rejected envelope consumed a one-time prekey")
			}
			if p := w.devs["bob"].peers["alice"]; p != nil && !tc.first {
				if after := snapshot(p.convs[0].s); !equalSnap(before, after) {
					t.Fatal("rejected envelope changed the session")
				}
			}
			if got := w.open(e); got.Content.Text != "target" {
				t.Fatalf("genuine envelope opened as %q", got.Content.Text)
			}
		})
	}
}

func TestSealWithExtraAttachments(t *testing.T) {
	w := newWorld(t, Options{}, "alice", "bob")
	e, err := w.devs["alice"].SealWith(w.msg("alice", "bob", "x"), map[string][]byte{"voucher": {1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.Attach["voucher"], []byte{1, 2, 3}) {
		t.Fatal("extra attachment missing")
	}
	if _, err := w.srv.Accept(&e); err != nil {
		t.Fatal(err)
	}
	w.open(e)
	for _, name := range reserved {
		if _, err := w.devs["alice"].SealWith(w.msg("alice", "bob", "x"), map[string][]byte{name: nil}); !errors.Is(err, ErrReservedAttachment) {
			t.Errorf("%s: err = %v, want ErrReservedAttachment", name, err)
		}
	}
	if _, err := w.devs["alice"].Seal(w.msg("bob", "alice", "spoof")); err == nil {
		t.Error("device sealed a message from another user")
	}
}

func TestServerRefusesUnfrankedEnvelope(t *testing.T) {
	w := newWorld(t, Options{}, "alice", "bob")
	e := scanlab.Envelope{ID: "x", From: "alice", To: "bob", Body: []byte{1}, Attach: map[string][]byte{}}
	if _, err := w.srv.Accept(&e); err == nil {
		t.Fatal("accepted an envelope without a commitment")
	}
}

// TestDeviceConcurrentUse seals from several goroutines at once; run with
// -race.
func TestDeviceConcurrentUse(t *testing.T) {
	w := newWorld(t, Options{}, "alice", "bob")
	var wg sync.WaitGroup
	envs := make([]scanlab.Envelope, 8)
	for i := range envs {
		m := w.msg("alice", "bob", fmt.Sprint(i))
		wg.Go(func() {
			e, err := w.devs["alice"].Seal(m)
			if err != nil {
				t.Error(err)
			}
			envs[i] = e
		})
	}
	wg.Wait()
	for _, e := range envs {
		if _, err := w.srv.Accept(&e); err != nil {
			t.Fatal(err)
		}
		w.open(e)
	}
}

// TestModeRejectsBadContent: an authentic message whose content does not
// decode (a buggy or malicious sender) is refused before the session
// commits.
func TestModeRejectsBadContent(t *testing.T) {
	for _, tc := range []struct {
		name string
		pt   []byte
	}{
		{"empty", nil},
		{"short", []byte{contentVersion, 0, 0}},
		{"version", append([]byte{9}, make([]byte, contentHdrLen)...)},
		{"kind", append(append([]byte{contentVersion}, make([]byte, contentHdrLen-2)...), 7)},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			w := newWorld(t, Options{}, "alice", "bob")
			w.send("alice", "bob", "hello")
			m := w.msg("alice", "bob", "")
			ad, _ := envelopeAD(m.ID, m.From, m.To)
			wire, c, err := w.devs["alice"].peers["bob"].convs[0].s.Encrypt(tc.pt, ad)
			if err != nil {
				t.Fatal(err)
			}
			e := scanlab.Envelope{ID: m.ID, From: m.From, To: m.To, Body: wire, Attach: map[string][]byte{AttachCommitment: c[:]}}
			if _, err := w.srv.Accept(&e); err != nil {
				t.Fatal(err)
			}
			bob := w.devs["bob"].peers["alice"]
			before, nrecv := snapshot(bob.convs[0].s), len(bob.received)
			if _, err := w.devs["bob"].Open(e); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !equalSnap(before, snapshot(bob.convs[0].s)) || len(bob.received) != nrecv {
				t.Fatal("refused content changed the device")
			}
		})
	}
}
