package perceptual

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// Size is the length of a [Hash] in bytes.
const Size = 32

// Bits is the length of a [Hash] in bits.
const Bits = 8 * Size

// Meta's recommended operating points for PDQ (facebook/ThreatExchange
// pdq/README.md, and PDQ_CONFIDENT_MATCH_THRESHOLD and QUALITY_THRESHOLD in
// python-threatexchange's PDQ signal type).
const (
	// MatchThreshold is the largest Hamming distance, in bits out of 256,
	// at which two PDQ hashes are treated as the same image.
	MatchThreshold = 31
	// MinQuality is the lowest PDQ quality worth matching: hashes of
	// quality below it (Meta: "<= 49") come from featureless images and
	// match too much.
	MinQuality = 50
)

// Hash is a 256-bit perceptual hash: PDQ, or one of the 256-bit baselines
// ([PHash], [DHash]).
//
// The bytes are the hash's hexadecimal form decoded, so the layout is the
// one the PDQ reference prints: the reference keeps sixteen 16-bit words
// w[0..15], bit k of the hash in word w[k>>4] at bit k&15, and prints w[15]
// first (facebook/ThreatExchange pdq/cpp/common/pdqhashtypes). Read as one
// 256-bit big-endian number, bit k of the hash is bit k of the number: it is
// stored in byte 31-k/8 at bit k%8. For PDQ, bit 16i+j is set when DCT
// coefficient (i+1, j+1) exceeds the median, so the first hex digit belongs
// to the highest DCT row.
type Hash [Size]byte

// String returns the hash as 64 lower-case hexadecimal digits, the PDQ
// reference's format.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements [encoding.TextMarshaler] with the format of
// [Hash.String].
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseHash].
func (h *Hash) UnmarshalText(text []byte) error {
	p, err := ParseHash(string(text))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// Bit reports whether bit k (0 ≤ k < 256) of the hash is set, in the PDQ
// reference's numbering. It panics if k is out of range.
func (h Hash) Bit(k int) bool {
	if k < 0 || k >= Bits {
		panic("perceptual: bit index out of range")
	}
	return h[Size-1-k>>3]>>(k&7)&1 == 1
}

// setBit sets bit k in the PDQ reference's numbering.
func (h *Hash) setBit(k int) { h[Size-1-k>>3] |= 1 << (k & 7) }

// IsZero reports whether every bit of the hash is clear; PDQ returns the zero
// hash for images too small to hash.
func (h Hash) IsZero() bool { return h == Hash{} }

// ErrHashSyntax is returned (wrapped) by [ParseHash] for a string that is not
// 64 hexadecimal digits.
var ErrHashSyntax = errors.New("perceptual: malformed hash")

// ParseHash parses 64 hexadecimal digits (either case, nothing else) as
// printed by [Hash.String] and by the PDQ reference tools.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*Size {
		return h, fmt.Errorf("%w: want %d hex digits, got %d characters", ErrHashSyntax, 2*Size, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("%w: %v", ErrHashSyntax, err)
	}
	return h, nil
}

// words returns the hash as four 64-bit words, w[0] holding bits 0..63 in the
// PDQ reference's numbering.
func (h *Hash) words() [4]uint64 {
	return [4]uint64{
		binary.BigEndian.Uint64(h[24:32]),
		binary.BigEndian.Uint64(h[16:24]),
		binary.BigEndian.Uint64(h[8:16]),
		binary.BigEndian.Uint64(h[0:8]),
	}
}

// Distance returns the Hamming distance between a and b: the number of bits,
// 0..256, in which they differ.
func Distance(a, b Hash) int {
	wa, wb := a.words(), b.words()
	return bits.OnesCount64(wa[0]^wb[0]) + bits.OnesCount64(wa[1]^wb[1]) +
		bits.OnesCount64(wa[2]^wb[2]) + bits.OnesCount64(wa[3]^wb[3])
}
