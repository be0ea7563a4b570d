// Package clientscan is the on-device scanning mode: end-to-end encryption
// exactly as in package e2ee, plus a scanner on the sender's device that
// attaches an Apple-style threshold-PSI safety voucher to every image
// message ("The Apple PSI System", Bhowmick, Boneh, Myers, Talwar, Tarbe,
// 2021; Apple, "CSAM Detection Technical Summary", 2021), and optionally an
// on-device text classifier whose verdict bit travels beside the ciphertext.
//
// # Who holds what
//
// The mode is split the way the design splits its parties. What the
// provider publishes with the app ([Published]: the blinded table, its
// root, the protocol parameters, the matching variant) is all a device gets
// from the provider; the provider's own state (the blinding secret α inside
// a psi.Provider, the list in the clear, the second hashes) stays with the
// Mode and the [Server]s it makes, and each Server keeps its own per-account
// voucher state. An account's PSI keys (psi.Account: the Shamir polynomial,
// the PRF and detectable-hash keys, the synthetic budget) are shared by all
// of that account's devices, as Apple's are through the user's keychain;
// the provider never holds them. A [Device] holds its e2ee device, the
// Published value and its account's keys, and nothing that reaches the
// provider's state (TestDeviceHoldsOnlyPublished walks it).
//
// # How an image is scanned
//
// The device decodes and hashes the image with perceptual.ScanImage (the
// pixel limit and quality gate every scanner of scanlab applies), computes
// a 32×32 grey "visual derivative" ([VisualDerivative]) and builds one
// voucher with psi.Account.Voucher: the set element is the hash (or one of
// its chunks, see [MatchVariant]), the associated data is the hash followed
// by the derivative. The envelope goes out through e2ee.Device.SealWith with
// the voucher in the "voucher" attachment. The provider processes it with
// α (psi.Server.Process) and strips provider-only attachments before the
// envelope is stored, so recipients never receive them.
//
// Threshold. The psi package reveals an account once it holds more than t
// real matches (t+1 Shamir shares of a degree-t polynomial). An account that
// sent t matching images raises nothing and the provider opens nothing; the
// (t+1)-th reveals the associated data of all its real matches, and every
// later real match is opened as it arrives.
//
// After the threshold, before a detection (Apple's Technical Summary and
// Threat Model Review): each opened match passes three checks. (1) The full
// PDQ distance to the nearest list entry is at most Options.VerifyDistance
// (31), or the match is a false candidate and dropped. (2) A second,
// independent perceptual hash ([SecondHash]: dHash of the visual
// derivative) is within Review.Threshold (70 bits of 256) of the curator's
// second hash of that entry ([DefaultSecondThreshold] says how it was
// chosen). Measured on a corpus it was not chosen on (corpus seed 11,
// TestSecondHashAgreement): it accepts 224 of the 228 near-duplicates PDQ
// matched (98.2%, 95% interval 95.6–99.3%), 0 of 4,000 unrelated pairs
// (below 0.075% at 95%), and rejects all 5 PDQ collisions crafted against
// listed images that succeeded (second-hash distances 94 to 117), which
// pHash of the derivative, a DCT hash like PDQ, let through at 44 to 66.
// Without Review.Hashes from the curator the step is skipped and counted.
// (3) A human reviewer looks at the derivative and is wrong with
// probability Review.ErrorRate (default 0.01: an assumption; no figure is
// published). Only then is a scanlab.DeviceHash detection raised.
//
// # Matching variants
//
// "exact" is Apple-faithful: the PSI matches only when the PDQ hash equals a
// list entry bit for bit, so any re-encoding that flips one bit evades it.
//
// "chunks=K" splits the 256 PDQ bits into K consecutive chunks (chunk i holds
// bits ⌊256·i/K⌋ to ⌊256·(i+1)/K⌋−1) and inserts every list entry K times,
// once per chunk, each element prefixed with K and its chunk index. The
// device still sends one voucher per image, for one chunk it picks with its
// account's PRF key from the voucher identifier (psi.Account.Choose): the
// provider sees one match bit per image, as in "exact", hidden among
// synthetic matches below the threshold, and an account with at most t
// matching images is never revealed. Testing all K chunks would show the
// provider how many chunks of each image matched, which tells listed images
// (all K) from synthetic vouchers (one) before any reveal; no voucher can
// fold an OR of K DH tests into one bit, so the device samples instead. The
// price: a hash at Hamming distance d from a list entry differs in at most d
// chunks, so each image matches with probability at least (K−d)/K (1 for an
// exact copy), and an account needs more than t matching images in
// expectation. A hash far from every entry can share the tested chunk by
// chance ([ChunkCandidateRate]): such false candidates count towards the
// threshold and are opened, and dropped by the full PDQ distance.
//
// # List variants
//
// "psi" (default) ships the blinded table to devices: it hides the list
// (points α·H(y) or random points), and the device never learns whether an
// image matched. "plain" is the naive alternative: the hash list itself ships
// to every device, the device matches at distance ≤ 31 locally and reports
// each match directly (hash and derivative in the "plain-match" attachment),
// with no threshold. [Mode.DeviceHoldings] returns what a device holds in
// either case, for the visibility audit.
//
// # Who sees what
//
// Sender and recipient: as in e2ee, plus every device holds the published
// table (or, for "plain", the list). The provider: everything e2ee's
// provider sees, plus each image message's voucher (opaque bytes; its
// presence tells it the message is an image, as the padded size mostly does
// anyway), whether each voucher matched (a real or a synthetic match,
// indistinguishable below the threshold), the account's voucher and match
// counts, the list in the clear (it blinds the table from it), and, once an
// account passes the threshold, the PDQ hash and visual derivative of each
// of that account's real (or false-candidate) matches, never of a
// non-matching image. How well the count hides the real count below the
// threshold depends on the synthetic calibration and the library size
// (psi.BelowThreshold). The human reviewer sees the derivatives of the
// matches that pass the two hashes. With device-text, the provider also
// learns every text's verdict bit, in the clear. With "plain", every device
// holds the list, and the provider learns each match at once. Everything the
// server logic learns is passed to ServerEnv.Record with the routes listed
// in the Route* constants.
//
// Correctness against a modified client is not guaranteed (paper §4.4): a
// client can skip scanning or send only synthetic vouchers ([Behaviour]) and
// is never detected by this pathway; the second shows as an account whose
// vouchers nearly all match, and once it holds more matches than an honest
// account can without being revealed, as [AccountView].Excess.
package clientscan

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/e2ee"
	"scanlab/perceptual"
	"scanlab/textscan"
)

// Name is the mode's name in results.
const Name = "clientscan"

// Defaults.
const (
	// DefaultThreshold is t, Apple's initial threshold (Security Threat
	// Model Review, 2021): an account is revealed at its 31st real match.
	DefaultThreshold = 30
	// DefaultSyntheticRate is the probability that a voucher is replaced
	// by a synthetic one while the account's synthetic budget lasts (the
	// budget is uniform on {0, …, 2t}: about t synthetic vouchers per
	// account, this project's calibration; Apple published no rate).
	DefaultSyntheticRate = 0.05
	// DefaultVerifyDistance is the largest full PDQ distance the provider
	// accepts after opening a voucher: Meta's match threshold.
	DefaultVerifyDistance = perceptual.MatchThreshold
	// MaxChunks bounds K in "chunks=K" (chunks of at least 4 bits).
	MaxChunks = 64
)

// Attachment names the mode adds to envelopes. The provider reads and strips
// them; recipients never receive them.
const (
	AttachVoucher     = "voucher"      // the image's safety voucher
	AttachTextVerdict = "text-verdict" // device-text: one byte, 0 or 1
	AttachPlainMatch  = "plain-match"  // plain list: a match report
)

// Routes under which the server logic records what it learns into the
// provider's view (scanlab.ServerEnv.Record).
const (
	RouteList        = "hash list the provider blinded"
	RoutePlainList   = "hash list the provider ships to devices in the clear"
	RouteVouchers    = "safety vouchers received (opaque below the threshold)"
	RouteOpened      = "safety voucher opened after threshold"
	RouteCandidate   = "safety voucher opened after threshold (false candidate, dropped)"
	RoutePlainReport = "plain-list match report from the device"
	RouteTextVerdict = "on-device text verdict (clear attachment)"
)

// MatchVariant says how the PSI matches hashes: exact equality (K = 0) or
// one of K chunks.
type MatchVariant struct {
	// Chunks is K for "chunks=K"; 0 means "exact".
	Chunks int
}

// String returns "exact" or "chunks=K".
func (v MatchVariant) String() string {
	if v.Chunks == 0 {
		return "exact"
	}
	return "chunks=" + strconv.Itoa(v.Chunks)
}

// ErrOption reports an invalid option.
var ErrOption = errors.New("clientscan: invalid option")

// ParseMatch parses the --psi-match flag: "exact" or "chunks=K" with
// 2 ≤ K ≤ MaxChunks.
func ParseMatch(s string) (MatchVariant, error) {
	if s == "" || s == "exact" {
		return MatchVariant{}, nil
	}
	if k, ok := strings.CutPrefix(s, "chunks="); ok {
		n, err := strconv.Atoi(k)
		if err == nil && n >= 2 && n <= MaxChunks {
			return MatchVariant{Chunks: n}, nil
		}
	}
	return MatchVariant{}, fmt.Errorf("%w: psi match %q: want exact or chunks=K with 2 ≤ K ≤ %d", ErrOption, s, MaxChunks)
}

// ListVariant says what ships to devices.
type ListVariant string

// The list variants.
const (
	ListPSI   ListVariant = "psi"   // the blinded PSI table (default)
	ListPlain ListVariant = "plain" // the hash list in the clear
)

// ParseList parses a list variant: "psi" or "plain".
func ParseList(s string) (ListVariant, error) {
	switch ListVariant(s) {
	case "", ListPSI:
		return ListPSI, nil
	case ListPlain:
		return ListPlain, nil
	}
	return "", fmt.Errorf("%w: list variant %q: want psi or plain", ErrOption, s)
}

// Behaviour is what a device's scanner does; anything but Honest models a
// modified client.
type Behaviour int

// The device behaviours.
const (
	// Honest scans every image and attaches its voucher.
	Honest Behaviour = iota
	// SkipScan attaches no voucher and no text verdict: the envelope looks
	// like an e2ee one.
	SkipScan
	// SyntheticOnly attaches a synthetic voucher (psi.Account.Synthetic)
	// for every image, so the account's real matches are never counted,
	// and a "harmless" verdict to every text under device-text: it looks
	// compliant.
	SyntheticOnly
)

// String names the behaviour.
func (b Behaviour) String() string {
	switch b {
	case Honest:
		return "honest"
	case SkipScan:
		return "skip-scan"
	case SyntheticOnly:
		return "synthetic-only"
	}
	return "behaviour(" + strconv.Itoa(int(b)) + ")"
}

// Options configure the mode. The zero value is a usable configuration with
// an empty list.
type Options struct {
	// List is the hash list the curator supplies; Labels[i], if present,
	// names entry i in detections.
	List   []perceptual.Hash
	Labels []string
	// Threshold is t: an account is revealed past t real matches. Zero
	// means DefaultThreshold.
	Threshold int
	// SyntheticRate is the probability that a device replaces a voucher by
	// a synthetic one while its account's budget lasts. Zero means
	// DefaultSyntheticRate; a negative value turns synthetic vouchers off.
	SyntheticRate float64
	// MaxSynthetic is s, the bound of each account's synthetic budget
	// (drawn uniformly from {0, …, s}) and of the detectable hash; zero
	// means the psi default, 2t.
	MaxSynthetic int
	// Match is the matching variant (see [ParseMatch]).
	Match MatchVariant
	// ListVariant is what ships to devices; "" means ListPSI.
	ListVariant ListVariant
	// DeviceText, if set, classifies every text on the device; the verdict
	// bit rides in the clear in the AttachTextVerdict attachment, so the
	// provider learns it for every text.
	DeviceText textscan.Classifier
	// VerifyDistance is the largest full PDQ distance the provider accepts
	// after opening a voucher (or reading a plain match report); ≤ 0 means
	// DefaultVerifyDistance.
	VerifyDistance int
	// Review configures the second hash and the human review that follow
	// the PDQ check.
	Review Review
	// Overfit makes the provider malicious (paper Remark 5): it places these
	// extra targets into empty slots of the table built from List.
	Overfit []perceptual.Hash
	// TableFactor is the cuckoo table's slots per element; zero means the
	// psi default.
	TableFactor float64
	// Coins, if set, gives each account its own source of randomness for
	// its synthetic-voucher schedule (reproducible runs): an account's
	// schedule then depends on its own traffic only, never on the order in
	// which other accounts send. Nil means crypto/rand.
	Coins func(account scanlab.UserID) io.Reader
	// Behaviour, if set, gives each new device its behaviour (modified
	// clients); nil means Honest for everyone. Device.SetBehaviour changes
	// it later.
	Behaviour func(scanlab.UserID) Behaviour
	// E2EE configures the end-to-end encryption. SealedSender is refused:
	// vouchers must be counted per account.
	E2EE e2ee.Options
}

// withDefaults fills in the defaults.
func (o Options) withDefaults() Options {
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	switch {
	case o.SyntheticRate == 0:
		o.SyntheticRate = DefaultSyntheticRate
	case o.SyntheticRate < 0:
		o.SyntheticRate = 0
	}
	if o.ListVariant == "" {
		o.ListVariant = ListPSI
	}
	if o.VerifyDistance <= 0 {
		o.VerifyDistance = DefaultVerifyDistance
	}
	o.Review = o.Review.withDefaults()
	return o
}

// check refuses inconsistent options.
func (o Options) check() error {
	switch {
	case o.E2EE.SealedSender:
		return fmt.Errorf("%w: sealed sender hides the account vouchers are counted for", ErrOption)
	case o.Match.Chunks != 0 && (o.Match.Chunks < 2 || o.Match.Chunks > MaxChunks):
		return fmt.Errorf("%w: chunks=%d", ErrOption, o.Match.Chunks)
	case o.ListVariant != ListPSI && o.ListVariant != ListPlain:
		return fmt.Errorf("%w: list variant %q", ErrOption, o.ListVariant)
	case o.SyntheticRate < 0 || o.SyntheticRate >= 1:
		return fmt.Errorf("%w: synthetic rate %g", ErrOption, o.SyntheticRate)
	case len(o.Review.Hashes) != 0 && len(o.Review.Hashes) != len(o.List):
		return fmt.Errorf("%w: %d second hashes for %d list entries", ErrOption, len(o.Review.Hashes), len(o.List))
	case o.Review.ErrorRate < 0 || o.Review.ErrorRate > 1:
		return fmt.Errorf("%w: review error rate %g", ErrOption, o.Review.ErrorRate)
	}
	return nil
}

// Mode is the clientscan architecture. The provider's state and what it
// publishes are built once, on first use (the database version that ships
// with the app); every device of the mode holds the same [Published] value,
// and every account's devices share that account's keys.
type Mode struct {
	opts Options

	once     sync.Once
	setupErr error
	pub      *Published
	prov     *provider
	keys     *keychain

	elemsOnce sync.Once
	elems     map[string]bool // the PSI set's elements, for MayMatch
}

var _ scanlab.Mode = (*Mode)(nil)

// New returns the clientscan mode. The list is blinded lazily, on the first
// call that needs it; [Mode.Published] forces it and returns its error.
func New(opts Options) *Mode {
	return &Mode{opts: opts.withDefaults()}
}

// Name returns "clientscan".
func (m *Mode) Name() string { return Name }

// Options returns the mode's options with defaults filled in.
func (m *Mode) Options() Options { return m.opts }

// setup builds the provider's state and the published part once.
func (m *Mode) setup() error {
	m.once.Do(func() {
		if m.setupErr = m.opts.check(); m.setupErr != nil {
			return
		}
		m.prov, m.setupErr = newProvider(m.opts)
		if m.setupErr != nil {
			return
		}
		m.pub, m.setupErr = m.prov.publish()
		m.keys = newKeychain(m.opts)
	})
	return m.setupErr
}

// Published returns a copy of what the provider ships to every device,
// building the provider's state on first use.
func (m *Mode) Published() (Published, error) {
	if err := m.setup(); err != nil {
		return Published{}, err
	}
	return *m.pub, nil
}

// DeviceHoldings returns what every device of the mode holds about the list:
// the serialised blinded table for "psi" (no list entry recoverable from it),
// the list in the clear (hex lines) for "plain". It returns nil if the setup
// failed (see [Mode.Published]).
func (m *Mode) DeviceHoldings() []byte {
	if m.setup() != nil {
		return nil
	}
	return m.pub.Bytes()
}

// Dropped returns how many PSI elements did not fit into the cuckoo table:
// false negatives by construction (paper Remark 3).
func (m *Mode) Dropped() int {
	if m.setup() != nil || m.prov.psi == nil {
		return 0
	}
	return m.prov.psi.Dropped()
}

// OverfitPlaced returns how many of Options.Overfit's elements the
// malicious provider placed into empty slots.
func (m *Mode) OverfitPlaced() int {
	if m.setup() != nil || m.prov.psi == nil {
		return 0
	}
	return m.prov.psi.Placed()
}

// MayMatch reports whether an image with PDQ hash h could give a matching
// voucher against the provider's list: h is on the list ("exact"), or some
// chunk of h equals the same chunk of a list entry ("chunks=K", whichever
// chunk a device happens to test). An image for which it is false can never
// count towards any threshold. It is an oracle for measurement harnesses,
// which decide with it which images can matter; it reads the list, which no
// device holds.
func (m *Mode) MayMatch(h perceptual.Hash) bool {
	if m.setup() != nil {
		return false
	}
	if m.opts.ListVariant == ListPlain {
		_, ok := m.prov.matcher.Nearest(perceptual.MatchThreshold, h)
		return ok
	}
	m.elemsOnce.Do(func() {
		m.elems = map[string]bool{}
		for _, e := range elements(append(slices.Clone(m.opts.List), m.opts.Overfit...), m.opts.Match) {
			m.elems[string(e)] = true
		}
	})
	for _, x := range elements([]perceptual.Hash{h}, m.opts.Match) {
		if m.elems[string(x)] {
			return true
		}
	}
	return false
}

// Audit rebuilds the table from a claimed list with the provider's secrets,
// as Apple's auditor would, and reports whether its root equals the
// published one (psi.Provider.Audit). It tells an overfitted table from an
// honest one; it cannot tell whether the claimed list itself holds only
// abuse material.
func (m *Mode) Audit(claimed []perceptual.Hash) (bool, error) {
	if err := m.setup(); err != nil {
		return false, err
	}
	if m.prov.psi == nil {
		return false, fmt.Errorf("%w: the plain variant has no blinded table", ErrOption)
	}
	return m.prov.psi.Audit(elements(claimed, m.opts.Match))
}

// NewDevice makes one user's client (a *Device) from the published part and
// the account's keys; it publishes the user's e2ee keys through dir. Every
// device of one user shares that account's PSI keys.
func (m *Mode) NewDevice(user scanlab.UserID, dir scanlab.Directory) (scanlab.Device, error) {
	if err := m.setup(); err != nil {
		return nil, err
	}
	var keys *psi.Account
	if m.pub.List == ListPSI {
		var err error
		if keys, err = m.keys.account(user); err != nil {
			return nil, err
		}
	}
	e, err := e2ee.NewDevice(m.opts.E2EE, user, dir)
	if err != nil {
		return nil, err
	}
	b := Honest
	if m.opts.Behaviour != nil {
		b = m.opts.Behaviour(user)
	}
	return newDevice(e, m.pub, keys, m.opts.DeviceText, b), nil
}

// NewServer makes the provider logic (a *Server), run by the relay on every
// envelope and report. Each server keeps its own per-account voucher state,
// so two relays of one mode do not share counts.
func (m *Mode) NewServer(env scanlab.ServerEnv) (scanlab.ServerLogic, error) {
	if err := m.setup(); err != nil {
		return nil, err
	}
	return newServer(m.prov, env)
}

// AccountFalseFlag returns the probability that an account with n images,
// each a false match independently with probability p, is revealed at
// threshold t: P[Binomial(n, p) > t] (psi.AccountFalseFlagProbability).
func AccountFalseFlag(n int, p float64, t int) float64 {
	return psi.AccountFalseFlagProbability(n, p, t)
}

// ChunkCandidateRate returns the probability that a uniformly random PDQ
// hash shares the chunk a device tests with at least one of n uniformly
// random list entries under "chunks=K": the per-image false-candidate rate
// that feeds [AccountFalseFlag], averaged over the K chunks (which the
// device picks uniformly). Real PDQ hashes are not uniform, so measured
// rates are higher.
func ChunkCandidateRate(n, k int) float64 {
	if k < 2 {
		return 0
	}
	sum := 0.0
	for i := range k {
		bits := perceptual.Bits*(i+1)/k - perceptual.Bits*i/k
		p := math.Ldexp(1, -bits)
		sum += -math.Expm1(float64(n) * math.Log1p(-p)) // 1 − (1 − p)^n
	}
	return sum / float64(k)
}
