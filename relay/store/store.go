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
// The store refuses to serve what it cannot vouch for: [Open] checks an
// existing file (both meta pages, every page's structure as bounds-checked
// bytes, a key-check record, every record) and writes nothing until all
// pass; damage is [ErrDamaged] and keys that do not open the file
// [ErrWrongKeys]. With Options.Repair it quarantines records that do not
// open and salvages a file whose structure is damaged ([Salvage]). Each
// (sender, message ID) is stored once ([Store.EnqueueOnce]), remembered in
// an append-only sealed log until swept. Writes from concurrent callers
// share transactions (bbolt's Batch: one fsync per commit).
//
// # Who sees what
//
// The database file alone (a thief's copy) shows record counts, sizes, the
// order of writes and opaque index values: no content, no user IDs, no
// timestamps (the dedup log's times are sealed too). With the kms keys (the
// provider, an insider, a full breach) every record decrypts. A record that fails to decrypt is reported with its
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
	"runtime/debug"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"golang.org/x/crypto/chacha20poly1305"

	"scanlab"
	"scanlab/kms"
)

// Bucket names. Each holds sealed records.
const (
	Mail        = "mail"        // index(user) ‖ seq → envelope bytes awaiting the recipient's ack
	Devices     = "devices"     // index(user) → device credential fingerprint
	Credentials = "credentials" // tag(fingerprint) → index(user): one user per credential
	Keys        = "keys"        // index(user) → published identity key bundle
	OneTime     = "onetime"     // index(user) ‖ seq → one one-time prekey
	Reports     = "reports"     // seq → verified report
	Detected    = "detected"    // seq → detection record
	Dedup       = "dedup"       // seq → tag(sender, message ID) ‖ mail seq ‖ time accepted, oldest first
	Quarantine  = "quarantine"  // seq → a record set aside: where it was, why, its raw bytes
	Meta        = "meta"        // "keycheck" → a known value: the keys open this file
)

// buckets lists the buckets; every value in them is a sealed record.
var buckets = []string{Mail, Devices, Credentials, Keys, OneTime, Reports, Detected, Dedup, Quarantine, Meta}

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
	// ErrCredentialInUse means a device credential already registered one
	// user and tried to register another.
	ErrCredentialInUse = errors.New("store: this device credential is registered to another user")
	// ErrNotFound means no record exists under the key.
	ErrNotFound = errors.New("store: not found")
	// ErrOversized means a record is larger than the caller can ever take.
	ErrOversized = errors.New("store: record larger than the delivery limit")
	// ErrWrongKeys means the key manager does not open this database: its
	// key-check record fails, so every record would be unreadable.
	ErrWrongKeys = errors.New("store: the key-management keys do not open this database (another key file, or a new one made by mistake?)")
	// ErrDamaged means the database file failed its consistency check.
	ErrDamaged = errors.New("store: database file is damaged")
)

// Store is an open database. It is safe for concurrent use.
type Store struct {
	db    *bolt.DB
	kms   *kms.Manager
	index []byte
	now   func() time.Time
	seq   atomic.Uint64 // last mail sequence number handed out
	dedup dedupIndex    // the Dedup bucket's entries, in memory

	salvaged *SalvageReport // what Open salvaged, if it had to
}

// Salvaged returns what Open salvaged from a structurally damaged file
// (with Options.Repair), or nil.
func (s *Store) Salvaged() *SalvageReport { return s.salvaged }

// Options tune the store.
type Options struct {
	// NoSync skips fsync on commit: faster, and loses the last writes on a
	// machine crash (not on a process crash). Off by default.
	NoSync bool
	// ReadOnly opens the file without the write lock (for audits of a copy).
	ReadOnly bool
	// Repair lets a damaged database open: records that fail to decrypt (or
	// that Validate refuses) are moved to the [Quarantine] bucket, a
	// damaged meta page is accepted (bbolt falls back to the previous
	// commit, which may lose the last one), and a file whose page structure
	// is damaged is rebuilt by [Salvage] (the damaged file kept beside it).
	Repair bool
	// SkipCheck skips the consistency check at open (tests of damage only).
	SkipCheck bool
	// Validate, if set, is called on every decrypted record during the
	// check at open; an error marks the record damaged.
	Validate func(Record) error
	// Now is the store's clock (dedup ages); default time.Now.
	Now func() time.Time
}

// Open opens or creates the database at path, sealing with keys from k. An
// existing file is checked first (see [Store.Check]): a damaged file returns
// [ErrDamaged] and a key manager that does not open it [ErrWrongKeys], both
// without changing a byte of the file.
func Open(path string, k *kms.Manager, o Options) (*Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	var salvaged *SalvageReport
	if !o.SkipCheck {
		err := checkFile(path, o.Repair)
		if err != nil && o.Repair && errors.Is(err, ErrDamaged) {
			rep, serr := Salvage(path, k)
			if serr != nil {
				return nil, fmt.Errorf("%w (salvage failed: %v)", err, serr)
			}
			salvaged = &rep
			err = checkFile(path, false)
		}
		if err != nil {
			return nil, err
		}
	}
	db, err := openBolt(path, o)
	if err != nil {
		return nil, err
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
	s := &Store{db: db, kms: k, index: idx, now: o.Now, salvaged: salvaged}
	if err := s.init(o); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt opens the bbolt file, turning a panic or memory fault on a
// damaged file into [ErrDamaged].
//
// The freelist is not written at commits (bbolt rebuilds it from the tree
// at open, as etcd's backend does) and is kept as a hash map: a mailbox
// store frees pages at every acknowledgement, and writing the grown list
// at every fsynced commit made commits large enough to triple the relay's
// p99 delivery latency at a steady 1,000 to 2,000 messages/s
// (stress.BenchmarkLoad's open-loop runs, compared in one session).
func openBolt(path string, o Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, fmt.Errorf("%w: %s: %v", ErrDamaged, path, p)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoSync: o.NoSync, ReadOnly: o.ReadOnly,
		NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
			return nil, fmt.Errorf("%w: %s: %v", ErrDamaged, path, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

// init checks an existing file, creates missing buckets and the key-check
// record, sets damaged records aside if o.Repair, and loads the counters.
// Until every check passed it writes nothing.
func (s *Store) init(o Options) error {
	if !o.SkipCheck {
		if err := s.checkTree(); err != nil {
			return err
		}
	}
	missing, err := s.checkKeys()
	if err != nil {
		return err
	}
	var bad []*RecordError
	if !o.SkipCheck {
		if bad, err = s.checkRecords(o.Validate); err != nil {
			return err
		}
		if len(bad) > 0 && (!o.Repair || o.ReadOnly) {
			return fmt.Errorf("%w: %s: %d records do not open or decode, first: %v (start with repair to set them aside)", ErrDamaged, s.db.Path(), len(bad), bad[0])
		}
	}
	if !o.ReadOnly {
		if err := s.initFile(missing); err != nil {
			return err
		}
	}
	for _, re := range bad {
		if err := s.Quarantine(re.Bucket, re.Key, re.Err.Error()); err != nil {
			return err
		}
	}
	return s.loadCounters()
}

// loadCounters reads the mail sequence and the dedup index.
func (s *Store) loadCounters() error {
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(Mail)); b != nil {
			s.seq.Store(b.Sequence())
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.loadDedup()
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

// MailKey returns the key of user's mail record seq (for [Store.Quarantine]).
func (s *Store) MailKey(user scanlab.UserID, seq uint64) []byte {
	return seqKey(s.Index(user), seq)
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
// Concurrent calls are batched into shared transactions (group commit: one
// fsync for many records).
func (s *Store) Enqueue(to scanlab.UserID, data []byte) (uint64, error) {
	st, err := s.enqueue([]pendingRecord{{to: to, data: data}})
	if err != nil {
		return 0, err
	}
	return st[0].Seq, nil
}

// EnqueueOnce stores data in to's mailbox unless a record with the same
// sender and message ID was stored within the dedup window; then it stores
// nothing and returns the first record's sequence number with dup set. The
// check and the write are one transaction, so a retry racing its original
// stores one copy. (sender, id) is kept only as a keyed hash.
func (s *Store) EnqueueOnce(sender scanlab.UserID, id string, to scanlab.UserID, data []byte) (seq uint64, dup bool, err error) {
	st, err := s.EnqueueAll([]Outgoing{{Sender: sender, ID: id, To: to, Data: data}})
	if err != nil {
		return 0, false, err
	}
	return st[0].Seq, st[0].Dup, nil
}

// Outgoing is one record for [Store.EnqueueAll]: data for To's mailbox,
// sent by Sender as message ID.
type Outgoing struct {
	Sender scanlab.UserID
	ID     string
	To     scanlab.UserID
	Data   []byte
}

// Stored is what became of one [Outgoing]: the sequence number of its
// record, and whether that record was stored before (a resend).
type Stored struct {
	Seq uint64
	Dup bool
}

// EnqueueAll stores every record as [Store.EnqueueOnce] would, in one
// transaction (batched with concurrent callers' writes, so one fsync
// commits them all), with sequence numbers in list order: a device's
// pipelined sends are stored, and delivered, in the order it sent them.
// Either every record is stored or, on error, none is.
func (s *Store) EnqueueAll(recs []Outgoing) ([]Stored, error) {
	ps := make([]pendingRecord, len(recs))
	for i, r := range recs {
		ps[i] = pendingRecord{to: r.To, data: r.Data, tag: s.dedupTag(r.Sender, r.ID)}
	}
	return s.enqueue(ps)
}

// pendingRecord is a record on its way into a mailbox; with tag set it is
// deduplicated.
type pendingRecord struct {
	to   scanlab.UserID
	data []byte
	tag  []byte
	seq  uint64
	key  []byte
	rec  []byte
}

// enqueue seals outside the write transaction (so sealing runs in parallel)
// and writes inside one batched transaction.
func (s *Store) enqueue(ps []pendingRecord) ([]Stored, error) {
	for i := range ps {
		p := &ps[i]
		p.seq = s.seq.Add(1)
		p.key = seqKey(s.Index(p.to), p.seq)
		var err error
		if p.rec, err = s.seal(Mail, p.key, p.data); err != nil {
			return nil, err
		}
	}
	out := make([]Stored, len(ps))
	err := s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(Mail))
		for i, p := range ps {
			out[i] = Stored{Seq: p.seq}
			if p.tag != nil {
				first, err := s.dedupOnce(tx, p.tag, p.seq)
				if err != nil {
					return err
				}
				if first != 0 {
					out[i] = Stored{Seq: first, Dup: true}
					continue
				}
			}
			if b.Sequence() < p.seq {
				if err := b.SetSequence(p.seq); err != nil {
					return err
				}
			}
			if err := b.Put(p.key, p.rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: enqueue: %w", err)
	}
	return out, nil
}

// Limit bounds what one [Store.Pending] call returns: at most Count records
// whose costs (plaintext size plus Overhead) add up to at most Bytes. A
// record whose cost alone exceeds ItemBytes (default Bytes) can never be
// returned.
type Limit struct {
	Count     int
	Bytes     int
	ItemBytes int
	Overhead  int
}

func (l Limit) itemBytes() int {
	if l.ItemBytes > 0 {
		return l.ItemBytes
	}
	return l.Bytes
}

// Pending returns records waiting in user's mailbox, oldest first, within
// lim. Records that fail to decrypt, or that alone exceed lim.Bytes (so
// could never be returned), are skipped and listed in bad, so the caller
// can set them aside ([Store.Quarantine]); they never block the records
// behind them.
func (s *Store) Pending(user scanlab.UserID, lim Limit) (items []Item, bad []*RecordError, err error) {
	prefix := s.Index(user)
	total := 0
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(Mail)).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(items) < lim.Count; k, v = c.Next() {
			if len(k) != indexSize+seqSize {
				bad = append(bad, &RecordError{Mail, bytes.Clone(k), ErrCorrupt})
				continue
			}
			cost := PlainSize(v) + lim.Overhead
			if cost > lim.itemBytes() {
				bad = append(bad, &RecordError{Mail, bytes.Clone(k), ErrOversized})
				continue
			}
			if total+cost > lim.Bytes {
				break
			}
			plain, err := s.open(Mail, k, v)
			if err != nil {
				bad = append(bad, &RecordError{Mail, bytes.Clone(k), err})
				continue
			}
			total += cost
			items = append(items, Item{Seq: binary.BigEndian.Uint64(k[indexSize:]), Data: plain})
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: pending: %w", err)
	}
	return items, bad, nil
}

// PendingSize returns how many bytes (plaintext plus lim.Overhead each) the
// next [Store.Pending] call with lim would return, without decrypting: the
// caller can reserve memory first.
func (s *Store) PendingSize(user scanlab.UserID, lim Limit) (int, error) {
	prefix := s.Index(user)
	total, n := 0, 0
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(Mail)).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && n < lim.Count; k, v = c.Next() {
			cost := PlainSize(v) + lim.Overhead
			if cost > lim.itemBytes() {
				continue
			}
			if total+cost > lim.Bytes {
				break
			}
			total += cost
			n++
		}
		return nil
	})
	return total, err
}

// PlainSize returns the plaintext length of a sealed record from its length
// alone (0 for a record too short to be one).
func PlainSize(rec []byte) int {
	if len(rec) < 2 {
		return 0
	}
	n := len(rec) - (2 + int(rec[1]) + wrappedSize + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead)
	return max(n, 0)
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
// checks it afterwards: a different fingerprint for the user returns
// [ErrCredential], and a fingerprint already bound to another user returns
// [ErrCredentialInUse] (one user per credential).
func (s *Store) BindDevice(user scanlab.UserID, fingerprint []byte) error {
	k := s.Index(user)
	ck := s.credentialTag(fingerprint)
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := s.checkCredential(tx, ck, k); err != nil {
			return err
		}
		b := tx.Bucket([]byte(Devices))
		if v := b.Get(k); v != nil {
			have, err := s.open(Devices, k, v)
			if err != nil {
				return &RecordError{Devices, k, err}
			}
			if !hmac.Equal(have, fingerprint) {
				return ErrCredential
			}
		} else {
			rec, err := s.seal(Devices, k, fingerprint)
			if err != nil {
				return err
			}
			if err := b.Put(k, rec); err != nil {
				return err
			}
		}
		if tx.Bucket([]byte(Credentials)).Get(ck) != nil {
			return nil
		}
		rec, err := s.seal(Credentials, ck, k)
		if err != nil {
			return err
		}
		return tx.Bucket([]byte(Credentials)).Put(ck, rec)
	})
}

// checkCredential refuses a credential already bound to another user than
// the one whose index is k.
func (s *Store) checkCredential(tx *bolt.Tx, ck, k []byte) error {
	v := tx.Bucket([]byte(Credentials)).Get(ck)
	if v == nil {
		return nil
	}
	owner, err := s.open(Credentials, ck, v)
	if err != nil {
		return &RecordError{Credentials, ck, err}
	}
	if !hmac.Equal(owner, k) {
		return ErrCredentialInUse
	}
	return nil
}

// credentialTag is the opaque key under which a credential's user is kept.
func (s *Store) credentialTag(fingerprint []byte) []byte {
	m := hmac.New(sha256.New, s.index)
	m.Write([]byte("credential\x00"))
	m.Write(fingerprint)
	return m.Sum(nil)[:indexSize]
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

// TakeKeys returns user's identity bundle and, if oneTime is set, at most
// one one-time key, which is deleted in the same transaction so it is never
// handed out twice.
func (s *Store) TakeKeys(user scanlab.UserID, oneTime bool) (identity, oneTimeKey []byte, err error) {
	idx := s.Index(user)
	update := s.db.Update
	if !oneTime {
		update = s.db.View
	}
	err = update(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(Keys)).Get(idx)
		if v == nil {
			return ErrNotFound
		}
		id, err := s.open(Keys, idx, v)
		if err != nil {
			return &RecordError{Keys, idx, err}
		}
		identity = id
		if !oneTime {
			return nil
		}
		c := tx.Bucket([]byte(OneTime)).Cursor()
		k, v := c.Seek(idx)
		if k == nil || !bytes.HasPrefix(k, idx) {
			return nil
		}
		ot, err := s.open(OneTime, k, v)
		if err != nil {
			return &RecordError{OneTime, bytes.Clone(k), err}
		}
		oneTimeKey = ot
		return c.Delete()
	})
	return identity, oneTimeKey, err
}

// OneTimeCount returns how many one-time keys user has left.
func (s *Store) OneTimeCount(user scanlab.UserID) (int, error) {
	idx := s.Index(user)
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(OneTime)).Cursor()
		for k, _ := c.Seek(idx); k != nil && bytes.HasPrefix(k, idx); k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
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
