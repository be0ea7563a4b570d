package e2ee

import (
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	"scanlab"
)

// Safety numbers: the 60-digit code two users compare out of band (by
// reading it aloud or scanning a QR code) to check that neither's keys
// were substituted. It follows libsignal's numeric fingerprint
// (rust/protocol/src/fingerprint.rs: version 0, 5200 iterations of
// SHA-512 over the key and the account's stable identifier, 30 digits per
// side as six 5-byte chunks mod 100000, the two halves in ascending
// order), with one change: an account's "key" is the list of all its
// devices' identities, as WhatsApp's multi-device security code covers
// every device. A device substituted or added by the provider therefore
// changes the number one side computes, and comparing catches it.

// safetyIterations is libsignal's fingerprint iteration count.
const safetyIterations = 5200

// SafetyNumberDigits is the length of a safety number.
const SafetyNumberDigits = 60

// SafetyNumber returns this device's safety number for its conversation
// with peer: its own account's devices as it knows them (itself and the
// devices it linked) and peer's devices as it has pinned them. Both users
// compute it on their own devices; if no key was substituted and no
// device slipped in, the two numbers are equal.
func (d *Device) SafetyNumber(peer scanlab.UserID) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	theirs := d.pins.devices(peer)
	if len(theirs) == 0 {
		return "", fmt.Errorf("e2ee: no keys pinned for %q", peer)
	}
	a, b := sideDigits(d.user, d.own), sideDigits(peer, theirs)
	if b < a {
		a, b = b, a
	}
	return a + b, nil
}

// sideDigits is one side's 30 digits.
func sideDigits(user scanlab.UserID, ids map[uint32]PublicIdentity) string {
	var key []byte
	for _, dev := range slices.Sorted(maps.Keys(ids)) {
		key = binary.BigEndian.AppendUint32(key, dev)
		key = append(key, ids[dev].Bytes()...)
	}
	h := sha512.Sum512(slices.Concat([]byte{0, 0}, key, []byte(user)))
	for range safetyIterations - 1 {
		h = sha512.Sum512(slices.Concat(h[:], key))
	}
	var sb strings.Builder
	for i := range 6 {
		c := h[5*i : 5*i+5]
		v := uint64(c[0])<<32 | uint64(c[1])<<24 | uint64(c[2])<<16 | uint64(c[3])<<8 | uint64(c[4])
		fmt.Fprintf(&sb, "%05d", v%100000)
	}
	return sb.String()
}

// VerifySafetyNumber compares the number the peer's user read out with
// this device's own. If they are equal the peer is marked verified: from
// then on a changed key or a new device of the peer is refused whatever
// the device's policy, as Signal refuses them for a verified contact until
// the user approves. If they differ it returns [ErrSafetyNumber]: someone
// substituted a key or added a device on one side.
func (d *Device) VerifySafetyNumber(peer scanlab.UserID, number string) error {
	mine, err := d.SafetyNumber(peer)
	if err != nil {
		return err
	}
	if len(number) != len(mine) || subtle.ConstantTimeCompare([]byte(number), []byte(mine)) != 1 {
		return fmt.Errorf("%w: with %q", ErrSafetyNumber, peer)
	}
	d.mu.Lock()
	d.pins.verified[peer] = true
	d.mu.Unlock()
	return nil
}
