package relay

import (
	"bytes"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/relay/tap"
	"scanlab/relay/wire"
)

func startRelay(t *testing.T, cfg Config) *Relay {
	t.Helper()
	if cfg.DBPath == "" {
		cfg.DBPath = filepath.Join(t.TempDir(), "relay.db")
	}
	r, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func dial(t *testing.T, r *Relay, user scanlab.UserID) *Client {
	t.Helper()
	c, err := Dial(r.Addr(), r.CA().Pool(), user, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func env(id string, from, to scanlab.UserID, body string) scanlab.Envelope {
	return scanlab.Envelope{ID: id, From: from, To: to, Sent: time.Now().UTC(), Body: []byte(body)}
}

func TestTLS13AndDelivery(t *testing.T) {
	r := startRelay(t, Config{})
	if !strings.HasPrefix(r.Addr(), "127.0.0.1:") {
		t.Fatalf("relay listens on %s, want loopback", r.Addr())
	}
	alice, bob := dial(t, r, "alice"), dial(t, r, "bob")
	if alice.TLSVersion() != tls.VersionTLS13 {
		t.Fatalf("negotiated TLS version %#x, want TLS 1.3", alice.TLSVersion())
	}
	for i, body := range []string{"one", "two"} {
		if _, err := alice.Send(env("m"+string(rune('0'+i)), "alice", "bob", body)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := bob.Fetch(10)
	if err != nil || len(got) != 2 || string(got[0].Envelope.Body) != "one" || got[0].Envelope.From != "alice" {
		t.Fatalf("bob fetched %+v, %v", got, err)
	}
	// Not acknowledged: still there.
	again, _ := bob.Fetch(10)
	if len(again) != 2 {
		t.Fatalf("unacknowledged messages: %d, want 2", len(again))
	}
	if n, err := bob.Ack(got[0].Seq); n != 1 || err != nil {
		t.Fatalf("ack: %d %v", n, err)
	}
	again, _ = bob.Fetch(10)
	if len(again) != 1 || string(again[0].Envelope.Body) != "two" {
		t.Fatalf("after ack: %+v", again)
	}
	sent, recv := alice.Bytes()
	if sent == 0 || recv == 0 {
		t.Fatalf("byte counters: %d %d", sent, recv)
	}
}

func TestMailboxIsolationAndCredentials(t *testing.T) {
	r := startRelay(t, Config{})
	alice, mallory := dial(t, r, "alice"), dial(t, r, "mallory")
	if _, err := alice.Send(env("m1", "alice", "bob", "for bob only")); err != nil {
		t.Fatal(err)
	}
	var re *RemoteError
	if _, err := mallory.FetchMailbox("bob", 10); !errors.As(err, &re) || re.Msg != ErrNotYours.Error() {
		t.Fatalf("mallory fetched bob's mailbox: %v", err)
	}
	if _, err := mallory.Send(env("m2", "alice", "bob", "spoofed")); !errors.As(err, &re) || re.Msg != ErrSpoofedSender.Error() {
		t.Fatalf("spoofed sender accepted: %v", err)
	}
	// Bob registers with his own key; a second device with another key
	// claiming to be Bob is refused.
	bob := dial(t, r, "bob")
	if _, err := Dial(r.Addr(), r.CA().Pool(), "bob", nil); err == nil || !strings.Contains(err.Error(), "credential") {
		t.Fatalf("second credential for bob: %v", err)
	}
	// Bob's own key on a new connection is fine.
	got, err := bob.Fetch(10)
	if err != nil || len(got) != 1 {
		t.Fatalf("bob: %v %v", got, err)
	}
	// A device that does not trust the relay's CA refuses to connect.
	other, _ := pki.NewCA("other", time.Hour)
	if _, err := Dial(r.Addr(), other.Pool(), "eve", nil); err == nil {
		t.Fatal("connected to a relay whose certificate is not trusted")
	}
}

func TestBadFramesAreRefusedWithoutLoss(t *testing.T) {
	r := startRelay(t, Config{MaxFrame: 1 << 16})
	alice := dial(t, r, "alice")
	if _, err := alice.Send(env("keep", "alice", "bob", "stored before the attack")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		raw  []byte
	}{
		{"unknown-version", []byte{9, byte(wire.Send), 0, 0, 0, 0}},
		{"unknown-type", []byte{wire.Version, 200, 0, 0, 0, 0}},
		{"oversized", []byte{wire.Version, byte(wire.Send), 0x7f, 0xff, 0xff, 0xff}},
		{"malformed-envelope", append([]byte{wire.Version, byte(wire.Send), 0, 0, 0, 3}, 1, 2, 3)},
	}
	for _, c := range cases {
		t.Run("frame="+c.name, func(t *testing.T) {
			m := dial(t, r, scanlab.UserID("mallory-"+c.name))
			// Write on the connection behind the client's back (its reader
			// waits for requests of its own, so the answer is ours to read).
			p := m.pipe
			p.wmu.Lock()
			p.conn.Write(c.raw)
			f, err := wire.ReadFrame(p.conn, 1<<16)
			p.wmu.Unlock()
			if err != nil || f.Type != wire.Error {
				t.Fatalf("relay answered %v %v, want an Error frame", f.Type, err)
			}
		})
	}
	bob := dial(t, r, "bob")
	got, err := bob.Fetch(10)
	if err != nil || len(got) != 1 || got[0].Envelope.ID != "keep" {
		t.Fatalf("stored message after bad frames: %+v %v", got, err)
	}
	// The relay still serves new connections.
	dial(t, r, "carol")
}

func TestKeyDirectoryOneTimeKeysOnce(t *testing.T) {
	r := startRelay(t, Config{})
	alice, bob := dial(t, r, "alice"), dial(t, r, "bob")
	if _, err := alice.Directory().Fetch("bob"); !errors.Is(err, scanlab.ErrNoKeys) {
		t.Fatalf("missing bundle: %v", err)
	}
	if err := bob.Directory().Publish("bob", scanlab.KeyBundle{Identity: []byte("ik"), OneTime: [][]byte{[]byte("o1")}}); err != nil {
		t.Fatal(err)
	}
	if err := alice.Directory().Publish("bob", scanlab.KeyBundle{Identity: []byte("forged")}); err == nil {
		t.Fatal("alice published bob's keys")
	}
	b1, err := alice.Directory().Fetch("bob")
	if err != nil || string(b1.Identity) != "ik" || len(b1.OneTime) != 1 {
		t.Fatalf("first fetch: %+v %v", b1, err)
	}
	b2, _ := alice.Directory().Fetch("bob")
	if len(b2.OneTime) != 0 {
		t.Fatalf("one-time key handed out twice: %+v", b2)
	}
}

// TestTapSeesNoPlaintext checks the eavesdropper's capture holds the real
// bytes (TLS records) and none of the planted content.
func TestTapSeesNoPlaintext(t *testing.T) {
	dir := t.TempDir()
	tp, err := tap.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := startRelay(t, Config{Tap: tp})
	canary := "canary-4be1c0ffee"
	alice, bob := dial(t, r, "alice"), dial(t, r, "bob")
	alice.Send(env("m1", "alice", "bob", "secret "+canary))
	bob.Fetch(1)
	r.Close()
	tp.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "wire-*.bin"))
	if len(files) < 4 {
		t.Fatalf("capture files: %v", files)
	}
	total := 0
	for _, f := range files {
		b, _ := os.ReadFile(f)
		total += len(b)
		if bytes.Contains(b, []byte(canary)) || bytes.Contains(b, []byte("alice")) {
			t.Fatalf("%s holds plaintext", f)
		}
		if len(b) > 0 && b[0] != 0x16 { // every stream starts with a TLS handshake record
			t.Fatalf("%s does not start with a TLS record: %x", f, b[:1])
		}
	}
	if total < 1000 {
		t.Fatalf("capture holds only %d bytes", total)
	}
}

func TestExportAndObserve(t *testing.T) {
	var routes []string
	r := startRelay(t, Config{Observe: func(route string, _ []byte, f map[string]string) { routes = append(routes, route+":"+f["message"]) }})
	alice := dial(t, r, "alice")
	alice.Send(env("m1", "alice", "bob", "hello"))
	x, err := r.Export()
	if err != nil || len(x.Messages) != 1 || string(x.Messages[0].Body) != "hello" || x.Messages[0].From != "alice" {
		t.Fatalf("export: %+v %v", x, err)
	}
	if len(routes) != 1 || !strings.HasSuffix(routes[0], ":m1") {
		t.Fatalf("observed: %v", routes)
	}
}
