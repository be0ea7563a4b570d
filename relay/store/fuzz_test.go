package store

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"scanlab/kms"
)

// fuzzKeys is the key manager of the fuzz seed file; the seed's records
// open with it, so the fuzzer can reach past the key check.
var fuzzKeys = func() *kms.Manager {
	k, err := kms.FromKeys(kms.Keys{Current: "kek-fuzz", KEKs: map[string][]byte{"kek-fuzz": make([]byte, kms.KeySize)}, Root: make([]byte, kms.KeySize)})
	if err != nil {
		panic(err)
	}
	return k
}()

// seedFile makes a small database under fuzzKeys and returns its bytes.
func seedFile(f *testing.F) []byte {
	path := filepath.Join(f.TempDir(), "seed.db")
	s, err := Open(path, fuzzKeys, Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	for i := range 12 {
		s.EnqueueOnce("alice", string(rune('a'+i)), "bob", make([]byte, 50+i*7))
	}
	s.PutKeys("bob", []byte("identity"), [][]byte{[]byte("one-time")})
	s.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	// Only the pages below the high-water mark are in use: smaller inputs
	// fuzz faster.
	return b[:min(len(b), int(binary.LittleEndian.Uint64(b[pageHeaderSize+40:]))*os.Getpagesize())]
}

// fuzzFile writes data to a fresh file for one fuzz input.
func fuzzFile(t *testing.T, data []byte) string {
	path := filepath.Join(t.TempDir(), "f.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// FuzzCheckPages: the structural check never panics, and a file it passes
// can be opened and read through by bbolt (whose own Tx.Check, which faults
// on some damaged files, runs here too) without a fault.
func FuzzCheckPages(f *testing.F) {
	f.Add(seedFile(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := fuzzFile(t, data)
		if checkFile(path, false) != nil || len(data) == 0 {
			return
		}
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return
		}
		defer db.Close()
		db.View(func(tx *bolt.Tx) error {
			for range tx.Check() {
			}
			return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
				if b == nil {
					t.Fatalf("root key %q is not a bucket", name)
				}
				return b.ForEach(func(k, v []byte) error { return nil })
			})
		})
	})
}

// FuzzSalvage: salvaging any file's bytes never panics, and keeps only
// records that open.
func FuzzSalvage(f *testing.F) {
	f.Add(seedFile(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, _, _, err := collect(fuzzFile(t, data), fuzzKeys)
		if err != nil {
			return
		}
		for _, r := range recs {
			if _, err := Decrypt(fuzzKeys, r.Bucket, r.Key, r.Data); err != nil {
				t.Fatalf("kept a record that does not open: %v", err)
			}
		}
	})
}
