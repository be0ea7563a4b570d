package psi

import (
	"bytes"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/cloudflare/circl/group"
)

// tableMagic starts every serialised table.
const tableMagic = "SCANPSIT\x01"

// tableHeaderSize is the size of a serialised table before its slots: magic,
// the three nonces, L and the slot count.
const tableHeaderSize = len(tableMagic) + 3*NonceSize + PointSize + 4

// Table is the blinded cuckoo table the server publishes and every device
// downloads: the paper's pdata = (L, P_1..P_n', nonces for H, h1, h2) (§4,
// server setup). A Table is immutable and safe for concurrent use.
type Table struct {
	nonceH, nonceH1, nonceH2 [NonceSize]byte
	l                        group.Element
	slots                    []byte // len(slots)/PointSize compressed points
	enc                      []byte // the serialised form
	root                     [32]byte
}

// Slots returns n', the number of cuckoo slots.
func (t *Table) Slots() int { return len(t.slots) / PointSize }

// Root returns the table's commitment: SHA-256 over a domain label and the
// serialised table. Publishing it lets anyone check that a device holds the
// same table as everyone else; it does not reveal the list.
func (t *Table) Root() [32]byte { return t.root }

// MarshalBinary returns the serialised table, n'·33 + 94 bytes:
//
//	"SCANPSIT" 0x01 | nonce H (16) | nonce h1 (16) | nonce h2 (16) |
//	L (33) | n' (uint32, big-endian) | P_1 … P_n' (33 each)
//
// Points are compressed SEC 1 encodings.
func (t *Table) MarshalBinary() ([]byte, error) {
	return bytes.Clone(t.enc), nil
}

func tableRoot(enc []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("scanlab psi table root v1\x00"))
	h.Write(enc)
	return [32]byte(h.Sum(nil))
}

// UnmarshalTable decodes a serialised table and checks it as a device must
// before use (paper §4, client setup): the root must equal expectedRoot
// ([ErrTableRoot]), every point must be a valid non-identity P-256 point
// ([ErrBadPoint]) and no point may repeat ([ErrRepeatedPoint]). Other
// structural problems give [ErrBadTable]. data is not retained.
func UnmarshalTable(data []byte, expectedRoot [32]byte) (*Table, error) {
	if len(data) < tableHeaderSize || string(data[:len(tableMagic)]) != tableMagic {
		return nil, fmt.Errorf("%w: bad header", ErrBadTable)
	}
	rest := data[len(tableMagic):]
	t := new(Table)
	copy(t.nonceH[:], rest[0:NonceSize])
	copy(t.nonceH1[:], rest[NonceSize:2*NonceSize])
	copy(t.nonceH2[:], rest[2*NonceSize:3*NonceSize])
	rest = rest[3*NonceSize:]
	lEnc := rest[:PointSize]
	n := binary.BigEndian.Uint32(rest[PointSize : PointSize+4])
	rest = rest[PointSize+4:]
	if n < 2 || n > MaxTableSlots {
		return nil, fmt.Errorf("%w: %d slots outside [2, %d]", ErrBadTable, n, MaxTableSlots)
	}
	if uint64(len(rest)) != uint64(n)*PointSize {
		return nil, fmt.Errorf("%w: %d bytes of slots for %d slots", ErrBadTable, len(rest), n)
	}
	root := tableRoot(data)
	if subtle.ConstantTimeCompare(root[:], expectedRoot[:]) != 1 {
		return nil, ErrTableRoot
	}
	l, err := parsePoint(lEnc)
	if err != nil {
		return nil, fmt.Errorf("table point L: %w", err)
	}
	seen := make(map[[PointSize]byte]struct{}, n+1)
	seen[[PointSize]byte(lEnc)] = struct{}{}
	for i := range int(n) {
		p := rest[i*PointSize : (i+1)*PointSize]
		if !validPoint(p) {
			return nil, fmt.Errorf("table slot %d: %w", i, ErrBadPoint)
		}
		// Compressed encodings are canonical (x < p is checked), so equal
		// points have equal bytes.
		k := [PointSize]byte(p)
		if _, dup := seen[k]; dup {
			return nil, fmt.Errorf("table slot %d: %w", i, ErrRepeatedPoint)
		}
		seen[k] = struct{}{}
	}
	t.l = l
	t.enc = bytes.Clone(data)
	t.slots = t.enc[tableHeaderSize:]
	t.root = root
	return t, nil
}

// validPoint reports whether b is a canonical compressed encoding of a
// non-identity P-256 point.
func validPoint(b []byte) bool {
	if len(b) != PointSize || (b[0] != 2 && b[0] != 3) {
		return false
	}
	x, _ := elliptic.UnmarshalCompressed(elliptic.P256(), b)
	return x != nil
}

// parsePoint decodes a compressed non-identity P-256 point.
func parsePoint(b []byte) (group.Element, error) {
	if len(b) != PointSize || (b[0] != 2 && b[0] != 3) {
		return nil, ErrBadPoint
	}
	// UnmarshalBinary rejects x ≥ p and x with no point on the curve.
	e := group.P256.NewElement()
	if err := e.UnmarshalBinary(b); err != nil || e.IsIdentity() {
		return nil, ErrBadPoint
	}
	return e, nil
}

// encodePoint returns the compressed encoding of a non-identity point.
func encodePoint(e group.Element) []byte {
	b, err := e.MarshalBinaryCompress()
	if err != nil || len(b) != PointSize {
		panic("psi: cannot encode point") // only the identity, which we never encode
	}
	return b
}

// slot returns the point in slot i.
func (t *Table) slot(i int) (group.Element, error) {
	return parsePoint(t.slots[i*PointSize : (i+1)*PointSize])
}

// hashToCurve is the paper's H: U → E \ {O}, RFC 9380 P256_XMD:SHA-256_SSWU_RO_
// with a domain-separation tag that includes the table's nonce.
func hashToCurve(nonce [NonceSize]byte, y []byte) group.Element {
	return group.P256.HashToElement(y, []byte("scanlab-psi-v1-H-"+hex.EncodeToString(nonce[:])+"-P256_XMD:SHA-256_SSWU_RO_"))
}

// cuckooHash is h_j: U → [n'], SHA-256 of a label, the nonce and y, reduced
// mod n' (bias below n'/2^64).
func cuckooHash(nonce [NonceSize]byte, y []byte, n int) int {
	h := sha256.New()
	h.Write([]byte("scanlab psi cuckoo v1\x00"))
	h.Write(nonce[:])
	h.Write(y)
	return int(binary.BigEndian.Uint64(h.Sum(nil)[:8]) % uint64(n))
}

// positions returns (h1(y), h2(y)) for a table of n slots, with h2 moved to
// h1+1 when they collide (paper §4).
func positions(n1, n2 [NonceSize]byte, y []byte, n int) (int, int) {
	a, b := cuckooHash(n1, y, n), cuckooHash(n2, y, n)
	if a == b {
		b = (a + 1) % n
	}
	return a, b
}
