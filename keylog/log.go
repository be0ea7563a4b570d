package keylog

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// HashSize is the size of a tree hash (SHA-256), in bytes.
const HashSize = 32

// Origin names the log in every signed head, so that a head of this log
// cannot pass for one of another (C2SP tlog-checkpoint's origin line).
const Origin = "scanlab key log v1"

var hasher = rfc6962.DefaultHasher

// Head is a signed tree head: the log's size and root hash, signed by the
// provider's log key. Two heads of one honest log are always consistent.
type Head struct {
	Size uint64
	Root [HashSize]byte
	Sig  [ed25519.SignatureSize]byte
}

// signedBody is what the log key signs: origin, size and root, one per
// line, as in a C2SP tlog-checkpoint body (signed here with plain Ed25519
// instead of a signed note).
func (h Head) signedBody() []byte {
	return []byte(Origin + "\n" + strconv.FormatUint(h.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(h.Root[:]) + "\n")
}

// Verify checks the head's signature.
func (h Head) Verify(pub ed25519.PublicKey) error {
	if !ed25519.Verify(pub, h.signedBody(), h.Sig[:]) {
		return ErrSignature
	}
	return nil
}

// Errors a check returns; each is a detection.
var (
	// ErrSignature: a head not signed by the log key.
	ErrSignature = errors.New("keylog: tree head signature does not verify")
	// ErrInclusion: keys the directory served are not in the log.
	ErrInclusion = errors.New("keylog: keys are not in the log (inclusion proof fails)")
	// ErrConsistency: the log is not an extension of a head seen before
	// (it was rewritten, rolled back or forked).
	ErrConsistency = errors.New("keylog: log is inconsistent with a head seen before")
	// ErrUnknownKey: the log holds keys for an account that its owner
	// never published.
	ErrUnknownKey = errors.New("keylog: log lists keys the account's owner never published")
	// ErrSplitView: two heads that cannot both belong to one log.
	ErrSplitView = errors.New("keylog: heads from different views of the log (split view)")
)

// Log is an append-only Merkle log of entries, as the provider keeps it.
// It is safe for concurrent use.
type Log struct {
	mu     sync.Mutex
	key    ed25519.PrivateKey
	leaves [][]byte // encoded entries, by index
	nodes  map[compact.NodeID][]byte
	rng    *compact.Range
}

var factory = &compact.RangeFactory{Hash: hasher.HashChildren}

// New returns an empty log whose heads key signs.
func New(key ed25519.PrivateKey) *Log {
	return &Log{key: key, nodes: map[compact.NodeID][]byte{}, rng: factory.NewEmptyRange(0)}
}

// PublicKey returns the key heads are signed with, as apps ship it.
func (l *Log) PublicKey() ed25519.PublicKey { return l.key.Public().(ed25519.PublicKey) }

// Append adds an entry and returns its index.
func (l *Log) Append(e Entry) (uint64, error) {
	b, err := e.Marshal()
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	idx := uint64(len(l.leaves))
	if err := l.rng.Append(hasher.HashLeaf(b), l.visit); err != nil {
		return 0, err
	}
	l.leaves = append(l.leaves, b)
	return idx, nil
}

func (l *Log) visit(id compact.NodeID, h []byte) { l.nodes[id] = slices.Clone(h) }

// Clone returns an independent copy of the log, signed by the same key:
// what a provider keeps to show some users a different log (split view).
func (l *Log) Clone() *Log {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := New(l.key)
	for _, b := range l.leaves {
		c.rng.Append(hasher.HashLeaf(b), c.visit)
		c.leaves = append(c.leaves, b)
	}
	return c
}

// Size returns the number of entries.
func (l *Log) Size() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(len(l.leaves))
}

// Head returns the signed head of the log as it is now.
func (l *Log) Head() (Head, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	root, err := l.rng.GetRootHash(nil)
	if err != nil {
		return Head{}, err
	}
	h := Head{Size: uint64(len(l.leaves))}
	copy(h.Root[:], root)
	copy(h.Sig[:], ed25519.Sign(l.key, h.signedBody()))
	return h, nil
}

// Entries returns the encoded entries [from, to), as a monitor downloads
// them.
func (l *Log) Entries(from, to uint64) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if from > to || to > uint64(len(l.leaves)) {
		return nil, fmt.Errorf("keylog: entries [%d, %d) of a log of %d", from, to, len(l.leaves))
	}
	return slices.Clone(l.leaves[from:to]), nil
}

// Latest returns the index and entry of the account's latest entry.
func (l *Log) Latest(account string) (uint64, Entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.leaves) - 1; i >= 0; i-- {
		if e, err := ParseEntry(l.leaves[i]); err == nil && e.Account == account {
			return uint64(i), e, true
		}
	}
	return 0, Entry{}, false
}

// Inclusion returns the inclusion proof of entry index in the tree of the
// given size (RFC 9162 §2.1.3.1).
func (l *Log) Inclusion(index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("keylog: %w", err)
	}
	return l.rehash(nodes, size)
}

// Consistency returns the consistency proof between the trees of sizes
// size1 ≤ size2 (RFC 9162 §2.1.4.1).
func (l *Log) Consistency(size1, size2 uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("keylog: %w", err)
	}
	return l.rehash(nodes, size2)
}

func (l *Log) rehash(nodes proof.Nodes, size uint64) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if size > uint64(len(l.leaves)) {
		return nil, fmt.Errorf("keylog: proof for size %d of a log of %d", size, len(l.leaves))
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		h, ok := l.nodes[id]
		if !ok {
			return nil, fmt.Errorf("keylog: node %v missing", id)
		}
		hashes[i] = h
	}
	return nodes.Rehash(hashes, hasher.HashChildren)
}

// Proof is what the directory attaches to the keys it serves: the head it
// shows the asker, where the asker's account entry is and the proof that
// it is in that tree, and the proof that this tree extends the last head
// it showed the same asker (FromSize 0: none shown before).
type Proof struct {
	Head        Head
	Index       uint64
	Inclusion   [][]byte
	FromSize    uint64
	Consistency [][]byte
}

// maxProofHashes bounds the hashes of one proof: 64 levels cover any
// 64-bit tree size, and a consistency proof needs at most twice that.
const maxProofHashes = 128

// MaxProof is the longest encoded proof, in bytes.
const MaxProof = 1 + 8 + HashSize + ed25519.SignatureSize + 8 + 1 + 8 + 1 + 2*maxProofHashes*HashSize

const proofVersion = 1

// Marshal encodes the proof: version ‖ size ‖ root ‖ signature ‖ index ‖
// count ‖ hashes ‖ from size ‖ count ‖ hashes.
func (p Proof) Marshal() []byte {
	b := []byte{proofVersion}
	b = binary.BigEndian.AppendUint64(b, p.Head.Size)
	b = append(b, p.Head.Root[:]...)
	b = append(b, p.Head.Sig[:]...)
	b = binary.BigEndian.AppendUint64(b, p.Index)
	b = appendHashes(b, p.Inclusion)
	b = binary.BigEndian.AppendUint64(b, p.FromSize)
	return appendHashes(b, p.Consistency)
}

func appendHashes(b []byte, hs [][]byte) []byte {
	b = append(b, byte(len(hs)))
	for _, h := range hs {
		b = append(b, h...)
	}
	return b
}

// ParseProof decodes a proof, bounded by [MaxProof].
func ParseProof(b []byte) (Proof, error) {
	var p Proof
	if len(b) > MaxProof || len(b) < 1+8+HashSize+ed25519.SignatureSize+8 || b[0] != proofVersion {
		return p, fmt.Errorf("%w: proof header", ErrMalformed)
	}
	r := b[1:]
	p.Head.Size, r = binary.BigEndian.Uint64(r), r[8:]
	r = r[copy(p.Head.Root[:], r):]
	r = r[copy(p.Head.Sig[:], r):]
	p.Index, r = binary.BigEndian.Uint64(r), r[8:]
	var err error
	if p.Inclusion, r, err = readHashes(r); err != nil {
		return p, err
	}
	if len(r) < 8 {
		return p, fmt.Errorf("%w: truncated proof", ErrMalformed)
	}
	p.FromSize, r = binary.BigEndian.Uint64(r), r[8:]
	if p.Consistency, r, err = readHashes(r); err != nil {
		return p, err
	}
	if len(r) != 0 {
		return p, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(r))
	}
	return p, nil
}

func readHashes(r []byte) ([][]byte, []byte, error) {
	if len(r) < 1 || int(r[0]) > maxProofHashes || len(r) < 1+int(r[0])*HashSize {
		return nil, nil, fmt.Errorf("%w: proof hashes", ErrMalformed)
	}
	n := int(r[0])
	r = r[1:]
	hs := make([][]byte, n)
	for i := range hs {
		hs[i] = slices.Clone(r[:HashSize])
		r = r[HashSize:]
	}
	return hs, r, nil
}

// Find returns the index of the latest entry equal to e.
func (l *Log) Find(e Entry) (uint64, bool) {
	want, err := e.Marshal()
	if err != nil {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.leaves) - 1; i >= 0; i-- {
		if string(l.leaves[i]) == string(want) {
			return uint64(i), true
		}
	}
	return 0, false
}
