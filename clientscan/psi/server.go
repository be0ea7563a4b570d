package psi

import (
	"bytes"
	"fmt"
	"math/big"
	"sync"
)

// Server is one voucher server of the provider: it processes vouchers with
// the provider's α and keeps its own per-account state (the paper's SHARES
// and IDLIST, §4). Two Servers of one [Provider] share nothing but α: an
// account's vouchers count towards its threshold only on the Server that
// received them. A Server is safe for concurrent use.
type Server struct {
	pr *Provider

	mu       sync.Mutex
	accounts map[string]*accountState
}

// NewServer returns a voucher server with no account state.
func (pr *Provider) NewServer() *Server {
	return &Server{pr: pr, accounts: make(map[string]*accountState)}
}

// String describes the server without the provider's secrets.
func (s *Server) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("psi.Server{accounts: %d, provider: %v}", len(s.accounts), s.pr)
}

// GoString is String, for %#v.
func (s *Server) GoString() string { return s.String() }

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
	// Excess reports an account that is not Revealed although it holds more
	// than Threshold + MaxSynthetic + 1 matches: more synthetic vouchers than
	// an honest account can send (its budget is at most MaxSynthetic), so a
	// modified client. The server stops examining such an account.
	Excess bool
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
	rec, matched, err := s.pr.open(v)
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

// afterMatch runs detection and reveal; st.mu is held.
func (s *Server) afterMatch(st *accountState) {
	t := s.pr.p.Threshold
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
	if len(st.matches) <= t || len(st.matches) > t+1+s.pr.p.MaxSynthetic {
		return
	}
	st.revealed, st.adKey, st.span, st.opened = reveal(st.matches, t)
}

// reveal runs the detectable-hash detection over an account's matches and,
// when more than t are real, reconstructs the account key and opens the real
// matches. It returns revealed = false when detection or reconstruction
// fails (fewer than t+1 real matches, or a detected set that is not
// genuine).
func reveal(matches []matchRecord, t int) (revealed bool, key []byte, span *basis, opened []Match) {
	rs := make([][]uint64, len(matches))
	for i, m := range matches {
		rs[i] = m.r
	}
	real, span := detect(rs, t)
	if real == nil {
		return false, nil, nil, nil
	}
	xs := make([]*big.Int, t+1)
	ys := make([]*big.Int, t+1)
	for i := range xs {
		xs[i], ys[i] = matches[real[i]].x, matches[real[i]].y
	}
	secret, ok := lagrangeAtZero(xs, ys)
	if !ok {
		return false, nil, nil, nil
	}
	key = adKeyFromSecret(secret)
	for _, i := range real {
		m := matches[i]
		ad, err := openAD(key, m.adct)
		if err != nil {
			if len(opened) == 0 {
				return false, nil, nil, nil // wrong key: the detected set was not genuine
			}
			continue
		}
		opened = append(opened, Match{ID: m.id, AD: ad})
	}
	return true, key, span, opened
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
	v.Excess = !st.revealed && len(st.matches) > s.pr.p.Threshold+1+s.pr.p.MaxSynthetic
	return v
}
