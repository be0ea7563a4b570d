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
	oneTimeLen       = 1 + 4 + KeySize
	oneTimePQLen     = oneTimeLen + bundlePQLen

	labelSignedPrekey   = "scanlab-e2ee-v1 signed prekey X25519"
	labelSignedPQPrekey = "scanlab-e2ee-v1 signed prekey ML-KEM-1024"
)

// Prekey retention.
const (
	// KeptSignedPrekeys is how many signed prekeys (and last-resort ML-KEM
	// prekeys) a device keeps after rotating them, so first messages
	// started on a recently replaced bundle still open (X3DH and PQXDH §3.2:
	// Bob may keep the previous private key for a while for delayed
	// messages, and should eventually delete it for forward secrecy).
	KeptSignedPrekeys = 2
	// MaxOneTimePrekeys is the most unused one-time prekey sets a device
	// holds; publishing more forgets the oldest private keys, and a first
	// message naming one of those is refused.
	MaxOneTimePrekeys = 1024
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

// Prekeys holds a device's private prekeys (PQXDH, rev. 3, §3.2): the
// signed X25519 prekeys and, with PQ on, the signed last-resort ML-KEM-1024
// prekeys, each by id — the current one plus up to [KeptSignedPrekeys] it
// replaced — and the unused one-time prekeys: X25519 keys and, with PQ on,
// signed one-time ML-KEM-1024 keys, published in pairs. Ids come from one
// counter, so no two prekeys of a device share an id.
type Prekeys struct {
	pq bool
	// SignedID is the id of the current signed prekey; Signed holds it and
	// the kept earlier ones.
	SignedID uint32
	Signed   map[uint32]*ecdh.PrivateKey
	// PQID is the id of the current last-resort ML-KEM prekey; PQ holds it
	// and the kept earlier ones (empty without PQ).
	PQID uint32
	PQ   map[uint32]*mlkem.DecapsulationKey1024
	// OneTime and PQOneTime hold the unused one-time prekeys.
	OneTime   map[uint32]*ecdh.PrivateKey
	PQOneTime map[uint32]*mlkem.DecapsulationKey1024

	next     uint32   // last id handed out
	retired  []uint32 // signed and last-resort ids, oldest first
	oneTimes []uint32 // one-time X25519 ids, oldest first
}

// Bundle is a device's public prekey bundle as another device sees it after
// a directory fetch: at most one one-time prekey set.
type Bundle struct {
	Identity  PublicIdentity
	SignedID  uint32
	Signed    [KeySize]byte
	SignedSig [ed25519.SignatureSize]byte
	// PQ is the ML-KEM-1024 encapsulation key to use, nil when PQ is off:
	// the one-time key of the fetched set if it carries one (PQOneTime),
	// else the last-resort key (PQXDH §3.3).
	PQID      uint32
	PQ        []byte
	PQSig     []byte
	PQOneTime bool
	// OneTime is nil when the directory had no one-time prekey left.
	OneTimeID uint32
	OneTime   []byte
}

// NewPrekeys generates a signed prekey, n one-time prekeys and, if pq is
// set, a signed last-resort ML-KEM-1024 prekey and n signed one-time
// ML-KEM-1024 prekeys, and returns them with their public encoding for a
// [scanlab.Directory].
func (id *Identity) NewPrekeys(n int, pq bool) (*Prekeys, scanlab.KeyBundle, error) {
	pk := &Prekeys{pq: pq, Signed: make(map[uint32]*ecdh.PrivateKey), PQ: make(map[uint32]*mlkem.DecapsulationKey1024),
		OneTime: make(map[uint32]*ecdh.PrivateKey, n), PQOneTime: make(map[uint32]*mlkem.DecapsulationKey1024)}
	kb, err := id.Rotate(pk, n)
	if err != nil {
		return nil, scanlab.KeyBundle{}, err
	}
	return pk, kb, nil
}

// Rotate replaces the signed prekey (and, with PQ, the last-resort ML-KEM
// prekey) with fresh ones, keeps the [KeptSignedPrekeys] most recent
// earlier ones for first messages in flight, deletes older ones, and
// generates n new one-time prekey sets. It returns the bundle to publish:
// the new Identity part and the new one-time sets.
func (id *Identity) Rotate(pk *Prekeys, n int) (scanlab.KeyBundle, error) {
	spk, err := x25519.GenerateKey(rand.Reader)
	if err != nil {
		return scanlab.KeyBundle{}, err
	}
	var lastResort *mlkem.DecapsulationKey1024
	if pk.pq {
		if lastResort, err = mlkem.GenerateKey1024(); err != nil {
			return scanlab.KeyBundle{}, err
		}
	}
	oneTime, err := pk.newOneTime(id, n)
	if err != nil {
		return scanlab.KeyBundle{}, err
	}
	pk.retire()
	pk.SignedID = pk.id()
	pk.Signed[pk.SignedID] = spk
	if pk.pq {
		pk.PQID = pk.id()
		pk.PQ[pk.PQID] = lastResort
	}
	return scanlab.KeyBundle{Identity: id.encodeIdentity(pk), OneTime: oneTime}, nil
}

func (pk *Prekeys) id() uint32 { pk.next++; return pk.next }

// retire moves the current signed and last-resort prekeys to the kept list
// and deletes those beyond KeptSignedPrekeys rotations back.
func (pk *Prekeys) retire() {
	if pk.SignedID == 0 {
		return
	}
	pk.retired = append(pk.retired, pk.SignedID)
	if pk.pq {
		pk.retired = append(pk.retired, pk.PQID)
	}
	perRotation := 1
	if pk.pq {
		perRotation = 2
	}
	for len(pk.retired) > KeptSignedPrekeys*perRotation {
		delete(pk.Signed, pk.retired[0])
		delete(pk.PQ, pk.retired[0])
		pk.retired = pk.retired[1:]
	}
}

// newOneTime generates n one-time prekey sets, stores their private halves
// (forgetting the oldest beyond MaxOneTimePrekeys) and returns their
// encodings: flags ‖ id ‖ X25519 key [‖ PQ id ‖ ML-KEM key ‖ signature].
func (pk *Prekeys) newOneTime(id *Identity, n int) ([][]byte, error) {
	pub := id.Public()
	out := make([][]byte, 0, n)
	for range n {
		k, err := x25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		kid := pk.id()
		enc := []byte{0}
		enc = binary.BigEndian.AppendUint32(enc, kid)
		enc = append(enc, k.PublicKey().Bytes()...)
		if pk.pq {
			dk, err := mlkem.GenerateKey1024()
			if err != nil {
				return nil, err
			}
			pqid := pk.id()
			enc[0] |= flagPQ
			enc = appendPQPrekey(enc, id, pub, pqid, dk)
			pk.PQOneTime[pqid] = dk
		}
		pk.OneTime[kid] = k
		pk.oneTimes = append(pk.oneTimes, kid)
		out = append(out, enc)
	}
	pk.forgetOldOneTime()
	return out, nil
}

// forgetOldOneTime deletes the oldest one-time sets beyond
// MaxOneTimePrekeys. A set's PQ id is its X25519 id plus one.
func (pk *Prekeys) forgetOldOneTime() {
	live := pk.oneTimes[:0]
	for _, kid := range pk.oneTimes {
		if _, ok := pk.OneTime[kid]; ok {
			live = append(live, kid)
		}
	}
	pk.oneTimes = live
	for len(pk.oneTimes) > MaxOneTimePrekeys {
		pk.consume(pk.oneTimes[0], true)
		pk.oneTimes = pk.oneTimes[1:]
	}
}

// consume deletes the one-time X25519 prekey kid and, if pq, the one-time
// ML-KEM prekey published with it.
func (pk *Prekeys) consume(kid uint32, pq bool) {
	delete(pk.OneTime, kid)
	if pq {
		delete(pk.PQOneTime, kid+1)
	}
}

// appendPQPrekey appends id ‖ ML-KEM-1024 encapsulation key ‖ signature.
func appendPQPrekey(b []byte, id *Identity, pub PublicIdentity, kid uint32, dk *mlkem.DecapsulationKey1024) []byte {
	ek := dk.EncapsulationKey().Bytes()
	b = binary.BigEndian.AppendUint32(b, kid)
	b = append(b, ek...)
	return append(b, ed25519.Sign(id.Sign, prekeySigInput(labelSignedPQPrekey, pub, kid, ek))...)
}

// encodeIdentity encodes the Identity part of the bundle: version ‖ flags ‖
// public identity ‖ signed prekey id, key and signature [‖ last-resort
// ML-KEM prekey id, key and signature].
func (id *Identity) encodeIdentity(pk *Prekeys) []byte {
	pub := id.Public()
	enc := make([]byte, 2, bundleClassicLen+bundlePQLen)
	enc[0] = bundleVersion
	enc = append(enc, pub.Bytes()...)
	enc = binary.BigEndian.AppendUint32(enc, pk.SignedID)
	spk := pk.Signed[pk.SignedID].PublicKey().Bytes()
	enc = append(enc, spk...)
	enc = append(enc, ed25519.Sign(id.Sign, prekeySigInput(labelSignedPrekey, pub, pk.SignedID, spk))...)
	if pk.pq {
		enc[1] |= flagPQ
		enc = appendPQPrekey(enc, id, pub, pk.PQID, pk.PQ[pk.PQID])
	}
	return enc
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
// It uses the first one-time prekey set, if any: its X25519 key, and its
// ML-KEM key in place of the last-resort one.
func ParseBundle(kb scanlab.KeyBundle) (*Bundle, error) {
	b, err := parseIdentityPart(kb.Identity)
	if err != nil {
		return nil, err
	}
	if len(kb.OneTime) > 0 {
		if err := b.parseOneTime(kb.OneTime[0]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// ParseIdentity decodes the Identity part of a bundle, verifies its prekey
// signatures and returns the public identity it names.
func ParseIdentity(enc []byte) (PublicIdentity, error) {
	b, err := parseIdentityPart(enc)
	if err != nil {
		return PublicIdentity{}, err
	}
	return b.Identity, nil
}

func parseIdentityPart(enc []byte) (*Bundle, error) {
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
		if err := b.parsePQ(r, false); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// parsePQ decodes and verifies id ‖ ML-KEM key ‖ signature into b.
func (b *Bundle) parsePQ(r []byte, oneTime bool) error {
	kid := binary.BigEndian.Uint32(r)
	key := r[4 : 4+PQKeySize : 4+PQKeySize]
	sig := r[4+PQKeySize : bundlePQLen : bundlePQLen]
	if !ed25519.Verify(b.Identity.Sign[:], prekeySigInput(labelSignedPQPrekey, b.Identity, kid, key), sig) {
		return fmt.Errorf("%w: PQ prekey signature does not verify", ErrBadBundle)
	}
	b.PQID, b.PQ, b.PQSig, b.PQOneTime = kid, key, sig, oneTime
	return nil
}

// parseOneTime decodes one one-time set: flags ‖ id ‖ X25519 key [‖ PQ id
// ‖ ML-KEM key ‖ signature]. A set with a PQ key is accepted only from a
// bundle that has PQ.
func (b *Bundle) parseOneTime(o []byte) error {
	if len(o) < 1 {
		return fmt.Errorf("%w: empty one-time prekey", ErrBadBundle)
	}
	want := oneTimeLen
	switch o[0] {
	case 0:
	case flagPQ:
		if b.PQ == nil {
			return fmt.Errorf("%w: one-time PQ prekey in a bundle without PQ", ErrBadBundle)
		}
		want = oneTimePQLen
	default:
		return fmt.Errorf("%w: one-time prekey flags %#x", ErrBadBundle, o[0])
	}
	if len(o) != want {
		return fmt.Errorf("%w: one-time prekey of %d bytes, want %d", ErrBadBundle, len(o), want)
	}
	b.OneTimeID = binary.BigEndian.Uint32(o[1:])
	b.OneTime = o[5:oneTimeLen:oneTimeLen]
	if o[0] == flagPQ {
		return b.parsePQ(o[oneTimeLen:], true)
	}
	return nil
}
