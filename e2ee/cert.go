package e2ee

import (
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"scanlab"
)

// Sender certificates follow Signal's sealed sender ("Technology preview:
// Sealed sender for Signal", Signal blog, October 2018; libsignal
// rust/protocol/src/sealed_sender.rs): the provider signs a short-lived
// statement binding an account, its device and its identity key; the sender
// puts it inside the sealed box; the recipient checks the signature against
// the provider's key it trusts, the expiry, and that the identity key in the
// certificate is the one its session with that sender was agreed with.
// Without the last check anyone could claim any sender name.
//
// Deviations: libsignal chains a server certificate (signed by a trust root
// the app ships with) to the sender certificate; here the provider signs
// sender certificates directly with one Ed25519 key, which a device either
// gets from its configuration ([Options.CertificateRoot]) or pins from the
// first certificate it fetches for itself.

// DefaultCertificateLifetime is how long a sender certificate is valid.
const DefaultCertificateLifetime = 24 * time.Hour

// MaxCertificateSize is the largest encoded [SenderCertificate], in bytes.
const MaxCertificateSize = certFixedLen + maxField

const (
	certVersion  = 1
	certFixedLen = 1 + 2 + 4 + PublicIdentitySize + 8 + ed25519.PublicKeySize + ed25519.SignatureSize
	labelCert    = "scanlab-e2ee-v1 sender certificate"
	// secretCert names the provider secret the certificate key derives from.
	secretCert = "sender-certificate"
)

// ErrCertificate is returned for a sender certificate that does not parse,
// is not signed by the trusted provider key, has expired, or does not match
// the identity it is presented with.
var ErrCertificate = errors.New("e2ee: invalid sender certificate")

// SenderCertificate is the provider's signed statement that an account's
// device holds an identity key, valid until Expires.
type SenderCertificate struct {
	Sender   scanlab.UserID
	Device   uint32
	Identity PublicIdentity
	// Expires is the end of validity, in whole milliseconds.
	Expires time.Time
	// Issuer is the provider's certificate-signing public key.
	Issuer    [ed25519.PublicKeySize]byte
	Signature [ed25519.SignatureSize]byte
}

// signedPart encodes everything but the signature: version ‖ len(sender)
// (16 bits) ‖ sender ‖ device ‖ identity ‖ expiry (Unix milliseconds) ‖
// issuer key.
func (c *SenderCertificate) signedPart() []byte {
	b := make([]byte, 0, certFixedLen+len(c.Sender))
	b = append(b, certVersion)
	b = appendField(b, string(c.Sender))
	b = binary.BigEndian.AppendUint32(b, c.Device)
	b = append(b, c.Identity.Bytes()...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Expires.UnixMilli()))
	return append(b, c.Issuer[:]...)
}

// Marshal encodes the certificate: the signed part, then the signature.
func (c *SenderCertificate) Marshal() []byte {
	return append(c.signedPart(), c.Signature[:]...)
}

func certSigInput(signed []byte) []byte {
	return append([]byte(labelCert), signed...)
}

// ParseCertificate decodes a certificate, checking every length. It does
// not check the signature or expiry; see [SenderCertificate.Verify].
func ParseCertificate(b []byte) (*SenderCertificate, error) {
	if len(b) < certFixedLen || len(b) > MaxCertificateSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrCertificate, len(b))
	}
	if b[0] != certVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrCertificate, b[0])
	}
	n := int(binary.BigEndian.Uint16(b[1:]))
	if n == 0 || len(b) != certFixedLen+n {
		return nil, fmt.Errorf("%w: sender name of %d bytes in %d", ErrCertificate, n, len(b))
	}
	c := &SenderCertificate{Sender: scanlab.UserID(b[3 : 3+n])}
	r := b[3+n:]
	c.Device, r = binary.BigEndian.Uint32(r), r[4:]
	r = r[copy(c.Identity.DH[:], r):]
	r = r[copy(c.Identity.Sign[:], r):]
	ms := int64(binary.BigEndian.Uint64(r))
	if ms < 0 {
		return nil, fmt.Errorf("%w: negative expiry", ErrCertificate)
	}
	c.Expires, r = time.UnixMilli(ms).UTC(), r[8:]
	r = r[copy(c.Issuer[:], r):]
	copy(c.Signature[:], r)
	return c, nil
}

// Verify checks that the certificate is signed by root and still valid at
// time at.
func (c *SenderCertificate) Verify(root ed25519.PublicKey, at time.Time) error {
	if len(root) != ed25519.PublicKeySize || subtle.ConstantTimeCompare(root, c.Issuer[:]) != 1 {
		return fmt.Errorf("%w: issued by another key", ErrCertificate)
	}
	if !ed25519.Verify(root, certSigInput(c.signedPart()), c.Signature[:]) {
		return fmt.Errorf("%w: signature does not verify", ErrCertificate)
	}
	if !at.Before(c.Expires) {
		return fmt.Errorf("%w: expired at %s, checked at %s", ErrCertificate, c.Expires.Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	return nil
}

// certIssuer is the provider's certificate authority.
type certIssuer struct {
	key      ed25519.PrivateKey
	now      func() time.Time
	lifetime time.Duration
}

func newCertIssuer(env scanlab.ServerEnv, now func() time.Time) (*certIssuer, error) {
	seed, err := env.Secret(secretCert)
	if err != nil {
		return nil, fmt.Errorf("e2ee: certificate key: %w", err)
	}
	if len(seed) < ed25519.SeedSize {
		return nil, fmt.Errorf("e2ee: certificate key seed of %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	return &certIssuer{key: ed25519.NewKeyFromSeed(seed[:ed25519.SeedSize]), now: now, lifetime: DefaultCertificateLifetime}, nil
}

// issue checks the bundle's prekey signatures and signs a certificate
// binding user's primary device to the bundle's identity.
func (ci *certIssuer) issue(user scanlab.UserID, identity []byte) ([]byte, error) {
	if user == "" || len(user) > maxField {
		return nil, fmt.Errorf("%w: user name of %d bytes", ErrCertificate, len(user))
	}
	id, err := ParseIdentity(identity)
	if err != nil {
		return nil, fmt.Errorf("e2ee: certificate for %q: %w", user, err)
	}
	c := &SenderCertificate{Sender: user, Device: PrimaryDevice, Identity: id,
		Expires: ci.now().Add(ci.lifetime).Truncate(time.Millisecond)}
	copy(c.Issuer[:], ci.key.Public().(ed25519.PublicKey))
	signed := c.signedPart()
	copy(c.Signature[:], ed25519.Sign(ci.key, certSigInput(signed)))
	return append(signed, c.Signature[:]...), nil
}
