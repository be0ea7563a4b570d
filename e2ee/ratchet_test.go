package e2ee

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// newPair runs X3DH between two fresh identities and returns the
// initiator's and the responder's sessions.
func newPair(t testing.TB, lim Limits) (alice, bob *Session) {
	t.Helper()
	idA, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	idB, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	pk, kb, err := idB.NewPrekeys(1, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBundle(kb)
	if err != nil {
		t.Fatal(err)
	}
	sk, ad, init, err := Initiate(idA, b, DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	alice, err = NewInitiatorSession(sk, ad, b.Signed[:], DefaultProfile, lim)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseInitMessage(init.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	skB, adB, err := Respond(idB, pk, m, DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	return alice, NewResponderSession(skB, adB, pk.Signed[pk.SignedID], DefaultProfile, lim)
}

type wireMsg struct {
	wire []byte
	c    [CommitmentSize]byte
	ad   []byte
	text string
}

func send(t testing.TB, s *Session, text string) wireMsg {
	t.Helper()
	ad := []byte("ad:" + text)
	w, c, err := s.Encrypt([]byte(text), ad)
	if err != nil {
		t.Fatal(err)
	}
	return wireMsg{w, c, ad, text}
}

func recv(s *Session, m wireMsg) error {
	got, _, err := s.Decrypt(m.wire, m.c[:], m.ad)
	if err != nil {
		return err
	}
	if string(got) != m.text {
		return fmt.Errorf("decrypted %q, want %q", got, m.text)
	}
	return nil
}

func mustRecv(t testing.TB, s *Session, m wireMsg) {
	t.Helper()
	if err := recv(s, m); err != nil {
		t.Fatalf("decrypt %q: %v", m.text, err)
	}
}

// snap is everything in a session that a decryption may change.
type snap struct {
	st      state
	skipped map[skipID][32]byte
	fifo    []skipID
}

func snapshot(s *Session) snap {
	return snap{s.st, maps.Clone(s.skipped), slices.Clone(s.fifo)}
}

func clone(s *Session) *Session {
	c := *s
	c.ad = slices.Clone(s.ad)
	c.skipped = maps.Clone(s.skipped)
	c.fifo = slices.Clone(s.fifo)
	c.scratch = nil
	return &c
}

func TestRoundTripSizes(t *testing.T) {
	alice, bob := newPair(t, Limits{})
	for _, n := range []int{0, 1, 222, 223, 1024, 64 << 10} {
		t.Run(fmt.Sprintf("size=%d", n), func(t *testing.T) {
			m := make([]byte, n)
			rand.Read(m)
			w, c, err := alice.Encrypt(m, nil)
			if err != nil {
				t.Fatal(err)
			}
			body := len(w) - HeaderSize - TagSize
			if body%DefaultPadBucket != 0 || body < n+FrankKeySize+1 || body >= n+FrankKeySize+1+DefaultPadBucket {
				t.Errorf("padded body of %d bytes for %d-byte plaintext", body, n)
			}
			got, kf, err := bob.Decrypt(w, c[:], nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, m) || len(kf) != FrankKeySize {
				t.Errorf("round trip changed the message")
			}
			// And back, which turns the ratchet.
			w, c, err = bob.Encrypt(m, []byte{1})
			if err != nil {
				t.Fatal(err)
			}
			if got, _, err = alice.Decrypt(w, c[:], []byte{1}); err != nil || !bytes.Equal(got, m) {
				t.Errorf("reply: %v", err)
			}
		})
	}
}

func TestResponderCannotSendFirst(t *testing.T) {
	_, bob := newPair(t, Limits{})
	if _, _, err := bob.Encrypt([]byte("x"), nil); !errors.Is(err, ErrNotSendReady) {
		t.Fatalf("err = %v, want ErrNotSendReady", err)
	}
}

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

// TestEveryDeliveryOrder delivers messages in every order: six messages on
// one chain (720 orders), and five messages spread over two of the sender's
// chains with a DH ratchet between them (120 orders).
func TestEveryDeliveryOrder(t *testing.T) {
	t.Run("chains=1/messages=6", func(t *testing.T) {
		alice, bob := newPair(t, Limits{})
		mustRecv(t, bob, send(t, alice, "hello"))
		mustRecv(t, alice, send(t, bob, "hi"))
		var msgs []wireMsg
		for i := range 6 {
			msgs = append(msgs, send(t, alice, fmt.Sprint("m", i)))
		}
		checkOrders(t, bob, msgs)
	})
	t.Run("chains=2/messages=5", func(t *testing.T) {
		alice, bob := newPair(t, Limits{})
		a1, a2, a3 := send(t, alice, "a1"), send(t, alice, "a2"), send(t, alice, "a3")
		mustRecv(t, bob, a1)
		mustRecv(t, alice, send(t, bob, "reply"))
		a4, a5, a6 := send(t, alice, "a4"), send(t, alice, "a5"), send(t, alice, "a6")
		if bytes.Equal(a3.wire[1:1+KeySize], a4.wire[1:1+KeySize]) {
			t.Fatal("sender did not ratchet")
		}
		checkOrders(t, bob, []wireMsg{a2, a3, a4, a5, a6})
	})
}

func checkOrders(t *testing.T, bob *Session, msgs []wireMsg) {
	t.Helper()
	perms := permutations(len(msgs))
	for _, p := range perms {
		b := clone(bob)
		for _, i := range p {
			if err := recv(b, msgs[i]); err != nil {
				t.Fatalf("order %v: message %d: %v", p, i, err)
			}
		}
		if b.StoredKeys() != 0 {
			t.Fatalf("order %v: %d keys left stored", p, b.StoredKeys())
		}
		for _, i := range p {
			if err := recv(b, msgs[i]); !errors.Is(err, ErrDuplicate) {
				t.Fatalf("order %v: replay of %d: err = %v, want ErrDuplicate", p, i, err)
			}
		}
	}
	t.Logf("%d orders", len(perms))
}

func TestReplayRejected(t *testing.T) {
	alice, bob := newPair(t, Limits{})
	m0, m1, m2 := send(t, alice, "0"), send(t, alice, "1"), send(t, alice, "2")
	mustRecv(t, bob, m0)
	mustRecv(t, bob, m2) // stores the key of m1
	mustRecv(t, bob, m1) // uses and deletes it
	for _, m := range []wireMsg{m0, m1, m2} {
		before := snapshot(bob)
		if err := recv(bob, m); !errors.Is(err, ErrDuplicate) {
			t.Errorf("replay of %s: err = %v, want ErrDuplicate", m.text, err)
		}
		if !reflect.DeepEqual(before, snapshot(bob)) {
			t.Errorf("replay of %s changed the session", m.text)
		}
	}
}

// lowOrder lists X25519 points whose shared secret with any key is zero:
// 0, 1 and a point of order 8 (RFC 7748 §6.1; libsignal rejects such base
// keys, test_bob_rejects_torsioned_basekey).
var lowOrder = [][]byte{
	make([]byte, 32),
	append([]byte{1}, make([]byte, 31)...),
	[]byte("\xe0\xeb\x7a\x7c\x3b\x41\xb8\xae\x16\x56\xe3\xfa\xf1\x9f\xc4\x6a\xda\x09\x8d\xeb\x9c\x32\xb1\xfd\x86\x62\x05\x16\x5f\x49\xb8\x00"),
}

// TestBadMessagesLeaveStateUnchanged tampers with every header field, the
// ciphertext, the tag, the commitment and the associated data, sends keys
// not on the curve and jumps beyond the cap; each is rejected with the
// expected error, the session is byte-for-byte unchanged and the genuine
// message still decrypts afterwards.
func TestBadMessagesLeaveStateUnchanged(t *testing.T) {
	flip := func(i int) func(m *wireMsg, old wireMsg) {
		return func(m *wireMsg, _ wireMsg) { m.wire[i] ^= 1 }
	}
	setN := func(off int, v uint32) func(m *wireMsg, old wireMsg) {
		return func(m *wireMsg, _ wireMsg) {
			m.wire[off], m.wire[off+1], m.wire[off+2], m.wire[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		}
	}
	setDH := func(k []byte) func(m *wireMsg, old wireMsg) {
		return func(m *wireMsg, _ wireMsg) { copy(m.wire[1:], k) }
	}
	randomKey := make([]byte, 32)
	rand.Read(randomKey)
	pn, n := 1+KeySize, 1+KeySize+4
	for _, tc := range []struct {
		name   string
		mutate func(m *wireMsg, old wireMsg)
		want   error
	}{
		{"version", setN(0, 0), ErrMalformed},
		{"version=2", func(m *wireMsg, _ wireMsg) { m.wire[0] = 2 }, ErrMalformed},
		{"dh-bit", flip(1), ErrAuth},
		{"dh-random", setDH(randomKey), ErrAuth},
		{"dh-zero", setDH(lowOrder[0]), ErrInvalidKey},
		{"dh-one", setDH(lowOrder[1]), ErrInvalidKey},
		{"dh-order8", setDH(lowOrder[2]), ErrInvalidKey},
		{"pn", flip(pn + 3), ErrAuth},
		{"n-next", setN(n, 3), ErrAuth},
		{"n-old-chain", func(m *wireMsg, old wireMsg) { copy(m.wire[1:], old.wire[1:1+KeySize]); setN(n, 0)(m, old) }, ErrDuplicate},
		{"n-far", setN(n, 1<<30), ErrTooFarAhead},
		{"n-past", setN(n, 0), ErrDuplicate},
		{"ciphertext", flip(HeaderSize + 5), ErrAuth},
		{"tag", func(m *wireMsg, _ wireMsg) { m.wire[len(m.wire)-1] ^= 0x80 }, ErrAuth},
		{"commitment", func(m *wireMsg, _ wireMsg) { m.c[0] ^= 1 }, ErrAuth},
		{"ad", func(m *wireMsg, _ wireMsg) { m.ad = append(m.ad, 0) }, ErrAuth},
		{"truncated-header", func(m *wireMsg, _ wireMsg) { m.wire = m.wire[:HeaderSize-1] }, ErrMalformed},
		{"truncated-body", func(m *wireMsg, _ wireMsg) { m.wire = m.wire[:HeaderSize+TagSize] }, ErrMalformed},
		{"cut-tag", func(m *wireMsg, _ wireMsg) { m.wire = m.wire[:len(m.wire)-1] }, ErrAuth},
		{"oversized", func(m *wireMsg, _ wireMsg) { m.wire = append(m.wire, make([]byte, maxWire)...) }, ErrMalformed},
	} {
		t.Run("field="+tc.name, func(t *testing.T) {
			alice, bob := newPair(t, Limits{})
			mustRecv(t, bob, send(t, alice, "first"))
			m1, m2 := send(t, alice, "skipped"), send(t, alice, "target")
			mustRecv(t, bob, m2) // bob now holds one skipped key
			mustRecv(t, alice, send(t, bob, "turn"))
			mustRecv(t, bob, send(t, alice, "after the turn"))
			target := send(t, alice, "target")
			bad := wireMsg{slices.Clone(target.wire), target.c, slices.Clone(target.ad), target.text}
			tc.mutate(&bad, m1)
			before := snapshot(bob)
			if err := recv(bob, bad); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !reflect.DeepEqual(before, snapshot(bob)) {
				t.Fatal("rejected message changed the session")
			}
			mustRecv(t, bob, target)
			mustRecv(t, bob, m1)
		})
	}
}

func TestSkipCaps(t *testing.T) {
	t.Run("cap=MaxSkip", func(t *testing.T) {
		lim := Limits{MaxSkip: 10}
		alice, bob := newPair(t, lim)
		mustRecv(t, bob, send(t, alice, "0"))
		var msgs []wireMsg
		for i := range 12 {
			msgs = append(msgs, send(t, alice, fmt.Sprint(i+1)))
		}
		before := snapshot(bob)
		if err := recv(bob, msgs[11]); !errors.Is(err, ErrTooFarAhead) { // jump of 11
			t.Fatalf("err = %v, want ErrTooFarAhead", err)
		}
		if !reflect.DeepEqual(before, snapshot(bob)) {
			t.Fatal("rejected jump changed the session")
		}
		mustRecv(t, bob, msgs[10]) // jump of exactly 10
		if got := bob.StoredKeys(); got != 10 {
			t.Fatalf("stored %d keys, want 10", got)
		}
		for _, m := range msgs[:10] {
			mustRecv(t, bob, m)
		}
	})
	t.Run("cap=MaxStored", func(t *testing.T) {
		lim := Limits{MaxStored: 4}
		alice, bob := newPair(t, lim)
		mustRecv(t, bob, send(t, alice, "0"))
		var msgs []wireMsg
		for i := range 10 {
			msgs = append(msgs, send(t, alice, fmt.Sprint(i+1)))
		}
		mustRecv(t, bob, msgs[9]) // skips 9, keeps the newest 4
		if got := bob.StoredKeys(); got != 4 {
			t.Fatalf("stored %d keys, want 4", got)
		}
		for _, m := range msgs[:5] {
			if err := recv(bob, m); !errors.Is(err, ErrDuplicate) {
				t.Errorf("evicted %s: err = %v, want ErrDuplicate", m.text, err)
			}
		}
		for _, m := range msgs[5:9] {
			mustRecv(t, bob, m)
		}
		// Many rounds of eviction keep the bookkeeping bounded.
		for r := range 50 {
			var burst []wireMsg
			for i := range 6 {
				burst = append(burst, send(t, alice, fmt.Sprint(r, "/", i)))
			}
			mustRecv(t, bob, burst[5])
			mustRecv(t, bob, burst[4])
		}
		if bob.StoredKeys() > 4 || len(bob.fifo) > 2*4+1 {
			t.Fatalf("stored %d keys, %d order entries", bob.StoredKeys(), len(bob.fifo))
		}
	})
}

// TestForwardSecrecy: once a message is decrypted its key is gone, so the
// session's current state (or any copy taken later) cannot decrypt it again,
// on the current chain or on chains the ratchet has left.
func TestForwardSecrecy(t *testing.T) {
	alice, bob := newPair(t, Limits{})
	var old []wireMsg
	for r := range 3 {
		for i := range 3 {
			m := send(t, alice, fmt.Sprint("a", r, i))
			mustRecv(t, bob, m)
			old = append(old, m)
		}
		mustRecv(t, alice, send(t, bob, fmt.Sprint("b", r)))
	}
	stolen := clone(bob)
	for _, m := range old {
		if err := recv(stolen, m); err == nil {
			t.Errorf("current state decrypted old message %s", m.text)
		}
	}
	for _, ck := range []([32]byte){stolen.st.ckr, stolen.st.cks, stolen.st.rk} {
		if ck == ([32]byte{}) {
			t.Error("zero key in state")
		}
	}
}

// TestPostCompromiseSecurity: an attacker copies Bob's whole state. It can
// read Alice's next message (which still uses Bob's stolen ratchet key), but
// after one round trip, when both sides have fresh DH keys, it cannot.
func TestPostCompromiseSecurity(t *testing.T) {
	alice, bob := newPair(t, Limits{})
	mustRecv(t, bob, send(t, alice, "hello"))
	mustRecv(t, alice, send(t, bob, "hi"))
	stolen := clone(bob)

	m1 := send(t, alice, "one")
	mustRecv(t, bob, m1)
	if err := recv(stolen, m1); err != nil {
		t.Fatalf("stolen state should still read the next message (test setup): %v", err)
	}
	mustRecv(t, alice, send(t, bob, "two"))
	m3 := send(t, alice, "three")
	mustRecv(t, bob, m3)
	if err := recv(stolen, m3); err == nil {
		t.Fatal("stolen state decrypted a message after a round trip")
	}
}

// TestKeyNonceUnique collects every AEAD (key, nonce) pair used to seal
// over a long conversation in both directions with frequent turns, and
// requires that none repeats and every message decrypts.
func TestKeyNonceUnique(t *testing.T) {
	seen := make(map[[44]byte]bool)
	keys := make(map[[32]byte]bool)
	testHookSeal = func(key, nonce []byte) {
		var k [44]byte
		copy(k[:], key)
		copy(k[32:], nonce)
		if seen[k] {
			t.Errorf("AEAD key and nonce repeated after %d seals", len(seen))
		}
		seen[k] = true
		// Stronger: every message key is used for one seal only.
		if keys[[32]byte(key)] {
			t.Errorf("AEAD key reused after %d seals", len(keys))
		}
		keys[[32]byte(key)] = true
	}
	defer func() { testHookSeal = nil }()

	rng := mrand.New(mrand.NewPCG(1, 2))
	alice, bob := newPair(t, Limits{})
	mustRecv(t, bob, send(t, alice, "start"))
	const total = 4000
	from, to := alice, bob
	turns := 0
	for i := range total {
		if rng.IntN(4) == 0 {
			from, to = to, from
			turns++
		}
		mustRecv(t, to, send(t, from, fmt.Sprint(i)))
	}
	if len(seen) != total+1 || turns < total/5 {
		t.Fatalf("%d seals, %d turns", len(seen), turns)
	}
}

// encryptCommitting is Encrypt with a commitment chosen by a malicious
// sender instead of the honest one.
func encryptCommitting(s *Session, m, ad []byte, c [CommitmentSize]byte) []byte {
	plen := paddedLen(len(m), s.lim.PadBucket)
	wire := make([]byte, HeaderSize, HeaderSize+plen+TagSize)
	wire[0] = Version
	copy(wire[1:], s.st.dhsPub[:])
	wire[1+KeySize+4+3] = byte(s.st.ns)
	payload := wire[HeaderSize : HeaderSize+plen]
	rand.Read(payload[:FrankKeySize])
	copy(payload[FrankKeySize:], m)
	payload[FrankKeySize+len(m)] = 0x80
	mk := kdfCK(&s.st.cks)
	s.st.ns++
	key, nonce := messageKeys(s.p, &mk)
	aead, _ := chacha20poly1305.New(key)
	return aead.Seal(wire[:HeaderSize], nonce, payload, s.aeadAD(ad, &c, wire[:HeaderSize]))
}

// TestCommitmentMustOpen: a sender that binds a commitment which does not
// open to the delivered message (the "invisible salamanders" attack on
// franking) is caught by the recipient, and the session is unchanged.
func TestCommitmentMustOpen(t *testing.T) {
	alice, bob := newPair(t, Limits{})
	mustRecv(t, bob, send(t, alice, "hello"))
	fake := commit(make([]byte, FrankKeySize), []byte("ad"), []byte("innocent"))
	w := encryptCommitting(alice, []byte("abusive"), []byte("ad"), fake)
	before := snapshot(bob)
	if _, _, err := bob.Decrypt(w, fake[:], []byte("ad")); !errors.Is(err, ErrFranking) {
		t.Fatalf("err = %v, want ErrFranking", err)
	}
	if !reflect.DeepEqual(before, snapshot(bob)) {
		t.Fatal("dropped message changed the session")
	}
}

func equalSnap(a, b snap) bool { return reflect.DeepEqual(a, b) }

func TestSendingChainExhausted(t *testing.T) {
	alice, _ := newPair(t, Limits{})
	alice.st.ns = 1<<32 - 1
	if _, _, err := alice.Encrypt([]byte("x"), nil); err == nil {
		t.Fatal("message number wrapped around")
	}
}

// TestPreviousChainCap: on a DH ratchet step the receiver derives the keys
// left on the sender's previous chain (PN minus those received); a jump of
// more than MaxSkip there is refused before any work, and leaves the
// session unchanged. A jump of exactly MaxSkip is accepted.
func TestPreviousChainCap(t *testing.T) {
	const maxSkip = 5
	for _, tc := range []struct {
		name    string
		unsent  int // messages alice sends on her chain that bob never gets
		wantErr error
	}{
		{"jump=max", maxSkip, nil},
		{"jump=max+1", maxSkip + 1, ErrTooFarAhead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice, bob := newPair(t, Limits{MaxSkip: maxSkip})
			mustRecv(t, bob, send(t, alice, "first"))
			for i := range tc.unsent {
				send(t, alice, fmt.Sprint("lost ", i))
			}
			mustRecv(t, alice, send(t, bob, "turn"))
			next := send(t, alice, "on a new chain")
			if pn := binary.BigEndian.Uint32(next.wire[1+KeySize:]); pn != uint32(tc.unsent+1) {
				t.Fatalf("PN = %d, want %d", pn, tc.unsent+1)
			}
			before := snapshot(bob)
			err := recv(bob, next)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !reflect.DeepEqual(before, snapshot(bob)) {
				t.Fatal("refused message changed the session")
			}
			if err == nil && bob.StoredKeys() != maxSkip {
				t.Fatalf("stored %d skipped keys, want %d", bob.StoredKeys(), maxSkip)
			}
		})
	}
}
