package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// rotateChunk bounds the records re-wrapped in one transaction (a variable
// so tests can make rotations of many steps).
var rotateChunk = 2048

// afterRewrapChunk, if set, runs after each committed re-wrap transaction
// (tests use it to check the saved keys at every moment a crash could hit).
var afterRewrapChunk func()

// RotateKEK creates a new KEK, re-wraps every record's data key under it,
// and retires the old KEKs. Record ciphertexts are not touched. save
// persists the key manager durably (it must fsync; see kms.Manager.Save).
//
// The order makes a crash at any moment safe: save runs after the new KEK
// exists and before any record uses it (the key file then holds old and
// new), records are re-wrapped in transactions of their own (each record
// stays readable under one of the two), and the old KEKs are retired only
// after every record moved, followed by a second save. Whatever the moment
// of a crash, the saved keys open every committed record. Run it before
// serving: records written concurrently under the old KEK would be lost
// when it is retired.
//
// It returns how many records were re-wrapped.
func (s *Store) RotateKEK(save func() error) (int, error) {
	olds := s.kms.KEKs()
	if _, err := s.kms.Rotate(); err != nil {
		return 0, err
	}
	if err := save(); err != nil {
		return 0, fmt.Errorf("store: rotate: save keys before re-wrapping: %w", err)
	}
	n := 0
	for _, name := range buckets {
		m, err := s.rewrapBucket(name)
		n += m
		if err != nil {
			return n, fmt.Errorf("store: rotate: %w", err)
		}
	}
	for _, id := range olds {
		if err := s.kms.Retire(id); err != nil {
			return n, err
		}
	}
	if err := save(); err != nil {
		return n, fmt.Errorf("store: rotate: save keys after retiring: %w", err)
	}
	return n, nil
}

// rewrapBucket moves every record of one bucket to the current KEK, in
// chunks, and returns how many it rewrote.
func (s *Store) rewrapBucket(name string) (int, error) {
	n := 0
	var after []byte
	for {
		m, last, err := s.rewrapChunk(name, after)
		n += m
		if err == nil && afterRewrapChunk != nil {
			afterRewrapChunk()
		}
		if err != nil || last == nil {
			return n, err
		}
		after = last
	}
}

// rewrapChunk re-wraps up to rotateChunk records after key after (from the
// start if nil) in one transaction. It returns how many it rewrote and the
// last key it looked at (nil at the bucket's end).
func (s *Store) rewrapChunk(name string, after []byte) (int, []byte, error) {
	n := 0
	var last []byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		n, last = 0, nil
		b := tx.Bucket([]byte(name))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		k, v := c.First()
		if after != nil {
			if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		type kv struct{ k, v []byte }
		var updates []kv
		for ; k != nil && len(updates) < rotateChunk; k, v = c.Next() {
			last = bytes.Clone(k)
			rec, changed, err := s.rewrap(v)
			if err != nil {
				return &RecordError{name, bytes.Clone(k), err}
			}
			if changed {
				updates = append(updates, kv{bytes.Clone(k), rec})
			}
		}
		if k == nil {
			last = nil // the bucket's end
		}
		for _, u := range updates {
			if err := b.Put(u.k, u.v); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, last, err
}

// rewrap returns the record with its data key wrapped under the current KEK,
// and whether that changed anything.
func (s *Store) rewrap(v []byte) ([]byte, bool, error) {
	p, err := parse(v)
	if err != nil {
		return nil, false, err
	}
	w, err := s.kms.Rewrap(p.wrapped)
	if err != nil {
		return nil, false, err
	}
	if w.KEK == p.wrapped.KEK {
		return v, false, nil
	}
	rec := make([]byte, 0, len(v)+len(w.KEK))
	rec = append(rec, recordVersion, byte(len(w.KEK)))
	rec = append(rec, w.KEK...)
	rec = append(rec, w.Ciphertext...)
	rec = append(rec, p.nonce...)
	rec = append(rec, p.ct...)
	return rec, true, nil
}
