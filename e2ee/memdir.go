package e2ee

import (
	"fmt"
	"sync"

	"scanlab"
)

// MemoryDirectory is an in-memory [scanlab.Directory] for tests, examples
// and in-process runs: Publish replaces a user's Identity part and, if the
// bundle has any, its one-time prekeys; Fetch hands out each one-time
// prekey at most once, in the order published; Certificate asks Issuer. It
// is safe for concurrent use.
type MemoryDirectory struct {
	// Issuer issues sender certificates (normally the provider's server
	// logic, if it is a [scanlab.CertificateIssuer]); nil means the
	// provider issues none. Set it before devices use the directory.
	Issuer scanlab.CertificateIssuer

	mu      sync.Mutex
	bundles map[scanlab.UserID]*scanlab.KeyBundle
	linked  map[scanlab.UserID][]uint32 // devices other than the primary, by account
	// Fetches counts Fetch calls per user (who starts sessions with whom is
	// visible to the provider). Read it only while no Fetch runs.
	Fetches map[scanlab.UserID]int
}

var _ scanlab.Directory = (*MemoryDirectory)(nil)

// NewMemoryDirectory returns an empty directory.
func NewMemoryDirectory() *MemoryDirectory {
	return &MemoryDirectory{bundles: make(map[scanlab.UserID]*scanlab.KeyBundle), Fetches: make(map[scanlab.UserID]int),
		linked: make(map[scanlab.UserID][]uint32)}
}

// Publish replaces the user's Identity part and, if b carries one-time
// keys, the one-time keys not yet handed out.
func (d *MemoryDirectory) Publish(user scanlab.UserID, b scanlab.KeyBundle) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	nb := &scanlab.KeyBundle{Identity: b.Identity, OneTime: append([][]byte(nil), b.OneTime...)}
	if old := d.bundles[user]; old != nil && len(b.OneTime) == 0 {
		nb.OneTime = old.OneTime
	}
	if _, ok := d.bundles[user]; !ok {
		if acct, n, ok := SplitDeviceName(user); ok {
			d.linked[acct] = append(d.linked[acct], n)
		}
	}
	d.bundles[user] = nb
	return nil
}

// Fetch returns the user's bundle with at most one one-time prekey, which it
// then forgets. If devices other than the primary published under
// [DeviceName](user, n), it returns an [Account] listing every device's
// bundle.
func (d *MemoryDirectory) Fetch(user scanlab.UserID) (scanlab.KeyBundle, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bundles[user] == nil {
		return scanlab.KeyBundle{}, scanlab.ErrNoKeys
	}
	d.Fetches[user]++
	acct := Account{Devices: []DeviceKeys{{PrimaryDevice, d.take(user)}}}
	for _, n := range d.linked[user] {
		if len(acct.Devices) < MaxDevices {
			acct.Devices = append(acct.Devices, DeviceKeys{n, d.take(DeviceName(user, n))})
		}
	}
	if len(acct.Devices) == 1 {
		return acct.Devices[0].Keys, nil
	}
	return acct.Marshal()
}

// take returns name's Identity part and at most one one-time prekey, which
// it forgets.
func (d *MemoryDirectory) take(name scanlab.UserID) scanlab.KeyBundle {
	b := d.bundles[name]
	out := scanlab.KeyBundle{Identity: b.Identity}
	if len(b.OneTime) > 0 {
		out.OneTime = [][]byte{b.OneTime[0]}
		b.OneTime = b.OneTime[1:]
	}
	return out
}

// Certificate asks Issuer for a sender certificate binding user to the
// Identity part it published. The caller must be user's own device: the
// in-memory directory authenticates nobody (the relay does).
func (d *MemoryDirectory) Certificate(user scanlab.UserID) ([]byte, error) {
	d.mu.Lock()
	b := d.bundles[user]
	d.mu.Unlock()
	if d.Issuer == nil {
		return nil, scanlab.ErrNoCertificate
	}
	if b == nil {
		return nil, fmt.Errorf("certificate for %q: %w", user, scanlab.ErrNoKeys)
	}
	return d.Issuer.IssueCertificate(user, b.Identity)
}
