package e2ee

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"scanlab"
)

func TestX3DHAgreement(t *testing.T) {
	for _, tc := range []struct {
		name    string
		oneTime bool
		pq      bool
	}{
		{"opk=no/pq=no", false, false},
		{"opk=yes/pq=no", true, false},
		{"opk=yes/pq=yes", true, true},
		{"opk=no/pq=yes", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idA, _ := NewIdentity()
			idB, _ := NewIdentity()
			n := 0
			if tc.oneTime {
				n = 3
			}
			pk, kb, err := idB.NewPrekeys(n, tc.pq)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ParseBundle(kb)
			if err != nil {
				t.Fatal(err)
			}
			skA, adA, init, err := Initiate(idA, b, DefaultProfile)
			if err != nil {
				t.Fatal(err)
			}
			enc := init.Marshal()
			want := initBaseLen
			if tc.oneTime {
				want += 4
			}
			if tc.pq {
				want += 4 + PQCiphertextSize
			}
			if len(enc) != want {
				t.Errorf("initial message is %d bytes, want %d", len(enc), want)
			}
			m, err := ParseInitMessage(enc)
			if err != nil {
				t.Fatal(err)
			}
			skB, adB, err := Respond(idB, pk, m, DefaultProfile)
			if err != nil {
				t.Fatal(err)
			}
			if skA != skB || !bytes.Equal(adA, adB) {
				t.Fatal("initiator and responder disagree")
			}
			if want := append(idA.Public().Bytes(), idB.Public().Bytes()...); !bytes.Equal(adA, want) {
				t.Error("AD is not IK_A ‖ IK_B")
			}
			// A different profile must give a different SK.
			skS, _, err := Respond(idB, pk, m, SignalProfile)
			if err != nil || skS == skB {
				t.Errorf("profile does not separate: %v", err)
			}
			// Tampering with any part of the initial message changes SK or
			// is rejected.
			for i := 2; i < len(enc); i += 7 {
				bad := bytes.Clone(enc)
				bad[i] ^= 1
				mm, err := ParseInitMessage(bad)
				if err != nil {
					continue
				}
				sk, ad, err := Respond(idB, pk, mm, DefaultProfile)
				if err == nil && sk == skA && bytes.Equal(ad, adA) {
					t.Fatalf("flipping byte %d of the initial message went unnoticed", i)
				}
			}
		})
	}
}

func TestX3DHRejectsLowOrderPoints(t *testing.T) {
	idA, _ := NewIdentity()
	idB, _ := NewIdentity()
	pk, kb, _ := idB.NewPrekeys(1, false)
	good, _ := ParseBundle(kb)
	for i, p := range lowOrder {
		t.Run(fmt.Sprintf("role=initiator/point=%d", i), func(t *testing.T) {
			for _, set := range []func(b *Bundle){
				func(b *Bundle) { copy(b.Identity.DH[:], p) },
				func(b *Bundle) { copy(b.Signed[:], p) },
				func(b *Bundle) { b.OneTime = p },
			} {
				b := *good
				set(&b)
				if _, _, _, err := Initiate(idA, &b, DefaultProfile); !errors.Is(err, ErrInvalidKey) {
					t.Errorf("err = %v, want ErrInvalidKey", err)
				}
			}
		})
		t.Run(fmt.Sprintf("role=responder/point=%d", i), func(t *testing.T) {
			_, _, m, err := Initiate(idA, good, DefaultProfile)
			if err != nil {
				t.Fatal(err)
			}
			e := *m
			copy(e.Ephemeral[:], p)
			if _, _, err := Respond(idB, pk, &e, DefaultProfile); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("ephemeral: err = %v, want ErrInvalidKey", err)
			}
			e = *m
			copy(e.Identity.DH[:], p)
			if _, _, err := Respond(idB, pk, &e, DefaultProfile); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("identity: err = %v, want ErrInvalidKey", err)
			}
		})
	}
}

func TestBadBundles(t *testing.T) {
	id, _ := NewIdentity()
	other, _ := NewIdentity()
	_, kb, _ := id.NewPrekeys(1, true)
	_, kbOther, _ := other.NewPrekeys(1, false)
	mut := func(f func(b []byte) []byte) scanlab.KeyBundle {
		return scanlab.KeyBundle{Identity: f(bytes.Clone(kb.Identity)), OneTime: kb.OneTime}
	}
	for _, tc := range []struct {
		name string
		kb   scanlab.KeyBundle
	}{
		{"empty", scanlab.KeyBundle{}},
		{"truncated", mut(func(b []byte) []byte { return b[:len(b)-1] })},
		{"extended", mut(func(b []byte) []byte { return append(b, 0) })},
		{"version", mut(func(b []byte) []byte { b[0] = 9; return b })},
		{"flags", mut(func(b []byte) []byte { b[1] |= 0x80; return b })},
		{"spk", mut(func(b []byte) []byte { b[2+PublicIdentitySize+4] ^= 1; return b })},
		{"spk-sig", mut(func(b []byte) []byte { b[bundleClassicLen-1] ^= 1; return b })},
		{"pq-key", mut(func(b []byte) []byte { b[bundleClassicLen+10] ^= 1; return b })},
		{"pq-sig", mut(func(b []byte) []byte { b[len(b)-1] ^= 1; return b })},
		{"signing-key-swapped", mut(func(b []byte) []byte { copy(b[2+KeySize:], kbOther.Identity[2+KeySize:2+PublicIdentitySize]); return b })},
		{"one-time-short", scanlab.KeyBundle{Identity: kb.Identity, OneTime: [][]byte{{1, 2, 3}}}},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			if _, err := ParseBundle(tc.kb); !errors.Is(err, ErrBadBundle) {
				t.Fatalf("err = %v, want ErrBadBundle", err)
			}
		})
	}
}

func TestBadInitMessages(t *testing.T) {
	idA, _ := NewIdentity()
	idB, _ := NewIdentity()
	pk, kb, _ := idB.NewPrekeys(1, false)
	b, _ := ParseBundle(kb)
	_, _, m, _ := Initiate(idA, b, DefaultProfile)
	enc := m.Marshal()
	for _, tc := range []struct {
		name string
		enc  []byte
	}{
		{"empty", nil},
		{"truncated", enc[:len(enc)-1]},
		{"extended", append(bytes.Clone(enc), 0)},
		{"version", append([]byte{2}, enc[1:]...)},
		{"flags", append([]byte{1, 0x40}, enc[2:]...)},
		{"pq-flag-without-ciphertext", append([]byte{1, enc[1] | flagPQ}, enc[2:]...)},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			if _, err := ParseInitMessage(tc.enc); !errors.Is(err, ErrBadInit) {
				t.Fatalf("err = %v, want ErrBadInit", err)
			}
		})
	}
	t.Run("case=unknown-prekeys", func(t *testing.T) {
		for _, f := range []func(*InitMessage){
			func(m *InitMessage) { m.SignedID++ },
			func(m *InitMessage) { m.OneTimeID++ },
			func(m *InitMessage) { m.PQCiphertext = make([]byte, PQCiphertextSize) },
		} {
			mm := *m
			f(&mm)
			if _, _, err := Respond(idB, pk, &mm, DefaultProfile); !errors.Is(err, ErrBadInit) {
				t.Errorf("err = %v, want ErrBadInit", err)
			}
		}
	})
}
