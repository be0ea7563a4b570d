package e2ee

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/mlkem"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"scanlab"
)

// Sizes of keys and encodings, in bytes.
const (
	// KeySize is the size of an X25519 public key.
	KeySize = 32
	// PublicIdentitySize is the size of an encoded [PublicIdentity]: the
	// X25519 identity key followed by the Ed25519 signing key.
	PublicIdentitySize = 2 * KeySize
	// PQKeySize is the size of an ML-KEM-1024 encapsulation key.
	PQKeySize = mlkem.EncapsulationKeySize1024
	// PQCiphertextSize is the size of an ML-KEM-1024 ciphertext.
	PQCiphertextSize = mlkem.CiphertextSize1024
)

const (
	bundleVersion    = 1
	flagPQ           = 1 << 0
	flagOneTime      = 1 << 1
	bundleClassicLen = 2 + PublicIdentitySize + 4 + KeySize + ed25519.SignatureSize
	bundlePQLen      = 4 + PQKeySize + ed25519.SignatureSize
	oneTimeLen       = 4 + KeySize

	labelSignedPrekey   = "scanlab-e2ee-v1 signed prekey X25519"
	labelSignedPQPrekey = "scanlab-e2ee-v1 signed prekey ML-KEM-1024"
)

var x25519 = ecdh.X25519()

// Identity is a device's long-term key pair: an X25519 key for X3DH and a
// separate Ed25519 key that signs prekeys.
//
// Signal signs prekeys with XEdDSA under the X25519 identity key itself (X3DH
// §2.3, XEdDSA specification). This package uses a second, Ed25519 key
// instead, so it needs no Edwards-curve arithmetic of its own; the public
// identity is therefore 64 bytes (both keys) and both are bound into the X3DH
// associated data.
type Identity struct {
	DH   *ecdh.PrivateKey
	Sign ed25519.PrivateKey
}

// PublicIdentity is the public half of an [Identity].
type PublicIdentity struct {
	DH   [KeySize]byte
	Sign [ed25519.PublicKeySize]byte
}

// NewIdentity generates a fresh identity.
func NewIdentity() (*Identity, error) {
	dh, err := x25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	_, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Identity{DH: dh, Sign: sk}, nil
}

// Public returns the public identity.
func (id *Identity) Public() PublicIdentity {
	var p PublicIdentity
	copy(p.DH[:], id.DH.PublicKey().Bytes())
	copy(p.Sign[:], id.Sign.Public().(ed25519.PublicKey))
	return p
}

// Bytes returns the encoding DH ‖ Sign, [PublicIdentitySize] bytes.
func (p PublicIdentity) Bytes() []byte {
	return append(append(make([]byte, 0, PublicIdentitySize), p.DH[:]...), p.Sign[:]...)
}

// Prekeys holds a device's private prekeys: the signed prekey, the unused
// one-time prekeys by id and, with PQ enabled, the signed ML-KEM-1024
// last-resort prekey (PQXDH §2.2).
type Prekeys struct {
	SignedID uint32
	Signed   *ecdh.PrivateKey
	OneTime  map[uint32]*ecdh.PrivateKey
	PQID     uint32
	PQ       *mlkem.DecapsulationKey1024
}

// Bundle is a device's public prekey bundle as another device sees it after
// a directory fetch: at most one one-time prekey.
type Bundle struct {
	Identity  PublicIdentity
	SignedID  uint32
	Signed    [KeySize]byte
	SignedSig [ed25519.SignatureSize]byte
	// PQ is the ML-KEM-1024 encapsulation key, nil when PQ is off.
	PQID  uint32
	PQ    []byte
	PQSig []byte
	// OneTime is nil when the directory had no one-time prekey left.
	OneTimeID uint32
	OneTime   []byte
}

// NewPrekeys generates a signed prekey, n one-time prekeys and, if pq is
// set, a signed ML-KEM-1024 prekey, and returns them with their public
// encoding for a [scanlab.Directory].
func (id *Identity) NewPrekeys(n int, pq bool) (*Prekeys, scanlab.KeyBundle, error) {
	pk := &Prekeys{SignedID: 1, OneTime: make(map[uint32]*ecdh.PrivateKey, n)}
	var err error
	if pk.Signed, err = x25519.GenerateKey(rand.Reader); err != nil {
		return nil, scanlab.KeyBundle{}, err
	}
	pub := id.Public()
	enc := make([]byte, 2, bundleClassicLen+bundlePQLen)
	enc[0] = bundleVersion
	enc = append(enc, pub.Bytes()...)
	enc = binary.BigEndian.AppendUint32(enc, pk.SignedID)
	spk := pk.Signed.PublicKey().Bytes()
	enc = append(enc, spk...)
	enc = append(enc, ed25519.Sign(id.Sign, prekeySigInput(labelSignedPrekey, pub, pk.SignedID, spk))...)
	if pq {
		enc[1] |= flagPQ
		if pk.PQ, err = mlkem.GenerateKey1024(); err != nil {
			return nil, scanlab.KeyBundle{}, err
		}
		pk.PQID = 1
		ek := pk.PQ.EncapsulationKey().Bytes()
		enc = binary.BigEndian.AppendUint32(enc, pk.PQID)
		enc = append(enc, ek...)
		enc = append(enc, ed25519.Sign(id.Sign, prekeySigInput(labelSignedPQPrekey, pub, pk.PQID, ek))...)
	}
	kb := scanlab.KeyBundle{Identity: enc, OneTime: make([][]byte, 0, n)}
	for i := range n {
		k, err := x25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, scanlab.KeyBundle{}, err
		}
		kid := uint32(i + 1)
		pk.OneTime[kid] = k
		kb.OneTime = append(kb.OneTime, binary.BigEndian.AppendUint32(make([]byte, 0, oneTimeLen), kid))
		kb.OneTime[i] = append(kb.OneTime[i], k.PublicKey().Bytes()...)
	}
	return pk, kb, nil
}

// prekeySigInput is the message an identity signs for a prekey: a label that
// differs for X25519 and ML-KEM keys (PQXDH rev. 3 §4.9 asks for distinct
// encodings), the whole public identity (which binds the Ed25519 key to the
// X25519 identity key), the prekey id and the prekey.
func prekeySigInput(label string, id PublicIdentity, kid uint32, key []byte) []byte {
	b := make([]byte, 0, len(label)+PublicIdentitySize+4+len(key))
	b = append(b, label...)
	b = append(b, id.DH[:]...)
	b = append(b, id.Sign[:]...)
	b = binary.BigEndian.AppendUint32(b, kid)
	return append(b, key...)
}

// ErrBadBundle is returned for a prekey bundle that does not parse or whose
// signatures do not verify.
var ErrBadBundle = errors.New("e2ee: invalid prekey bundle")

// ParseBundle decodes a directory entry and verifies its prekey signatures.
// It uses the first one-time prekey, if any.
func ParseBundle(kb scanlab.KeyBundle) (*Bundle, error) {
	enc := kb.Identity
	if len(enc) < bundleClassicLen {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrBadBundle, len(enc), bundleClassicLen)
	}
	if enc[0] != bundleVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrBadBundle, enc[0])
	}
	flags := enc[1]
	if flags&^flagPQ != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrBadBundle, flags)
	}
	want := bundleClassicLen
	if flags&flagPQ != 0 {
		want += bundlePQLen
	}
	if len(enc) != want {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadBundle, len(enc), want)
	}
	b := new(Bundle)
	r := enc[2:]
	r = r[copy(b.Identity.DH[:], r):]
	r = r[copy(b.Identity.Sign[:], r):]
	b.SignedID, r = binary.BigEndian.Uint32(r), r[4:]
	r = r[copy(b.Signed[:], r):]
	r = r[copy(b.SignedSig[:], r):]
	if !ed25519.Verify(b.Identity.Sign[:], prekeySigInput(labelSignedPrekey, b.Identity, b.SignedID, b.Signed[:]), b.SignedSig[:]) {
		return nil, fmt.Errorf("%w: signed prekey signature does not verify", ErrBadBundle)
	}
	if flags&flagPQ != 0 {
		b.PQID, r = binary.BigEndian.Uint32(r), r[4:]
		b.PQ, r = r[:PQKeySize:PQKeySize], r[PQKeySize:]
		b.PQSig = r[:ed25519.SignatureSize:ed25519.SignatureSize]
		if !ed25519.Verify(b.Identity.Sign[:], prekeySigInput(labelSignedPQPrekey, b.Identity, b.PQID, b.PQ), b.PQSig) {
			return nil, fmt.Errorf("%w: PQ prekey signature does not verify", ErrBadBundle)
		}
	}
	if len(kb.OneTime) > 0 {
		o := kb.OneTime[0]
		if len(o) != oneTimeLen {
			return nil, fmt.Errorf("%w: one-time prekey of %d bytes, want %d", ErrBadBundle, len(o), oneTimeLen)
		}
		b.OneTimeID = binary.BigEndian.Uint32(o)
		b.OneTime = o[4:oneTimeLen:oneTimeLen]
	}
	return b, nil
}
