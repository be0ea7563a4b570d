package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// This file checks a bbolt file's structure by reading its pages as plain
// bytes, bounds-checking every offset, before bbolt maps it. bbolt reads
// pages through its memory map and trusts their headers: a flipped length
// makes its own consistency check (Tx.Check) read past the map and fault,
// which kills the process (a fault, not a recoverable panic). The layout is
// bbolt v1.5's (go.etcd.io/bbolt internal/common page.go, meta.go,
// bucket.go): every page starts with id u64, flags u16, count u16,
// overflow u32; branch elements are (pos u32, ksize u32, pgid u64), leaf
// elements (flags u32, pos u32, ksize u32, vsize u32), with pos counted from
// the element; a bucket's value is (root pgid u64, sequence u64) followed,
// for an inline bucket (root 0), by its one leaf page.

// Page flags and sizes of bbolt's format.
const (
	branchFlag       = 0x01
	leafFlag         = 0x02
	freelistFlag     = 0x10
	bucketLeafFlag   = 0x01
	elementSize      = 16
	bucketHeaderSize = 16
	noFreelist       = ^uint64(0)
)

// fileChecker walks one file.
type fileChecker struct {
	f        *os.File
	repair   bool // accept one damaged meta page, as bbolt does
	pageSize int64
	hwm      uint64 // pages below it are in use or free
	free     map[uint64]bool
	seen     map[uint64]bool
	problems []string
	root     bool // reading the root bucket, which holds only buckets
}

// checkPages verifies the structure of the bbolt file at path: the newer
// meta page's root and freelist, every page reachable from the root (type,
// element bounds, key order, a single reference each, not free), and, if
// the file records its freelist, that every page below the high-water mark
// is reachable or free (a file written without one, as the store writes
// them, has every unreachable page free by definition: bbolt rebuilds the
// list from the tree at open). A missing or empty file passes.
func checkPages(path string, repair bool) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	c := &fileChecker{f: f, repair: repair, free: map[uint64]bool{}, seen: map[uint64]bool{0: true, 1: true}}
	if err := c.run(st.Size()); err != nil {
		c.problems = append(c.problems, err.Error())
	}
	if len(c.problems) > 0 {
		n := len(c.problems)
		return fmt.Errorf("%w: %s: %d structural problems, first: %s", ErrDamaged, path, n, c.problems[0])
	}
	return nil
}

func (c *fileChecker) run(size int64) error {
	meta, err := c.newerMeta()
	if err != nil {
		return err
	}
	c.hwm = binary.LittleEndian.Uint64(meta[40:])
	if c.hwm < 2 || int64(c.hwm) > size/c.pageSize {
		return fmt.Errorf("high-water mark %d pages beyond a file of %d bytes", c.hwm, size)
	}
	fl := binary.LittleEndian.Uint64(meta[32:])
	if fl != noFreelist {
		if err := c.freelist(fl); err != nil {
			return err
		}
	}
	c.root = true
	c.tree(binary.LittleEndian.Uint64(meta[16:]), nil, nil)
	if fl == noFreelist {
		return nil // no freelist on disk: every page not reachable is free
	}
	for id := uint64(2); id < c.hwm && len(c.problems) < maxReported; id++ {
		if !c.seen[id] && !c.free[id] {
			c.fail("page %d: neither reachable nor free", id)
		}
	}
	return nil
}

// newerMeta returns the meta record bbolt will use: the valid one with the
// larger transaction ID. Without repair checkMeta has required both valid.
func (c *fileChecker) newerMeta() ([]byte, error) {
	m0, err0 := c.meta(0, int64(os.Getpagesize()))
	if err0 == nil {
		c.pageSize = int64(binary.LittleEndian.Uint32(m0[8:]))
	} else {
		c.pageSize = int64(os.Getpagesize())
	}
	if c.pageSize < 512 || c.pageSize > maxPageSize {
		return nil, fmt.Errorf("implausible page size %d", c.pageSize)
	}
	m1, err1 := c.meta(1, c.pageSize)
	switch {
	case err0 != nil && err1 != nil:
		return nil, fmt.Errorf("both meta pages damaged: %v; %v", err0, err1)
	case err0 != nil || err1 != nil:
		if !c.repair {
			return nil, errors.Join(err0, err1)
		}
		if err0 != nil {
			return m1, nil
		}
		return m0, nil
	}
	if binary.LittleEndian.Uint64(m1[48:]) > binary.LittleEndian.Uint64(m0[48:]) {
		return m1, nil
	}
	return m0, nil
}

// meta reads and checks meta page n of a file with the given page size.
func (c *fileChecker) meta(n int, pageSize int64) ([]byte, error) {
	head := make([]byte, pageHeaderSize+metaSumOffset+8)
	if _, err := c.f.ReadAt(head, int64(n)*pageSize); err != nil {
		return nil, fmt.Errorf("meta page %d: %v", n, err)
	}
	m, err := parseMeta(head)
	if err != nil {
		return nil, fmt.Errorf("meta page %d %v", n, err)
	}
	return m, nil
}

func (c *fileChecker) fail(format string, a ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, a...))
}

// page reads page id with its overflow pages, checking it lies below the
// high-water mark.
func (c *fileChecker) page(id uint64) ([]byte, error) {
	if id < 2 || id >= c.hwm {
		return nil, fmt.Errorf("page %d: out of range [2, %d)", id, c.hwm)
	}
	head := make([]byte, pageHeaderSize)
	if _, err := c.f.ReadAt(head, int64(id)*c.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: %v", id, err)
	}
	if got := binary.LittleEndian.Uint64(head); got != id {
		return nil, fmt.Errorf("page %d: header names page %d", id, got)
	}
	overflow := uint64(binary.LittleEndian.Uint32(head[12:]))
	if id+overflow >= c.hwm {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the high-water mark %d", id, overflow, c.hwm)
	}
	p := make([]byte, int64(overflow+1)*c.pageSize)
	if _, err := c.f.ReadAt(p, int64(id)*c.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: %v", id, err)
	}
	return p, nil
}

// freelist reads the free page IDs.
func (c *fileChecker) freelist(id uint64) error {
	p, err := c.page(id)
	if err != nil {
		return fmt.Errorf("freelist: %v", err)
	}
	if flags := binary.LittleEndian.Uint16(p[8:]); flags != freelistFlag {
		return fmt.Errorf("freelist page %d has type %#x", id, flags)
	}
	c.claim(id, p)
	idx, count := uint64(0), uint64(binary.LittleEndian.Uint16(p[10:]))
	if count == 0xFFFF {
		idx, count = 1, binary.LittleEndian.Uint64(p[pageHeaderSize:])
	}
	if count > uint64(len(p)-pageHeaderSize)/8-idx {
		return fmt.Errorf("freelist page %d: %d entries do not fit", id, count)
	}
	for i := range count {
		free := binary.LittleEndian.Uint64(p[pageHeaderSize+8*(idx+i):])
		if free < 2 || free >= c.hwm || c.free[free] {
			return fmt.Errorf("freelist: entry %d is page %d (high-water mark %d, or listed twice)", i, free, c.hwm)
		}
		c.free[free] = true
	}
	return nil
}

// claim marks a page and its overflow as referenced, once.
func (c *fileChecker) claim(id uint64, p []byte) bool {
	n := uint64(len(p)) / uint64(c.pageSize)
	for i := range n {
		switch {
		case c.seen[id+i]:
			c.fail("page %d: referenced twice", id+i)
			return false
		case c.free[id+i]:
			c.fail("page %d: in use and free", id+i)
			return false
		}
		c.seen[id+i] = true
	}
	return true
}

// tree checks the subtree rooted at page id, whose keys must lie in
// [lo, hi) (nil: unbounded).
func (c *fileChecker) tree(id uint64, lo, hi []byte) {
	if len(c.problems) >= maxReported {
		return
	}
	p, err := c.page(id)
	if err != nil {
		c.fail("%v", err)
		return
	}
	if !c.claim(id, p) {
		return
	}
	used, ok := c.node(id, p, lo, hi)
	// bbolt allocates a node exactly the pages its contents need, so a
	// longer run means a damaged overflow count. Without a freelist on disk
	// the pages it swallows would otherwise pass as reachable, and be freed
	// with this page later while in use elsewhere.
	if want := (used + int(c.pageSize) - 1) / int(c.pageSize); ok && len(p)/int(c.pageSize) != want {
		c.fail("page %d: %d overflow pages hold %d bytes that need %d pages", id, len(p)/int(c.pageSize)-1, used, want)
	}
}

// node checks one branch or leaf page already read (p may be an inline
// bucket's page inside a value) and returns the bytes its header, elements,
// keys and values take; ok is false when it found a problem.
func (c *fileChecker) node(id uint64, p []byte, lo, hi []byte) (used int, ok bool) {
	flags := binary.LittleEndian.Uint16(p[8:])
	count := int(binary.LittleEndian.Uint16(p[10:]))
	if flags != branchFlag && flags != leafFlag {
		c.fail("page %d: type %#x is neither branch nor leaf", id, flags)
		return 0, false
	}
	if pageHeaderSize+count*elementSize > len(p) {
		c.fail("page %d: %d elements do not fit", id, count)
		return 0, false
	}
	used = pageHeaderSize + count*elementSize
	keys := make([][]byte, 0, count)
	for i := range count {
		k, n, ok := c.element(id, p, flags, i)
		if !ok {
			return 0, false
		}
		if (i == 0 && lo != nil && bytes.Compare(k, lo) < 0) || (i > 0 && bytes.Compare(keys[i-1], k) >= 0) || (hi != nil && bytes.Compare(k, hi) >= 0) {
			c.fail("page %d: key %d out of order", id, i)
			return 0, false
		}
		keys = append(keys, k)
		used += n
	}
	if flags == branchFlag {
		for i := range count {
			next := hi
			if i+1 < count {
				next = keys[i+1]
			}
			c.tree(binary.LittleEndian.Uint64(p[pageHeaderSize+i*elementSize+8:]), keys[i], next)
		}
	}
	return used, true
}

// element bounds-checks element i of page p and returns its key and the
// bytes its key and value take; a leaf element that holds a bucket is
// followed into that bucket.
func (c *fileChecker) element(id uint64, p []byte, flags uint16, i int) ([]byte, int, bool) {
	at := pageHeaderSize + i*elementSize
	e := p[at : at+elementSize]
	var pos, ksize, vsize uint64
	if flags == branchFlag {
		pos, ksize = uint64(binary.LittleEndian.Uint32(e)), uint64(binary.LittleEndian.Uint32(e[4:]))
	} else {
		pos, ksize, vsize = uint64(binary.LittleEndian.Uint32(e[4:])), uint64(binary.LittleEndian.Uint32(e[8:])), uint64(binary.LittleEndian.Uint32(e[12:]))
	}
	end := uint64(at) + pos + ksize + vsize
	if end > uint64(len(p)) {
		c.fail("page %d: element %d runs past the page", id, i)
		return nil, 0, false
	}
	start := uint64(at) + pos
	k := p[start : start+ksize]
	isBucket := flags == leafFlag && binary.LittleEndian.Uint32(e)&bucketLeafFlag != 0
	if flags == leafFlag && c.root && !isBucket {
		c.fail("page %d: element %d of the root is not a bucket", id, i)
		return nil, 0, false
	}
	if isBucket {
		root := c.root
		c.root = false
		c.bucket(id, p[start+ksize:end])
		c.root = root
	}
	return k, int(ksize + vsize), true
}

// bucket checks a bucket from its value: an inline page or a subtree.
func (c *fileChecker) bucket(id uint64, v []byte) {
	if len(v) < bucketHeaderSize {
		c.fail("page %d: bucket header truncated", id)
		return
	}
	root := binary.LittleEndian.Uint64(v)
	if root != 0 {
		c.tree(root, nil, nil)
		return
	}
	inline := v[bucketHeaderSize:]
	if len(inline) < pageHeaderSize {
		c.fail("page %d: inline bucket truncated", id)
		return
	}
	c.node(id, inline, nil, nil)
}
