package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"scanlab/kms"
)

// SalvageReport says what [Salvage] kept.
type SalvageReport struct {
	Kept     int    // records copied to the new file
	Rejected int    // reachable elements that did not open as records
	Damaged  string // where the damaged file was moved
}

// seqMargin is added to every bucket sequence in a salvaged file, so no
// sequence number handed out before the damage is handed out again.
const seqMargin = 1 << 24

// Salvage rebuilds a database whose page structure is damaged. It reads
// the file as bounds-checked bytes from the newer valid meta page, follows
// every bucket's tree while tolerating damaged page headers (a page is
// read as whatever it can be), and keeps each element that opens under k as
// a record of its bucket: records are sealed with their bucket and key as
// associated data, so one that opens is genuine and in its place. Free
// pages are never read, so deleted records do not come back. The kept
// records go to a fresh file that replaces path; the damaged file is kept
// beside it. Records in pages the damage made unreadable are lost, and
// the report counts what was kept.
func Salvage(path string, k *kms.Manager) (SalvageReport, error) {
	recs, rejected, seqs, err := collect(path, k)
	if err != nil {
		return SalvageReport{}, fmt.Errorf("store: salvage %s: %w", path, err)
	}
	if len(recs) <= rejected {
		// Most of what is reachable does not open: more likely the wrong
		// keys than damage. Leave the file alone.
		return SalvageReport{}, fmt.Errorf("%w: %s: salvage opened %d records and rejected %d", ErrWrongKeys, path, len(recs), rejected)
	}
	tmp := path + ".salvage"
	if err := writeSalvaged(tmp, recs, seqs); err != nil {
		os.Remove(tmp)
		return SalvageReport{}, fmt.Errorf("store: salvage %s: %w", path, err)
	}
	damaged := fmt.Sprintf("%s.damaged-%d", path, time.Now().Unix())
	if err := os.Rename(path, damaged); err != nil {
		return SalvageReport{}, fmt.Errorf("store: salvage: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return SalvageReport{}, fmt.Errorf("store: salvage: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return SalvageReport{}, err
	}
	return SalvageReport{Kept: len(recs), Rejected: rejected, Damaged: damaged}, nil
}

// collect walks the damaged file and returns the records that open, how
// many elements did not, and each bucket's sequence to restore.
func collect(path string, k *kms.Manager) ([]Record, int, map[string]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, nil, err
	}
	c := &fileChecker{f: f, repair: true, free: map[uint64]bool{}, seen: map[uint64]bool{0: true, 1: true}}
	meta, err := c.newerMeta()
	if err != nil {
		return nil, 0, nil, err
	}
	c.hwm = min(binary.LittleEndian.Uint64(meta[40:]), uint64(st.Size()/c.pageSize))
	if fl := binary.LittleEndian.Uint64(meta[32:]); fl != noFreelist {
		c.freelist(fl) // best effort: unknown free pages are merely read
	}
	s := &salvager{c: c, k: k, seqs: map[string]uint64{}}
	for _, e := range s.elements(binary.LittleEndian.Uint64(meta[16:]), nil) {
		if e.bucket && slices.Contains(buckets, string(e.key)) {
			s.bucket(string(e.key), e.value)
		}
	}
	return s.recs, s.rejected, s.seqs, nil
}

// salvager gathers the records of a damaged file.
type salvager struct {
	c        *fileChecker
	k        *kms.Manager
	recs     []Record
	rejected int
	seqs     map[string]uint64
}

// element is one leaf element read from a page.
type element struct {
	key, value []byte
	bucket     bool
}

// bucket keeps the records of one bucket from its header value.
func (s *salvager) bucket(name string, v []byte) {
	if len(v) < bucketHeaderSize {
		return
	}
	s.seqs[name] = max(s.seqs[name], binary.LittleEndian.Uint64(v[8:]))
	var es []element
	if root := binary.LittleEndian.Uint64(v); root != 0 {
		es = s.elements(root, nil)
	} else {
		es = s.leaf(v[bucketHeaderSize:])
	}
	for _, e := range es {
		if e.bucket {
			continue
		}
		if _, err := Decrypt(s.k, name, e.key, e.value); err != nil {
			s.rejected++
			continue
		}
		if len(e.key) >= seqSize {
			s.seqs[name] = max(s.seqs[name], binary.BigEndian.Uint64(e.key[len(e.key)-seqSize:]))
		}
		s.recs = append(s.recs, Record{Bucket: name, Key: bytes.Clone(e.key), Data: bytes.Clone(e.value)})
	}
}

// elements returns every leaf element under page id, reading each page
// once, as a branch if it says so and otherwise as a leaf (a page whose
// type byte is damaged is still read).
func (s *salvager) elements(id uint64, out []element) []element {
	c := s.c
	if id < 2 || id >= c.hwm || c.seen[id] || c.free[id] {
		return out
	}
	p, err := c.page(id)
	if err != nil { // a damaged header: read the one page it must span
		p = make([]byte, c.pageSize)
		if _, err := c.f.ReadAt(p, int64(id)*c.pageSize); err != nil {
			return out
		}
	}
	c.seen[id] = true
	switch binary.LittleEndian.Uint16(p[8:]) {
	case branchFlag:
		for _, child := range branchChildren(p) {
			out = s.elements(child, out)
		}
		return out
	case leafFlag:
		return append(out, s.leaf(p)...)
	}
	// A damaged type: read it both ways. Children are followed only if
	// their header names them (c.page checks), and records only kept if
	// they open, so misreadings cost nothing.
	for _, child := range branchChildren(p) {
		if _, err := c.page(child); err == nil {
			out = s.elements(child, out)
		}
	}
	return append(out, s.leaf(p)...)
}

// branchChildren returns the child page IDs of a branch page.
func branchChildren(p []byte) []uint64 {
	var ids []uint64
	for _, e := range headers(p) {
		ids = append(ids, binary.LittleEndian.Uint64(e[8:]))
	}
	return ids
}

// leaf returns the elements of a leaf page whose bounds hold.
func (s *salvager) leaf(p []byte) []element {
	var out []element
	for i, e := range headers(p) {
		at := uint64(pageHeaderSize + i*elementSize)
		pos, ksize, vsize := uint64(binary.LittleEndian.Uint32(e[4:])), uint64(binary.LittleEndian.Uint32(e[8:])), uint64(binary.LittleEndian.Uint32(e[12:]))
		if at+pos+ksize+vsize > uint64(len(p)) || at+pos < at {
			s.rejected++
			continue
		}
		k := p[at+pos : at+pos+ksize]
		out = append(out, element{key: k, value: p[at+pos+ksize : at+pos+ksize+vsize], bucket: binary.LittleEndian.Uint32(e)&bucketLeafFlag != 0})
	}
	return out
}

// headers returns a page's element headers: as many as its count says, or,
// if the count is damaged, as many as fit before the first element's data.
func headers(p []byte) [][]byte {
	count := int(binary.LittleEndian.Uint16(p[10:]))
	limit := (len(p) - pageHeaderSize) / elementSize
	var out [][]byte
	dataStart := len(p)
	for i := 0; i < limit && pageHeaderSize+(i+1)*elementSize <= dataStart; i++ {
		at := pageHeaderSize + i*elementSize
		e := p[at : at+elementSize]
		pos := int(binary.LittleEndian.Uint32(e[4:]))
		if binary.LittleEndian.Uint16(p[8:]) == branchFlag {
			pos = int(binary.LittleEndian.Uint32(e))
		}
		if i >= count && (pos <= 0 || at+pos > len(p)) {
			break // past the count, and no longer a plausible header
		}
		if pos > 0 && at+pos < dataStart {
			dataStart = at + pos
		}
		out = append(out, e)
	}
	return out
}

// writeSalvaged writes records (already sealed) to a new file at path,
// with every bucket's sequence past anything used before.
func writeSalvaged(path string, recs []Record, seqs map[string]uint64) error {
	os.Remove(path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range buckets {
			b, err := tx.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return err
			}
			if err := b.SetSequence(seqs[name] + seqMargin); err != nil {
				return err
			}
		}
		for _, r := range recs {
			if err := tx.Bucket([]byte(r.Bucket)).Put(r.Key, r.Data); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory, making renames in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return errors.Join(errors.New("store: sync directory"), err)
	}
	return nil
}
