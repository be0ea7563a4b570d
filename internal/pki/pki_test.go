package pki

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"
)

func TestSealedCARoundTripAndTamper(t *testing.T) {
	ca, err := NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	sealed, err := ca.Seal(key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenCA(sealed, key)
	if err != nil || !bytes.Equal(got.DER, ca.DER) || !got.key.Equal(ca.key) {
		t.Fatalf("round trip: %v", err)
	}
	// The reopened CA issues certificates that chain to the same root.
	if _, err := got.ServerCert([]string{"127.0.0.1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, ca.key.Seed()) {
		t.Fatal("sealed file holds the CA key in the clear")
	}
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 1
		if _, err := OpenCA(bad, key); err == nil {
			t.Fatalf("flipped byte %d: opened", i)
		}
	}
	other := bytes.Clone(key)
	other[0] ^= 1
	if _, err := OpenCA(sealed, other); err == nil {
		t.Fatal("opened under another key")
	}
	for _, n := range []int{0, 5, len(sealedCAMagic) + 1, len(sealed) - 1} {
		if _, err := OpenCA(sealed[:n], key); err == nil {
			t.Fatalf("truncated to %d bytes: opened", n)
		}
	}
}

func FuzzOpenCA(f *testing.F) {
	ca, _ := NewCA("fuzz", time.Hour)
	key := make([]byte, 32) // a known key: the fuzzer may seal too
	sealed, _ := ca.Seal(key)
	f.Add(sealed)
	f.Add([]byte(sealedCAMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := OpenCA(data, key)
		if err != nil {
			return
		}
		if !got.Cert.IsCA || !bytes.Contains(data, got.DER) || !got.key.Public().(ed25519.PublicKey).Equal(got.Cert.PublicKey) {
			t.Fatal("opened a CA whose key does not match its certificate")
		}
	})
}
