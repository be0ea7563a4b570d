// Package kms is the provider's key-management component: it holds the
// key-encryption keys (KEKs) that wrap the per-record data keys of the at-rest
// store, rotates them, and derives the provider's other long-term secrets
// (franking key, mailbox index key).
//
// It models a separate service (a cloud KMS or an HSM): the relay's database
// never contains a KEK, only data keys wrapped under one, so a copy of the
// database alone decrypts nothing. Wrapping is XChaCha20-Poly1305 with a
// random 192-bit nonce and the KEK's ID as associated data.
//
// # Who sees what
//
// The provider (and so an insider with its access, and law enforcement via
// the provider) can unwrap every data key. A thief with the database file but
// not this component's keys cannot. A thief with both (a full breach) can read
// whatever the store holds. Key material is never logged; [Manager.Export]
// hands it out explicitly, for the visibility audit and for sealed backups.
package kms

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of a KEK and of a data key, in bytes.
const KeySize = chacha20poly1305.KeySize

// Errors callers branch on.
var (
	// ErrUnknownKey means the wrapped key names a KEK this manager never had
	// or has retired.
	ErrUnknownKey = errors.New("kms: key-encryption key not found (unknown or retired)")
	// ErrUnwrap means the wrapped key failed authentication.
	ErrUnwrap = errors.New("kms: wrapped key failed authentication")
)

// Wrapped is a data key encrypted under one KEK.
type Wrapped struct {
	KEK        string // ID of the KEK that wraps it
	Ciphertext []byte // nonce ‖ XChaCha20-Poly1305(data key)
}

// Manager holds KEKs and the root secret. It is safe for concurrent use.
type Manager struct {
	mu      sync.RWMutex
	keks    map[string][]byte
	current string
	root    []byte // source of derived secrets; never rotated with KEKs
}

// New returns a manager with one fresh KEK and a fresh root secret.
func New() (*Manager, error) {
	m := &Manager{keks: map[string][]byte{}, root: make([]byte, KeySize)}
	rand.Read(m.root)
	if _, err := m.Rotate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Current returns the ID of the KEK that new wraps use.
func (m *Manager) Current() string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.current
}

// KEKs returns the IDs of the KEKs still held, sorted.
func (m *Manager) KEKs() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ids := make([]string, 0, len(m.keks))
	for id := range m.keks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Rotate creates a new KEK and makes it current. Older KEKs stay usable for
// unwrapping until [Manager.Retire] removes them; callers re-wrap their data
// keys (see [Manager.Rewrap]) in between.
func (m *Manager) Rotate() (string, error) {
	k := make([]byte, KeySize)
	rand.Read(k)
	idb := make([]byte, 8)
	rand.Read(idb)
	id := "kek-" + hex.EncodeToString(idb)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keks[id] = k
	m.current = id
	return id, nil
}

// Retire forgets the KEK id. Data keys still wrapped under it become
// unreadable, so retire only after re-wrapping. The current KEK cannot be
// retired.
func (m *Manager) Retire(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id == m.current {
		return fmt.Errorf("kms: cannot retire the current key-encryption key %s", id)
	}
	k, ok := m.keks[id]
	if !ok {
		return fmt.Errorf("kms: retire %s: %w", id, ErrUnknownKey)
	}
	clear(k)
	delete(m.keks, id)
	return nil
}

// NewDataKey returns a fresh random data key and its wrap under the current KEK.
func (m *Manager) NewDataKey() ([]byte, Wrapped, error) {
	dk := make([]byte, KeySize)
	rand.Read(dk)
	w, err := m.Wrap(dk)
	return dk, w, err
}

// Wrap encrypts a data key under the current KEK.
func (m *Manager) Wrap(dataKey []byte) (Wrapped, error) {
	if len(dataKey) != KeySize {
		return Wrapped{}, fmt.Errorf("kms: data key is %d bytes, want %d", len(dataKey), KeySize)
	}
	m.mu.RLock()
	id, k := m.current, m.keks[m.current]
	m.mu.RUnlock()
	return wrap(id, k, dataKey), nil
}

func wrap(id string, kek, dataKey []byte) Wrapped {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		panic("kms: bad KEK length") // our own keys are always KeySize
	}
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(dataKey)+aead.Overhead())
	rand.Read(out)
	out = aead.Seal(out, out, dataKey, []byte(id))
	return Wrapped{KEK: id, Ciphertext: out}
}

// Unwrap decrypts a data key. It returns [ErrUnknownKey] if its KEK is gone
// and [ErrUnwrap] if the ciphertext was altered.
func (m *Manager) Unwrap(w Wrapped) ([]byte, error) {
	m.mu.RLock()
	k, ok := m.keks[w.KEK]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("kms: unwrap under %q: %w", w.KEK, ErrUnknownKey)
	}
	return unwrap(w, k)
}

func unwrap(w Wrapped, kek []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		panic("kms: bad KEK length")
	}
	if len(w.Ciphertext) != aead.NonceSize()+KeySize+aead.Overhead() {
		return nil, ErrUnwrap
	}
	n := aead.NonceSize()
	dk, err := aead.Open(nil, w.Ciphertext[:n], w.Ciphertext[n:], []byte(w.KEK))
	if err != nil {
		return nil, ErrUnwrap
	}
	return dk, nil
}

// Rewrap moves a wrapped data key to the current KEK. A key already under the
// current KEK is returned unchanged.
func (m *Manager) Rewrap(w Wrapped) (Wrapped, error) {
	if w.KEK == m.Current() {
		return w, nil
	}
	dk, err := m.Unwrap(w)
	if err != nil {
		return Wrapped{}, err
	}
	defer clear(dk)
	return m.Wrap(dk)
}

// Secret returns the provider's long-term secret for purpose, derived with
// HKDF-SHA256 from the root secret. The same purpose always gives the same
// key for this manager; rotating KEKs does not change it.
func (m *Manager) Secret(purpose string) ([]byte, error) {
	if purpose == "" {
		return nil, errors.New("kms: secret purpose must not be empty")
	}
	m.mu.RLock()
	root := m.root
	m.mu.RUnlock()
	return hkdf.Key(sha256.New, root, nil, "scanlab kms secret: "+purpose, KeySize)
}

// Keys is a copy of everything a [Manager] holds. It is secret material:
// whoever has it can read the whole store.
type Keys struct {
	Current string
	KEKs    map[string][]byte
	Root    []byte
}

// Export returns a copy of the manager's keys: what an insider with key
// management access, or a thief who breached it, holds.
func (m *Manager) Export() Keys {
	m.mu.RLock()
	defer m.mu.RUnlock()
	k := Keys{Current: m.current, KEKs: map[string][]byte{}, Root: append([]byte(nil), m.root...)}
	for id, v := range m.keks {
		k.KEKs[id] = append([]byte(nil), v...)
	}
	return k
}

// FromKeys rebuilds a manager from exported keys.
func FromKeys(k Keys) (*Manager, error) {
	if len(k.Root) != KeySize {
		return nil, errors.New("kms: root secret has the wrong size")
	}
	if _, ok := k.KEKs[k.Current]; !ok {
		return nil, errors.New("kms: current key-encryption key missing from key set")
	}
	m := &Manager{keks: map[string][]byte{}, current: k.Current, root: append([]byte(nil), k.Root...)}
	for id, v := range k.KEKs {
		if len(v) != KeySize {
			return nil, fmt.Errorf("kms: key-encryption key %s has the wrong size", id)
		}
		m.keks[id] = append([]byte(nil), v...)
	}
	return m, nil
}
