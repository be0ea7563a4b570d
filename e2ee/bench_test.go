package e2ee

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"

	"scanlab"
)

// benchAD stands in for the mode's associated data (label, message ID,
// sender, recipient).
var benchAD = []byte("scanlab-e2ee-v1 envelope\x00\x06m12345\x00\x05alice\x00\x03bob")

// BenchmarkRatchetFloor1KiB makes exactly the primitive calls that one
// 1 KiB message costs on an existing chain, on preallocated buffers and with
// no protocol code: for the sender KDF_CK (one HMAC key, two MACs), HKDF to
// key and nonce, 32 random bytes for kf, the franking HMAC over the message
// and one ChaCha20-Poly1305 seal; for the recipient KDF_CK, HKDF, one open of
// the same padded payload and associated data, the franking HMAC and a
// constant-time compare.
func BenchmarkRatchetFloor1KiB(b *testing.B) {
	const n = 1024
	plen := paddedLen(n, DefaultPadBucket)
	payload := make([]byte, plen)
	rand.Read(payload)
	ct := make([]byte, 0, plen+TagSize)
	pt := make([]byte, 0, plen)
	// X3DH AD, caller AD, commitment and header, as Encrypt lays them out.
	aad := make([]byte, 4+2*PublicIdentitySize+4+len(benchAD)+CommitmentSize+HeaderSize)
	rand.Read(aad)
	var ckA, ckB, mk, c, c2 [32]byte
	rand.Read(ckA[:])
	ckB = ckA
	salt := make([]byte, sha256.Size)
	var lenAD [4]byte
	binary.BigEndian.PutUint32(lenAD[:], uint32(len(benchAD)))
	info := DefaultProfile.MessageInfo
	const keyLen = chacha20poly1305.KeySize + chacha20poly1305.NonceSize
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		// Sender.
		h := hmac.New(sha256.New, ckA[:])
		h.Write([]byte{1})
		h.Sum(mk[:0])
		h.Reset()
		h.Write([]byte{2})
		h.Sum(ckA[:0])
		kn, _ := hkdf.Key(sha256.New, mk[:], salt, info, keyLen)
		rand.Read(payload[:FrankKeySize])
		f := hmac.New(sha256.New, payload[:FrankKeySize])
		f.Write([]byte(labelCommit))
		f.Write(lenAD[:])
		f.Write(benchAD)
		f.Write(payload[FrankKeySize : FrankKeySize+n])
		f.Sum(c[:0])
		aead, _ := chacha20poly1305.New(kn[:32])
		ct = aead.Seal(ct[:0], kn[32:], payload, aad)

		// Recipient.
		h = hmac.New(sha256.New, ckB[:])
		h.Write([]byte{1})
		h.Sum(mk[:0])
		h.Reset()
		h.Write([]byte{2})
		h.Sum(ckB[:0])
		kn, _ = hkdf.Key(sha256.New, mk[:], salt, info, keyLen)
		aead, _ = chacha20poly1305.New(kn[:32])
		var err error
		if pt, err = aead.Open(pt[:0], kn[32:], ct, aad); err != nil {
			b.Fatal(err)
		}
		f = hmac.New(sha256.New, pt[:FrankKeySize])
		f.Write([]byte(labelCommit))
		f.Write(lenAD[:])
		f.Write(benchAD)
		f.Write(pt[FrankKeySize : FrankKeySize+n])
		f.Sum(c2[:0])
		if !hmac.Equal(c[:], c2[:]) {
			b.Fatal("commitment mismatch")
		}
	}
}

func benchRoundTrip(b *testing.B, n int) {
	alice, bob := newPair(b, Limits{})
	m := make([]byte, n)
	rand.Read(m)
	w, c, _ := alice.Encrypt(m, benchAD)
	if _, _, err := bob.Decrypt(w, c[:], benchAD); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		w, c, err := alice.Encrypt(m, benchAD)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := bob.Decrypt(w, c[:], benchAD); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(w)+CommitmentSize-n), "overhead-B/msg")
}

// BenchmarkRatchetRoundTrip1KiB is Encrypt then Decrypt of a 1 KiB message
// on an existing chain through the real API: header encoding, padding,
// franking, staging and commit included. Compare with
// BenchmarkRatchetFloor1KiB from the same run.
func BenchmarkRatchetRoundTrip1KiB(b *testing.B) { benchRoundTrip(b, 1024) }

// BenchmarkRatchetRoundTrip64KiB is the same for a 64 KiB message.
func BenchmarkRatchetRoundTrip64KiB(b *testing.B) { benchRoundTrip(b, 64<<10) }

// BenchmarkRatchetTurn1KiB sends every message in the opposite direction of
// the previous one, so each decryption runs a DH ratchet step (key
// generation and two X25519 agreements) and each op is one message.
func BenchmarkRatchetTurn1KiB(b *testing.B) {
	alice, bob := newPair(b, Limits{})
	m := make([]byte, 1024)
	from, to := alice, bob
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		w, c, err := from.Encrypt(m, benchAD)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := to.Decrypt(w, c[:], benchAD); err != nil {
			b.Fatal(err)
		}
		from, to = to, from
	}
}

// BenchmarkX3DHSetup is a whole session setup: the initiator's X3DH (or
// PQXDH) and first sending chain, and the responder's X3DH. Bundle parsing
// (two Ed25519 verifications) is included.
func BenchmarkX3DHSetup(b *testing.B) {
	for _, pq := range []bool{false, true} {
		b.Run(fmt.Sprintf("pq=%t", pq), func(b *testing.B) {
			idA, _ := NewIdentity()
			idB, _ := NewIdentity()
			pk, kb, err := idB.NewPrekeys(1, pq)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				bundle, err := ParseBundle(kb)
				if err != nil {
					b.Fatal(err)
				}
				sk, ad, init, err := Initiate(idA, bundle, DefaultProfile)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := NewInitiatorSession(sk, ad, bundle.Signed[:], DefaultProfile, Limits{}); err != nil {
					b.Fatal(err)
				}
				if _, _, err := Respond(idB, pk, init, DefaultProfile); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkModeRoundTrip1KiB is Seal → server Accept → Open of a 1 KiB text
// through the mode, on an established session.
func BenchmarkModeRoundTrip1KiB(b *testing.B) {
	w := newWorld(b, Options{}, "alice", "bob")
	w.send("alice", "bob", "hello")
	w.send("bob", "alice", "hi")
	text := string(make([]byte, 1024))
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		m := w.msg("alice", "bob", text)
		e, err := w.devs["alice"].Seal(m)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.srv.Accept(&e); err != nil {
			b.Fatal(err)
		}
		if _, err := w.devs["bob"].Open(e); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWireOverhead checks and logs the bytes each message adds on the wire
// (run with -v to see the table).
func TestWireOverhead(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"pq=no/sealed=no", Options{}},
		{"pq=yes/sealed=no", Options{PQ: true}},
		{"pq=no/sealed=yes", Options{SealedSender: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{0, 100, 1024, 64 << 10} {
				w := newWorld(t, tc.opts, "alice", "bob")
				size := func(e scanlab.Envelope) (body, attach int) {
					for _, v := range e.Attach {
						attach += len(v)
					}
					return len(e.Body), attach
				}
				text := string(make([]byte, n))
				first := w.seal(w.msg("alice", "bob", text))
				w.open(first)
				w.send("bob", "alice", "ok")
				later := w.seal(w.msg("alice", "bob", text))
				fb, fa := size(first)
				lb, la := size(later)
				pad := paddedLen(contentHdrLen+n, DefaultPadBucket) - (FrankKeySize + contentHdrLen + n + 1)
				wantAttach := CommitmentSize + TagAttachSize
				if tc.opts.SealedSender {
					// Box: encapsulated key, certificate length and
					// certificate, AEAD tag.
					wantAttach += KeySize + 2 + certFixedLen + len("alice") + TagSize
				}
				if lb != HeaderSize+TagSize+FrankKeySize+contentHdrLen+n+1+pad || la != wantAttach {
					t.Errorf("size=%d: body %d, attachments %d", n, lb, la)
				}
				t.Logf("content=%6d B  first message: body %6d + attachments %5d = overhead %5d B;  later: body %6d + attachments %3d = overhead %4d B (of which padding %3d)",
					n, fb, fa, fb+fa-n, lb, la, lb+la-n, pad)
			}
		})
	}
}
