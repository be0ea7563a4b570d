package e2ee

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// RootKeySize is the size in bytes of the shared secret SK that X3DH
// outputs and of the ratchet's root and chain keys.
const RootKeySize = 32

const (
	initVersion   = 1
	initBaseLen   = 2 + PublicIdentitySize + KeySize + 4
	initMaxLen    = initBaseLen + 4 + 4 + PQCiphertextSize
	x3dhMaxKMSize = 32 + 4*KeySize + mlkem.SharedKeySize
)

// ErrInvalidKey is returned when a Diffie-Hellman input is not a usable
// X25519 public key: the wrong length, or a low-order point whose shared
// secret is all zeros (crypto/ecdh reports that case as an error).
var ErrInvalidKey = errors.New("e2ee: invalid public key")

// ErrBadInit is returned for an X3DH initial message that does not parse
// or names prekeys the recipient does not have.
var ErrBadInit = errors.New("e2ee: invalid initial message")

// InitMessage is the X3DH initial message (X3DH §3.3) without the first
// ciphertext, which travels as an ordinary ratchet message beside it.
type InitMessage struct {
	Identity   PublicIdentity
	Ephemeral  [KeySize]byte
	SignedID   uint32
	HasOneTime bool
	OneTimeID  uint32
	// PQCiphertext is the ML-KEM-1024 ciphertext of PQXDH, nil without PQ.
	PQID         uint32
	PQCiphertext []byte
}

// Marshal encodes m: version, flags, identity, ephemeral key, prekey ids and
// the optional KEM ciphertext, all fixed-size.
func (m *InitMessage) Marshal() []byte {
	b := make([]byte, 2, initMaxLen)
	b[0] = initVersion
	b = append(b, m.Identity.DH[:]...)
	b = append(b, m.Identity.Sign[:]...)
	b = append(b, m.Ephemeral[:]...)
	b = binary.BigEndian.AppendUint32(b, m.SignedID)
	if m.HasOneTime {
		b[1] |= flagOneTime
		b = binary.BigEndian.AppendUint32(b, m.OneTimeID)
	}
	if m.PQCiphertext != nil {
		b[1] |= flagPQ
		b = binary.BigEndian.AppendUint32(b, m.PQID)
		b = append(b, m.PQCiphertext...)
	}
	return b
}

// ParseInitMessage decodes an [InitMessage], checking every length.
func ParseInitMessage(b []byte) (*InitMessage, error) {
	if len(b) < initBaseLen {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrBadInit, len(b), initBaseLen)
	}
	if b[0] != initVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrBadInit, b[0])
	}
	flags := b[1]
	if flags&^(flagPQ|flagOneTime) != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrBadInit, flags)
	}
	want := initBaseLen
	if flags&flagOneTime != 0 {
		want += 4
	}
	if flags&flagPQ != 0 {
		want += 4 + PQCiphertextSize
	}
	if len(b) != want {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadInit, len(b), want)
	}
	m := new(InitMessage)
	r := b[2:]
	r = r[copy(m.Identity.DH[:], r):]
	r = r[copy(m.Identity.Sign[:], r):]
	r = r[copy(m.Ephemeral[:], r):]
	m.SignedID, r = binary.BigEndian.Uint32(r), r[4:]
	if flags&flagOneTime != 0 {
		m.HasOneTime = true
		m.OneTimeID, r = binary.BigEndian.Uint32(r), r[4:]
	}
	if flags&flagPQ != 0 {
		m.PQID, r = binary.BigEndian.Uint32(r), r[4:]
		m.PQCiphertext = append([]byte(nil), r...)
	}
	return m, nil
}

// dh computes an X25519 shared secret and appends it to km. crypto/ecdh
// returns an error when the result is all zeros, which is how low-order
// points are rejected (X3DH §4.3 leaves the check to the curve; RFC 7748
// §6.1 recommends it).
func dh(km []byte, priv *ecdh.PrivateKey, pub []byte) ([]byte, error) {
	pk, err := x25519.NewPublicKey(pub)
	if err != nil {
		return km, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	s, err := priv.ECDH(pk)
	if err != nil {
		return km, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return append(km, s...), nil
}

// x3dhKDF is KDF(KM) of X3DH §2.2: HKDF-SHA-256 over F ‖ KM, where F is 32
// bytes of 0xFF, with a zero-filled 32-byte salt and the profile's info
// string. km must already start with F. n is the output length (32 for SK;
// 64 in the known-answer tests, where libsignal derives root and chain key
// in one call).
func x3dhKDF(km []byte, info string, n int) []byte {
	out, err := hkdf.Key(sha256.New, km, make([]byte, sha256.Size), info, n)
	if err != nil {
		panic("e2ee: hkdf: " + err.Error()) // only for n out of range
	}
	return out
}

func x3dhPrefix() []byte {
	km := make([]byte, 32, x3dhMaxKMSize)
	for i := range km {
		km[i] = 0xFF
	}
	return km
}

// associatedData is AD = Encode(IK_A) ‖ Encode(IK_B) (X3DH §3.3), with
// Encode the 64-byte [PublicIdentity] encoding.
func associatedData(a, b PublicIdentity) []byte {
	ad := make([]byte, 0, 2*PublicIdentitySize)
	ad = append(ad, a.DH[:]...)
	ad = append(ad, a.Sign[:]...)
	ad = append(ad, b.DH[:]...)
	return append(ad, b.Sign[:]...)
}

// Initiate runs the initiator's side of X3DH (X3DH §3.3), or of PQXDH (PQXDH
// §3.3) when the bundle carries an ML-KEM prekey: it checks the prekey
// signatures (already done by [ParseBundle]), generates the ephemeral key EK_A
// and computes DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A,
// SPK_B), DH4 = DH(EK_A, OPK_B) if a one-time prekey is present, and the KEM
// shared secret, then SK = KDF(DH1 ‖ DH2 ‖ DH3 ‖ DH4 ‖ SS). It returns SK, the
// associated data AD = IK_A ‖ IK_B and the initial message for the
// responder. The ephemeral private key and the DH outputs are not kept.
func Initiate(me *Identity, b *Bundle, p Profile) (sk [RootKeySize]byte, ad []byte, m *InitMessage, err error) {
	ek, err := x25519.GenerateKey(rand.Reader)
	if err != nil {
		return sk, nil, nil, err
	}
	km, m, err := initiateKM(me, ek, b)
	if err != nil {
		return sk, nil, nil, err
	}
	info := p.X3DHInfo
	if m.PQCiphertext != nil {
		info = p.PQXDHInfo
	}
	copy(sk[:], x3dhKDF(km, info, RootKeySize))
	clear(km)
	return sk, associatedData(m.Identity, b.Identity), m, nil
}

// initiateKM computes F ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] [‖ SS] for the
// initiator with ephemeral key ek.
func initiateKM(me *Identity, ek *ecdh.PrivateKey, b *Bundle) (km []byte, m *InitMessage, err error) {
	km = x3dhPrefix()
	if km, err = dh(km, me.DH, b.Signed[:]); err != nil {
		return nil, nil, fmt.Errorf("DH1: %w", err)
	}
	if km, err = dh(km, ek, b.Identity.DH[:]); err != nil {
		return nil, nil, fmt.Errorf("DH2: %w", err)
	}
	if km, err = dh(km, ek, b.Signed[:]); err != nil {
		return nil, nil, fmt.Errorf("DH3: %w", err)
	}
	m = &InitMessage{Identity: me.Public(), SignedID: b.SignedID}
	copy(m.Ephemeral[:], ek.PublicKey().Bytes())
	if b.OneTime != nil {
		if km, err = dh(km, ek, b.OneTime); err != nil {
			return nil, nil, fmt.Errorf("DH4: %w", err)
		}
		m.HasOneTime, m.OneTimeID = true, b.OneTimeID
	}
	if b.PQ != nil {
		ek, err := mlkem.NewEncapsulationKey1024(b.PQ)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrBadBundle, err)
		}
		ss, ct := ek.Encapsulate()
		km = append(km, ss...)
		m.PQID, m.PQCiphertext = b.PQID, ct
	}
	return km, m, nil
}

// Respond runs the responder's side of X3DH/PQXDH for an initial message.
// It accepts the current and the kept earlier signed and last-resort
// prekeys. It does not delete the one-time prekeys: the caller does that
// once the first ciphertext has decrypted (X3DH §3.4), so a forged initial
// message cannot burn a prekey.
func Respond(me *Identity, pk *Prekeys, m *InitMessage, p Profile) (sk [RootKeySize]byte, ad []byte, err error) {
	km, err := respondKM(me, pk, m)
	if err != nil {
		return sk, nil, err
	}
	info := p.X3DHInfo
	if m.PQCiphertext != nil {
		info = p.PQXDHInfo
	}
	copy(sk[:], x3dhKDF(km, info, RootKeySize))
	clear(km)
	return sk, associatedData(m.Identity, me.Public()), nil
}

// respondKM computes the responder's F ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] [‖ SS].
func respondKM(me *Identity, pk *Prekeys, m *InitMessage) (km []byte, err error) {
	spk := pk.Signed[m.SignedID]
	if spk == nil {
		return nil, fmt.Errorf("%w: unknown or retired signed prekey %d", ErrBadInit, m.SignedID)
	}
	var opk *ecdh.PrivateKey
	if m.HasOneTime {
		if opk = pk.OneTime[m.OneTimeID]; opk == nil {
			return nil, fmt.Errorf("%w: unknown or used one-time prekey %d", ErrBadInit, m.OneTimeID)
		}
	}
	if (m.PQCiphertext != nil) != pk.pq {
		return nil, fmt.Errorf("%w: PQ ciphertext present=%t, PQ prekeys present=%t", ErrBadInit, m.PQCiphertext != nil, pk.pq)
	}
	km = x3dhPrefix()
	if km, err = dh(km, spk, m.Identity.DH[:]); err != nil {
		return nil, fmt.Errorf("DH1: %w", err)
	}
	if km, err = dh(km, me.DH, m.Ephemeral[:]); err != nil {
		return nil, fmt.Errorf("DH2: %w", err)
	}
	if km, err = dh(km, spk, m.Ephemeral[:]); err != nil {
		return nil, fmt.Errorf("DH3: %w", err)
	}
	if opk != nil {
		if km, err = dh(km, opk, m.Ephemeral[:]); err != nil {
			return nil, fmt.Errorf("DH4: %w", err)
		}
	}
	if pk.pq {
		dk := pk.PQOneTime[m.PQID]
		if dk == nil {
			dk = pk.PQ[m.PQID]
		}
		if dk == nil {
			return nil, fmt.Errorf("%w: unknown, used or retired PQ prekey %d", ErrBadInit, m.PQID)
		}
		ss, err := dk.Decapsulate(m.PQCiphertext)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadInit, err)
		}
		km = append(km, ss...)
	}
	return km, nil
}

// use deletes the one-time prekeys an initial message used (X3DH §3.4,
// PQXDH §3.4), once its first ciphertext has decrypted. Last-resort and
// signed prekeys stay.
func (pk *Prekeys) use(m *InitMessage) {
	if m.HasOneTime {
		delete(pk.OneTime, m.OneTimeID)
	}
	if m.PQCiphertext != nil {
		delete(pk.PQOneTime, m.PQID)
	}
}
