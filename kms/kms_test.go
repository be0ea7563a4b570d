package kms

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWrapRoundTripAndTamper(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	dk, w, err := m.NewDataKey()
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Unwrap(w)
	if err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("unwrap = %x, %v; want %x", got, err, dk)
	}
	for i := range w.Ciphertext {
		bad := Wrapped{KEK: w.KEK, Ciphertext: bytes.Clone(w.Ciphertext)}
		bad.Ciphertext[i] ^= 1
		if _, err := m.Unwrap(bad); !errors.Is(err, ErrUnwrap) {
			t.Fatalf("flipped byte %d: err = %v, want ErrUnwrap", i, err)
		}
	}
	for _, c := range [][]byte{nil, w.Ciphertext[:10], append(bytes.Clone(w.Ciphertext), 0)} {
		if _, err := m.Unwrap(Wrapped{KEK: w.KEK, Ciphertext: c}); !errors.Is(err, ErrUnwrap) {
			t.Errorf("len %d: err = %v, want ErrUnwrap", len(c), err)
		}
	}
	if _, err := m.Unwrap(Wrapped{KEK: "kek-nope", Ciphertext: w.Ciphertext}); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown KEK: err = %v", err)
	}
	if _, err := m.Wrap(make([]byte, 5)); err == nil {
		t.Error("wrap of a 5-byte key succeeded")
	}
}

func TestRotateRewrapRetire(t *testing.T) {
	m, _ := New()
	old := m.Current()
	dk, w, _ := m.NewDataKey()
	secret, _ := m.Secret("franking")
	id, err := m.Rotate()
	if err != nil || id == old || m.Current() != id {
		t.Fatalf("rotate: id %q old %q current %q err %v", id, old, m.Current(), err)
	}
	if err := m.Retire(id); err == nil {
		t.Fatal("retired the current KEK")
	}
	w2, err := m.Rewrap(w)
	if err != nil || w2.KEK != id {
		t.Fatalf("rewrap: %+v %v", w2, err)
	}
	if err := m.Retire(old); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Unwrap(w); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unwrap under retired KEK: err = %v", err)
	}
	got, err := m.Unwrap(w2)
	if err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("rewrapped key: %x %v", got, err)
	}
	s2, _ := m.Secret("franking")
	if !bytes.Equal(secret, s2) {
		t.Error("derived secret changed with KEK rotation")
	}
	s3, _ := m.Secret("mailbox-index")
	if bytes.Equal(s2, s3) {
		t.Error("two purposes gave the same secret")
	}
	if len(m.KEKs()) != 1 {
		t.Errorf("KEKs after retire = %v", m.KEKs())
	}
}

// TestWrapNoncesUnique wraps many keys and requires every nonce to differ.
func TestWrapNoncesUnique(t *testing.T) {
	m, _ := New()
	seen := map[string]bool{}
	for range 20000 {
		_, w, _ := m.NewDataKey()
		n := string(w.Ciphertext[:24])
		if seen[n] {
			t.Fatal("nonce repeated")
		}
		seen[n] = true
	}
}

func TestSaveLoad(t *testing.T) {
	m, _ := New()
	_, w, _ := m.NewDataKey()
	path := filepath.Join(t.TempDir(), "kms.sealed")
	if err := m.Save(path, []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, []byte("wrong horse")); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	m2, err := Load(path, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Unwrap(w); err != nil {
		t.Fatal(err)
	}
	if _, err := open([]byte("not a key file"), []byte("x")); err == nil {
		t.Error("garbage opened")
	}
	if _, err := open([]byte(sealedMagic+"short"), []byte("x")); err == nil {
		t.Error("truncated file opened")
	}
}

func FuzzOpenSealed(f *testing.F) {
	f.Add([]byte(sealedMagic + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		if _, err := open(data, []byte("p")); err == nil {
			t.Fatal("random bytes opened as a sealed key file")
		}
	})
}

func TestWriteFileDurableReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	for _, data := range []string{"old", "new contents"} {
		if err := WriteFileDurable(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != data {
			t.Fatalf("file holds %q, want %q", got, data)
		}
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file left behind: %v", err)
	}
	if err := WriteFileDurable(filepath.Join(t.TempDir(), "no", "such", "dir"), nil, 0o600); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}
