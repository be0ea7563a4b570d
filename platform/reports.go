package platform

import (
	"errors"
	"fmt"
	"time"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/hybrid"
	"scanlab/serverscan"
)

// The first byte of a platform mode's report evidence says what the report
// carries; the rest is the evidence of that kind.
const (
	markOwn       byte = 'O' // the mode's own report: a provider copy or a franking opening
	markForwarded byte = 'F' // the plaintext, forwarded by the reporter's app
	markMetadata  byte = 'M' // the sender and the message ID, no content
	markAccount   byte = 'A' // the account only: messages cannot be reported
)

// Rules of the detections a platform mode's server raises for reports that
// are not the mode's own.
const (
	RuleForwarded = "report-forwarded-unverified"
	RuleMetadata  = "report-metadata-only"
	RuleAccount   = "report-account-only"
)

// ErrReport means a report's evidence names no kind of report.
var ErrReport = errors.New("platform: report evidence names no kind of report")

// own reports whether a report of this kind is what the base mode's devices
// build in a conversation of the kind: a provider copy in a clear one, a
// franking opening in an encrypted one ("" where the platform has no such
// conversation).
func (r Report) own(encrypted bool) bool {
	if encrypted {
		return r == "" || r == ReportFranked
	}
	return r == "" || r == ReportProviderCopy
}

// withReports returns base when every report is the base mode's own, and
// otherwise base with its devices and server taking reports as the run
// says: a [ReportForwarded] report carries the plaintext, which the server
// cannot check and credits to the message (every report in the study is
// honest); a [ReportMetadataOnly] report names the sender and the message
// without content, and a [ReportNone] report names the account only: the
// server flags the account, not the message.
func (r Run) withReports(base scanlab.Mode) scanlab.Mode {
	if r.Reports.Clear.own(false) && r.Reports.Encrypted.own(true) {
		return base
	}
	m := &reporting{Mode: base, reports: r.Reports, encrypted: conversations(base)}
	switch b := base.(type) {
	case *serverscan.Mode:
		return &splitReporting{m, b}
	case *hybrid.Mode:
		return &splitReporting{m, b.Clear()}
	case *clientscan.Mode:
		return m
	}
	return &splitReporting{m, nil} // e2ee
}

// conversations returns which conversations of base are end-to-end
// encrypted.
func conversations(base scanlab.Mode) func(a, b scanlab.UserID) bool {
	switch m := base.(type) {
	case *hybrid.Mode:
		return m.Encrypted
	case *serverscan.Mode:
		return func(scanlab.UserID, scanlab.UserID) bool { return false }
	}
	return func(scanlab.UserID, scanlab.UserID) bool { return true }
}

// reporting is a mode whose reports follow the platform's design.
type reporting struct {
	scanlab.Mode
	reports   Reports
	encrypted func(a, b scanlab.UserID) bool
}

// splitReporting is a reporting mode without on-device scanning: each
// conversation is either clear, with clear's server logic (serverscan's,
// nil when there is none), or end-to-end encrypted as in e2ee.
type splitReporting struct {
	*reporting
	clear *serverscan.Mode
}

// Encrypted reports whether the conversation between a and b is end-to-end
// encrypted.
func (m *splitReporting) Encrypted(a, b scanlab.UserID) bool { return m.encrypted(a, b) }

// Clear returns the serverscan mode whose server logic takes the clear
// conversations, nil when every conversation is encrypted.
func (m *splitReporting) Clear() *serverscan.Mode { return m.clear }

// DeviceHoldings forwards what the base mode ships to every device
// (clientscan's blinded table) to the visibility audit; nil for modes that
// ship nothing.
func (m *reporting) DeviceHoldings() []byte {
	if h, ok := m.Mode.(interface{ DeviceHoldings() []byte }); ok {
		return h.DeviceHoldings()
	}
	return nil
}

// kind returns what a report of a message from a to b carries.
func (m *reporting) kind(a, b scanlab.UserID) Report {
	if m.encrypted(a, b) {
		return m.reports.Encrypted
	}
	return m.reports.Clear
}

// NewDevice makes the base mode's device, building reports as the platform
// does.
func (m *reporting) NewDevice(user scanlab.UserID, dir scanlab.Directory) (scanlab.Device, error) {
	d, err := m.Mode.NewDevice(user, dir)
	if err != nil {
		return nil, err
	}
	return &reportingDevice{Device: d, m: m}, nil
}

// NewServer makes the base mode's server logic, taking reports as the
// platform does.
func (m *reporting) NewServer(env scanlab.ServerEnv) (scanlab.ServerLogic, error) {
	s, err := m.Mode.NewServer(env)
	if err != nil {
		return nil, err
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	return &reportingServer{ServerLogic: s, now: now}, nil
}

type reportingDevice struct {
	scanlab.Device
	m *reporting
}

// Report builds the report of msg the platform's app would send.
func (d *reportingDevice) Report(msg scanlab.Message) (scanlab.Report, error) {
	kind := d.m.kind(msg.From, msg.To)
	if kind.own(d.m.encrypted(msg.From, msg.To)) {
		rep, err := d.Device.Report(msg)
		rep.Evidence = append([]byte{markOwn}, rep.Evidence...)
		return rep, err
	}
	rep := scanlab.Report{MessageID: msg.ID, Reporter: d.User(), Accused: msg.From}
	switch kind {
	case ReportForwarded:
		rep.Evidence = append([]byte{markForwarded}, forwarded(msg.Content)...)
	case ReportMetadataOnly:
		rep.Evidence = append([]byte{markMetadata}, msg.ID...)
	case ReportNone:
		rep.MessageID, rep.Evidence = "", []byte{markAccount}
	default:
		return scanlab.Report{}, fmt.Errorf("platform: report of kind %q", kind)
	}
	return rep, nil
}

// forwarded is a message's content as a reporter's app forwards it: a kind
// byte, then the text or the image bytes.
func forwarded(c scanlab.Content) []byte {
	if c.Kind == scanlab.Image {
		return append([]byte{'i'}, c.Image...)
	}
	return append([]byte{'t'}, c.Text...)
}

type reportingServer struct {
	scanlab.ServerLogic
	now func() time.Time
}

// Verify passes the mode's own reports to the base server logic; a
// forwarded report flags its message, unverified, and a report without
// content flags the accused account.
func (s *reportingServer) Verify(r scanlab.Report) ([]scanlab.Detection, error) {
	if len(r.Evidence) == 0 {
		return nil, fmt.Errorf("%w: empty evidence", ErrReport)
	}
	d := scanlab.Detection{Account: r.Accused, Pathway: scanlab.UserReport, At: s.now(), Distance: -1}
	switch r.Evidence[0] {
	case markOwn:
		r.Evidence = r.Evidence[1:]
		return s.ServerLogic.Verify(r)
	case markForwarded:
		d.MessageID, d.Rule = r.MessageID, RuleForwarded
	case markMetadata:
		d.Rule = RuleMetadata
	case markAccount:
		d.Rule = RuleAccount
	default:
		return nil, fmt.Errorf("%w: %#x", ErrReport, r.Evidence[0])
	}
	return []scanlab.Detection{d}, nil
}

// IssueCertificate forwards to the base server logic, so that sealed
// sender works under a platform's reports.
func (s *reportingServer) IssueCertificate(user scanlab.UserID, identity []byte) ([]byte, error) {
	ci, ok := s.ServerLogic.(scanlab.CertificateIssuer)
	if !ok {
		return nil, scanlab.ErrNoCertificate
	}
	return ci.IssueCertificate(user, identity)
}
