package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"scanlab"
)

// The store remembers each accepted (sender, message ID) as a keyed hash
// (its tag) with the mail record it became and when. On disk this is an
// append-only log (the Dedup bucket, keyed by a sequence number, each entry
// sealed), so remembering costs one page write per commit however many
// pairs it holds; the lookup index lives in memory, rebuilt from the log at
// open. Memory: about 100 bytes per pair remembered.

// tag is the opaque form of a (sender, message ID).
type tag [indexSize]byte

// dedupEntry is what is remembered of one pair.
type dedupEntry struct {
	Tag tag
	Seq uint64 // the mail record it became
	At  time.Time
	log uint64 // its key in the Dedup bucket
}

func (e dedupEntry) encode() []byte {
	b := append([]byte(nil), e.Tag[:]...)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	return binary.BigEndian.AppendUint64(b, uint64(e.At.UnixNano()))
}

func decodeDedup(b []byte) (dedupEntry, error) {
	if len(b) != indexSize+16 {
		return dedupEntry{}, fmt.Errorf("%w: dedup entry of %d bytes", ErrCorrupt, len(b))
	}
	var e dedupEntry
	copy(e.Tag[:], b)
	e.Seq = binary.BigEndian.Uint64(b[indexSize:])
	e.At = time.Unix(0, int64(binary.BigEndian.Uint64(b[indexSize+8:])))
	return e, nil
}

// dedupIndex is the in-memory index of the Dedup bucket, oldest first.
type dedupIndex struct {
	mu      sync.Mutex
	byTag   map[tag]dedupEntry
	order   []dedupEntry // committed entries in log order (a queue)
	pending map[tag]dedupEntry
	pendTx  *bolt.Tx // the write transaction pending belongs to
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

// loadDedup rebuilds the index from the log.
func (s *Store) loadDedup() error {
	d := &s.dedup
	d.byTag = map[tag]dedupEntry{}
	d.order = nil
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(Dedup))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			plain, err := s.open(Dedup, k, v)
			if err != nil {
				return &RecordError{Dedup, append([]byte(nil), k...), err}
			}
			e, err := decodeDedup(plain)
			if err != nil {
				return &RecordError{Dedup, append([]byte(nil), k...), err}
			}
			e.log = binary.BigEndian.Uint64(k)
			d.byTag[e.Tag] = e
			d.order = append(d.order, e)
			return nil
		})
	})
}

// dedupOnce, inside a write transaction, returns the mail sequence number
// of the first record stored under t, or logs t as becoming seq and
// returns 0. Pairs logged in this transaction count at once; they join the
// index when it commits and are forgotten if it does not.
func (s *Store) dedupOnce(tx *bolt.Tx, t []byte, seq uint64) (uint64, error) {
	d := &s.dedup
	var key tag
	copy(key[:], t)
	d.mu.Lock()
	if d.pendTx != tx {
		d.pending, d.pendTx = map[tag]dedupEntry{}, tx
		tx.OnCommit(func() { s.commitDedup(tx) })
	}
	if e, ok := d.byTag[key]; ok {
		d.mu.Unlock()
		return e.Seq, nil
	}
	if e, ok := d.pending[key]; ok {
		d.mu.Unlock()
		return e.Seq, nil
	}
	d.mu.Unlock()
	b := tx.Bucket([]byte(Dedup))
	n, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	e := dedupEntry{Tag: key, Seq: seq, At: s.now(), log: n}
	k := seqKey(nil, n)
	rec, err := s.seal(Dedup, k, e.encode())
	if err != nil {
		return 0, err
	}
	if err := b.Put(k, rec); err != nil {
		return 0, err
	}
	d.mu.Lock()
	d.pending[key] = e
	d.mu.Unlock()
	return 0, nil
}

// commitDedup moves the pairs logged by a committed transaction into the
// index, in log order.
func (s *Store) commitDedup(tx *bolt.Tx) {
	d := &s.dedup
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pendTx != tx {
		return
	}
	start := len(d.order)
	for _, e := range d.pending {
		d.byTag[e.Tag] = e
		d.order = append(d.order, e)
	}
	added := d.order[start:]
	for i := 1; i < len(added); i++ { // a handful per commit: insertion sort by log key
		for j := i; j > 0 && added[j].log < added[j-1].log; j-- {
			added[j], added[j-1] = added[j-1], added[j]
		}
	}
	d.pending, d.pendTx = nil, nil
}

// Seen reports whether (sender, id) was accepted within the dedup window,
// and as which mail record. Callers use it to skip work on a retry; the
// authoritative check is the one inside [Store.EnqueueOnce].
func (s *Store) Seen(sender scanlab.UserID, id string) (seq uint64, ok bool, err error) {
	var key tag
	copy(key[:], s.dedupTag(sender, id))
	s.dedup.mu.Lock()
	defer s.dedup.mu.Unlock()
	e, ok := s.dedup.byTag[key]
	return e.Seq, ok, nil
}

// DedupEntries returns how many (sender, message ID) pairs the store
// remembers.
func (s *Store) DedupEntries() int {
	s.dedup.mu.Lock()
	defer s.dedup.mu.Unlock()
	return len(s.dedup.byTag)
}

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
		victims := s.expiredDedup(s.now().Add(-window), maxEntries)
		if len(victims) == 0 {
			return total, nil
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte(Dedup))
			for _, e := range victims {
				if err := b.Delete(seqKey(nil, e.log)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("store: sweep dedup: %w", err)
		}
		s.forgetDedup(victims)
		total += len(victims)
	}
}

// expiredDedup returns up to sweepChunk of the oldest entries that are
// older than cutoff or beyond maxEntries.
func (s *Store) expiredDedup(cutoff time.Time, maxEntries int) []dedupEntry {
	d := &s.dedup
	d.mu.Lock()
	defer d.mu.Unlock()
	excess := len(d.order) - maxEntries
	n := 0
	for n < len(d.order) && n < sweepChunk && (n < excess || d.order[n].At.Before(cutoff)) {
		n++
	}
	return append([]dedupEntry(nil), d.order[:n]...)
}

// forgetDedup drops swept entries (the oldest, in order) from the index.
func (s *Store) forgetDedup(victims []dedupEntry) {
	d := &s.dedup
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range victims {
		if cur, ok := d.byTag[e.Tag]; ok && cur.log == e.log {
			delete(d.byTag, e.Tag)
		}
	}
	d.order = append(d.order[:0:0], d.order[len(victims):]...)
}
