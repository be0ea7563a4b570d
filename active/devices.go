package active

import (
	"crypto/ed25519"
	"fmt"

	"scanlab"
	"scanlab/e2ee"
)

// ownDevice is a device the provider holds: an impostor (a primary device
// under another user's name) or a ghost (a device added to an account).
type ownDevice struct {
	d    *e2ee.Device
	dir  *ownDirectory
	name scanlab.UserID // the name its keys are published under
}

// take returns the device's keys with one of its one-time prekeys.
func (o *ownDevice) take() scanlab.KeyBundle {
	kb, err := o.dir.mem.Fetch(o.name)
	if err != nil {
		return scanlab.KeyBundle{}
	}
	return kb
}

// newDevice makes a device of the provider's as device n of account:
// without pinning or key checks of its own, publishing into a directory
// only the provider serves from.
func (p *Provider) newDevice(account scanlab.UserID, n uint32) (*ownDevice, error) {
	dir := &ownDirectory{p: p, mem: e2ee.NewMemoryDirectory()}
	opts := p.cfg.Device
	opts.IdentityPolicy, opts.CheckKeys = e2ee.NoPinning, nil
	p.mu.Lock()
	opts.CertificateRoot = p.certKey
	p.mu.Unlock()
	var d *e2ee.Device
	var err error
	if n == e2ee.PrimaryDevice {
		d, err = e2ee.NewDevice(opts, account, dir)
	} else {
		if opts.CertificateRoot == nil {
			opts.SealedSender = false
		}
		d, err = e2ee.NewLinkedDevice(opts, account, n, dir)
	}
	if err != nil {
		return nil, err
	}
	return &ownDevice{d: d, dir: dir, name: e2ee.DeviceName(account, n)}, nil
}

// ownDirectory is the directory of the provider's own devices: they
// publish into it (and the provider serves their keys from it), they fetch
// the real keys of the users they talk to from what those users published,
// and the provider issues them sender certificates in any name.
type ownDirectory struct {
	p   *Provider
	mem *e2ee.MemoryDirectory
}

func (d *ownDirectory) Publish(user scanlab.UserID, b scanlab.KeyBundle) error {
	return d.mem.Publish(user, b)
}

// Fetch returns the Identity part user published (no one-time key: those
// are the store's to hand out, and taking one would spend it twice).
func (d *ownDirectory) Fetch(user scanlab.UserID) (scanlab.KeyBundle, error) {
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	b, ok := d.p.honest[user]
	if !ok {
		return scanlab.KeyBundle{}, scanlab.ErrNoKeys
	}
	return b, nil
}

func (d *ownDirectory) Certificate(user scanlab.UserID) ([]byte, error) {
	d.p.mu.Lock()
	issuer := d.p.issuer
	d.p.mu.Unlock()
	if issuer == nil {
		return nil, scanlab.ErrNoCertificate
	}
	kb, err := d.mem.Fetch(user)
	if err != nil {
		return nil, fmt.Errorf("active: certificate for %q: %w", user, err)
	}
	return issuer.IssueCertificate(user, kb.Identity)
}

// certificateKeyer is server logic that can name its certificate key.
type certificateKeyer interface{ CertificateKey() ed25519.PublicKey }
