package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"scanlab"
)

// dedupEntry is what the store remembers of an accepted (sender, message ID):
// the mail record it became and when.
type dedupEntry struct {
	Seq uint64
	At  time.Time
}

func (e dedupEntry) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, e.Seq)
	return binary.BigEndian.AppendUint64(b, uint64(e.At.UnixNano()))
}

func decodeDedup(b []byte) (dedupEntry, error) {
	if len(b) != 16 {
		return dedupEntry{}, fmt.Errorf("%w: dedup entry of %d bytes", ErrCorrupt, len(b))
	}
	return dedupEntry{Seq: binary.BigEndian.Uint64(b), At: time.Unix(0, int64(binary.BigEndian.Uint64(b[8:])))}, nil
}

// dedupTag is the opaque key of (sender, message ID): HMAC under the index
// key of both, length-prefixed so no two pairs share an input.
func (s *Store) dedupTag(sender scanlab.UserID, id string) []byte {
	m := hmac.New(sha256.New, s.index)
	m.Write([]byte("dedup\x00"))
	m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(sender))))
	m.Write([]byte(sender))
	m.Write([]byte(id))
	return m.Sum(nil)[:indexSize]
}

// lookupDedup returns the entry stored under tag, if any.
func (s *Store) lookupDedup(tx *bolt.Tx, tag []byte) (dedupEntry, bool, error) {
	v := tx.Bucket([]byte(Dedup)).Get(tag)
	if v == nil {
		return dedupEntry{}, false, nil
	}
	plain, err := s.open(Dedup, tag, v)
	if err != nil {
		return dedupEntry{}, false, &RecordError{Dedup, tag, err}
	}
	e, err := decodeDedup(plain)
	return e, err == nil, err
}

// putDedup stores a sealed entry under tag and appends tag to the age list.
func (s *Store) putDedup(tx *bolt.Tx, tag, rec []byte) error {
	if err := tx.Bucket([]byte(Dedup)).Put(tag, rec); err != nil {
		return err
	}
	age := tx.Bucket([]byte(DedupAge))
	n, err := age.NextSequence()
	if err != nil {
		return err
	}
	return age.Put(seqKey(nil, n), tag)
}

// Seen reports whether (sender, id) was accepted within the dedup window,
// and as which mail record. Callers use it to skip work on a retry; the
// authoritative check is the one inside [Store.EnqueueOnce].
func (s *Store) Seen(sender scanlab.UserID, id string) (seq uint64, ok bool, err error) {
	tag := s.dedupTag(sender, id)
	var e dedupEntry
	err = s.db.View(func(tx *bolt.Tx) error {
		e, ok, err = s.lookupDedup(tx, tag)
		return err
	})
	return e.Seq, ok, err
}

// DedupEntries returns how many (sender, message ID) pairs the store
// remembers.
func (s *Store) DedupEntries() int { return int(s.dedup.Load()) }

// sweepChunk bounds the entries one sweep transaction deletes.
const sweepChunk = 4096

// SweepDedup forgets the oldest (sender, message ID) pairs: those accepted
// before now−window, and beyond that as many as it takes to keep at most
// maxEntries. A sender that retries after its pair was forgotten stores a
// second copy; the window must exceed any client's retry horizon. It
// returns how many pairs it forgot.
func (s *Store) SweepDedup(window time.Duration, maxEntries int) (int, error) {
	total := 0
	for {
		n, more, err := s.sweepOnce(s.now().Add(-window), maxEntries)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// sweepOnce deletes up to sweepChunk expired entries in one transaction and
// says whether more may remain.
func (s *Store) sweepOnce(cutoff time.Time, maxEntries int) (int, bool, error) {
	n := 0
	more := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		n, more = 0, false
		age, d := tx.Bucket([]byte(DedupAge)), tx.Bucket([]byte(Dedup))
		excess := int(s.dedup.Load()) - maxEntries
		c := age.Cursor()
		for k, tag := c.First(); k != nil; k, tag = c.First() {
			if n == sweepChunk {
				more = true
				return nil
			}
			if n >= excess && !s.expired(d, tag, cutoff) {
				return nil
			}
			if err := d.Delete(tag); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: sweep dedup: %w", err)
	}
	s.dedup.Add(-int64(n))
	return n, more, nil
}

// expired says whether the entry under tag is older than cutoff. An entry
// that no longer opens is expired: it can only cause a missed duplicate.
func (s *Store) expired(d *bolt.Bucket, tag []byte, cutoff time.Time) bool {
	v := d.Get(tag)
	if v == nil {
		return true
	}
	plain, err := s.open(Dedup, tag, v)
	if err != nil {
		return true
	}
	e, err := decodeDedup(plain)
	return errors.Is(err, ErrCorrupt) || e.At.Before(cutoff)
}
