package psi

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"runtime"
	"slices"
	"sync"

	"github.com/cloudflare/circl/group"
)

// maxKicks bounds the evictions of one cuckoo insertion; the element still
// homeless afterwards is dropped (paper §4: a small fraction of the list
// is dropped, giving false negatives).
const maxKicks = 500

// Server is the provider: it holds the list, the secret α and the blinded
// table, and processes vouchers per account. A Server is safe for
// concurrent use.
type Server struct {
	p       Params
	sec     serverSecrets
	table   *Table
	dropped [][]byte

	mu       sync.Mutex
	accounts map[string]*accountState
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

// NewServer runs the paper's server setup (§4) on list: it deduplicates the
// list, inserts it into a cuckoo table of ⌈TableFactor·n⌉ slots with two hash
// functions, drops what does not fit (see [Server.Dropped]), chooses a secret
// α, and publishes P_i = α·H(T[i]) for filled slots, a random point for
// empty ones, and L = α·G. Each call draws fresh α and nonces, so the set of
// dropped entries changes with every database version (the paper's Remark
// 3). Elements are arbitrary byte strings. Setup costs
// one hash-to-curve and one scalar multiplication per slot, spread over
// GOMAXPROCS goroutines.
func NewServer(list [][]byte, p Params) (*Server, error) {
	s, _, err := newServer(list, nil, p)
	return s, err
}

// NewOverfitServer builds the malicious server of the paper's Remark 5: it
// builds the honest table for claimed and then places each element of extra
// into one of its two cuckoo slots when that slot is empty, so that devices
// also match extra. It returns how many extra elements were placed. The
// result publishes a root like any other; only an auditor who rebuilds the
// table from the claimed list ([Server.Audit]) can notice.
func NewOverfitServer(claimed, extra [][]byte, p Params) (*Server, int, error) {
	return newServer(claimed, extra, p)
}

func newServer(list, extra [][]byte, p Params) (*Server, int, error) {
	p, err := p.normalize()
	if err != nil {
		return nil, 0, err
	}
	s := &Server{p: p, sec: newSecrets(), accounts: make(map[string]*accountState)}
	t, dropped, placed, err := buildTable(list, extra, &s.sec, p.TableFactor)
	if err != nil {
		return nil, 0, err
	}
	s.table, s.dropped = t, dropped
	return s, placed, nil
}

// Table returns the blinded table devices download.
func (s *Server) Table() *Table { return s.table }

// Root returns the published commitment to the table, [Table.Root].
func (s *Server) Root() [32]byte { return s.table.root }

// Dropped returns how many distinct list entries did not fit into the cuckoo
// table. Devices never match them: they are false negatives by construction.
func (s *Server) Dropped() int { return len(s.dropped) }

// Audit rebuilds the table from list with the server's own secrets, as the
// auditor of Apple's "Security Threat Model Review of Apple's Child Safety
// Features" (August 2021) does in a secure environment, and reports whether
// the rebuilt root equals the published one. It detects an overfitted table and a list that differs from
// the one claimed; a device, which sees only the table, can detect neither.
func (s *Server) Audit(list [][]byte) (bool, error) {
	t, _, _, err := buildTable(list, nil, &s.sec, s.p.TableFactor)
	if err != nil {
		return false, err
	}
	return t.root == s.table.root, nil
}

func dedup(list [][]byte) [][]byte {
	out := slices.Clone(list)
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}

// buildTable is the deterministic part of server setup: the same list and
// secrets give the same table.
func buildTable(list, extra [][]byte, sec *serverSecrets, factor float64) (*Table, [][]byte, int, error) {
	items := dedup(list)
	n := max(2, int(math.Ceil(factor*float64(len(items)))))
	if n > MaxTableSlots {
		return nil, nil, 0, fmt.Errorf("psi: table of %d slots exceeds %d", n, MaxTableSlots)
	}
	owner, dropped := cuckoo(items, sec.nonceH1, sec.nonceH2, n)
	// Overfitting (Remark 5): fill empty slots with extra targets.
	placed := 0
	member := make(map[string]bool, len(items))
	for _, y := range items {
		member[string(y)] = true
	}
	for _, y := range dedup(extra) {
		if member[string(y)] {
			continue
		}
		a, b := positions(sec.nonceH1, sec.nonceH2, y, n)
		for _, w := range [2]int{a, b} {
			if owner[w] < 0 {
				items = append(items, y)
				owner[w] = len(items) - 1
				placed++
				break
			}
		}
	}

	enc := make([]byte, tableHeaderSize+n*PointSize)
	off := copy(enc, tableMagic)
	off += copy(enc[off:], sec.nonceH[:])
	off += copy(enc[off:], sec.nonceH1[:])
	off += copy(enc[off:], sec.nonceH2[:])
	l := group.P256.NewElement().MulGen(sec.alpha)
	off += copy(enc[off:], encodePoint(l))
	binary.BigEndian.PutUint32(enc[off:], uint32(n))
	slots := enc[tableHeaderSize:]

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
	t, err := UnmarshalTable(enc, tableRoot(enc))
	if err != nil {
		// Repeated points happen with negligible probability.
		return nil, nil, 0, fmt.Errorf("psi: built an invalid table: %w", err)
	}
	return t, dropped, placed, nil
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

// Match is the associated data of one real match, opened after the account
// passed the threshold.
type Match struct {
	// ID is the voucher identifier.
	ID []byte
	// AD is the associated data the device attached (exactly the bytes it
	// passed, without padding).
	AD []byte
}

// View is what the server knows about one account.
type View struct {
	// Vouchers is the number of distinct voucher identifiers received.
	Vouchers int
	// Matches is the number of vouchers that matched: real matches and
	// synthetic vouchers, which the server cannot tell apart until Revealed.
	Matches int
	// Revealed reports whether more than Threshold real matches were found
	// and the account key was reconstructed.
	Revealed bool
	// Real is the number of real matches, known only once Revealed (0
	// before).
	Real int
}

type matchRecord struct {
	id   []byte
	r    []uint64 // DHF output, s+1 elements
	x, y *big.Int // Shamir share (dummy for synthetic vouchers)
	adct []byte
}

type accountState struct {
	mu       sync.Mutex
	ids      map[string]struct{}
	matches  []matchRecord
	revealed bool
	adKey    []byte
	span     *basis // span of the real DHF columns, once revealed
	opened   []Match
}

// account returns the state of an account, creating it when create is set;
// otherwise an unknown account gives nil.
func (s *Server) account(name string, create bool) *accountState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.accounts[name]
	if st == nil && create {
		st = &accountState{ids: make(map[string]struct{})}
		s.accounts[name] = st
	}
	return st
}

// String describes the server without its secrets, so that logging a Server
// never leaks α.
func (s *Server) String() string {
	return fmt.Sprintf("psi.Server{slots: %d, dropped: %d, root: %x}", s.table.Slots(), len(s.dropped), s.table.root[:8])
}

// GoString is String, for %#v.
func (s *Server) GoString() string { return s.String() }

// Process handles one voucher of an account with α only (paper §4, server
// processing): it tries both (Q, ct) pairs and reports whether the voucher
// matched (a real match or a synthetic voucher). A voucher whose identifier
// the account already used returns [ErrDuplicateID] and counts once; a
// voucher with both pairs opening returns [ErrBothOpen]; bad bytes return
// [ErrMalformed] or [ErrBadPoint]. Rejected vouchers change nothing stored.
//
// Once the account holds more than Threshold matches, Process runs the
// detectable-hash detection after each new match (at most MaxSynthetic+1
// times per account; see BenchmarkReveal for its cost); when more than
// Threshold of them are real it reconstructs the account key and opens their
// associated data ([Server.Revealed]). Later real matches are opened as they
// arrive.
func (s *Server) Process(account string, data []byte) (matched bool, err error) {
	v, err := ParseVoucher(data)
	if err != nil {
		return false, err
	}
	st := s.account(account, true)
	st.mu.Lock()
	_, dup := st.ids[string(v.id)]
	st.mu.Unlock()
	if dup {
		return false, ErrDuplicateID
	}
	rec, matched, err := s.open(v)
	if err != nil {
		return false, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, dup := st.ids[string(v.id)]; dup {
		return false, ErrDuplicateID
	}
	st.ids[string(v.id)] = struct{}{}
	if !matched {
		return false, nil
	}
	st.matches = append(st.matches, rec)
	s.afterMatch(st)
	return true, nil
}

// rctSize is the size of the long ciphertext rct for the server's parameters.
func (p Params) rctSize() int {
	return sealOverhead + innerSize(p)
}

// innerSize is the size of rct's plaintext: r, the share and adct.
func innerSize(p Params) int {
	return 8*(p.MaxSynthetic+1) + 2*scalarSize + adctSize(p)
}

func adctSize(p Params) int { return sealOverhead + 4 + p.ADSize }

// open tries both (Q, ct) pairs of v and parses the inner plaintext of a
// match.
func (s *Server) open(v *Voucher) (matchRecord, bool, error) {
	opened, inner, err := s.tryPairs(v)
	switch {
	case err != nil:
		return matchRecord{}, false, err
	case opened == 0:
		return matchRecord{}, false, nil
	case opened == 2:
		return matchRecord{}, false, ErrBothOpen
	}
	rec, err := parseInner(inner, s.p)
	if err != nil {
		return matchRecord{}, false, err
	}
	rec.id = bytes.Clone(v.id)
	return rec, true, nil
}

// tryPairs computes Ŝ_j = α·Q_j for both pairs and returns how many open
// (ct_j under H'(Ŝ_j), then rct under the rkey found), with the last inner
// plaintext.
func (s *Server) tryPairs(v *Voucher) (int, []byte, error) {
	if len(v.rct) != s.p.rctSize() {
		return 0, nil, fmt.Errorf("%w: long ciphertext of %d bytes, want %d", ErrMalformed, len(v.rct), s.p.rctSize())
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
		sj := group.P256.NewElement().Mul(q, s.sec.alpha)
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

// afterMatch runs detection and reveal; st.mu is held.
func (s *Server) afterMatch(st *accountState) {
	t := s.p.Threshold
	if st.revealed {
		m := st.matches[len(st.matches)-1]
		if st.span.contains(dhfColumn(m.r, t)) {
			if ad, err := openAD(st.adKey, m.adct); err == nil {
				st.opened = append(st.opened, Match{ID: m.id, AD: ad})
			}
		}
		return
	}
	// An honest account is revealed by the time its (t+1)-th real match
	// arrives, when it holds at most t+1+s matches (at most s synthetic).
	// Beyond that it sent more synthetic vouchers than an honest client
	// can, and detection would fail anyway; skipping it bounds the work a
	// modified client can cause.
	if len(st.matches) <= t || len(st.matches) > t+1+s.p.MaxSynthetic {
		return
	}
	rs := make([][]uint64, len(st.matches))
	for i, m := range st.matches {
		rs[i] = m.r
	}
	real, span := detect(rs, t)
	if real == nil {
		return
	}
	xs := make([]*big.Int, t+1)
	ys := make([]*big.Int, t+1)
	for i := range xs {
		xs[i], ys[i] = st.matches[real[i]].x, st.matches[real[i]].y
	}
	secret, ok := lagrangeAtZero(xs, ys)
	if !ok {
		return
	}
	key := adKeyFromSecret(secret)
	var opened []Match
	for _, i := range real {
		m := st.matches[i]
		ad, err := openAD(key, m.adct)
		if err != nil {
			if len(opened) == 0 {
				return // wrong key: the detected set was not genuine
			}
			continue
		}
		opened = append(opened, Match{ID: m.id, AD: ad})
	}
	st.revealed, st.adKey, st.span, st.opened = true, key, span, opened
}

// Revealed returns the associated data of the account's real matches, in
// arrival order, once more than Threshold real matches were received; before
// that it returns nil.
func (s *Server) Revealed(account string) []Match {
	st := s.account(account, false)
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]Match, len(st.opened))
	for i, m := range st.opened {
		out[i] = Match{ID: bytes.Clone(m.ID), AD: bytes.Clone(m.AD)}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// View returns what the server knows about an account.
func (s *Server) View(account string) View {
	st := s.account(account, false)
	if st == nil {
		return View{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	v := View{Vouchers: len(st.ids), Matches: len(st.matches), Revealed: st.revealed}
	if st.revealed {
		v.Real = len(st.opened)
	}
	return v
}
