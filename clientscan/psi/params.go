package psi

import (
	"errors"
	"fmt"
	"io"
)

// Sizes of the wire formats, in bytes.
const (
	// PointSize is the size of a compressed P-256 point (SEC 1, 0x02/0x03 prefix).
	PointSize = 33
	// NonceSize is the size of the domain-separation nonces that describe the
	// hash functions H, h1 and h2 (the paper's 128-bit nonces, §4).
	NonceSize = 16
	// MaxIDSize is the largest voucher identifier accepted, in bytes.
	MaxIDSize = 64
	// MaxADSize is the largest fixed associated-data size [Params.ADSize] may
	// name, in bytes (1 MiB).
	MaxADSize = 1 << 20
	// MaxVoucherSize bounds every voucher the decoder reads, in bytes.
	MaxVoucherSize = 2 << 20
	// MaxTableSlots bounds the number of cuckoo slots the table decoder
	// accepts (16 Mi slots, 528 MiB of points).
	MaxTableSlots = 1 << 24
	// MaxThreshold bounds [Params.Threshold].
	MaxThreshold = 1000
	// MaxSyntheticLimit bounds [Params.MaxSynthetic], the number s of
	// detectable-hash polynomials.
	MaxSyntheticLimit = 500
)

// Defaults used when a [Params] field is zero.
const (
	// DefaultADSize is the default fixed associated-data size, in bytes.
	DefaultADSize = 1024
	// DefaultTableFactor is the default number of cuckoo slots per distinct
	// list entry. Two-choice cuckoo hashing with one entry per slot needs a
	// load below one half; see the package tests for measured drop rates.
	DefaultTableFactor = 2.2
	// DefaultSyntheticFactor sets [Params.MaxSynthetic] to this multiple of
	// the threshold when it is zero (the paper's s = k·t). With s = 2t an
	// account's budget, uniform on {0, …, s}, averages t synthetic vouchers:
	// this project's reading of Apple's "of the same order of magnitude as
	// the threshold"; Apple published no rate.
	DefaultSyntheticFactor = 2
)

// Sentinel errors. Callers can count them with [errors.Is].
var (
	// ErrMalformed reports a voucher whose bytes do not parse or whose sizes
	// do not fit the server's parameters.
	ErrMalformed = errors.New("psi: malformed voucher")
	// ErrBadPoint reports a curve point that is not on P-256, is the
	// identity, or is not canonically encoded.
	ErrBadPoint = errors.New("psi: invalid curve point")
	// ErrBothOpen reports a voucher whose two (Q, ct) pairs both open: no
	// honest client produces one.
	ErrBothOpen = errors.New("psi: both voucher ciphertexts open")
	// ErrDuplicateID reports a voucher whose identifier the account already
	// sent; it is not counted again.
	ErrDuplicateID = errors.New("psi: duplicate voucher id")
	// ErrBadTable reports a blinded table whose bytes do not parse.
	ErrBadTable = errors.New("psi: malformed table")
	// ErrRepeatedPoint reports a blinded table that holds the same point
	// twice; the device refuses it (paper §4, client setup).
	ErrRepeatedPoint = errors.New("psi: repeated point in table")
	// ErrTableRoot reports a blinded table whose root differs from the
	// published one.
	ErrTableRoot = errors.New("psi: table root mismatch")
	// ErrBadID reports an empty or over-long voucher identifier.
	ErrBadID = errors.New("psi: invalid voucher id")
	// ErrADTooLong reports associated data longer than [Params.ADSize].
	ErrADTooLong = errors.New("psi: associated data too long")
)

// Params are the protocol parameters. The server and every account must use
// the same Threshold, MaxSynthetic and ADSize: they fix the voucher format.
type Params struct {
	// Threshold is t: the server reconstructs an account's key, and opens the
	// associated data of its real matches, once it holds more than t
	// distinct real matches (t+1 Shamir shares of a degree-t polynomial).
	Threshold int
	// SyntheticRate is the probability, in [0, 1), that an account replaces
	// a voucher by a synthetic one while its budget lasts (paper §4; see
	// [Calibration]). Only the device uses it.
	SyntheticRate float64
	// MaxSynthetic is s, the number of detectable-hash polynomials (paper
	// §3, (s,t)-DHF) and the bound of every account's synthetic budget,
	// which [NewAccount] draws uniformly from {0, …, s}. Zero means
	// DefaultSyntheticFactor × Threshold. Each voucher carries 8·(s+1) bytes
	// of detectable-hash output.
	MaxSynthetic int
	// ADSize is the fixed associated-data size, in bytes: every associated
	// data ciphertext is padded to it so that all vouchers have one length.
	// Zero means DefaultADSize.
	ADSize int
	// TableFactor is the number of cuckoo slots per distinct list entry
	// (n'/n). Zero means DefaultTableFactor. Only the server uses it.
	TableFactor float64
	// Coins, when not nil, supplies the randomness of an account's
	// synthetic schedule: its budget and the gaps between its synthetic
	// vouchers (reproducible experiments). Nil means crypto/rand. Keys,
	// blinding scalars and nonces always come from crypto/rand. A Coins
	// reader shared by accounts used from several goroutines must be safe
	// for concurrent use.
	Coins io.Reader
}

// normalize fills defaults and checks ranges.
func (p Params) normalize() (Params, error) {
	if p.Threshold < 1 || p.Threshold > MaxThreshold {
		return p, fmt.Errorf("psi: threshold %d outside [1, %d]", p.Threshold, MaxThreshold)
	}
	if !(p.SyntheticRate >= 0 && p.SyntheticRate < 1) {
		return p, fmt.Errorf("psi: synthetic rate %v outside [0, 1)", p.SyntheticRate)
	}
	if p.MaxSynthetic == 0 {
		p.MaxSynthetic = DefaultSyntheticFactor * p.Threshold
	}
	if p.MaxSynthetic < 1 || p.MaxSynthetic > MaxSyntheticLimit {
		return p, fmt.Errorf("psi: max synthetic %d outside [1, %d]", p.MaxSynthetic, MaxSyntheticLimit)
	}
	if p.ADSize == 0 {
		p.ADSize = DefaultADSize
	}
	if p.ADSize < 0 || p.ADSize > MaxADSize {
		return p, fmt.Errorf("psi: associated data size %d outside [0, %d]", p.ADSize, MaxADSize)
	}
	if p.TableFactor == 0 {
		p.TableFactor = DefaultTableFactor
	}
	if !(p.TableFactor >= 1 && p.TableFactor <= 64) {
		return p, fmt.Errorf("psi: table factor %v outside [1, 64]", p.TableFactor)
	}
	return p, nil
}
