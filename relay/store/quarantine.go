package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Quarantined is a record set aside because it could not be used: where it
// was, why, and its raw stored bytes (still sealed, or damaged), kept so an
// operator can inspect or restore it.
type Quarantined struct {
	Bucket string `json:"bucket"`
	Key    []byte `json:"key"`
	Reason string `json:"reason"`
	Raw    []byte `json:"raw"`
}

// Quarantine moves the record under key in bucket to the [Quarantine]
// bucket, sealed with why it was set aside, in one transaction: the record
// is never both gone and unrecorded. A record already gone is not an error.
func (s *Store) Quarantine(bucket string, key []byte, reason string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("store: no bucket %q", bucket)
		}
		raw := b.Get(key)
		if raw == nil {
			return nil
		}
		q := tx.Bucket([]byte(Quarantine))
		n, err := q.NextSequence()
		if err != nil {
			return err
		}
		data, err := json.Marshal(Quarantined{Bucket: bucket, Key: bytes.Clone(key), Reason: reason, Raw: bytes.Clone(raw)})
		if err != nil {
			return err
		}
		k := seqKey(nil, n)
		rec, err := s.seal(Quarantine, k, data)
		if err != nil {
			return err
		}
		if err := q.Put(k, rec); err != nil {
			return err
		}
		return b.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("store: quarantine %s/%x: %w", bucket, key, err)
	}
	return nil
}

// QuarantineList returns every record set aside so far, oldest first.
func (s *Store) QuarantineList() ([]Quarantined, error) {
	var out []Quarantined
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(Quarantine)).ForEach(func(k, v []byte) error {
			plain, err := s.open(Quarantine, k, v)
			if err != nil {
				return &RecordError{Quarantine, bytes.Clone(k), err}
			}
			var q Quarantined
			if err := json.Unmarshal(plain, &q); err != nil {
				return &RecordError{Quarantine, bytes.Clone(k), fmt.Errorf("%w: %v", ErrCorrupt, err)}
			}
			out = append(out, q)
			return nil
		})
	})
	return out, err
}
