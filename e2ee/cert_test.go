package e2ee

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"scanlab"
	"scanlab/relay"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func issueTestCertificate(t *testing.T, clock *testClock) (*Server, *Identity, []byte) {
	t.Helper()
	env := testEnv(bytes.Repeat([]byte{9}, 32))
	env.Now = clock.now
	srv, err := NewServer(env)
	if err != nil {
		t.Fatal(err)
	}
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	_, kb, err := id.NewPrekeys(0, false)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := srv.IssueCertificate("alice", kb.Identity)
	if err != nil {
		t.Fatal(err)
	}
	return srv, id, raw
}

// TestCertificate issues a certificate, checks what it binds, and changes
// each field in turn: each change must fail to parse or to verify.
func TestCertificate(t *testing.T) {
	clock := newTestClock()
	srv, id, raw := issueTestCertificate(t, clock)
	root := srv.CertificateKey()
	c, err := ParseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.Sender != "alice" || c.Device != PrimaryDevice || c.Identity != id.Public() ||
		!c.Expires.Equal(clock.now().Add(DefaultCertificateLifetime)) || !bytes.Equal(c.Issuer[:], root) {
		t.Fatalf("certificate %+v does not bind what was issued", c)
	}
	if !bytes.Equal(c.Marshal(), raw) {
		t.Fatal("certificate does not re-encode to its input")
	}
	if err := c.Verify(root, clock.now()); err != nil {
		t.Fatal(err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	edit := func(f func(*SenderCertificate)) []byte {
		cc := *c
		f(&cc)
		return cc.Marshal()
	}
	for _, tc := range []struct {
		name string
		enc  []byte
		root ed25519.PublicKey
		at   time.Time
	}{
		{"field=sender", edit(func(c *SenderCertificate) { c.Sender = "mallory" }), root, clock.now()},
		{"field=device", edit(func(c *SenderCertificate) { c.Device = 2 }), root, clock.now()},
		{"field=identity", edit(func(c *SenderCertificate) { c.Identity.DH[0] ^= 1 }), root, clock.now()},
		{"field=signing-key", edit(func(c *SenderCertificate) { c.Identity.Sign[31] ^= 1 }), root, clock.now()},
		{"field=expires", edit(func(c *SenderCertificate) { c.Expires = c.Expires.Add(time.Hour) }), root, clock.now()},
		{"field=issuer", edit(func(c *SenderCertificate) { copy(c.Issuer[:], other) }), root, clock.now()},
		{"field=signature", edit(func(c *SenderCertificate) { c.Signature[7] ^= 1 }), root, clock.now()},
		{"case=other-root", raw, other, clock.now()},
		{"case=expired", raw, root, c.Expires},
		{"case=truncated", raw[:len(raw)-1], root, clock.now()},
		{"case=extended", append(slices.Clone(raw), 0), root, clock.now()},
		{"case=version", append([]byte{2}, raw[1:]...), root, clock.now()},
		{"case=empty-sender", edit(func(c *SenderCertificate) { c.Sender = "" }), root, clock.now()},
		{"case=empty", nil, root, clock.now()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCertificate(tc.enc)
			if err == nil {
				err = c.Verify(tc.root, tc.at)
			}
			if !errors.Is(err, ErrCertificate) {
				t.Fatalf("err = %v, want ErrCertificate", err)
			}
		})
	}
	t.Run("case=issue-bad-bundle", func(t *testing.T) {
		if _, err := srv.IssueCertificate("alice", raw); !errors.Is(err, ErrBadBundle) {
			t.Fatalf("err = %v, want ErrBadBundle", err)
		}
		if _, err := srv.IssueCertificate("", nil); !errors.Is(err, ErrCertificate) {
			t.Fatalf("empty user: err = %v", err)
		}
	})
}

// forgeSealed is mallory's device writing to bob under sealed sender while
// claiming to be claim: the ratchet message is on mallory's own session
// with bob (its initial message names mallory's identity key), encrypted
// for the claimed name, and the box carries cert.
func forgeSealed(t *testing.T, w *world, claim scanlab.UserID, cert []byte) scanlab.Envelope {
	t.Helper()
	mal := w.devs["mallory"]
	if _, err := mal.Seal(w.msg("mallory", "bob", "warm-up, never delivered")); err != nil {
		t.Fatal(err)
	}
	cv := mal.peers["bob"].convs[0]
	m := w.msg(claim, "bob", "I am "+string(claim)+", send money")
	ad, err := envelopeAD(m.ID, claim, "bob")
	if err != nil {
		t.Fatal(err)
	}
	pt, err := encodeContent(0, new([32]byte), m.Content)
	if err != nil {
		t.Fatal(err)
	}
	wire, c, err := cv.s.Encrypt(pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	box, err := sealSender(mal.pins.keys[address{"bob", PrimaryDevice}], m.ID, "bob", c[:], cert, cv.init)
	if err != nil {
		t.Fatal(err)
	}
	e := scanlab.Envelope{ID: m.ID, To: "bob", Sent: m.Sent, Body: wire,
		Attach: map[string][]byte{AttachCommitment: c[:], AttachSender: box}}
	if _, err := w.srv.Accept(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestSealedSenderClaimsAnotherName: mallory tells bob "I am alice" under
// sealed sender. With alice's genuine certificate (certificates are not
// secret: alice sends hers to everyone she writes to) the certificate's
// identity key is not the one mallory's session was agreed with; with her
// own certificate edited to say alice the signature fails; with her own
// certificate as is, the name in it is mallory's and the message does not
// decrypt for the name alice. Bob refuses each and pins nothing for alice.
func TestSealedSenderClaimsAnotherName(t *testing.T) {
	for _, tc := range []struct {
		name     string
		knowsAli bool // bob already has a session with alice
		cert     func(w *world) []byte
		want     error
	}{
		{"cert=alice/bob-knows-alice=no", false, func(w *world) []byte { return w.devs["alice"].cert }, ErrCertificate},
		{"cert=alice/bob-knows-alice=yes", true, func(w *world) []byte { return w.devs["alice"].cert }, ErrCertificate},
		{"cert=mallory-renamed", false, func(w *world) []byte {
			c, _ := ParseCertificate(w.devs["mallory"].cert)
			c.Sender = "alice"
			return c.Marshal()
		}, ErrCertificate},
		{"cert=mallory", false, func(w *world) []byte { return w.devs["mallory"].cert }, ErrAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, Options{SealedSender: true}, "alice", "bob", "mallory")
			if tc.knowsAli {
				w.send("alice", "bob", "hello")
			}
			bob := w.devs["bob"]
			pinBefore, knew := bob.PinnedIdentity("alice")
			e := forgeSealed(t, w, "alice", tc.cert(w))
			m, err := bob.Open(e)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %+v, %v; want %v", m, err, tc.want)
			}
			if pin, ok := bob.PinnedIdentity("alice"); ok != knew || pin != pinBefore || bob.IdentityChanges() != 0 {
				t.Fatal("forged message changed what bob pinned for alice")
			}
			if _, ok := bob.PinnedIdentity("mallory"); ok {
				t.Fatal("forged message pinned mallory's key")
			}
		})
	}
}

// countingIssuer counts certificate requests.
type countingIssuer struct {
	scanlab.CertificateIssuer
	n int
}

func (c *countingIssuer) IssueCertificate(u scanlab.UserID, id []byte) ([]byte, error) {
	c.n++
	return c.CertificateIssuer.IssueCertificate(u, id)
}

// TestCertificateLifetime: a device renews its certificate before it
// expires, and a recipient refuses a message whose certificate had expired
// when the relay handled it.
func TestCertificateLifetime(t *testing.T) {
	clock := newTestClock()
	key := bytes.Repeat([]byte{3}, 32)
	env := testEnv(key)
	env.Now = clock.now
	srv, err := NewServer(env)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, dir: NewMemoryDirectory(), srv: srv, devs: make(map[scanlab.UserID]*Device)}
	issuer := &countingIssuer{CertificateIssuer: srv}
	w.dir.Issuer = issuer
	for _, u := range []scanlab.UserID{"alice", "bob"} {
		d, err := NewDevice(Options{SealedSender: true, Now: clock.now}, u, w.dir)
		if err != nil {
			t.Fatal(err)
		}
		w.devs[u] = d
	}
	alice := w.devs["alice"]
	oldCert := alice.cert
	w.send("alice", "bob", "hello")
	clock.add(DefaultCertificateLifetime - certRefreshMargin/2)
	w.send("alice", "bob", "a day later")
	if issuer.n != 3 || bytes.Equal(alice.cert, oldCert) {
		t.Fatalf("%d certificates issued (want 3: two devices, one renewal)", issuer.n)
	}
	// alice's device holds on to the expired certificate.
	clock.add(certRefreshMargin)
	alice.cert, alice.certExpires = oldCert, clock.now().Add(time.Hour)
	e := w.seal(w.msg("alice", "bob", "sent with an expired certificate"))
	if _, err := w.devs["bob"].Open(e); !errors.Is(err, ErrCertificate) {
		t.Fatalf("expired certificate: err = %v, want ErrCertificate", err)
	}
}

// TestSealedSenderNeedsIssuer: a sealed-sender device refuses to start
// without a certificate from the provider.
func TestSealedSenderNeedsIssuer(t *testing.T) {
	if _, err := NewDevice(Options{SealedSender: true}, "alice", NewMemoryDirectory()); !errors.Is(err, scanlab.ErrNoCertificate) {
		t.Fatalf("err = %v, want ErrNoCertificate", err)
	}
}

// TestSealedSenderThroughRelay sends a sealed-sender message through the
// real TLS relay: the devices fetch their certificates with the relay's
// certificate frame, the relay stores an envelope without a sender, and
// bob learns alice's name from the certificate and reports the message.
func TestSealedSenderThroughRelay(t *testing.T) {
	mode := New(Options{SealedSender: true})
	r, err := relay.Start(relay.Config{DBPath: filepath.Join(t.TempDir(), "relay.db"), Logic: mode.NewServer, AllowSealedSender: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dial := func(u scanlab.UserID) *relay.Client {
		c, err := relay.Dial(r.Addr(), r.CA().Pool(), u, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	ca, cb := dial("alice"), dial("bob")
	alice, err := mode.NewDevice("alice", ca.Directory())
	if err != nil {
		t.Fatal(err)
	}
	bob, err := mode.NewDevice("bob", cb.Directory())
	if err != nil {
		t.Fatal(err)
	}
	e, err := alice.Seal(scanlab.Message{ID: "m1", From: "alice", To: "bob", Sent: time.Now(), Content: scanlab.Content{Kind: scanlab.Text, Text: "sealed hello"}})
	if err != nil {
		t.Fatal(err)
	}
	if e.From != "" {
		t.Fatalf("sealed envelope names its sender %q", e.From)
	}
	if _, err := ca.Send(e); err != nil {
		t.Fatal(err)
	}
	ds, err := cb.Fetch(10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("fetched %d, %v", len(ds), err)
	}
	got, err := bob.Open(ds[0].Envelope)
	if err != nil || got.From != "alice" || got.Content.Text != "sealed hello" {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	rep, err := bob.Report(got)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := cb.Report(rep); err != nil || n != 1 {
		t.Fatalf("report: %d detections, %v", n, err)
	}
	if _, err := ca.Certificate("bob"); err == nil {
		t.Fatal("a device fetched another account's certificate")
	}
}
