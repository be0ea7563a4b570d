package psi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
)

// The symmetric encryption (Enc, Dec) of the paper (§3, "random-key robust"
// IND$-CPA encryption) is AES-128-GCM with a random 96-bit nonce, wrapped so
// that a ciphertext opens under at most one key:
//
//	okm    = HKDF-SHA256(secret, salt = nil, info = "scanlab psi aead v1 " || label, 48 bytes)
//	aesKey = okm[0:16]
//	commit = okm[16:48]
//	ct     = commit || nonce || AES-128-GCM(aesKey, nonce, plaintext, additional data = commit)
//
// Opening first recomputes commit from the candidate secret and compares it in
// constant time. A second secret that opens the same ciphertext would need an
// HKDF output collision on 256 bits, so the ciphertext is key-committing, which
// implies the random-key robustness the paper requires (a voucher ciphertext
// decrypted under the wrong, independent key fails). Every secret passed here
// is fresh per voucher (rkey, H'(S_j)) except the account's adkey, which uses
// a fresh random nonce per message.
const (
	commitSize   = 32
	gcmNonceSize = 12
	gcmTagSize   = 16
	// sealOverhead is the ciphertext expansion of seal, in bytes.
	sealOverhead = commitSize + gcmNonceSize + gcmTagSize
)

var errOpen = errors.New("psi: message authentication failed")

func aeadKeys(secret []byte, label string) (aesKey, commit []byte) {
	okm, err := hkdf.Key(sha256.New, secret, nil, "scanlab psi aead v1 "+label, 16+commitSize)
	if err != nil {
		panic("psi: hkdf: " + err.Error()) // only for lengths we never request
	}
	return okm[:16], okm[16:]
}

func newGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("psi: aes: " + err.Error())
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		panic("psi: gcm: " + err.Error())
	}
	return g
}

// seal encrypts plaintext under secret with a random nonce.
func seal(secret []byte, label string, plaintext []byte) []byte {
	key, commit := aeadKeys(secret, label)
	out := make([]byte, commitSize+gcmNonceSize, sealOverhead+len(plaintext))
	copy(out, commit)
	nonce := out[commitSize : commitSize+gcmNonceSize]
	rand.Read(nonce)
	return newGCM(key).Seal(out, nonce, plaintext, commit)
}

// open decrypts a ciphertext made by seal, or returns errOpen.
func open(secret []byte, label string, ct []byte) ([]byte, error) {
	if len(ct) < sealOverhead {
		return nil, errOpen
	}
	key, commit := aeadKeys(secret, label)
	if subtle.ConstantTimeCompare(commit, ct[:commitSize]) != 1 {
		return nil, errOpen
	}
	nonce := ct[commitSize : commitSize+gcmNonceSize]
	pt, err := newGCM(key).Open(nil, nonce, ct[commitSize+gcmNonceSize:], ct[:commitSize])
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}
