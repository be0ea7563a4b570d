// Package clientscan is the on-device scanning mode: end-to-end encryption
// exactly as in package e2ee, plus a scanner on the sender's device that
// attaches an Apple-style threshold-PSI safety voucher to every image
// message ("The Apple PSI System", Bhowmick, Boneh, Myers, Talwar, Tarbe,
// 2021; Apple, "CSAM Detection Technical Summary", 2021), and optionally an
// on-device text classifier whose verdict bit travels beside the ciphertext.
//
// # How an image is scanned
//
// The device decodes the image (with a pixel limit), computes its PDQ hash
// and a 32×32 grey "visual derivative" ([VisualDerivative]), and builds the
// voucher with psi.Account.Voucher: the set element is the hash (or its
// chunks, see [MatchVariant]), the associated data is the hash followed by
// the derivative. The envelope then goes out through e2ee.Device.SealWith
// with the voucher in the "voucher" attachment. The provider processes the
// voucher with its secret α only (psi.Server.Process); it strips provider-only
// attachments before the envelope is stored, so recipients never receive them.
//
// Threshold. The psi package reveals an account once it holds more than t real
// matches (t+1 Shamir shares of a degree-t polynomial). So an account that
// sent t matching images raises nothing and the provider can open nothing;
// the (t+1)-th matching image reveals the associated data of all its real
// matches, and every later real match is opened as it arrives. The provider
// then checks the full PDQ distance of each opened hash against its own list
// (Options.VerifyDistance, default 31) and raises a scanlab.DeviceHash
// detection only for the matches that pass, with that distance.
//
// # Matching variants
//
// "exact" is Apple-faithful: the PSI matches only when the PDQ hash equals a
// list entry bit for bit, so any re-encoding that flips one bit evades it.
//
// "chunks=K" splits the 256 PDQ bits into K consecutive chunks (chunk i holds
// bits ⌊256·i/K⌋ to ⌊256·(i+1)/K⌋−1); every list entry is inserted K times,
// once per chunk, each prefixed with K and its chunk index, and the device
// makes K vouchers per image, one per chunk. The exact guarantee is the
// pigeonhole principle: a hash at Hamming distance d ≤ K−1 from a list entry
// differs from it in at most d chunks, so at least K−d of its chunks equal
// the entry's and at least one of its vouchers matches. At distance d ≥ K
// there is no guarantee (all K chunks may differ), and a hash far from every
// entry can still share a chunk by chance: such false candidate matches are
// indistinguishable from real ones until the reveal, when the provider sees
// the full hash, measures the distance and drops them. They do count towards
// the threshold, so they can reveal an account (and the derivatives of its
// candidates) that holds no real match; see [ChunkCandidateRate].
//
// Each chunk position has its own PSI account (its own Shamir polynomial), so
// one image adds at most one share per position: an account with at most t
// matching images is never revealed, exactly as in "exact". An account with
// t+1 exact duplicates is revealed in every position; near-duplicates reveal
// once more than t of them match in the same position, which takes between
// t+1 and K·t+1 matching images.
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
// Sender and recipient: as in e2ee. The provider: everything e2ee's provider
// sees, plus each image message's vouchers (opaque bytes; their presence tells
// it the message is an image, as the padded size mostly does anyway), whether
// each voucher matched (a real or a synthetic match: indistinguishable below
// the threshold), the account's voucher and match counts, the list in the
// clear (it blinds the table from it), and, once an account passes the
// threshold, the PDQ hash and visual derivative of each of that account's real
// (or false-candidate) matches, never of a non-matching image. With
// device-text, the provider also learns every text's verdict bit, in the
// clear. With "plain", every device holds the list, and the provider learns
// each match at once. Everything the server logic learns is passed to
// ServerEnv.Record with the routes listed in the Route* constants.
//
// Correctness against a modified client is not guaranteed (paper §4.4): a
// client can skip scanning or send only synthetic vouchers ([Behaviour]) and
// is never detected by this pathway; the second shows as an account whose
// vouchers nearly all match.
package clientscan

import (
	"errors"
	"fmt"
	"io"
	"math"
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
	// by a synthetic one. Apple did not publish its rate; with the psi
	// package's cap of 3·t synthetic vouchers per account, 0.05 gives an
	// account of a few hundred images a synthetic count of the order of t,
	// the paper's calibration.
	DefaultSyntheticRate = 0.05
	// DefaultVerifyDistance is the largest full PDQ distance the provider
	// accepts after opening a voucher: Meta's match threshold.
	DefaultVerifyDistance = perceptual.MatchThreshold
	// DefaultMaxPixels bounds the images the device decodes.
	DefaultMaxPixels = 50_000_000
	// MaxChunks bounds K in "chunks=K" (chunks of at least 4 bits).
	MaxChunks = 64
)

// Attachment names the mode adds to envelopes. The provider reads and strips
// them; recipients never receive them.
const (
	AttachVoucher     = "voucher"      // the image's safety voucher(s)
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
// any of K chunks.
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

// positions is the number of vouchers per image.
func (v MatchVariant) positions() int { return max(1, v.Chunks) }

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
	// Honest scans every image and attaches its vouchers.
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
	// a synthetic one. Zero means DefaultSyntheticRate; a negative value
	// turns synthetic vouchers off.
	SyntheticRate float64
	// MaxSynthetic caps the synthetic vouchers per account (and PSI
	// position); zero means the psi default, 3·t.
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
	// MinQuality: images whose PDQ quality is below it are not matched
	// (their vouchers carry a random element, as for an undecodable image),
	// as serverscan drops them. Zero means perceptual.MinQuality; negative
	// turns the gate off.
	MinQuality int
	// MaxPixels bounds the images a device decodes; zero means
	// DefaultMaxPixels.
	MaxPixels int
	// Overfit makes the provider malicious (paper Remark 5): it places these
	// extra targets into empty slots of the table built from List.
	Overfit []perceptual.Hash
	// TableFactor is the cuckoo table's slots per element; zero means the
	// psi default.
	TableFactor float64
	// Coins supplies the synthetic-voucher coin flips (reproducible runs);
	// nil means crypto/rand. It must be safe for concurrent use.
	Coins io.Reader
	// Behaviour, if set, gives each new device its behaviour (modified
	// clients); nil means Honest for everyone. Device.SetBehaviour changes
	// it later.
	Behaviour func(scanlab.UserID) Behaviour
	// E2EE configures the end-to-end encryption. SealedSender is refused:
	// vouchers must be counted per account.
	E2EE e2ee.Options
}

// Mode is the clientscan architecture. The provider's list, PSI secrets and
// blinded table are built once, on first use (the database version that
// ships with the app); every device of the mode holds the same table.
type Mode struct {
	opts Options

	once     sync.Once
	setupErr error
	params   psi.Params
	prov     *psi.Provider // nil for the plain variant
	table    *psi.Table  // the device's copy, decoded from the shipped bytes
	shipped  []byte      // what ships to every device
	listText []byte      // the list as the provider holds it
	index    *perceptual.Index
}

// New returns the clientscan mode. The list is blinded lazily, on the first
// call that needs it; [Mode.Setup] forces it and returns its error.
func New(opts Options) scanlab.Mode { return NewMode(opts) }

// NewMode is [New] with the concrete type, for callers that need
// [Mode.DeviceHoldings], [Mode.Audit] and the like.
func NewMode(opts Options) *Mode {
	o := opts
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
	switch {
	case o.MinQuality == 0:
		o.MinQuality = perceptual.MinQuality
	case o.MinQuality < 0:
		o.MinQuality = 0
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	return &Mode{opts: o}
}

// Name returns "clientscan".
func (m *Mode) Name() string { return Name }

// Options returns the mode's options with defaults filled in.
func (m *Mode) Options() Options { return m.opts }

// adSize is the associated data of a voucher: PDQ hash ‖ visual derivative.
const adSize = perceptual.Size + DerivativeSize

// Setup blinds the list and builds the table if that was not done yet, and
// returns the error it met, if any.
func (m *Mode) Setup() error {
	m.once.Do(func() { m.setupErr = m.setup() })
	return m.setupErr
}

func (m *Mode) setup() error {
	o := m.opts
	if o.E2EE.SealedSender {
		return fmt.Errorf("%w: sealed sender hides the account vouchers are counted for", ErrOption)
	}
	if o.Match.Chunks != 0 && (o.Match.Chunks < 2 || o.Match.Chunks > MaxChunks) {
		return fmt.Errorf("%w: chunks=%d", ErrOption, o.Match.Chunks)
	}
	if o.ListVariant != ListPSI && o.ListVariant != ListPlain {
		return fmt.Errorf("%w: list variant %q", ErrOption, o.ListVariant)
	}
	if o.SyntheticRate < 0 || o.SyntheticRate >= 1 {
		return fmt.Errorf("%w: synthetic rate %g", ErrOption, o.SyntheticRate)
	}
	m.listText = listText(o.List, o.Labels)
	m.index = perceptual.NewIndex(o.List)
	if o.ListVariant == ListPlain {
		m.shipped = m.listText
		return nil
	}
	m.params = psi.Params{
		Threshold:     o.Threshold,
		SyntheticRate: o.SyntheticRate,
		MaxSynthetic:  o.MaxSynthetic,
		ADSize:        adSize,
		TableFactor:   o.TableFactor,
		Coins:         o.Coins,
	}
	elems := m.elements(o.List)
	var err error
	if len(o.Overfit) > 0 {
		m.prov, err = psi.NewOverfitProvider(elems, m.elements(o.Overfit), m.params)
	} else {
		m.prov, err = psi.NewProvider(elems, m.params)
	}
	if err != nil {
		return fmt.Errorf("clientscan: blinding the list: %w", err)
	}
	if m.shipped, err = m.prov.Table().MarshalBinary(); err != nil {
		return fmt.Errorf("clientscan: %w", err)
	}
	// Every device checks the downloaded table against the published root
	// (psi.UnmarshalTable); the mode does it once and shares the result.
	if m.table, err = LoadTable(m.shipped, m.prov.Root()); err != nil {
		return err
	}
	return nil
}

// ErrTable reports a blinded table a device refuses.
var ErrTable = errors.New("clientscan: table refused")

// LoadTable decodes a downloaded table as a device does: it must parse, hold
// only valid and distinct points, and match the published root.
func LoadTable(data []byte, root [32]byte) (*psi.Table, error) {
	t, err := psi.UnmarshalTable(data, root)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTable, err)
	}
	return t, nil
}

// elements turns hashes into PSI set elements for the matching variant.
func (m *Mode) elements(list []perceptual.Hash) [][]byte {
	k := m.opts.Match.Chunks
	out := make([][]byte, 0, len(list)*m.opts.Match.positions())
	for _, h := range list {
		if k == 0 {
			out = append(out, append([]byte(nil), h[:]...))
			continue
		}
		for i := range k {
			out = append(out, chunkElement(h, i, k))
		}
	}
	return out
}

// chunkElement is the set element of chunk i of k of h: 'c', k, i, then the
// chunk's bits packed most significant first (bit j of h is bit 7−j%8 of
// byte j/8).
func chunkElement(h perceptual.Hash, i, k int) []byte {
	lo, hi := perceptual.Bits*i/k, perceptual.Bits*(i+1)/k
	out := make([]byte, 3, 3+(hi-lo+7)/8)
	out[0], out[1], out[2] = 'c', byte(k), byte(i)
	var cur byte
	n := 0
	for j := lo; j < hi; j++ {
		cur = cur<<1 | (h[j/8]>>(7-j%8))&1
		if n++; n == 8 {
			out = append(out, cur)
			cur, n = 0, 0
		}
	}
	if n > 0 {
		out = append(out, cur<<(8-n))
	}
	return out
}

// listText is the list as the provider holds it: one hex hash per line, with
// its label after a comma when there is one.
func listText(list []perceptual.Hash, labels []string) []byte {
	var b strings.Builder
	for i, h := range list {
		b.WriteString(h.String())
		if i < len(labels) && labels[i] != "" {
			b.WriteByte(',')
			b.WriteString(labels[i])
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// DeviceHoldings returns what every device of the mode holds about the list:
// the serialised blinded table for "psi" (no list entry recoverable from it),
// the list in the clear (hex lines) for "plain". It returns nil if the setup
// failed (see [Mode.Setup]).
func (m *Mode) DeviceHoldings() []byte {
	if m.Setup() != nil {
		return nil
	}
	return m.shipped
}

// TableBytes returns the size in bytes of what ships to every device (the
// blinded table, or the plain list).
func (m *Mode) TableBytes() int { return len(m.DeviceHoldings()) }

// Root returns the published root of the blinded table (zero for "plain").
func (m *Mode) Root() [32]byte {
	if m.Setup() != nil || m.prov == nil {
		return [32]byte{}
	}
	return m.prov.Root()
}

// Dropped returns how many PSI elements did not fit into the cuckoo table:
// false negatives by construction (paper Remark 3).
func (m *Mode) Dropped() int {
	if m.Setup() != nil || m.prov == nil {
		return 0
	}
	return m.prov.Dropped()
}

// OverfitPlaced returns how many of Options.Overfit's elements the
// malicious provider placed into empty slots.
func (m *Mode) OverfitPlaced() int {
	if m.Setup() != nil || m.prov == nil {
		return 0
	}
	return m.prov.Placed()
}

// Audit rebuilds the table from a claimed list with the provider's secrets,
// as Apple's auditor would, and reports whether its root equals the
// published one (psi.Server.Audit). It tells an overfitted table from an
// honest one; it cannot tell whether the claimed list itself holds only
// abuse material.
func (m *Mode) Audit(claimed []perceptual.Hash) (bool, error) {
	if err := m.Setup(); err != nil {
		return false, err
	}
	if m.prov == nil {
		return false, fmt.Errorf("%w: the plain variant has no blinded table", ErrOption)
	}
	return m.prov.Audit(m.elements(claimed))
}

// NewDevice makes one user's client; it publishes its e2ee keys through dir.
func (m *Mode) NewDevice(user scanlab.UserID, dir scanlab.Directory) (scanlab.Device, error) {
	return m.NewClient(user, dir)
}

// NewServer makes the provider logic, run by the relay on every envelope
// and report. Each call keeps its own per-account voucher state, so two
// relays of one mode do not share counts.
func (m *Mode) NewServer(env scanlab.ServerEnv) (scanlab.ServerLogic, error) {
	return m.NewProvider(env)
}

// AccountFalseFlag returns the probability that an account with n images,
// each a false match independently with probability p, is revealed at
// threshold t: P[Binomial(n, p) > t] (psi.AccountFalseFlagProbability).
func AccountFalseFlag(n int, p float64, t int) float64 {
	return psi.AccountFalseFlagProbability(n, p, t)
}

// ChunkCandidateRate returns the probability that a uniformly random PDQ
// hash shares chunk position i with at least one of n uniformly random list
// entries under "chunks=K", for the smallest chunk (⌊256/K⌋ bits): the
// per-image, per-position false-candidate rate that feeds [AccountFalseFlag].
// Real PDQ hashes are not uniform, so measured rates are higher.
func ChunkCandidateRate(n, k int) float64 {
	if k < 2 {
		return 0
	}
	bits := perceptual.Bits / k
	p := 1.0
	for range bits {
		p /= 2
	}
	// 1 − (1 − p)^n, accurately for small p.
	return -math.Expm1(float64(n) * math.Log1p(-p))
}
