package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// bbolt's file layout (go.etcd.io/bbolt internal/common: page.go, meta.go):
// pages 0 and 1 each hold a meta record after a 16-byte page header; the
// meta's last field is an FNV-64a checksum of the fields before it.
const (
	pageHeaderSize = 16
	metaMagic      = 0xED0CDAED
	metaSumOffset  = 56 // bytes of meta covered by the checksum
	maxPageSize    = 64 << 10
)

// checkMeta reads both meta pages of an existing file and refuses the file
// if either fails its checksum. bbolt alone would silently fall back to the
// other page, which holds the previous commit: an acknowledged write would
// vanish. A missing or empty file passes (it will be created).
func checkMeta(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, pageHeaderSize+metaSumOffset+8)
	if n, err := io.ReadFull(f, head); n == 0 && errors.Is(err, io.EOF) {
		return nil
	} else if err != nil {
		return fmt.Errorf("%w: %s: shorter than one meta page", ErrDamaged, path)
	}
	m0, err0 := parseMeta(head)
	size := int64(os.Getpagesize())
	if err0 == nil {
		size = int64(binary.LittleEndian.Uint32(m0[8:]))
	}
	if size < 512 || size > maxPageSize {
		return fmt.Errorf("%w: %s: meta page 0: implausible page size %d", ErrDamaged, path, size)
	}
	if _, err := f.ReadAt(head, size); err != nil {
		return fmt.Errorf("%w: %s: no second meta page: %v", ErrDamaged, path, err)
	}
	_, err1 := parseMeta(head)
	switch {
	case err0 != nil:
		return fmt.Errorf("%w: %s: meta page 0 %v; bbolt would fall back to the previous commit and could lose acknowledged writes", ErrDamaged, path, err0)
	case err1 != nil:
		return fmt.Errorf("%w: %s: meta page 1 %v; bbolt would fall back to the previous commit and could lose acknowledged writes", ErrDamaged, path, err1)
	}
	return nil
}

// parseMeta returns the meta record in a page, checking magic and checksum.
func parseMeta(page []byte) ([]byte, error) {
	m := page[pageHeaderSize:]
	if binary.LittleEndian.Uint32(m) != metaMagic {
		return nil, errors.New("has a bad magic number")
	}
	h := fnv.New64a()
	h.Write(m[:metaSumOffset])
	if h.Sum64() != binary.LittleEndian.Uint64(m[metaSumOffset:]) {
		return nil, errors.New("fails its checksum")
	}
	return m, nil
}

// checkFile checks an existing file before bbolt maps it: both meta pages
// (unless repair accepts a fall-back to the previous commit) and the page
// structure.
func checkFile(path string, repair bool) error {
	if !repair {
		if err := checkMeta(path); err != nil {
			return err
		}
	}
	return checkPages(path, repair)
}

// maxReported bounds how many problems a check error lists.
const maxReported = 5

// checkTree runs bbolt's structural check (page references, types, key
// order) over the whole file.
func (s *Store) checkTree() error {
	var problems []string
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			if n < maxReported {
				problems = append(problems, err.Error())
			}
			n++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDamaged, s.db.Path(), err)
	}
	if n > 0 {
		return fmt.Errorf("%w: %s: %d structural problems, first: %s", ErrDamaged, s.db.Path(), n, strings.Join(problems, "; "))
	}
	return nil
}

// keyCheckName is the key of the record that proves the keys open the file.
const keyCheckName = "keycheck"

// keyCheckValue is the known plaintext of the key-check record: a constant
// and a MAC under the index key, so both the KEKs and the root secret are
// checked.
func (s *Store) keyCheckValue() []byte {
	m := hmac.New(sha256.New, s.index)
	m.Write([]byte("scanlab store key check v1"))
	return append([]byte("scanlab store key check v1:"), m.Sum(nil)...)
}

// checkKeys opens the key-check record, or, in a file that has none (a new
// file, or one from before the record existed), one stored record. It
// returns whether the file lacks the record.
func (s *Store) checkKeys() (missing bool, err error) {
	var have []byte
	var sample *Record
	err = s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(Meta)); b != nil {
			have = b.Get([]byte(keyCheckName))
		}
		if have == nil {
			sample = firstRecord(tx)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if have != nil {
		plain, err := s.open(Meta, []byte(keyCheckName), have)
		if err != nil || !hmac.Equal(plain, s.keyCheckValue()) {
			return false, fmt.Errorf("%w: %s", ErrWrongKeys, s.db.Path())
		}
		return false, nil
	}
	if sample != nil {
		if _, err := s.open(sample.Bucket, sample.Key, sample.Data); err != nil {
			return false, fmt.Errorf("%w: %s: a stored record does not open: %v", ErrWrongKeys, s.db.Path(), err)
		}
	}
	return true, nil
}

// initFile creates missing buckets and, if missing, the key-check record.
// It writes nothing when both exist.
func (s *Store) initFile(keyCheck bool) error {
	need := keyCheck
	s.db.View(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			need = need || tx.Bucket([]byte(b)) == nil
		}
		return nil
	})
	if !need {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return fmt.Errorf("store: init %s: %w", s.db.Path(), err)
			}
		}
		if !keyCheck {
			return nil
		}
		rec, err := s.seal(Meta, []byte(keyCheckName), s.keyCheckValue())
		if err != nil {
			return err
		}
		return tx.Bucket([]byte(Meta)).Put([]byte(keyCheckName), rec)
	})
}

// firstRecord returns any one sealed record (raw), or nil in an empty file.
func firstRecord(tx *bolt.Tx) *Record {
	for _, name := range buckets {
		b := tx.Bucket([]byte(name))
		if b == nil {
			continue
		}
		if k, v := b.Cursor().First(); k != nil && v != nil {
			return &Record{Bucket: name, Key: k, Data: v}
		}
	}
	return nil
}

// checkRecords decrypts every record (and runs validate on it) and returns
// those that fail.
func (s *Store) checkRecords(validate func(Record) error) ([]*RecordError, error) {
	var bad []*RecordError
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range buckets {
			if name == Quarantine {
				continue
			}
			b := tx.Bucket([]byte(name))
			if b == nil {
				continue
			}
			err := b.ForEach(func(k, v []byte) error {
				if err := s.checkRecord(name, k, v, validate); err != nil {
					bad = append(bad, &RecordError{name, append([]byte(nil), k...), err})
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDamaged, s.db.Path(), err)
	}
	return bad, nil
}

func (s *Store) checkRecord(bucket string, k, v []byte, validate func(Record) error) error {
	if v == nil {
		return errors.New("nested bucket where a record belongs")
	}
	plain, err := s.open(bucket, k, v)
	if err != nil {
		return err
	}
	if validate != nil {
		return validate(Record{Bucket: bucket, Key: k, Data: plain})
	}
	return nil
}
