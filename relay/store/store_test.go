package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"scanlab"
	"scanlab/kms"
)

func newStore(t *testing.T) (*Store, *kms.Manager, string) {
	t.Helper()
	return newStoreWith(t, Options{})
}

func newStoreWith(t *testing.T, o Options) (*Store, *kms.Manager, string) {
	t.Helper()
	k, err := kms.New()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "relay.db")
	s, err := Open(path, k, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, k, path
}

// lim is a Pending limit of n records and no byte limit to speak of.
func lim(n int) Limit { return Limit{Count: n, Bytes: 1 << 30} }

func TestMailboxIsolationAndAck(t *testing.T) {
	s, _, _ := newStore(t)
	alice, bob := scanlab.UserID("alice"), scanlab.UserID("bob")
	var bobSeqs []uint64
	for i := range 3 {
		q, err := s.Enqueue(bob, fmt.Appendf(nil, "to bob %d", i))
		if err != nil {
			t.Fatal(err)
		}
		bobSeqs = append(bobSeqs, q)
	}
	if _, err := s.Enqueue(alice, []byte("to alice")); err != nil {
		t.Fatal(err)
	}
	got, bad, err := s.Pending(bob, lim(10))
	if err != nil || len(bad) != 0 || len(got) != 3 || string(got[0].Data) != "to bob 0" {
		t.Fatalf("bob pending = %v, %v, %v", got, bad, err)
	}
	// Alice acknowledging Bob's sequence numbers deletes nothing.
	if n, err := s.Ack(alice, bobSeqs...); err != nil || n != 0 {
		t.Fatalf("alice acked bob's records: n=%d err=%v", n, err)
	}
	if n, _ := s.Ack(bob, bobSeqs[0]); n != 1 {
		t.Fatalf("ack deleted %d records, want 1", n)
	}
	got, _, _ = s.Pending(bob, lim(10))
	if len(got) != 2 || string(got[0].Data) != "to bob 1" {
		t.Fatalf("after ack bob pending = %v", got)
	}
	got, _, _ = s.Pending(alice, lim(10))
	if len(got) != 1 || string(got[0].Data) != "to alice" {
		t.Fatalf("alice pending = %v", got)
	}
}

func TestFileRevealsNoContentOrIDs(t *testing.T) {
	s, _, path := newStore(t)
	secrets := []string{"canary-7f3a9c2e11", "secret-user-id-91"}
	if _, err := s.Enqueue(scanlab.UserID(secrets[1]), []byte("hello "+secrets[0])); err != nil {
		t.Fatal(err)
	}
	if err := s.PutKeys(scanlab.UserID(secrets[1]), []byte("identity "+secrets[0]), [][]byte{[]byte("ot " + secrets[0])}); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(Reports, []byte("report "+secrets[0])); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range secrets {
		if bytes.Contains(raw, []byte(c)) {
			t.Errorf("database file contains %q", c)
		}
	}
}

func TestCorruptRecordIsReportedAndKept(t *testing.T) {
	cases := map[string]func([]byte) []byte{
		"flip-ciphertext": func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"flip-wrapped":    func(b []byte) []byte { b[40] ^= 1; return b },
		"truncate":        func(b []byte) []byte { return b[:30] },
		"empty":           func(b []byte) []byte { return []byte{} },
		"bad-version":     func(b []byte) []byte { b[0] = 9; return b },
	}
	for name, f := range cases {
		t.Run("damage="+name, func(t *testing.T) {
			s, _, _ := newStore(t)
			u := scanlab.UserID("carol")
			q0, _ := s.Enqueue(u, []byte("first"))
			s.Enqueue(u, []byte("second"))
			k := seqKey(s.Index(u), q0)
			if err := s.corrupt(Mail, k, f); err != nil {
				t.Fatal(err)
			}
			got, bad, err := s.Pending(u, lim(10))
			if err != nil || len(bad) != 1 || !errors.Is(bad[0], ErrCorrupt) {
				t.Fatalf("bad = %v, err = %v; want one RecordError wrapping ErrCorrupt", bad, err)
			}
			if len(got) != 1 || string(got[0].Data) != "second" {
				t.Fatalf("good records = %v", got)
			}
			counts, _ := s.Counts()
			if counts[Mail] != 2 {
				t.Fatalf("mail records = %d, want 2 (corrupt one kept)", counts[Mail])
			}
		})
	}
}

func TestRotationKeepsRecordsReadable(t *testing.T) {
	s, k, path := newStore(t)
	u := scanlab.UserID("dave")
	old := k.Current()
	for i := range 5 {
		s.Enqueue(u, fmt.Appendf(nil, "before rotation %d", i))
	}
	s.PutKeys(u, []byte("id"), [][]byte{[]byte("ot1")})
	saves := 0
	n, err := s.RotateKEK(func() error { saves++; return nil })
	if err != nil || n != 8 || saves != 2 {
		t.Fatalf("rotate: n=%d saves=%d err=%v (want 8 records re-wrapped: 7 and the key check; 2 saves)", n, saves, err)
	}
	if ids := k.KEKs(); len(ids) != 1 || ids[0] == old {
		t.Fatalf("KEKs after rotation = %v (old %s should be retired)", ids, old)
	}
	s.Enqueue(u, []byte("after rotation"))
	got, _, err := s.Pending(u, lim(10))
	if err != nil || len(got) != 6 {
		t.Fatalf("pending after rotation: %d items, %v", len(got), err)
	}
	// A key manager holding only the new KEK reads the whole copied file.
	s.Close()
	only, err := kms.FromKeys(k.Export())
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	if err := Walk(path, only, func(Record) error { count++; return nil }); err != nil {
		t.Fatal(err)
	}
	if count != 9 {
		t.Fatalf("walk read %d records, want 9 (8 and the key check)", count)
	}
}

func TestWrongKeysAreRefusedAndLoseNothing(t *testing.T) {
	s, _, path := newStore(t)
	s.Enqueue("erin", []byte("kept"))
	s.Close()
	before, _ := os.ReadFile(path)
	other, _ := kms.New() // a key manager that never had the store's keys
	if _, err := Open(path, other, Options{}); !errors.Is(err, ErrWrongKeys) {
		t.Fatalf("err = %v, want ErrWrongKeys", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("refusing the keys changed the file")
	}
	// Walking a copy with the wrong keys reports every record unreadable.
	err := Walk(path, other, func(Record) error { t.Fatal("decrypted without the KEK"); return nil })
	if !errors.Is(err, kms.ErrUnknownKey) {
		t.Fatalf("walk err = %v, want ErrUnknownKey", err)
	}
}

func TestDeviceBindingAndOneTimeKeys(t *testing.T) {
	s, _, _ := newStore(t)
	if err := s.BindDevice("frank", []byte("fp-1")); err != nil {
		t.Fatal(err)
	}
	if err := s.BindDevice("frank", []byte("fp-1")); err != nil {
		t.Fatalf("same credential refused: %v", err)
	}
	if err := s.BindDevice("frank", []byte("fp-2")); !errors.Is(err, ErrCredential) {
		t.Fatalf("other credential: err = %v", err)
	}
	if _, _, err := s.TakeKeys("nobody", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing bundle: err = %v", err)
	}
	s.PutKeys("frank", []byte("id"), [][]byte{[]byte("ot-a"), []byte("ot-b")})
	seen := map[string]bool{}
	for range 3 {
		id, ot, err := s.TakeKeys("frank", true)
		if err != nil || string(id) != "id" {
			t.Fatal(id, err)
		}
		if ot != nil {
			if seen[string(ot)] {
				t.Fatalf("one-time key %s handed out twice", ot)
			}
			seen[string(ot)] = true
		}
	}
	if len(seen) != 2 {
		t.Fatalf("one-time keys handed out: %v", seen)
	}
}

func TestRecordsCannotBeSwapped(t *testing.T) {
	s, k, _ := newStore(t)
	qa, _ := s.Enqueue("gina", []byte("for gina"))
	ka := seqKey(s.Index("gina"), qa)
	var rec []byte
	s.corrupt(Mail, ka, func(b []byte) []byte { rec = bytes.Clone(b); return b })
	if _, err := Decrypt(k, Mail, seqKey(s.Index("hank"), qa), rec); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("record opened under another mailbox's key: %v", err)
	}
}

func FuzzDecrypt(f *testing.F) {
	k, _ := kms.New()
	s, err := Open(filepath.Join(f.TempDir(), "f.db"), k, Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	rec, _ := s.seal(Mail, []byte("key"), []byte("plaintext"))
	f.Add(rec)
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		plain, err := Decrypt(k, Mail, []byte("key"), data)
		if err == nil && !bytes.Equal(data, rec) {
			t.Fatalf("forged record opened: %q", plain)
		}
	})
}
