// Package store is the relay's at-rest store: a bbolt database file in which
// every record is encrypted with its own random data key (XChaCha20-Poly1305),
// and each data key is wrapped by a key-encryption key held by package kms.
// This is envelope encryption as cloud providers run it.
//
// Record keys never contain a user ID in the clear: mailboxes, key bundles and
// device bindings are indexed by HMAC-SHA256(index key, user ID), the index
// key being a kms secret. Each record's ciphertext is bound to its bucket and
// key (associated data), so records cannot be swapped between mailboxes.
//
// # Who sees what
//
// The database file alone (a thief's copy) shows record counts, sizes, the
// order of writes and opaque index values: no content, no user IDs, no
// timestamps. With the kms keys (the provider, an insider, a full breach)
// every record decrypts. A record that fails to decrypt is reported with its
// bucket and key, never silently dropped or rewritten.
package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"

	"scanlab"
	"scanlab/kms"
)

// Bucket names. Each holds sealed records.
const (
	Mail     = "mail"     // index(user) ‖ seq → envelope bytes awaiting the recipient's ack
	Devices  = "devices"  // index(user) → device credential fingerprint
	Keys     = "keys"     // index(user) → published identity key bundle
	OneTime  = "onetime"  // index(user) ‖ seq → one one-time prekey
	Reports  = "reports"  // seq → verified report
	Detected = "detected" // seq → detection record
)

var buckets = []string{Mail, Devices, Keys, OneTime, Reports, Detected}

const (
	recordVersion = 1
	indexSize     = 16
	seqSize       = 8
	wrappedSize   = chacha20poly1305.NonceSizeX + kms.KeySize + chacha20poly1305.Overhead
	adPrefix      = "scanlab-store-v1"
)

// Errors callers branch on.
var (
	// ErrCorrupt means a record could not be decoded or failed authentication.
	ErrCorrupt = errors.New("store: record corrupted or truncated")
	// ErrCredential means a device presented a credential other than the one
	// bound to its user.
	ErrCredential = errors.New("store: device credential does not match the one registered for this user")
	// ErrNotFound means no record exists under the key.
	ErrNotFound = errors.New("store: not found")
)

// Store is an open database. It is safe for concurrent use.
type Store struct {
	db    *bolt.DB
	kms   *kms.Manager
	index []byte
}

// Options tune the store.
type Options struct {
	// NoSync skips fsync on commit: faster, and loses the last writes on a
	// machine crash (not on a process crash). Off by default.
	NoSync bool
	// ReadOnly opens the file without the write lock (for audits of a copy).
	ReadOnly bool
}

// Open opens or creates the database at path, sealing with keys from k.
func Open(path string, k *kms.Manager, o Options) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoSync: o.NoSync, ReadOnly: o.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	idx, err := k.Secret("mailbox-index")
	if err != nil {
		db.Close()
		return nil, err
	}
	// Concurrent writes are coalesced into one transaction (one fsync);
	// bbolt's default 10 ms wait for more writers dominates latency at low
	// concurrency, so wait less.
	db.MaxBatchDelay = 2 * time.Millisecond
	s := &Store{db: db, kms: k, index: idx}
	if !o.ReadOnly {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range buckets {
				if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("store: init %s: %w", path, err)
		}
	}
	return s, nil
}

// Close closes the database file.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// Index returns the opaque index under which user's records are kept.
func (s *Store) Index(user scanlab.UserID) []byte {
	m := hmac.New(sha256.New, s.index)
	m.Write([]byte(user))
	return m.Sum(nil)[:indexSize]
}

func seqKey(prefix []byte, seq uint64) []byte {
	k := make([]byte, len(prefix)+seqSize)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], seq)
	return k
}

func ad(bucket string, key []byte) []byte {
	a := make([]byte, 0, len(adPrefix)+len(bucket)+1+len(key))
	a = append(a, adPrefix...)
	a = append(a, bucket...)
	a = append(a, 0)
	return append(a, key...)
}

// seal encrypts plain under a fresh data key wrapped by the current KEK:
// version(1) ‖ len(kekID)(1) ‖ kekID ‖ wrapped data key ‖ nonce(24) ‖ ciphertext.
func (s *Store) seal(bucket string, key, plain []byte) ([]byte, error) {
	dk, w, err := s.kms.NewDataKey()
	if err != nil {
		return nil, err
	}
	defer clear(dk)
	return sealWith(dk, w, bucket, key, plain)
}

func sealWith(dk []byte, w kms.Wrapped, bucket string, key, plain []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(dk)
	if err != nil {
		return nil, err
	}
	if len(w.KEK) > 255 || len(w.Ciphertext) != wrappedSize {
		return nil, errors.New("store: malformed wrapped key")
	}
	out := make([]byte, 0, 2+len(w.KEK)+wrappedSize+aead.NonceSize()+len(plain)+aead.Overhead())
	out = append(out, recordVersion, byte(len(w.KEK)))
	out = append(out, w.KEK...)
	out = append(out, w.Ciphertext...)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plain, ad(bucket, key)), nil
}

// parsed is a sealed record split into its parts.
type parsed struct {
	wrapped kms.Wrapped
	nonce   []byte
	ct      []byte
}

func parse(rec []byte) (parsed, error) {
	if len(rec) < 2 {
		return parsed{}, ErrCorrupt
	}
	if rec[0] != recordVersion {
		return parsed{}, fmt.Errorf("%w: unknown record version %d", ErrCorrupt, rec[0])
	}
	n := int(rec[1])
	need := 2 + n + wrappedSize + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead
	if len(rec) < need {
		return parsed{}, fmt.Errorf("%w: %d bytes, need at least %d", ErrCorrupt, len(rec), need)
	}
	p := parsed{wrapped: kms.Wrapped{KEK: string(rec[2 : 2+n])}}
	off := 2 + n
	p.wrapped.Ciphertext = rec[off : off+wrappedSize]
	off += wrappedSize
	p.nonce = rec[off : off+chacha20poly1305.NonceSizeX]
	p.ct = rec[off+chacha20poly1305.NonceSizeX:]
	return p, nil
}

// open decrypts one record with the store's key manager.
func (s *Store) open(bucket string, key, rec []byte) ([]byte, error) {
	return Decrypt(s.kms, bucket, key, rec)
}

// Decrypt opens one sealed record found in bucket under key, unwrapping its
// data key with k. The audit uses it on a copied database file.
func Decrypt(k *kms.Manager, bucket string, key, rec []byte) ([]byte, error) {
	p, err := parse(rec)
	if err != nil {
		return nil, err
	}
	dk, err := k.Unwrap(p.wrapped)
	if err != nil {
		if errors.Is(err, kms.ErrUnknownKey) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer clear(dk)
	aead, err := chacha20poly1305.NewX(dk)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, p.nonce, p.ct, ad(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrCorrupt)
	}
	return plain, nil
}

// RecordError names one record that could not be read.
type RecordError struct {
	Bucket string
	Key    []byte
	Err    error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("store: record %s/%x: %v", e.Bucket, e.Key, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Item is one record read back: its sequence number and plaintext.
type Item struct {
	Seq  uint64
	Data []byte
}

// Enqueue stores data in to's mailbox and returns its sequence number.
// Concurrent calls are batched into shared transactions.
func (s *Store) Enqueue(to scanlab.UserID, data []byte) (uint64, error) {
	prefix := s.Index(to)
	var seq uint64
	err := s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(Mail))
		n, err := b.NextSequence()
		if err != nil {
			return err
		}
		k := seqKey(prefix, n)
		rec, err := s.seal(Mail, k, data)
		if err != nil {
			return err
		}
		seq = n
		return b.Put(k, rec)
	})
	if err != nil {
		return 0, fmt.Errorf("store: enqueue: %w", err)
	}
	return seq, nil
}

// Pending returns up to max records waiting in user's mailbox, oldest first.
// Records that fail to decrypt are skipped, left in place and reported in the
// returned error (a join of [*RecordError]); the good records are returned
// beside it.
func (s *Store) Pending(user scanlab.UserID, max int) ([]Item, error) {
	prefix := s.Index(user)
	var items []Item
	var errs []error
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(Mail)).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(items) < max; k, v = c.Next() {
			if len(k) != indexSize+seqSize {
				errs = append(errs, &RecordError{Mail, bytes.Clone(k), ErrCorrupt})
				continue
			}
			plain, err := s.open(Mail, k, v)
			if err != nil {
				errs = append(errs, &RecordError{Mail, bytes.Clone(k), err})
				continue
			}
			items = append(items, Item{Seq: binary.BigEndian.Uint64(k[indexSize:]), Data: plain})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return items, errors.Join(errs...)
}

// Ack deletes the given records from user's mailbox. Only that mailbox is
// touched: a sequence number that belongs to another user deletes nothing.
// It returns how many records were deleted.
func (s *Store) Ack(user scanlab.UserID, seqs ...uint64) (int, error) {
	prefix := s.Index(user)
	n := 0
	err := s.db.Batch(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket([]byte(Mail))
		for _, q := range seqs {
			k := seqKey(prefix, q)
			if b.Get(k) == nil {
				continue
			}
			if err := b.Delete(k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// BindDevice binds a device credential fingerprint to user on first use and
// checks it afterwards. A different fingerprint returns [ErrCredential].
func (s *Store) BindDevice(user scanlab.UserID, fingerprint []byte) error {
	k := s.Index(user)
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(Devices))
		if v := b.Get(k); v != nil {
			have, err := s.open(Devices, k, v)
			if err != nil {
				return &RecordError{Devices, k, err}
			}
			if !hmac.Equal(have, fingerprint) {
				return ErrCredential
			}
			return nil
		}
		rec, err := s.seal(Devices, k, fingerprint)
		if err != nil {
			return err
		}
		return b.Put(k, rec)
	})
}

// PutKeys stores user's published identity bundle and adds one-time keys.
func (s *Store) PutKeys(user scanlab.UserID, identity []byte, oneTime [][]byte) error {
	idx := s.Index(user)
	return s.db.Update(func(tx *bolt.Tx) error {
		rec, err := s.seal(Keys, idx, identity)
		if err != nil {
			return err
		}
		if err := tx.Bucket([]byte(Keys)).Put(idx, rec); err != nil {
			return err
		}
		ot := tx.Bucket([]byte(OneTime))
		for _, key := range oneTime {
			n, err := ot.NextSequence()
			if err != nil {
				return err
			}
			k := seqKey(idx, n)
			rec, err := s.seal(OneTime, k, key)
			if err != nil {
				return err
			}
			if err := ot.Put(k, rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// TakeKeys returns user's identity bundle and at most one one-time key, which
// is deleted in the same transaction so it is never handed out twice.
func (s *Store) TakeKeys(user scanlab.UserID) (identity, oneTime []byte, err error) {
	idx := s.Index(user)
	err = s.db.Update(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(Keys)).Get(idx)
		if v == nil {
			return ErrNotFound
		}
		id, err := s.open(Keys, idx, v)
		if err != nil {
			return &RecordError{Keys, idx, err}
		}
		identity = id
		c := tx.Bucket([]byte(OneTime)).Cursor()
		k, v := c.Seek(idx)
		if k == nil || !bytes.HasPrefix(k, idx) {
			return nil
		}
		ot, err := s.open(OneTime, k, v)
		if err != nil {
			return &RecordError{OneTime, bytes.Clone(k), err}
		}
		oneTime = ot
		return c.Delete()
	})
	return identity, oneTime, err
}

// Append adds a record to a log bucket ([Reports] or [Detected]).
func (s *Store) Append(bucket string, data []byte) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("store: no bucket %q", bucket)
		}
		n, err := b.NextSequence()
		if err != nil {
			return err
		}
		k := seqKey(nil, n)
		rec, err := s.seal(bucket, k, data)
		if err != nil {
			return err
		}
		return b.Put(k, rec)
	})
}

// Record is one decrypted record, as [Store.ForEach] and [Walk] yield it.
type Record struct {
	Bucket string
	Key    []byte
	Data   []byte
}

// ForEach decrypts every record of every bucket and calls fn. Records that
// fail to decrypt are collected into the returned error; the walk goes on.
func (s *Store) ForEach(fn func(Record) error) error {
	return walk(s.db, s.kms, fn)
}

// Walk opens the database file at path read-only and decrypts every record
// with k: what a party holding both a copy of the file and the key-management
// keys can read.
func Walk(path string, k *kms.Manager, fn func(Record) error) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	defer db.Close()
	return walk(db, k, fn)
}

func walk(db *bolt.DB, k *kms.Manager, fn func(Record) error) error {
	var errs []error
	err := db.View(func(tx *bolt.Tx) error {
		for _, name := range buckets {
			b := tx.Bucket([]byte(name))
			if b == nil {
				continue
			}
			err := b.ForEach(func(key, v []byte) error {
				plain, err := Decrypt(k, name, key, v)
				if err != nil {
					errs = append(errs, &RecordError{name, bytes.Clone(key), err})
					return nil
				}
				return fn(Record{Bucket: name, Key: bytes.Clone(key), Data: plain})
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// RotateKEK creates a new KEK, re-wraps every record's data key under it in
// one transaction, and retires the old KEKs. Record ciphertexts are not
// touched. It returns how many records were re-wrapped. If the transaction
// fails, nothing is retired and every record stays readable.
func (s *Store) RotateKEK() (int, error) {
	olds := s.kms.KEKs()
	if _, err := s.kms.Rotate(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		for _, name := range buckets {
			b := tx.Bucket([]byte(name))
			type kv struct{ k, v []byte }
			var updates []kv
			err := b.ForEach(func(key, v []byte) error {
				p, err := parse(v)
				if err != nil {
					return &RecordError{name, bytes.Clone(key), err}
				}
				w, err := s.kms.Rewrap(p.wrapped)
				if err != nil {
					return &RecordError{name, bytes.Clone(key), err}
				}
				rec := make([]byte, 0, len(v)+len(w.KEK))
				rec = append(rec, recordVersion, byte(len(w.KEK)))
				rec = append(rec, w.KEK...)
				rec = append(rec, w.Ciphertext...)
				rec = append(rec, p.nonce...)
				rec = append(rec, p.ct...)
				updates = append(updates, kv{bytes.Clone(key), rec})
				return nil
			})
			if err != nil {
				return err
			}
			for _, u := range updates {
				if err := b.Put(u.k, u.v); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: rotate: %w", err)
	}
	for _, id := range olds {
		if err := s.kms.Retire(id); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Counts returns the number of records in each bucket.
func (s *Store) Counts() (map[string]int, error) {
	out := map[string]int{}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range buckets {
			if b := tx.Bucket([]byte(name)); b != nil {
				out[name] = b.Stats().KeyN
			}
		}
		return nil
	})
	return out, err
}

// CopyTo writes a consistent snapshot of the database file to path: what a
// thief who copies the file at this moment has.
func (s *Store) CopyTo(path string) error {
	return s.db.View(func(tx *bolt.Tx) error { return tx.CopyFile(path, 0o600) })
}

// corrupt overwrites the stored bytes of one record (tests only).
func (s *Store) corrupt(bucket string, key []byte, f func([]byte) []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		v := b.Get(key)
		if v == nil {
			return ErrNotFound
		}
		return b.Put(key, f(bytes.Clone(v)))
	})
}
