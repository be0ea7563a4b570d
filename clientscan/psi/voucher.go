package psi

import (
	"encoding/binary"
	"fmt"
)

// voucherVersion is the first byte of every serialised voucher.
const voucherVersion = 1

// Voucher is one safety voucher: the paper's (id, Q_b, ct_b, Q_3−b, ct_3−b,
// rct) (§4). Its identifier is visible to the server; everything else is
// opaque without α and, for the associated data, the account key.
type Voucher struct {
	id  []byte
	q   [2][PointSize]byte
	ct  [2][ctSize]byte
	rct []byte
}

// ID returns the voucher identifier.
func (v *Voucher) ID() []byte { return append([]byte(nil), v.id...) }

// Size returns the serialised size, in bytes: 2 + len(id) + 2·(33 + 92) + 4 +
// len(rct), where rct is 8·(MaxSynthetic+1) + 64 + ADSize + 124 bytes.
func (v *Voucher) Size() int {
	return 2 + len(v.id) + 2*(PointSize+ctSize) + 4 + len(v.rct)
}

// MarshalBinary serialises the voucher:
//
//	0x01 | len(id) (1) | id | Q_1 (33) | ct_1 (92) | Q_2 (33) | ct_2 (92) |
//	len(rct) (uint32, big-endian) | rct
func (v *Voucher) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, v.Size())
	out = append(out, voucherVersion, byte(len(v.id)))
	out = append(out, v.id...)
	for j := range 2 {
		out = append(out, v.q[j][:]...)
		out = append(out, v.ct[j][:]...)
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(v.rct)))
	return append(out, v.rct...), nil
}

// ParseVoucher decodes a serialised voucher. It reads at most
// [MaxVoucherSize] bytes and checks only the structure, returning
// [ErrMalformed] when it is wrong; [Server.Process] checks the points and the
// sizes for its parameters. data is not retained.
func ParseVoucher(data []byte) (*Voucher, error) {
	if len(data) > MaxVoucherSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(data), MaxVoucherSize)
	}
	if len(data) < 2 || data[0] != voucherVersion {
		return nil, fmt.Errorf("%w: bad header", ErrMalformed)
	}
	n := int(data[1])
	if n == 0 || n > MaxIDSize {
		return nil, fmt.Errorf("%w: id of %d bytes", ErrMalformed, n)
	}
	rest := data[2:]
	fixed := n + 2*(PointSize+ctSize) + 4
	if len(rest) < fixed {
		return nil, fmt.Errorf("%w: truncated", ErrMalformed)
	}
	v := &Voucher{id: append([]byte(nil), rest[:n]...)}
	rest = rest[n:]
	for j := range 2 {
		v.q[j] = [PointSize]byte(rest[:PointSize])
		v.ct[j] = [ctSize]byte(rest[PointSize : PointSize+ctSize])
		rest = rest[PointSize+ctSize:]
	}
	m := binary.BigEndian.Uint32(rest)
	rest = rest[4:]
	if uint64(m) != uint64(len(rest)) || m < sealOverhead {
		return nil, fmt.Errorf("%w: long ciphertext length %d, %d bytes left", ErrMalformed, m, len(rest))
	}
	v.rct = append([]byte(nil), rest...)
	return v, nil
}
