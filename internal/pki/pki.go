// Package pki makes the certificates the relay and devices use for TLS 1.3:
// a certificate authority (per run, or persisted sealed so the relay keeps
// its identity across restarts), the relay's server certificate, and each
// device's own self-signed client certificate. Private keys stay in memory
// or are written only sealed ([CA.Seal]).
//
// # Who sees what
//
// Certificates are public. The CA key signs only the relay's certificate; a
// device's private key never leaves the device. Under TLS 1.3 the client
// certificate travels encrypted, so a network eavesdropper does not learn
// which device connected.
package pki

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// CA is the relay's certificate authority: devices trust its certificate.
type CA struct {
	Cert *x509.Certificate
	DER  []byte
	key  ed25519.PrivateKey
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// NewCA returns a fresh CA valid for validity.
func NewCA(name string, validity time.Duration) (*CA, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"scanlab"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return nil, fmt.Errorf("pki: create CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, DER: der, key: key}, nil
}

// Pool returns a pool trusting only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// PEM returns the CA certificate in PEM form (public).
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.DER})
}

// ServerCert issues a server certificate for the given host names and IPs.
func (ca *CA) ServerCert(hosts []string, validity time.Duration) (tls.Certificate, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "scanlab relay"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: create server certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// DeviceCert makes a device's self-signed client certificate. The relay binds
// its public key to the device's user on first use.
func DeviceCert(name string) (tls.Certificate, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: create device certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Fingerprint returns the SHA-256 of a certificate's public key
// (SubjectPublicKeyInfo): the device credential the relay checks.
func Fingerprint(der []byte) ([]byte, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse certificate: %w", err)
	}
	if _, ok := c.PublicKey.(ed25519.PublicKey); !ok {
		return nil, errors.New("pki: device certificate must carry an Ed25519 key")
	}
	// A self-signed certificate must verify under its own key, proving the
	// device holds the key it presents (TLS 1.3 also checks CertificateVerify).
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		return nil, fmt.Errorf("pki: device certificate signature: %w", err)
	}
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return sum[:], nil
}

// ParsePEM reads a CA certificate written by [CA.PEM] into a pool.
func ParsePEM(data []byte) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(data) {
		return nil, errors.New("pki: no certificate found in PEM data")
	}
	return p, nil
}

// sealedCAMagic starts a sealed CA file; the digit is the format version.
const sealedCAMagic = "scanlab-ca-1\n"

// maxSealedCA bounds a sealed CA file, in bytes.
const maxSealedCA = 64 << 10

// Seal returns the CA (certificate and private key) sealed under key, a
// 32-byte secret the caller keeps elsewhere (the relay derives it from its
// key manager): magic ‖ len(cert) ‖ cert DER ‖ nonce ‖
// XChaCha20-Poly1305(key seed), with the magic and certificate as associated
// data. The private key is never written in the clear.
func (ca *CA) Seal(key []byte) ([]byte, error) {
	if len(ca.DER) > 0xFFFF {
		return nil, errors.New("pki: seal CA: certificate too large")
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("pki: seal CA: %w", err)
	}
	out := append([]byte(sealedCAMagic), byte(len(ca.DER)>>8), byte(len(ca.DER)))
	out = append(out, ca.DER...)
	ad := bytes.Clone(out)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, ca.key.Seed(), ad), nil
}

// OpenCA opens a CA sealed by [CA.Seal] under key. A wrong key or any
// altered byte is an error.
func OpenCA(data, key []byte) (*CA, error) {
	if len(data) > maxSealedCA || !bytes.HasPrefix(data, []byte(sealedCAMagic)) || len(data) < len(sealedCAMagic)+2 {
		return nil, errors.New("pki: not a sealed CA file (bad header, unknown version or too large)")
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("pki: open CA: %w", err)
	}
	off := len(sealedCAMagic)
	n := int(data[off])<<8 | int(data[off+1])
	off += 2
	if len(data) < off+n+aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("pki: sealed CA file truncated")
	}
	der, ad := data[off:off+n], data[:off+n]
	nonce, ct := data[off+n:off+n+aead.NonceSize()], data[off+n+aead.NonceSize():]
	seed, err := aead.Open(nil, nonce, ct, ad)
	if err != nil {
		return nil, errors.New("pki: sealed CA file did not open (wrong key or altered file)")
	}
	defer clear(seed)
	if len(seed) != ed25519.SeedSize {
		return nil, errors.New("pki: sealed CA key has the wrong size")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: sealed CA certificate: %w", err)
	}
	key2 := ed25519.NewKeyFromSeed(seed)
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok || !pub.Equal(key2.Public()) || !cert.IsCA {
		return nil, errors.New("pki: sealed CA key does not match its certificate")
	}
	return &CA{Cert: cert, DER: bytes.Clone(der), key: key2}, nil
}
