package e2ee

import (
	"sync"

	"scanlab"
)

// MemoryDirectory is an in-memory [scanlab.Directory] for tests and
// examples: Fetch hands out each one-time prekey at most once, in the order
// published. It is safe for concurrent use.
type MemoryDirectory struct {
	mu      sync.Mutex
	bundles map[scanlab.UserID]*scanlab.KeyBundle
	// Fetches counts Fetch calls per user (who starts sessions with whom is
	// visible to the provider). Read it only while no Fetch runs.
	Fetches map[scanlab.UserID]int
}

// NewMemoryDirectory returns an empty directory.
func NewMemoryDirectory() *MemoryDirectory {
	return &MemoryDirectory{bundles: make(map[scanlab.UserID]*scanlab.KeyBundle), Fetches: make(map[scanlab.UserID]int)}
}

// Publish replaces the user's bundle.
func (d *MemoryDirectory) Publish(user scanlab.UserID, b scanlab.KeyBundle) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bundles[user] = &scanlab.KeyBundle{Identity: b.Identity, OneTime: append([][]byte(nil), b.OneTime...)}
	return nil
}

// Fetch returns the user's bundle with at most one one-time prekey, which it
// then forgets.
func (d *MemoryDirectory) Fetch(user scanlab.UserID) (scanlab.KeyBundle, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.bundles[user]
	if b == nil {
		return scanlab.KeyBundle{}, scanlab.ErrNoKeys
	}
	d.Fetches[user]++
	out := scanlab.KeyBundle{Identity: b.Identity}
	if len(b.OneTime) > 0 {
		out.OneTime = [][]byte{b.OneTime[0]}
		b.OneTime = b.OneTime[1:]
	}
	return out, nil
}
