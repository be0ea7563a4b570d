package e2ee

import (
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/binary"
	"fmt"
	"time"

	"scanlab"
)

// Sealed sender: the sender's certificate and, on a first message, the X3DH
// initial message travel in an HPKE box (RFC 9180 base mode) to the
// recipient's X25519 identity key, bound to the envelope's ID, recipient
// and franking commitment. The box does not authenticate the sender by
// itself (Signal's v1 adds a static-static layer for that); here the
// ratchet session does: the message decrypts only on a session agreed with
// the identity key the certificate names, which the recipient checks.

const labelSealed = "scanlab-e2ee-v1 sealed sender"

var (
	sealedKDF  = hpke.HKDFSHA256()
	sealedAEAD = hpke.ChaCha20Poly1305()
)

// sealedMaxLen bounds a box: encapsulated key, certificate length and
// certificate, initial message, AEAD tag.
const sealedMaxLen = KeySize + 2 + MaxCertificateSize + initMaxLen + TagSize

// sealedAAD binds the sealed-sender box to its envelope.
func sealedAAD(id string, to scanlab.UserID, c []byte) []byte {
	b := appendField(nil, id)
	b = appendField(b, string(to))
	return append(b, c...)
}

// sealSender encrypts len(cert) ‖ cert ‖ init to the recipient's identity
// key; the box is the HPKE encapsulated key followed by the ciphertext.
func sealSender(to PublicIdentity, id string, recipient scanlab.UserID, c, cert, init []byte) ([]byte, error) {
	pt := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(cert)+len(init)), uint16(len(cert)))
	pt = append(append(pt, cert...), init...)
	return sealBox(to, sealedAAD(id, recipient, c), pt)
}

// sealBox is HPKE base-mode encryption of pt to the identity's X25519 key.
func sealBox(to PublicIdentity, aad, pt []byte) ([]byte, error) {
	pub, err := x25519.NewPublicKey(to.DH[:])
	if err != nil {
		return nil, err
	}
	hpub, err := hpke.NewDHKEMPublicKey(pub)
	if err != nil {
		return nil, err
	}
	enc, snd, err := hpke.NewSender(hpub, sealedKDF, sealedAEAD, []byte(labelSealed))
	if err != nil {
		return nil, err
	}
	ct, err := snd.Seal(aad, pt)
	if err != nil {
		return nil, err
	}
	return append(enc, ct...), nil
}

// openSender opens the sealed-sender box and returns the sender's verified
// certificate and the initial message the box carries (nil if none). The
// certificate is checked against the provider's key at the relay's time
// (the time in the relay's tag; the device's clock if the envelope has
// none), as Signal checks it at the server's delivery timestamp.
func (d *Device) openSender(e scanlab.Envelope, c []byte) (*SenderCertificate, []byte, error) {
	box := e.Attach[AttachSender]
	if len(box) < KeySize+2+TagSize || len(box) > sealedMaxLen {
		return nil, nil, fmt.Errorf("%w: sealed-sender box of %d bytes", ErrMalformed, len(box))
	}
	r, err := hpke.NewRecipient(box[:KeySize], d.hpke, sealedKDF, sealedAEAD, []byte(labelSealed))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: sealed sender: %v", ErrAuth, err)
	}
	pt, err := r.Open(sealedAAD(e.ID, e.To, c), box[KeySize:])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: sealed sender", ErrAuth)
	}
	if len(pt) < 2 {
		return nil, nil, fmt.Errorf("%w: sealed sender", ErrMalformed)
	}
	n := int(binary.BigEndian.Uint16(pt))
	if 2+n > len(pt) {
		return nil, nil, fmt.Errorf("%w: sealed sender certificate of %d bytes", ErrMalformed, n)
	}
	cert, err := ParseCertificate(pt[2 : 2+n])
	if err != nil {
		return nil, nil, err
	}
	d.mu.Lock()
	root := d.root
	d.mu.Unlock()
	if root == nil {
		return nil, nil, fmt.Errorf("%w: no trusted provider key", ErrCertificate)
	}
	if err := cert.Verify(root, relayTime(e, d.opts.Now)); err != nil {
		return nil, nil, err
	}
	var init []byte
	if rest := pt[2+n:]; len(rest) > 0 {
		init = rest
	}
	return cert, init, nil
}

// relayTime is the time the relay stamped into its tag, or now() if the
// envelope carries no tag.
func relayTime(e scanlab.Envelope, now func() time.Time) time.Time {
	if t := e.Attach[AttachTag]; len(t) == TagAttachSize {
		return time.Unix(0, int64(binary.BigEndian.Uint64(t)))
	}
	return now()
}

// refreshCertificate fetches a sender certificate for the device from the
// provider and checks that it is signed by the trusted key (pinning the
// key on first use if none is configured) and names this device's account
// and identity. The caller holds d.mu or owns d exclusively.
func (d *Device) refreshCertificate() error {
	raw, err := d.dir.Certificate(d.user)
	if err != nil {
		return fmt.Errorf("e2ee: sender certificate of %q: %w", d.user, err)
	}
	cert, err := ParseCertificate(raw)
	if err != nil {
		return err
	}
	root := d.root
	if root == nil {
		root = ed25519.PublicKey(cert.Issuer[:])
	}
	// Checked at its own expiry less a moment: a certificate the provider
	// just issued is current, whatever the device's clock says.
	if err := cert.Verify(root, cert.Expires.Add(-time.Millisecond)); err != nil {
		return err
	}
	if cert.Sender != d.user || cert.Device != PrimaryDevice || cert.Identity != d.id.Public() {
		return fmt.Errorf("%w: provider issued a certificate for %q device %d with another identity", ErrCertificate, cert.Sender, cert.Device)
	}
	d.root, d.cert, d.certExpires = root, raw, cert.Expires
	return nil
}
