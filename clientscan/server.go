package clientscan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/e2ee"
	"scanlab/perceptual"
)

// Server is the provider's logic: e2ee's (franking tags, report
// verification) plus voucher processing with α only, the threshold reveal
// and the full-distance check. It is safe for concurrent use.
type Server struct {
	e   *e2ee.Server
	m   *Mode
	env scanlab.ServerEnv
	// ledger is this server's own per-account voucher state.
	ledger *psi.Server

	mu       sync.Mutex
	accounts map[scanlab.UserID]*account
	stats    ServerStats
}

// ServerStats counts what the provider's logic handled.
type ServerStats struct {
	Envelopes       int // envelopes accepted
	Vouchers        int // vouchers processed (distinct identifiers)
	Matches         int // vouchers that matched: real or synthetic
	Duplicates      int // vouchers whose identifier was already seen (counted once)
	Malformed       int // voucher attachments refused
	Opened          int // associated data opened after the threshold
	FalseCandidates int // opened, but the full distance was too large: dropped
	BadAD           int // opened associated data of the wrong shape
	Detections      int // device-hash detections raised
	Verdicts        int // device-text verdicts read
	BadVerdicts     int // verdict attachments refused
	PlainReports    int // plain-list match reports accepted
	BadPlain        int // plain-list match reports refused
}

// account is the provider's bookkeeping for one sender.
type account struct {
	mu      sync.Mutex
	handled []int             // per PSI position: revealed matches handled
	message map[string]string // voucher identifier → envelope ID, for matches
	done    map[string]bool   // envelope IDs already opened (any position)
}

// NewProvider makes the provider logic (see [Mode.NewServer]) with its
// concrete type. It records the list as the provider holds it into
// env.Record.
func (m *Mode) NewProvider(env scanlab.ServerEnv) (*Server, error) {
	if err := m.Setup(); err != nil {
		return nil, err
	}
	e, err := e2ee.NewServer(env)
	if err != nil {
		return nil, err
	}
	s := &Server{e: e, m: m, env: env, accounts: map[scanlab.UserID]*account{}}
	if m.prov != nil {
		s.ledger = m.prov.NewServer()
	}
	// The provider holds the list in the clear: it blinded the table from it
	// (or, for the plain variant, ships it as is).
	route := RouteList
	if m.opts.ListVariant == ListPlain {
		route = RoutePlainList
	}
	s.record(route, m.listText, map[string]string{"entries": strconv.Itoa(len(m.opts.List))})
	return s, nil
}

func (s *Server) record(route string, data []byte, fields map[string]string) {
	if s.env.Record != nil {
		s.env.Record(route, data, fields)
	}
}

func (s *Server) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}

// Stats returns the provider's counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Server) count(f func(*ServerStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// AccountView is what the provider knows about one account's vouchers,
// summed over PSI positions.
type AccountView struct {
	Vouchers int // vouchers received (distinct identifiers)
	Matches  int // of which matched: real or synthetic, indistinguishable below the threshold
	Revealed int // PSI positions past the threshold
	Real     int // real matches opened (0 before any reveal)
}

// Account returns what the provider knows about user's vouchers.
func (s *Server) Account(user scanlab.UserID) AccountView {
	var v AccountView
	if s.ledger == nil {
		return v
	}
	for pos := range s.m.opts.Match.positions() {
		pv := s.ledger.View(s.psiAccount(user, pos))
		v.Vouchers += pv.Vouchers
		v.Matches += pv.Matches
		v.Real += pv.Real
		if pv.Revealed {
			v.Revealed++
		}
	}
	return v
}

// psiAccount names the PSI account of one user and position.
func (s *Server) psiAccount(user scanlab.UserID, pos int) string {
	return strconv.Itoa(pos) + "/" + string(user)
}

func (s *Server) account(user scanlab.UserID) *account {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[user]
	if a == nil {
		a = &account{handled: make([]int, s.m.opts.Match.positions()), message: map[string]string{}, done: map[string]bool{}}
		s.accounts[user] = a
	}
	return a
}

// ErrNoAccount reports a voucher on an envelope without a sender.
var ErrNoAccount = errors.New("clientscan: voucher on an envelope without a sender")

// ErrVerdict reports a malformed device-text verdict.
var ErrVerdict = errors.New("clientscan: malformed text verdict")

// Accept runs e2ee's provider logic (franking tag), then reads and strips the
// mode's attachments: the text verdict, the plain match report, and the
// vouchers, which it processes per account. It raises device-text detections
// at once and device-hash detections only for opened, verified matches. A
// malformed attachment refuses the envelope (ErrVoucher, ErrVerdict,
// ErrPlainReport); a voucher identifier already seen (a retried envelope) is
// counted once and the envelope is accepted.
func (s *Server) Accept(e *scanlab.Envelope) ([]scanlab.Detection, error) {
	dets, err := s.e.Accept(e)
	if err != nil {
		return dets, err
	}
	verdict, hasVerdict := e.Attach[AttachTextVerdict]
	plain, hasPlain := e.Attach[AttachPlainMatch]
	bundle, hasVoucher := e.Attach[AttachVoucher]
	delete(e.Attach, AttachTextVerdict)
	delete(e.Attach, AttachPlainMatch)
	delete(e.Attach, AttachVoucher)
	if (hasVoucher || hasPlain) && e.From == "" {
		return dets, ErrNoAccount
	}
	if hasVerdict {
		d, err := s.verdict(e, verdict)
		if err != nil {
			return dets, err
		}
		dets = append(dets, d...)
	}
	if hasPlain {
		d, err := s.plainReport(e, plain)
		if err != nil {
			return dets, err
		}
		dets = append(dets, d...)
	}
	if hasVoucher {
		d, err := s.vouchers(e, bundle)
		dets = append(dets, d...)
		if err != nil {
			return dets, err
		}
	}
	s.count(func(st *ServerStats) { st.Envelopes++ })
	return dets, nil
}

// Verify checks a franking report as e2ee does.
func (s *Server) Verify(r scanlab.Report) ([]scanlab.Detection, error) { return s.e.Verify(r) }

func (s *Server) verdict(e *scanlab.Envelope, b []byte) ([]scanlab.Detection, error) {
	if len(b) != 1 || b[0] > 1 {
		s.count(func(st *ServerStats) { st.BadVerdicts++ })
		return nil, fmt.Errorf("%w: %d bytes", ErrVerdict, len(b))
	}
	s.count(func(st *ServerStats) { st.Verdicts++ })
	s.record(RouteTextVerdict, []byte{b[0]}, map[string]string{
		"message": e.ID, "verdict-message": e.ID, "verdict": strconv.Itoa(int(b[0])), "account": string(e.From)})
	if b[0] == 0 {
		return nil, nil
	}
	return []scanlab.Detection{{MessageID: e.ID, Account: e.From, Pathway: scanlab.DeviceText,
		At: s.now(), Rule: "device-text verdict", Distance: -1}}, nil
}

func (s *Server) plainReport(e *scanlab.Envelope, b []byte) ([]scanlab.Detection, error) {
	if s.m.opts.ListVariant != ListPlain {
		s.count(func(st *ServerStats) { st.BadPlain++ })
		return nil, fmt.Errorf("%w: the mode ships no plain list", ErrPlainReport)
	}
	entry, h, ad, err := decodePlainReport(b)
	if err == nil && entry >= len(s.m.opts.List) {
		err = fmt.Errorf("%w: entry %d of %d", ErrPlainReport, entry, len(s.m.opts.List))
	}
	if err != nil {
		s.count(func(st *ServerStats) { st.BadPlain++ })
		return nil, err
	}
	// The provider learns the match and the image's hash and derivative at
	// once, with no threshold.
	s.count(func(st *ServerStats) { st.PlainReports++ })
	dist := perceptual.Distance(h, s.m.opts.List[entry])
	fields := map[string]string{"message": e.ID, "account": string(e.From), "distance": strconv.Itoa(dist)}
	if dist > s.m.opts.VerifyDistance {
		s.count(func(st *ServerStats) { st.FalseCandidates++ })
		s.record(RoutePlainReport, ad, fields)
		return nil, nil
	}
	fields["verdict-message"] = e.ID
	s.record(RoutePlainReport, ad, fields)
	s.count(func(st *ServerStats) { st.Detections++ })
	return []scanlab.Detection{{MessageID: e.ID, Account: e.From, Pathway: scanlab.DeviceHash,
		At: s.now(), Rule: s.label(entry), Distance: dist}}, nil
}

func (s *Server) label(entry int) string {
	if entry < len(s.m.opts.Labels) && s.m.opts.Labels[entry] != "" {
		return s.m.opts.Labels[entry]
	}
	return s.m.opts.List[entry].String()
}

// vouchers processes one envelope's voucher attachment.
func (s *Server) vouchers(e *scanlab.Envelope, bundle []byte) ([]scanlab.Detection, error) {
	if s.ledger == nil {
		s.count(func(st *ServerStats) { st.Malformed++ })
		return nil, fmt.Errorf("%w: the plain variant takes no vouchers", ErrVoucher)
	}
	n := s.m.opts.Match.positions()
	vs, err := decodeBundle(bundle, n)
	if err == nil {
		for pos, v := range vs {
			pv, perr := psi.ParseVoucher(v)
			switch {
			case perr != nil:
				err = fmt.Errorf("%w: position %d: %w", ErrVoucher, pos, perr)
			case string(pv.ID()) != string(voucherID(e.ID, pos)):
				// Identifiers are public; a plain comparison is fine.
				err = fmt.Errorf("%w: position %d: identifier not bound to this envelope", ErrVoucher, pos)
			}
			if err != nil {
				break
			}
		}
	}
	if err != nil {
		s.count(func(st *ServerStats) { st.Malformed++ })
		return nil, err
	}
	a := s.account(e.From)
	a.mu.Lock()
	defer a.mu.Unlock()
	matched := make([]string, n)
	var dets []scanlab.Detection
	var firstErr error
	for pos, v := range vs {
		ok, err := s.ledger.Process(s.psiAccount(e.From, pos), v)
		switch {
		case errors.Is(err, psi.ErrDuplicateID):
			s.count(func(st *ServerStats) { st.Duplicates++ })
			matched[pos] = "dup"
			continue
		case err != nil:
			// Earlier positions of this envelope stay counted; a retry
			// counts them once.
			s.count(func(st *ServerStats) { st.Malformed++ })
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: position %d: %w", ErrVoucher, pos, err)
			}
			matched[pos] = "bad"
			continue
		}
		matched[pos] = "0"
		s.count(func(st *ServerStats) { st.Vouchers++ })
		if ok {
			matched[pos] = "1"
			s.count(func(st *ServerStats) { st.Matches++ })
			pv, _ := psi.ParseVoucher(v)
			a.message[string(pv.ID())] = e.ID
		}
		dets = append(dets, s.reveal(e.From, a, pos)...)
	}
	view := s.Account(e.From)
	// What the provider learns of every voucher below the threshold: the
	// opaque bytes, whether each matched (real or synthetic) and the counts.
	s.record(RouteVouchers, bundle, map[string]string{
		"message": e.ID, "account": string(e.From), "matched": strings.Join(matched, ","),
		"vouchers": strconv.Itoa(view.Vouchers), "matches": strconv.Itoa(view.Matches)})
	return dets, firstErr
}

// reveal handles the matches psi opened for one position since the last
// call: each is verified against the full list and recorded; real matches
// raise a detection once per message. a.mu is held.
func (s *Server) reveal(user scanlab.UserID, a *account, pos int) []scanlab.Detection {
	opened := s.ledger.Revealed(s.psiAccount(user, pos))
	var dets []scanlab.Detection
	for _, mt := range opened[min(a.handled[pos], len(opened)):] {
		msg := a.message[string(mt.ID)]
		if a.done[msg] {
			continue
		}
		a.done[msg] = true
		s.count(func(st *ServerStats) { st.Opened++ })
		h, _, err := decodeAD(mt.AD)
		if err != nil {
			s.count(func(st *ServerStats) { st.BadAD++ })
			s.record(RouteCandidate, mt.AD, map[string]string{"message": msg, "account": string(user), "error": err.Error()})
			continue
		}
		best, dist := -1, s.m.opts.VerifyDistance+1
		for _, m := range s.m.index.Match(h, s.m.opts.VerifyDistance) {
			if m.Distance < dist {
				best, dist = m.Entry, m.Distance
			}
		}
		if best < 0 {
			s.count(func(st *ServerStats) { st.FalseCandidates++ })
			s.record(RouteCandidate, mt.AD, map[string]string{"message": msg, "account": string(user)})
			continue
		}
		s.count(func(st *ServerStats) { st.Detections++ })
		s.record(RouteOpened, mt.AD, map[string]string{"message": msg, "verdict-message": msg,
			"account": string(user), "distance": strconv.Itoa(dist)})
		dets = append(dets, scanlab.Detection{MessageID: msg, Account: user, Pathway: scanlab.DeviceHash,
			At: s.now(), Rule: s.label(best), Distance: dist})
	}
	a.handled[pos] = len(opened)
	return dets
}
