package e2ee

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

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

// fuzzReports returns a server with a fixed key and genuine reports (one
// message; a window of three), made fresh for each fuzz target.
func fuzzReports(f *testing.F) (*Server, []scanlab.Report) {
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
	return srv, []scanlab.Report{r1, r3}
}

// FuzzVerifyReport feeds arbitrary evidence to the verifier: it must never
// panic, and evidence it accepts must be in the canonical encoding.
func FuzzVerifyReport(f *testing.F) {
	srv, reports := fuzzReports(f)
	for _, r := range reports {
		f.Add(r.Evidence)
	}
	f.Fuzz(func(t *testing.T, ev []byte) {
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
		if len(ds) != len(items) {
			t.Fatalf("%d detections for %d messages", len(ds), len(items))
		}
	})
}

// FuzzReportMutation changes one byte of a genuine report's evidence; the
// verifier must reject every such change.
func FuzzReportMutation(f *testing.F) {
	srv, reports := fuzzReports(f)
	for i := range reports {
		if _, err := srv.Verify(reports[i]); err != nil {
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
		if _, err := srv.Verify(r); err == nil {
			t.Fatalf("report with byte %d changed by %#x verified", int(pos)%len(ev), xor)
		}
	})
}
