package e2ee

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"scanlab"
)

// fixedPair builds a session pair from fixed keys, so the responder's
// receiving chain (and hence which messages decrypt) is the same in every
// run and stored seed messages stay valid.
func fixedPair(t testing.TB) (alice, bob *Session) {
	t.Helper()
	key := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	spk, err := x25519.NewPrivateKey(key(1))
	if err != nil {
		t.Fatal(err)
	}
	adh, err := x25519.NewPrivateKey(key(2))
	if err != nil {
		t.Fatal(err)
	}
	sk := [RootKeySize]byte(key(3))
	ad := bytes.Repeat([]byte{4}, 2*PublicIdentitySize)
	bob = NewResponderSession(sk, ad, spk, DefaultProfile, Limits{MaxSkip: 50, MaxStored: 100})
	alice = newSession(DefaultProfile, Limits{MaxSkip: 50, MaxStored: 100}, ad)
	copy(alice.st.dhr[:], spk.PublicKey().Bytes())
	alice.st.hasDHr = true
	alice.st.dhs = adh
	copy(alice.st.dhsPub[:], adh.PublicKey().Bytes())
	if alice.st.rk, alice.st.cks, err = kdfRK(DefaultProfile, sk, adh, alice.st.dhr[:]); err != nil {
		t.Fatal(err)
	}
	alice.st.hasCKs = true
	return alice, bob
}

var fuzzAD = []byte("fuzz")

// fuzzServerKey is the relay key of the report fuzz targets, fixed so that
// stored seed reports verify.
var fuzzServerKey = bytes.Repeat([]byte{5}, 32)

// FuzzDecrypt feeds arbitrary messages and commitments to a session that
// has received one message. Only genuine messages may decrypt; anything
// else must fail and leave the session exactly as it was.
func FuzzDecrypt(f *testing.F) {
	alice, bob := fixedPair(f)
	w, c, err := alice.Encrypt([]byte("genuine 0"), fuzzAD)
	if err != nil {
		f.Fatal(err)
	}
	if _, _, err := bob.Decrypt(w, c[:], fuzzAD); err != nil {
		f.Fatal(err)
	}
	for i := range 4 {
		w, c, _ := alice.Encrypt([]byte(fmt.Sprint("genuine ", i+1)), fuzzAD)
		if i == 2 {
			continue // leave a gap so later seeds skip a key
		}
		f.Add(w, c[:])
	}
	f.Fuzz(func(t *testing.T, wire, c []byte) {
		b := clone(bob)
		before := snapshot(b)
		m, _, err := b.Decrypt(wire, c, fuzzAD)
		if err != nil {
			if !reflect.DeepEqual(before, snapshot(b)) {
				t.Fatalf("failed decryption (%v) changed the session", err)
			}
			return
		}
		if !strings.HasPrefix(string(m), "genuine ") {
			t.Fatalf("forged message decrypted: %q", m)
		}
	})
}

// FuzzParseHeader checks that the header decoder never panics, accepts
// only version-1 messages within the length bounds, and decodes the fields
// from their fixed offsets.
func FuzzParseHeader(f *testing.F) {
	alice, _ := fixedPair(f)
	w, _, _ := alice.Encrypt([]byte("x"), nil)
	f.Add(w)
	f.Add(w[:HeaderSize])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, wire []byte) {
		h, ct, err := ParseHeader(wire)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if wire[0] != Version || len(ct) < FrankKeySize+1+TagSize || len(wire) > maxWire {
			t.Fatal("accepted a message outside the bounds")
		}
		var enc [HeaderSize]byte
		enc[0] = Version
		copy(enc[1:], h.DH[:])
		binary.BigEndian.PutUint32(enc[1+KeySize:], h.PN)
		binary.BigEndian.PutUint32(enc[1+KeySize+4:], h.N)
		if !bytes.Equal(enc[:], wire[:HeaderSize]) {
			t.Fatal("header does not re-encode to its input")
		}
	})
}

// FuzzParseInitMessage checks that the initial-message decoder never
// panics and that what it accepts re-encodes to the same bytes.
func FuzzParseInitMessage(f *testing.F) {
	for _, pq := range []bool{false, true} {
		idA, _ := NewIdentity()
		idB, _ := NewIdentity()
		_, kb, _ := idB.NewPrekeys(1, pq)
		b, _ := ParseBundle(kb)
		_, _, m, _ := Initiate(idA, b, DefaultProfile)
		f.Add(m.Marshal())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseInitMessage(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Marshal(), b) {
			t.Fatal("initial message does not re-encode to its input")
		}
	})
}

// FuzzParseBundle checks that the bundle decoder never panics.
func FuzzParseBundle(f *testing.F) {
	id, _ := NewIdentity()
	_, kb, _ := id.NewPrekeys(1, false)
	f.Add(kb.Identity, kb.OneTime[0])
	f.Fuzz(func(t *testing.T, identity, oneTime []byte) {
		b, err := ParseBundle(scanlab.KeyBundle{Identity: identity, OneTime: [][]byte{oneTime}})
		if err == nil && (b.OneTime == nil || len(b.OneTime) != KeySize) {
			t.Fatal("accepted a bundle with a malformed one-time prekey")
		}
	})
}

// fuzzReports returns genuine reports (one message; a window of three)
// relayed by a server with the fixed fuzz key.
func fuzzReports(f *testing.F) []scanlab.Report {
	w := newWorld(f, Options{}, "alice", "bob")
	srv, err := NewServer(testEnv(fuzzServerKey))
	if err != nil {
		f.Fatal(err)
	}
	w.srv = srv
	var last scanlab.Message
	for i := range 4 {
		last = w.send("alice", "bob", fmt.Sprint("report me ", i))
	}
	r1, err := w.devs["bob"].Report(last)
	if err != nil {
		f.Fatal(err)
	}
	r3, err := w.devs["bob"].ReportLast("alice", 3)
	if err != nil {
		f.Fatal(err)
	}
	return []scanlab.Report{r1, r3}
}

// FuzzVerifyReport feeds arbitrary evidence to the verifier: it must never
// panic, and evidence it accepts must be in the canonical encoding. Each
// input goes to a fresh server, so stored seeds verify in every run.
func FuzzVerifyReport(f *testing.F) {
	reports := fuzzReports(f)
	for _, r := range reports {
		f.Add(r.Evidence)
	}
	f.Fuzz(func(t *testing.T, ev []byte) {
		srv, err := NewServer(testEnv(fuzzServerKey))
		if err != nil {
			t.Fatal(err)
		}
		r := reports[0]
		r.Evidence = ev
		items, derr := decodeEvidence(ev)
		if derr == nil && !bytes.Equal(encodeEvidence(items), ev) {
			t.Fatal("evidence decodes but is not canonical")
		}
		if len(items) > 0 {
			r.MessageID = items[len(items)-1].id
		}
		ds, err := srv.Verify(r)
		if err != nil {
			if !errors.Is(err, ErrBadReport) {
				t.Fatalf("error %v is not ErrBadReport", err)
			}
			return
		}
		if len(ds) == 0 || len(ds) > len(items) {
			t.Fatalf("%d detections for %d messages", len(ds), len(items))
		}
		if _, err := srv.Verify(r); !errors.Is(err, ErrReplayedReport) {
			t.Fatalf("accepted evidence verified twice: %v", err)
		}
	})
}

// FuzzReportMutation changes one byte of a genuine report's evidence; the
// verifier must reject every such change. Each input goes to a fresh
// server, so a change is refused for what it breaks, not as a replay.
func FuzzReportMutation(f *testing.F) {
	reports := fuzzReports(f)
	fresh := func(t testing.TB) *Server {
		srv, err := NewServer(testEnv(fuzzServerKey))
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	for i := range reports {
		if _, err := fresh(f).Verify(reports[i]); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(uint8(0), uint16(0), uint8(1))
	f.Add(uint8(1), uint16(300), uint8(0x80))
	f.Fuzz(func(t *testing.T, which uint8, pos uint16, xor uint8) {
		if xor == 0 {
			return
		}
		r := reports[int(which)%len(reports)]
		ev := bytes.Clone(r.Evidence)
		ev[int(pos)%len(ev)] ^= xor
		r.Evidence = ev
		if _, err := fresh(t).Verify(r); err == nil {
			t.Fatalf("report with byte %d changed by %#x verified", int(pos)%len(ev), xor)
		}
	})
}

// FuzzParseCertificate: the certificate decoder never panics, returns only
// ErrCertificate errors, and what it accepts re-encodes to the same bytes.
func FuzzParseCertificate(f *testing.F) {
	f.Add(fuzzCertificate(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCertificate(b)
		if err != nil {
			if !errors.Is(err, ErrCertificate) {
				t.Fatalf("error %v is not ErrCertificate", err)
			}
			return
		}
		if !bytes.Equal(c.Marshal(), b) {
			t.Fatal("certificate does not re-encode to its input")
		}
		c.Verify(fuzzCertRoot(t), c.Expires.Add(-time.Millisecond))
	})
}

func fuzzCertRoot(t testing.TB) ed25519.PublicKey {
	srv, err := NewServer(testEnv(fuzzServerKey))
	if err != nil {
		t.Fatal(err)
	}
	return srv.CertificateKey()
}

// fuzzCertificate is a certificate for alice from the fixed fuzz key.
func fuzzCertificate(t testing.TB) []byte {
	srv, err := NewServer(testEnv(fuzzServerKey))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := NewIdentity()
	_, kb, _ := id.NewPrekeys(0, false)
	c, err := srv.IssueCertificate("alice", kb.Identity)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzSealedSenderBox puts arbitrary plaintext in an authentic
// sealed-sender box around a genuine first message from alice: bob's
// device must not panic, and may open the envelope only if the box names
// alice with her identity key.
func FuzzSealedSenderBox(f *testing.F) {
	w := newWorld(f, Options{SealedSender: true}, "alice", "bob")
	e := w.seal(w.msg("alice", "bob", "hello"))
	alice, bob := w.devs["alice"], w.devs["bob"]
	bobID := alice.pins.keys[address{"bob", PrimaryDevice}]
	init := alice.peers["bob"].convs[0].init
	f.Add(append(binary.BigEndian.AppendUint16(nil, uint16(len(alice.cert))), append(slices.Clone(alice.cert), init...)...))
	f.Fuzz(func(t *testing.T, pt []byte) {
		box, err := sealBox(bobID, sealedAAD(e.ID, "bob", e.Attach[AttachCommitment]), pt)
		if err != nil {
			t.Fatal(err)
		}
		fe := cloneEnvelope(e)
		fe.Attach[AttachSender] = box
		m, err := bob.Open(fe)
		if err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(pt))
		c, perr := ParseCertificate(pt[2 : 2+n])
		if m.From != "alice" || perr != nil || c.Identity != alice.Identity() {
			t.Fatalf("opened as from %q with certificate %+v (%v)", m.From, c, perr)
		}
	})
}
