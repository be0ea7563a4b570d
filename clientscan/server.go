package clientscan

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/e2ee"
)

// Server is the provider's logic: e2ee's (franking tags, report
// verification) plus voucher processing with α, the threshold reveal, the
// full-distance check, the second hash and the human review. Each Server
// keeps its own per-account voucher state. It is safe for concurrent use.
type Server struct {
	e      *e2ee.Server
	prov   *provider
	ledger *psi.Server // this server's per-account voucher state; nil for "plain"
	env    scanlab.ServerEnv

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
	FalseCandidates int // opened, but no list entry within VerifyDistance: dropped
	BadAD           int // opened associated data of the wrong shape
	SecondRejected  int // PDQ-confirmed, then rejected by the second hash
	SecondSkipped   int // reviewed without a second hash (none supplied)
	ReviewRejected  int // rejected by the human reviewer
	Detections      int // device-hash detections raised
	Verdicts        int // device-text verdicts read
	BadVerdicts     int // verdict attachments refused
	PlainReports    int // plain-list match reports accepted
	BadPlain        int // plain-list match reports refused
}

// account is the provider's bookkeeping for one sender.
type account struct {
	mu      sync.Mutex
	handled int               // revealed matches handled
	message map[string]string // voucher identifier → envelope ID, for matches
}

// newServer makes the provider logic. It records the list as the provider
// holds it into env.Record.
func newServer(p *provider, env scanlab.ServerEnv) (*Server, error) {
	e, err := e2ee.NewServer(env)
	if err != nil {
		return nil, err
	}
	s := &Server{e: e, prov: p, env: env, accounts: map[scanlab.UserID]*account{}}
	if p.psi != nil {
		s.ledger = p.psi.NewServer()
	}
	// The provider holds the list in the clear: it blinded the table from it
	// (or, for the plain variant, ships it as is).
	route := RouteList
	if p.opts.ListVariant == ListPlain {
		route = RoutePlainList
	}
	s.record(route, p.listText, map[string]string{"entries": strconv.Itoa(len(p.opts.List))})
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

// AccountView is what the provider knows about one account's vouchers.
type AccountView struct {
	Vouchers int  // vouchers received (distinct identifiers)
	Matches  int  // of which matched: real or synthetic, indistinguishable below the threshold
	Revealed bool // past the threshold: the account key was reconstructed
	Real     int  // real matches opened (0 before the reveal)
	// Excess: not revealed, yet more matches than an honest account can
	// hold below the threshold (t + 1 + s): a modified client sending
	// synthetic vouchers in place of real ones.
	Excess bool
}

// Account returns what the provider knows about user's vouchers.
func (s *Server) Account(user scanlab.UserID) AccountView {
	if s.ledger == nil {
		return AccountView{}
	}
	v := s.ledger.View(string(user))
	return AccountView{Vouchers: v.Vouchers, Matches: v.Matches, Revealed: v.Revealed, Real: v.Real, Excess: v.Excess}
}

func (s *Server) account(user scanlab.UserID) *account {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[user]
	if a == nil {
		a = &account{message: map[string]string{}}
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
// voucher, which it processes for the sender's account. It raises
// device-text detections at once and device-hash detections only for
// opened matches that pass the PDQ distance, the second hash and the
// review. A malformed attachment refuses the envelope (ErrVoucher,
// ErrVerdict, ErrPlainReport); a voucher identifier already seen (a retried
// envelope) is counted once and the envelope is accepted.
func (s *Server) Accept(e *scanlab.Envelope) ([]scanlab.Detection, error) {
	dets, err := s.e.Accept(e)
	if err != nil {
		return dets, err
	}
	verdict, hasVerdict := e.Attach[AttachTextVerdict]
	plain, hasPlain := e.Attach[AttachPlainMatch]
	voucher, hasVoucher := e.Attach[AttachVoucher]
	delete(e.Attach, AttachTextVerdict)
	delete(e.Attach, AttachPlainMatch)
	delete(e.Attach, AttachVoucher)
	if (hasVoucher || hasPlain) && e.From == "" {
		return dets, ErrNoAccount
	}
	steps := []struct {
		present bool
		run     func() ([]scanlab.Detection, error)
	}{
		{hasVerdict, func() ([]scanlab.Detection, error) { return s.verdict(e, verdict) }},
		{hasPlain, func() ([]scanlab.Detection, error) { return s.plainReport(e, plain) }},
		{hasVoucher, func() ([]scanlab.Detection, error) { return s.voucher(e, voucher) }},
	}
	for _, st := range steps {
		if !st.present {
			continue
		}
		d, err := st.run()
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

// IssueCertificate issues sender certificates as e2ee's provider does
// (scanlab.CertificateIssuer). clientscan refuses sealed sender, so its
// devices do not use them; the provider's directory still answers.
func (s *Server) IssueCertificate(user scanlab.UserID, identity []byte) ([]byte, error) {
	return s.e.IssueCertificate(user, identity)
}

var _ scanlab.CertificateIssuer = (*Server)(nil)

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

// plainReport handles a plain-list match report: the provider learns the
// match, the hash and the derivative at once, with no threshold, and runs
// the same checks as after a reveal.
func (s *Server) plainReport(e *scanlab.Envelope, b []byte) ([]scanlab.Detection, error) {
	if s.prov.opts.ListVariant != ListPlain {
		s.count(func(st *ServerStats) { st.BadPlain++ })
		return nil, fmt.Errorf("%w: the mode ships no plain list", ErrPlainReport)
	}
	h, derivative, err := decodeAD(b)
	if err != nil {
		s.count(func(st *ServerStats) { st.BadPlain++ })
		return nil, fmt.Errorf("%w: %w", ErrPlainReport, err)
	}
	s.count(func(st *ServerStats) { st.PlainReports++ })
	j := s.prov.judge(h, derivative, e.ID)
	return s.conclude(RoutePlainReport, e.ID, e.From, b, j), nil
}

// conclude counts and records the judgement of one opened match (a
// revealed voucher or a plain report) under route, and returns its
// detection if it was confirmed.
func (s *Server) conclude(route, msg string, user scanlab.UserID, ad []byte, j judgement) []scanlab.Detection {
	fields := map[string]string{"message": msg, "account": string(user), "stage": j.stage}
	if j.stage != stageFar {
		fields["distance"] = strconv.Itoa(j.hit.Distance)
	}
	if j.second >= 0 {
		fields["second-distance"] = strconv.Itoa(j.second)
	}
	switch j.stage {
	case stageFar:
		s.count(func(st *ServerStats) { st.FalseCandidates++ })
		if route == RouteOpened {
			route = RouteCandidate
		}
	case stageSecond:
		s.count(func(st *ServerStats) { st.SecondRejected++ })
	case stageReview:
		s.count(func(st *ServerStats) { st.ReviewRejected++ })
	case stageConfirmed:
		fields["verdict-message"] = msg
	}
	if j.second < 0 && j.stage != stageFar {
		s.count(func(st *ServerStats) { st.SecondSkipped++ })
	}
	s.record(route, ad, fields)
	if j.stage != stageConfirmed {
		return nil
	}
	s.count(func(st *ServerStats) { st.Detections++ })
	return []scanlab.Detection{{MessageID: msg, Account: user, Pathway: scanlab.DeviceHash,
		At: s.now(), Rule: j.hit.Name(), Distance: j.hit.Distance}}
}

// voucher processes one envelope's voucher attachment.
func (s *Server) voucher(e *scanlab.Envelope, data []byte) ([]scanlab.Detection, error) {
	pv, err := s.checkVoucher(e, data)
	if err != nil {
		s.count(func(st *ServerStats) { st.Malformed++ })
		return nil, err
	}
	a := s.account(e.From)
	a.mu.Lock()
	defer a.mu.Unlock()
	matched, err := s.ledger.Process(string(e.From), data)
	switch {
	case errors.Is(err, psi.ErrDuplicateID):
		s.count(func(st *ServerStats) { st.Duplicates++ })
		return nil, nil
	case err != nil:
		s.count(func(st *ServerStats) { st.Malformed++ })
		return nil, fmt.Errorf("%w: %w", ErrVoucher, err)
	}
	s.count(func(st *ServerStats) { st.Vouchers++ })
	if matched {
		s.count(func(st *ServerStats) { st.Matches++ })
		a.message[string(pv.ID())] = e.ID
	}
	view := s.Account(e.From)
	// What the provider learns of every voucher below the threshold: the
	// opaque bytes, whether it matched (real or synthetic) and the counts.
	s.record(RouteVouchers, data, map[string]string{
		"message": e.ID, "account": string(e.From), "matched": strconv.FormatBool(matched),
		"vouchers": strconv.Itoa(view.Vouchers), "matches": strconv.Itoa(view.Matches)})
	return s.reveal(e.From, a), nil
}

// checkVoucher parses a voucher attachment and checks that its identifier
// is bound to the envelope.
func (s *Server) checkVoucher(e *scanlab.Envelope, data []byte) (*psi.Voucher, error) {
	if s.ledger == nil {
		return nil, fmt.Errorf("%w: the plain variant takes no vouchers", ErrVoucher)
	}
	pv, err := psi.ParseVoucher(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVoucher, err)
	}
	// Identifiers are public; a plain comparison is fine.
	if string(pv.ID()) != string(voucherID(e.ID)) {
		return nil, fmt.Errorf("%w: identifier not bound to this envelope", ErrVoucher)
	}
	return pv, nil
}

// reveal handles the matches psi opened since the last call: each is
// judged and recorded; confirmed ones raise a detection. a.mu is held.
func (s *Server) reveal(user scanlab.UserID, a *account) []scanlab.Detection {
	opened := s.ledger.Revealed(string(user))
	var dets []scanlab.Detection
	for _, mt := range opened[min(a.handled, len(opened)):] {
		msg := a.message[string(mt.ID)]
		s.count(func(st *ServerStats) { st.Opened++ })
		h, derivative, err := decodeAD(mt.AD)
		if err != nil {
			s.count(func(st *ServerStats) { st.BadAD++ })
			s.record(RouteCandidate, mt.AD, map[string]string{"message": msg, "account": string(user), "error": err.Error()})
			continue
		}
		dets = append(dets, s.conclude(RouteOpened, msg, user, mt.AD, s.prov.judge(h, derivative, msg))...)
	}
	a.handled = len(opened)
	return dets
}
