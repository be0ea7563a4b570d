package e2ee

import (
	"errors"
	"fmt"
	"slices"

	"scanlab"
)

// Identity pinning: a device remembers the identity key it first saw for
// each correspondent (trust on first use, as Signal and WhatsApp do) and
// never accepts a different one silently. Pins are kept per address
// (account and device), so several devices per account, and a check
// against a key-transparency log before a key is pinned, fit in without
// changing how pins are stored or compared.

// PrimaryDevice is the device number of every account: the harness models
// one device per account, and sender certificates and pins name it.
const PrimaryDevice uint32 = 1

// address names one device of one account.
type address struct {
	user   scanlab.UserID
	device uint32
}

// IdentityPolicy says what a device does when a correspondent shows an
// identity key other than the pinned one: after a reinstall, or because the
// provider substitutes keys.
type IdentityPolicy uint8

// The identity policies. Both record an [IdentityEvent]; neither accepts a
// change silently.
const (
	// WarnOnChange accepts the new key, replaces the pin, drops the sessions
	// with the old key and records the event (Signal's default for contacts
	// the user has not verified: a "safety number changed" notice).
	WarnOnChange IdentityPolicy = iota
	// RefuseChange keeps the old pin and refuses the new key: the first
	// message from it is dropped and no session is started to it (Signal's
	// behaviour for verified contacts until the user approves the change).
	RefuseChange
)

// ErrIdentityChanged is returned when a correspondent's identity key differs
// from the pinned one and the policy is [RefuseChange].
var ErrIdentityChanged = errors.New("e2ee: correspondent's identity key changed")

// IdentityEvent is one observed change of a correspondent's identity key:
// what an app shows as "safety number changed".
type IdentityEvent struct {
	Peer   scanlab.UserID
	Device uint32
	// Old is the pinned key, New the one presented.
	Old, New PublicIdentity
	// Outgoing is true when the new key came from a directory fetch (this
	// device was about to start a session), false when it came in a first
	// message from the peer.
	Outgoing bool
	// Accepted says whether the new key was pinned (policy WarnOnChange)
	// or refused (RefuseChange).
	Accepted bool
}

// MaxIdentityEvents is how many identity events a device keeps; older ones
// are dropped, and [Device.IdentityChanges] still counts them.
const MaxIdentityEvents = 256

// pins is a device's pinned identities and the events their changes raised.
type pins struct {
	policy  IdentityPolicy
	keys    map[address]PublicIdentity
	events  []IdentityEvent
	changes int // every event ever raised
}

func newPins(policy IdentityPolicy) *pins {
	return &pins{policy: policy, keys: make(map[address]PublicIdentity)}
}

// check compares a presented identity with the pin for addr. It returns
// changed = true if a different key was pinned, and ErrIdentityChanged if
// the policy refuses the change. It records nothing: the caller calls
// [pins.commit] once the new key is authenticated, so a forged message
// cannot raise an event.
func (p *pins) check(addr address, id PublicIdentity) (changed bool, err error) {
	old, ok := p.keys[addr]
	if !ok || old == id {
		return false, nil
	}
	if p.policy == RefuseChange {
		return true, fmt.Errorf("%w: %s device %d", ErrIdentityChanged, addr.user, addr.device)
	}
	return true, nil
}

// commit pins id for addr, raising an event if it replaces another key;
// accepted is false when the policy refused the key (the pin stays).
func (p *pins) commit(addr address, id PublicIdentity, outgoing, accepted bool) {
	old, ok := p.keys[addr]
	if ok && old != id {
		p.changes++
		p.events = append(p.events, IdentityEvent{Peer: addr.user, Device: addr.device, Old: old, New: id, Outgoing: outgoing, Accepted: accepted})
		if len(p.events) > MaxIdentityEvents {
			p.events = slices.Delete(p.events, 0, len(p.events)-MaxIdentityEvents)
		}
	}
	if accepted {
		p.keys[addr] = id
	}
}

// baseKeys remembers the base keys (the initiator's ephemeral EK_A) of
// first messages a device accepted, so a replayed first message is refused
// even after the session it started has been dropped (X3DH §4.2 notes the
// replay when no one-time prekey is used). The set is bounded: beyond its
// capacity the oldest base keys are forgotten, which reopens the replay for
// first messages older than the last capacity ones whose signed prekey is
// still kept ([KeptSignedPrekeys]); rotating prekeys closes it for good.
type baseKeys struct {
	capacity int
	seen     map[[KeySize]byte]struct{}
	order    [][KeySize]byte
}

// DefaultBaseKeyHistory is how many first-message base keys a device
// remembers by default.
const DefaultBaseKeyHistory = 4096

func newBaseKeys(capacity int) *baseKeys {
	return &baseKeys{capacity: capacity, seen: make(map[[KeySize]byte]struct{})}
}

func (b *baseKeys) has(k [KeySize]byte) bool { _, ok := b.seen[k]; return ok }

func (b *baseKeys) add(k [KeySize]byte) {
	if b.has(k) {
		return
	}
	b.seen[k] = struct{}{}
	b.order = append(b.order, k)
	for len(b.order) > b.capacity {
		delete(b.seen, b.order[0])
		b.order = b.order[1:]
	}
}
