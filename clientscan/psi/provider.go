package psi

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/cloudflare/circl/group"
)

// maxKicks bounds the evictions of one cuckoo insertion; the element still
// homeless afterwards is dropped (paper §4: a small fraction of the list
// is dropped, giving false negatives).
const maxKicks = 500

// Provider is the provider's secret side of one database version (paper
// §4, server setup): the blinding secret α, the seed of the empty slots'
// points and the hash nonces, with the table built from them. It publishes
// the table ([Provider.Table]) and hands α to its voucher servers
// ([Provider.NewServer]); it holds no per-account state. Nothing a device
// holds refers to a Provider. A Provider is immutable and safe for
// concurrent use.
type Provider struct {
	p       Params
	sec     serverSecrets
	table   *Table
	dropped [][]byte
	placed  int
}

// serverSecrets are everything needed to rebuild the table from a list.
type serverSecrets struct {
	alpha                    group.Scalar
	seed                     [32]byte // derives the random points of empty slots
	nonceH, nonceH1, nonceH2 [NonceSize]byte
}

func newSecrets() serverSecrets {
	var s serverSecrets
	s.alpha = group.P256.RandomNonZeroScalar(rand.Reader)
	rand.Read(s.seed[:])
	rand.Read(s.nonceH[:])
	rand.Read(s.nonceH1[:])
	rand.Read(s.nonceH2[:])
	return s
}

// NewProvider runs the paper's server setup (§4) on list: it deduplicates
// the list, inserts it into a cuckoo table of ⌈TableFactor·n⌉ slots with two
// hash functions, drops what does not fit (see [Provider.Dropped]), chooses
// a secret α, and publishes P_i = α·H(T[i]) for filled slots, a random point
// for empty ones, and L = α·G. Each call draws fresh α and nonces, so the
// set of dropped entries changes with every database version (the paper's
// Remark 3). Elements are arbitrary byte strings. Setup costs one
// hash-to-curve and one scalar multiplication per slot, spread over
// GOMAXPROCS goroutines.
func NewProvider(list [][]byte, p Params) (*Provider, error) {
	return newProvider(list, nil, p)
}

// NewOverfitProvider builds the malicious provider of the paper's Remark 5:
// it builds the honest table for claimed and then places each element of
// extra into one of its two cuckoo slots when that slot is empty, so that
// devices also match extra ([Provider.Placed] counts them). The result
// publishes a root like any other; only an auditor who rebuilds the table
// from the claimed list ([Provider.Audit]) can notice.
func NewOverfitProvider(claimed, extra [][]byte, p Params) (*Provider, error) {
	return newProvider(claimed, extra, p)
}

func newProvider(list, extra [][]byte, p Params) (*Provider, error) {
	p, err := p.normalize()
	if err != nil {
		return nil, err
	}
	pr := &Provider{p: p, sec: newSecrets()}
	pr.table, pr.dropped, pr.placed, err = buildTable(list, extra, &pr.sec, p.TableFactor)
	if err != nil {
		return nil, err
	}
	return pr, nil
}

// Table returns the blinded table devices download (the paper's pdata).
func (pr *Provider) Table() *Table { return pr.table }

// Root returns the published commitment to the table, [Table.Root].
func (pr *Provider) Root() [32]byte { return pr.table.root }

// Params returns the parameters with defaults filled in.
func (pr *Provider) Params() Params { return pr.p }

// Dropped returns how many distinct list entries did not fit into the cuckoo
// table. Devices never match them: they are false negatives by construction.
func (pr *Provider) Dropped() int { return len(pr.dropped) }

// Placed returns how many extra targets [NewOverfitProvider] placed into
// empty slots (0 for an honest provider).
func (pr *Provider) Placed() int { return pr.placed }

// Audit rebuilds the table from list with the provider's own secrets, as the
// auditor of Apple's "Security Threat Model Review of Apple's Child Safety
// Features" (August 2021) does in a secure environment, and reports whether
// the rebuilt root equals the published one. It detects an overfitted table
// and a list that differs from the one claimed; a device, which sees only
// the table, can detect neither.
func (pr *Provider) Audit(list [][]byte) (bool, error) {
	t, _, _, err := buildTable(list, nil, &pr.sec, pr.p.TableFactor)
	if err != nil {
		return false, err
	}
	return t.root == pr.table.root, nil
}

// String describes the provider without its secrets, so that logging a
// Provider never leaks α.
func (pr *Provider) String() string {
	return fmt.Sprintf("psi.Provider{slots: %d, dropped: %d, root: %x}", pr.table.Slots(), len(pr.dropped), pr.table.root[:8])
}

// GoString is String, for %#v.
func (pr *Provider) GoString() string { return pr.String() }

func dedup(list [][]byte) [][]byte {
	out := slices.Clone(list)
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}

// buildTable is the deterministic part of server setup: the same list and
// secrets give the same table. It returns the table, the dropped elements
// and how many extra (overfitted) elements it placed.
func buildTable(list, extra [][]byte, sec *serverSecrets, factor float64) (*Table, [][]byte, int, error) {
	items := dedup(list)
	n := max(2, int(math.Ceil(factor*float64(len(items)))))
	if n > MaxTableSlots {
		return nil, nil, 0, fmt.Errorf("psi: table of %d slots exceeds %d", n, MaxTableSlots)
	}
	owner, dropped := cuckoo(items, sec.nonceH1, sec.nonceH2, n)
	items, placed := overfit(items, extra, owner, sec)
	enc := make([]byte, tableHeaderSize+n*PointSize)
	off := copy(enc, tableMagic)
	off += copy(enc[off:], sec.nonceH[:])
	off += copy(enc[off:], sec.nonceH1[:])
	off += copy(enc[off:], sec.nonceH2[:])
	l := group.P256.NewElement().MulGen(sec.alpha)
	off += copy(enc[off:], encodePoint(l))
	binary.BigEndian.PutUint32(enc[off:], uint32(n))
	blindSlots(enc[tableHeaderSize:], items, owner, sec)
	t, err := UnmarshalTable(enc, tableRoot(enc))
	if err != nil {
		// Repeated points happen with negligible probability.
		return nil, nil, 0, fmt.Errorf("psi: built an invalid table: %w", err)
	}
	return t, dropped, placed, nil
}

// overfit places extra targets into empty slots (the paper's Remark 5): each
// goes into the first of its two slots that is empty, if any. It returns the
// items with the placed targets appended, and how many it placed.
func overfit(items, extra [][]byte, owner []int, sec *serverSecrets) ([][]byte, int) {
	placed := 0
	member := make(map[string]bool, len(items))
	for _, y := range items {
		member[string(y)] = true
	}
	for _, y := range dedup(extra) {
		if member[string(y)] {
			continue
		}
		a, b := positions(sec.nonceH1, sec.nonceH2, y, len(owner))
		for _, w := range [2]int{a, b} {
			if owner[w] < 0 {
				items = append(items, y)
				owner[w] = len(items) - 1
				placed++
				break
			}
		}
	}
	return items, placed
}

// blindSlots writes P_i = α·H(T[i]) for filled slots and a pseudorandom
// point for empty ones, spread over GOMAXPROCS goroutines.
func blindSlots(slots []byte, items [][]byte, owner []int, sec *serverSecrets) {
	n := len(owner)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var idx [8]byte
			for i := w; i < n; i += workers {
				e := group.P256.NewElement()
				if owner[i] >= 0 {
					e.Mul(hashToCurve(sec.nonceH, items[owner[i]]), sec.alpha)
				} else {
					// A uniformly random point, reproducible from the secret
					// seed so that an auditor can rebuild the table.
					binary.BigEndian.PutUint64(idx[:], uint64(i))
					k := group.P256.HashToScalar(append(sec.seed[:], idx[:]...), []byte("scanlab-psi-v1-empty-slot"))
					e.MulGen(k)
				}
				copy(slots[i*PointSize:], encodePoint(e))
			}
		})
	}
	wg.Wait()
}

// cuckoo inserts items into n slots with two hash functions and returns, for
// each slot, the index of its item (−1 when empty) and the items that did not
// fit. Insertion is deterministic: the same items and nonces give the same
// table.
func cuckoo(items [][]byte, nonce1, nonce2 [NonceSize]byte, n int) ([]int, [][]byte) {
	owner := make([]int, n)
	for i := range owner {
		owner[i] = -1
	}
	pos := make([][2]int, len(items))
	for i, y := range items {
		a, b := positions(nonce1, nonce2, y, n)
		pos[i] = [2]int{a, b}
	}
	var dropped [][]byte
	for i := range items {
		cur, from := i, -1
		for kick := 0; cur >= 0; kick++ {
			a, b := pos[cur][0], pos[cur][1]
			switch {
			case owner[a] < 0:
				owner[a], cur = cur, -1
			case owner[b] < 0:
				owner[b], cur = cur, -1
			case kick == maxKicks:
				dropped = append(dropped, items[cur])
				cur = -1
			default:
				victim := a
				if a == from {
					victim = b
				}
				owner[victim], cur = cur, owner[victim]
				from = victim
			}
		}
	}
	return owner, dropped
}

// open tries both (Q, ct) pairs of v with α (paper §4, server processing)
// and parses the inner plaintext of a match. A voucher with no pair opening
// is a non-match (false, nil); one with both opening is [ErrBothOpen].
func (pr *Provider) open(v *Voucher) (matchRecord, bool, error) {
	opened, inner, err := pr.tryPairs(v)
	switch {
	case err != nil:
		return matchRecord{}, false, err
	case opened == 0:
		return matchRecord{}, false, nil
	case opened == 2:
		return matchRecord{}, false, ErrBothOpen
	}
	rec, err := parseInner(inner, pr.p)
	if err != nil {
		return matchRecord{}, false, err
	}
	rec.id = bytes.Clone(v.id)
	return rec, true, nil
}

// tryPairs computes Ŝ_j = α·Q_j for both pairs and returns how many open
// (ct_j under H'(Ŝ_j), then rct under the rkey found), with the last inner
// plaintext.
func (pr *Provider) tryPairs(v *Voucher) (int, []byte, error) {
	if len(v.rct) != pr.p.rctSize() {
		return 0, nil, fmt.Errorf("%w: long ciphertext of %d bytes, want %d", ErrMalformed, len(v.rct), pr.p.rctSize())
	}
	var qs [2]group.Element
	for j := range qs {
		q, err := parsePoint(v.q[j][:])
		if err != nil {
			return 0, nil, fmt.Errorf("voucher point Q%d: %w", j+1, err)
		}
		qs[j] = q
	}
	var inner []byte
	opened := 0
	for j, q := range qs {
		sj := group.P256.NewElement().Mul(q, pr.sec.alpha)
		if sj.IsIdentity() {
			continue
		}
		rkey, err := open(encodePoint(sj), labelCT, v.ct[j][:])
		if err != nil {
			continue
		}
		pt, err := open(rkey, labelRCT, v.rct)
		if err != nil {
			continue
		}
		inner = pt
		opened++
	}
	return opened, inner, nil
}

// rctSize is the size of the long ciphertext rct for the parameters.
func (p Params) rctSize() int {
	return sealOverhead + innerSize(p)
}

// innerSize is the size of rct's plaintext: r, the share and adct.
func innerSize(p Params) int {
	return 8*(p.MaxSynthetic+1) + 2*scalarSize + adctSize(p)
}

func adctSize(p Params) int { return sealOverhead + 4 + p.ADSize }
