package clientscan

import (
	"errors"
	"fmt"
	"strings"

	"scanlab/clientscan/psi"
	"scanlab/perceptual"
)

// Published is what the provider ships to every device with the app (in
// Apple's design, inside the signed OS image, with its root published): the
// blinded table, already checked against its root, the protocol parameters
// and the matching variant; for the plain variant, the list itself. It
// holds nothing of the provider's state, and a [Device] is built from it
// and its account's keys only. [Mode.Published] hands out copies; the
// table and the bytes they share must not be modified.
type Published struct {
	// Root is the published commitment to the table; zero for the plain
	// variant.
	Root [32]byte
	// Params are the protocol parameters vouchers are made for (threshold,
	// synthetic rate and budget bound, associated-data size), defaults
	// filled in.
	Params psi.Params
	// Match and List are the variants.
	Match MatchVariant
	List  ListVariant

	table *psi.Table          // the blinded table, checked against Root
	plain *perceptual.Matcher // the plain variant's list
	data  []byte              // what ships: the serialised table or the plain list
}

// Bytes returns what ships to every device: the serialised blinded table,
// or for the plain variant the list in the clear (one hex hash per line,
// with its label after a comma). It must not be modified.
func (p Published) Bytes() []byte { return p.data }

// Table returns the blinded table (nil for the plain variant).
func (p Published) Table() *psi.Table { return p.table }

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

// adSize is the associated data of a voucher: PDQ hash ‖ visual derivative.
const adSize = perceptual.Size + DerivativeSize

// elements turns hashes into PSI set elements for the matching variant:
// the hash itself for "exact", its K chunk elements for "chunks=K".
func elements(list []perceptual.Hash, v MatchVariant) [][]byte {
	k := v.Chunks
	out := make([][]byte, 0, len(list)*max(1, k))
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

// listText is the list as the provider holds it: one hex hash per line,
// with its label after a comma when there is one.
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
