package e2ee

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"golang.org/x/crypto/chacha20poly1305"
)

// Wire-format constants.
const (
	// Version is the version byte that starts every ratchet message.
	Version = 1
	// HeaderSize is the size in bytes of a message header: version, the
	// sender's ratchet public key, PN and N (Double Ratchet §3.4), both
	// 32-bit big-endian.
	HeaderSize = 1 + KeySize + 4 + 4
	// TagSize is the size in bytes of the AEAD tag.
	TagSize = chacha20poly1305.Overhead
	// FrankKeySize is the size in bytes of a franking key.
	FrankKeySize = 32
	// CommitmentSize is the size in bytes of a franking commitment.
	CommitmentSize = sha256.Size
	// MaxPlaintext is the largest plaintext a message may carry, in bytes
	// (16 MiB). Decoders reject anything that could hold more.
	MaxPlaintext = 16 << 20
)

// Default limits.
const (
	// DefaultPadBucket is the default padding bucket: the encrypted payload
	// (franking key, plaintext and a one-byte terminator) is padded with
	// zeros to a multiple of 256 bytes.
	DefaultPadBucket = 256
	// DefaultMaxSkip is the default cap on message keys derived for one
	// chain jump (Double Ratchet §3.5 MAX_SKIP).
	DefaultMaxSkip = 1000
	// DefaultMaxStored is the default cap on stored skipped message keys per
	// session; beyond it the oldest are evicted first.
	DefaultMaxStored = 2000
)

// Limits bounds what a session does for out-of-order delivery and how it
// pads. Zero fields take the defaults.
type Limits struct {
	// MaxSkip is the largest number of message keys one incoming message
	// may make the session derive and store on one chain.
	MaxSkip int
	// MaxStored is the largest number of skipped message keys a session
	// keeps; inserting more evicts the oldest.
	MaxStored int
	// PadBucket is the padding granularity in bytes.
	PadBucket int
}

func (l Limits) withDefaults() Limits {
	if l.MaxSkip <= 0 {
		l.MaxSkip = DefaultMaxSkip
	}
	if l.MaxStored <= 0 {
		l.MaxStored = DefaultMaxStored
	}
	if l.PadBucket <= 0 {
		l.PadBucket = DefaultPadBucket
	}
	return l
}

// Errors returned by [Session.Decrypt]. Each leaves the session unchanged.
var (
	ErrMalformed    = errors.New("e2ee: malformed message")
	ErrAuth         = errors.New("e2ee: message authentication failed")
	ErrDuplicate    = errors.New("e2ee: duplicate or expired message")
	ErrTooFarAhead  = errors.New("e2ee: message number too far ahead")
	ErrFranking     = errors.New("e2ee: franking commitment does not open")
	ErrNotSendReady = errors.New("e2ee: session cannot send before it has received")
)

const labelCommit = "scanlab-e2ee-v1 franking commitment"

// skipID names a skipped message key: the sender's ratchet key and N.
type skipID struct {
	dh [KeySize]byte
	n  uint32
}

type skipEntry struct {
	id skipID
	mk [32]byte
}

// state is the part of the Double Ratchet state (§3.2) that changes per
// message. It is small and copied by value to stage a decryption.
type state struct {
	dhs            *ecdh.PrivateKey
	dhsPub         [KeySize]byte
	dhr            [KeySize]byte
	hasDHr         bool
	rk             [32]byte
	cks, ckr       [32]byte
	hasCKs, hasCKr bool
	ns, nr, pn     uint32
	// prevDHr holds the peer's last few ratchet keys before dhr, so a
	// late or replayed message from an old chain is refused without a DH
	// ratchet attempt.
	prevDHr [prevChains][KeySize]byte
	nPrev   int
}

// prevChains is how many earlier receiving chains a session recognises.
const prevChains = 4

// Session is one side of a Double Ratchet session (Double Ratchet §3) with
// header-bound ChaCha20-Poly1305 message encryption and per-message franking
// commitments.
//
// A Session is not safe for concurrent use.
type Session struct {
	p       Profile
	lim     Limits
	st      state
	ad      []byte // X3DH associated data
	skipped map[skipID][32]byte
	fifo    []skipID // insertion order of skipped, may hold deleted ids
	scratch []byte   // AEAD associated data, rebuilt per message
}

func newSession(p Profile, lim Limits, ad []byte) *Session {
	return &Session{p: p, lim: lim.withDefaults(), ad: append([]byte(nil), ad...), skipped: make(map[skipID][32]byte)}
}

// NewInitiatorSession starts the initiator's session from the X3DH output
// (Double Ratchet §3.3 RatchetInitAlice): DHs is fresh, DHr is the
// responder's signed prekey and RK, CKs = KDF_RK(SK, DH(DHs, DHr)).
func NewInitiatorSession(sk [RootKeySize]byte, ad []byte, remoteSignedPrekey []byte, p Profile, lim Limits) (*Session, error) {
	s := newSession(p, lim, ad)
	if len(remoteSignedPrekey) != KeySize {
		return nil, ErrInvalidKey
	}
	copy(s.st.dhr[:], remoteSignedPrekey)
	s.st.hasDHr = true
	if err := s.st.newSendingChain(p, sk); err != nil {
		return nil, err
	}
	return s, nil
}

// NewResponderSession starts the responder's session (Double Ratchet §3.3
// RatchetInitBob): DHs is the signed prekey pair and RK = SK. It can send only
// after its first decryption.
func NewResponderSession(sk [RootKeySize]byte, ad []byte, signedPrekey *ecdh.PrivateKey, p Profile, lim Limits) *Session {
	s := newSession(p, lim, ad)
	s.st.dhs = signedPrekey
	copy(s.st.dhsPub[:], signedPrekey.PublicKey().Bytes())
	s.st.rk = sk
	return s
}

// newSendingChain generates DHs and derives RK, CKs = KDF_RK(rk, DH(DHs,
// DHr)).
func (st *state) newSendingChain(p Profile, rk [32]byte) error {
	k, err := x25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	st.dhs = k
	copy(st.dhsPub[:], k.PublicKey().Bytes())
	st.rk, st.cks, err = kdfRK(p, rk, k, st.dhr[:])
	st.hasCKs = err == nil
	return err
}

// kdfRK is KDF_RK (Double Ratchet §5.2) applied to DH(priv, pub).
func kdfRK(p Profile, rk [32]byte, priv *ecdh.PrivateKey, pub []byte) (rk2, ck [32]byte, err error) {
	ikm, err := dh(make([]byte, 0, 32), priv, pub)
	if err != nil {
		return rk2, ck, err
	}
	rk2, ck = rootStep(p, rk, ikm)
	clear(ikm)
	return rk2, ck, nil
}

// rootStep is the HKDF of KDF_RK (Double Ratchet §5.2): HKDF-SHA-256 with
// the root key as salt, the DH output as input key material and the
// profile's info, 64 bytes split into the next root key and a chain key.
func rootStep(p Profile, rk [32]byte, dhOut []byte) (rk2, ck [32]byte) {
	out, err := hkdf.Key(sha256.New, dhOut, rk[:], p.RootInfo, 64)
	if err != nil {
		panic("e2ee: hkdf: " + err.Error()) // only for a length out of range
	}
	copy(rk2[:], out[:32])
	copy(ck[:], out[32:])
	clear(out)
	return rk2, ck
}

// kdfCK is KDF_CK (Double Ratchet §5.2): mk = HMAC-SHA-256(ck, 0x01), next
// ck = HMAC-SHA-256(ck, 0x02), as libsignal's MESSAGE_KEY_SEED and
// CHAIN_KEY_SEED.
func kdfCK(ck *[32]byte) (mk [32]byte) {
	h := hmac.New(sha256.New, ck[:])
	h.Write([]byte{0x01})
	h.Sum(mk[:0])
	h.Reset()
	h.Write([]byte{0x02})
	h.Sum(ck[:0])
	return mk
}

// zeroSalt is the zero-filled HKDF salt of the message-key expansion; HKDF
// only reads it.
var zeroSalt [sha256.Size]byte

// messageKeys expands a message key into a ChaCha20-Poly1305 key and nonce:
// HKDF-SHA-256 with a zero-filled salt and the profile's MessageInfo, 44
// bytes (Double Ratchet §5.2 recommends HKDF to 80 bytes for AES-CBC +
// HMAC; the first 32 bytes are the same cipher key, the next 12 serve as the
// nonce). Each message key is used for exactly one encryption, so the
// derived nonce never repeats under a key.
func messageKeys(p Profile, mk *[32]byte) (key, nonce []byte) {
	out, err := hkdf.Key(sha256.New, mk[:], zeroSalt[:], p.MessageInfo, chacha20poly1305.KeySize+chacha20poly1305.NonceSize)
	if err != nil {
		panic("e2ee: hkdf: " + err.Error())
	}
	return out[:chacha20poly1305.KeySize], out[chacha20poly1305.KeySize:]
}

// commit computes the franking commitment HMAC-SHA-256(kf, label ‖
// len(ad) ‖ ad ‖ m).
func commit(kf, ad, m []byte) (c [CommitmentSize]byte) {
	h := hmac.New(sha256.New, kf)
	h.Write([]byte(labelCommit))
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(ad)))
	h.Write(l[:])
	h.Write(ad)
	h.Write(m)
	h.Sum(c[:0])
	return c
}

// aeadAD builds the AEAD associated data into the session's scratch buffer:
// len(X3DH AD) ‖ X3DH AD ‖ len(ad) ‖ ad ‖ commitment ‖ header. Every part
// has a fixed size or a length prefix, so the encoding is unambiguous
// (Double Ratchet §3.4, CONCAT).
func (s *Session) aeadAD(ad []byte, c *[CommitmentSize]byte, header []byte) []byte {
	b := s.scratch[:0]
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.ad)))
	b = append(b, s.ad...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ad)))
	b = append(b, ad...)
	b = append(b, c[:]...)
	b = append(b, header...)
	s.scratch = b
	return b
}

// paddedLen returns the payload length for a plaintext of n bytes: franking
// key, plaintext and the 0x80 terminator, rounded up to the bucket.
func paddedLen(n, bucket int) int {
	n += FrankKeySize + 1
	return (n + bucket - 1) / bucket * bucket
}

// testHookSeal, when set by a test, sees every AEAD key and nonce used to
// seal. It is never set outside tests.
var testHookSeal func(key, nonce []byte)

// Encrypt encrypts and franks one message (Double Ratchet §3.4
// RatchetEncrypt). It draws a fresh franking key kf, commits to (ad, m) and
// returns the wire message and the commitment, which must travel beside the
// message (it is bound into the AEAD associated data and the recipient needs
// it to decrypt). ad is the caller's associated data, for example routing
// metadata.
//
// Wire format: version ‖ DH ‖ PN ‖ N ‖ ChaCha20-Poly1305(kf ‖ m ‖ 0x80 ‖
// zeros to the pad bucket).
func (s *Session) Encrypt(m, ad []byte) (wire []byte, c [CommitmentSize]byte, err error) {
	var kf [FrankKeySize]byte
	rand.Read(kf[:])
	defer clear(kf[:])
	return s.encrypt(m, ad, kf[:])
}

// encrypt is [Session.Encrypt] with the franking key given: a device
// encrypting one message to several devices of an account uses one key,
// so that every copy carries the same commitment.
func (s *Session) encrypt(m, ad, frankKey []byte) (wire []byte, c [CommitmentSize]byte, err error) {
	if !s.st.hasCKs {
		return nil, c, ErrNotSendReady
	}
	if s.st.ns == math.MaxUint32 {
		return nil, c, errors.New("e2ee: sending chain exhausted; the peer must answer first")
	}
	if len(m) > MaxPlaintext {
		return nil, c, fmt.Errorf("e2ee: plaintext of %d bytes exceeds %d", len(m), MaxPlaintext)
	}
	plen := paddedLen(len(m), s.lim.PadBucket)
	wire = make([]byte, HeaderSize, HeaderSize+plen+TagSize)
	wire[0] = Version
	copy(wire[1:], s.st.dhsPub[:])
	binary.BigEndian.PutUint32(wire[1+KeySize:], s.st.pn)
	binary.BigEndian.PutUint32(wire[1+KeySize+4:], s.st.ns)
	payload := wire[HeaderSize : HeaderSize+plen]
	kf := payload[:FrankKeySize]
	copy(kf, frankKey)
	copy(payload[FrankKeySize:], m)
	payload[FrankKeySize+len(m)] = 0x80
	c = commit(kf, ad, m)

	mk := kdfCK(&s.st.cks)
	s.st.ns++
	key, nonce := messageKeys(s.p, &mk)
	if testHookSeal != nil {
		testHookSeal(key, nonce)
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		panic("e2ee: " + err.Error())
	}
	wire = aead.Seal(wire[:HeaderSize], nonce, payload, s.aeadAD(ad, &c, wire[:HeaderSize]))
	clear(mk[:])
	clear(key)
	return wire, c, nil
}

// Header is a decoded message header.
type Header struct {
	DH [KeySize]byte
	PN uint32
	N  uint32
}

// maxWire is the largest wire message any plaintext of MaxPlaintext bytes
// can produce with a bucket of up to 64 KiB.
const maxWire = HeaderSize + MaxPlaintext + FrankKeySize + 1 + 64<<10 + TagSize

// ParseHeader decodes the header of a wire message and checks the overall
// length; it returns the header and the ciphertext.
func ParseHeader(wire []byte) (Header, []byte, error) {
	var h Header
	if len(wire) < HeaderSize+FrankKeySize+1+TagSize {
		return h, nil, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(wire))
	}
	if len(wire) > maxWire {
		return h, nil, fmt.Errorf("%w: %d bytes is too long", ErrMalformed, len(wire))
	}
	if wire[0] != Version {
		return h, nil, fmt.Errorf("%w: unknown version %d", ErrMalformed, wire[0])
	}
	copy(h.DH[:], wire[1:1+KeySize])
	h.PN = binary.BigEndian.Uint32(wire[1+KeySize:])
	h.N = binary.BigEndian.Uint32(wire[1+KeySize+4:])
	return h, wire[HeaderSize:], nil
}

// Decrypt decrypts a wire message produced by the peer's [Session.Encrypt]
// with the same ad and commitment c (Double Ratchet §3.5
// RatchetDecrypt), checks that the franking key inside opens c, and returns
// the plaintext and the franking key.
//
// Decryption is all-or-nothing: the DH ratchet step, skipped keys and chain
// advance are staged and committed only after the AEAD tag and the franking
// commitment verify. On any error the session is unchanged. A skipped key is
// deleted once used, so a replayed message fails with [ErrDuplicate].
func (s *Session) Decrypt(wire, c, ad []byte) (m, kf []byte, err error) {
	return s.decrypt(wire, c, ad, nil)
}

// decrypt is Decrypt with an optional check of the plaintext that runs
// before anything is committed, so a caller's rejection of the content also
// leaves the session unchanged.
func (s *Session) decrypt(wire, c, ad []byte, check func(m []byte) error) (m, kf []byte, err error) {
	h, ct, err := ParseHeader(wire)
	if err != nil {
		return nil, nil, err
	}
	if len(c) != CommitmentSize {
		return nil, nil, fmt.Errorf("%w: commitment of %d bytes", ErrMalformed, len(c))
	}
	cc := (*[CommitmentSize]byte)(c)
	aad := s.aeadAD(ad, cc, wire[:HeaderSize])

	id := skipID{dh: h.DH, n: h.N}
	if mk, ok := s.skipped[id]; ok {
		if m, kf, err = s.open(&mk, ct, aad, cc, ad, check); err != nil {
			return nil, nil, err
		}
		delete(s.skipped, id)
		return m, kf, nil
	}

	st := s.st // staged copy; committed only on success
	var fresh []skipEntry
	if st.hasDHr && h.DH != st.dhr && slices.Contains(st.prevDHr[:st.nPrev], h.DH) {
		return nil, nil, fmt.Errorf("%w: message from an earlier chain", ErrDuplicate)
	}
	if !st.hasDHr || h.DH != st.dhr {
		// Bound the work before any of it is done.
		if st.hasCKr && h.PN > st.nr && h.PN-st.nr > uint32(s.lim.MaxSkip) {
			return nil, nil, fmt.Errorf("%w: PN %d, received %d on the previous chain", ErrTooFarAhead, h.PN, st.nr)
		}
		if h.N > uint32(s.lim.MaxSkip) {
			return nil, nil, fmt.Errorf("%w: N %d on a new chain", ErrTooFarAhead, h.N)
		}
		if st.hasCKr {
			fresh = st.skip(fresh, h.PN)
		}
		// DHRatchet (§3.5).
		st.pn, st.ns, st.nr = st.ns, 0, 0
		if st.hasDHr {
			copy(st.prevDHr[1:], st.prevDHr[:prevChains-1])
			st.prevDHr[0] = st.dhr
			st.nPrev = min(st.nPrev+1, prevChains)
		}
		st.dhr, st.hasDHr = h.DH, true
		if st.rk, st.ckr, err = kdfRK(s.p, st.rk, st.dhs, h.DH[:]); err != nil {
			return nil, nil, err
		}
		st.hasCKr = true
		if err := st.newSendingChain(s.p, st.rk); err != nil {
			return nil, nil, err
		}
	} else if h.N < st.nr {
		return nil, nil, fmt.Errorf("%w: N %d, next expected %d", ErrDuplicate, h.N, st.nr)
	} else if h.N-st.nr > uint32(s.lim.MaxSkip) {
		return nil, nil, fmt.Errorf("%w: N %d, next expected %d", ErrTooFarAhead, h.N, st.nr)
	}
	fresh = st.skip(fresh, h.N)
	mk := kdfCK(&st.ckr)
	st.nr++
	if m, kf, err = s.open(&mk, ct, aad, cc, ad, check); err != nil {
		return nil, nil, err
	}
	s.st = st
	for _, e := range fresh {
		s.store(e.id, e.mk)
	}
	return m, kf, nil
}

// skip derives and collects the receiving chain's message keys up to (not
// including) until (§3.5 SkipMessageKeys). The caller has checked the cap.
func (st *state) skip(fresh []skipEntry, until uint32) []skipEntry {
	for st.nr < until {
		fresh = append(fresh, skipEntry{skipID{st.dhr, st.nr}, kdfCK(&st.ckr)})
		st.nr++
	}
	return fresh
}

// store keeps a skipped key, evicting the oldest beyond MaxStored.
func (s *Session) store(id skipID, mk [32]byte) {
	s.skipped[id] = mk
	s.fifo = append(s.fifo, id)
	for len(s.skipped) > s.lim.MaxStored {
		old := s.fifo[0]
		s.fifo = s.fifo[1:]
		delete(s.skipped, old)
	}
	if len(s.fifo) > 2*s.lim.MaxStored {
		// Drop ids already used, keeping the order of the rest.
		live := make([]skipID, 0, len(s.skipped))
		for _, id := range s.fifo {
			if _, ok := s.skipped[id]; ok {
				live = append(live, id)
			}
		}
		s.fifo = live
	}
}

// open decrypts a payload with one message key, strips the padding, checks
// the franking commitment and runs the caller's check.
func (s *Session) open(mk *[32]byte, ct, aad []byte, c *[CommitmentSize]byte, ad []byte, check func([]byte) error) (m, kf []byte, err error) {
	key, nonce := messageKeys(s.p, mk)
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		panic("e2ee: " + err.Error())
	}
	p, err := aead.Open(make([]byte, 0, len(ct)-TagSize), nonce, ct, aad)
	clear(key)
	if err != nil {
		return nil, nil, ErrAuth
	}
	end := len(p) - 1
	for end >= FrankKeySize && p[end] == 0 {
		end--
	}
	if end < FrankKeySize || p[end] != 0x80 {
		return nil, nil, fmt.Errorf("%w: bad padding", ErrMalformed)
	}
	kf, m = p[:FrankKeySize:FrankKeySize], p[FrankKeySize:end:end]
	if got := commit(kf, ad, m); !hmac.Equal(got[:], c[:]) {
		return nil, nil, ErrFranking
	}
	if check != nil {
		if err := check(m); err != nil {
			return nil, nil, err
		}
	}
	return m, kf, nil
}

// StoredKeys returns the number of skipped message keys the session holds.
func (s *Session) StoredKeys() int { return len(s.skipped) }

// CanSend reports whether the session has a sending chain.
func (s *Session) CanSend() bool { return s.st.hasCKs }
