package e2ee

import (
	"crypto/ed25519"
	"time"

	"scanlab"
)

// Options configures the mode. The zero value is a usable configuration.
type Options struct {
	// Profile holds the key-schedule strings; the zero value means
	// [DefaultProfile].
	Profile Profile
	// Limits bounds out-of-order delivery and sets the padding bucket.
	Limits Limits
	// PQ makes devices publish an ML-KEM-1024 prekey, so sessions started
	// with them use PQXDH (+1568 bytes in the first message).
	PQ bool
	// SealedSender hides the sender from the provider: the envelope's From
	// is empty and the sender's certificate (see [SenderCertificate]),
	// fetched from the provider through [scanlab.Directory.Certificate],
	// travels HPKE-encrypted to the recipient's identity key (RFC 9180,
	// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305). The cost
	// for franking: the relay tags without knowing the sender, so a report
	// still proves what the reporter received but not who sent it;
	// detections from such reports have no Account.
	SealedSender bool
	// CertificateRoot is the provider's certificate-signing key, as an app
	// would ship it. Nil: a device pins the key that signed the first
	// certificate it fetches for itself (trust on first use).
	CertificateRoot ed25519.PublicKey
	// IdentityPolicy says what a device does when a correspondent's
	// identity key changes; the zero value is [WarnOnChange].
	IdentityPolicy IdentityPolicy
	// BaseKeyHistory is how many base keys of accepted first messages a
	// device remembers to refuse their replay (default
	// [DefaultBaseKeyHistory]).
	BaseKeyHistory int
	// Now is the device's clock: it decides when the device's own sender
	// certificate needs renewing, and checks the expiry of certificates on
	// envelopes that carry no relay time. Default time.Now.
	Now func() time.Time
	// OneTimePrekeys is how many one-time prekeys a device publishes
	// (default 16). When they run out, sessions start without DH4.
	OneTimePrekeys int
	// ReportWindow is how many received messages per peer a device keeps
	// the franking openings of, for reports (default 32).
	ReportWindow int
	// CheckKeys, if set, checks every account's keys a device fetches
	// before it uses them — key transparency (package keylog): the
	// directory's proof that the keys are the account's logged ones. Keys
	// it refuses are not used and the send fails.
	CheckKeys KeyCheck
}

func (o Options) withDefaults() Options {
	if o.Profile == (Profile{}) {
		o.Profile = DefaultProfile
	}
	o.Limits = o.Limits.withDefaults()
	if o.OneTimePrekeys <= 0 {
		o.OneTimePrekeys = 16
	}
	if o.ReportWindow <= 0 {
		o.ReportWindow = 32
	}
	if o.BaseKeyHistory <= 0 {
		o.BaseKeyHistory = DefaultBaseKeyHistory
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Mode is the "e2ee" [scanlab.Mode].
type Mode struct{ opts Options }

var _ scanlab.Mode = (*Mode)(nil)

// New returns the e2ee mode.
func New(opts Options) *Mode { return &Mode{opts: opts.withDefaults()} }

// Name is the mode's name in results.
const Name = "e2ee"

// Name returns "e2ee".
func (m *Mode) Name() string { return Name }

// NewDevice makes a device with [NewDevice].
func (m *Mode) NewDevice(user scanlab.UserID, dir scanlab.Directory) (scanlab.Device, error) {
	return NewDevice(m.opts, user, dir)
}

// NewServer makes the provider logic with [NewServer].
func (m *Mode) NewServer(env scanlab.ServerEnv) (scanlab.ServerLogic, error) {
	return NewServer(env)
}
