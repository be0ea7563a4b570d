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

// PrimaryDevice is the number of an account's first device: the one that
// sends, and the one sender certificates name. Further devices (see
// [NewLinkedDevice]) receive copies of every message sent to the account.
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
	// A new device of a known account is likewise refused: nothing is
	// encrypted to it.
	RefuseChange
	// NoPinning accepts every key and every new device silently and records
	// no event. No app ships it: it is the baseline against which the
	// active-adversary audit measures what pinning detects.
	NoPinning
)

// ErrIdentityChanged is returned when a correspondent's identity key differs
// from the pinned one and the policy is [RefuseChange].
var ErrIdentityChanged = errors.New("e2ee: correspondent's identity key changed")

// ErrSafetyNumber is returned by [Device.VerifySafetyNumber] when the
// numbers the two users compared differ.
var ErrSafetyNumber = errors.New("e2ee: safety numbers differ")

// EventKind says what an [IdentityEvent] reports.
type EventKind uint8

// The kinds of identity event.
const (
	// IdentityChanged: a device of a known correspondent presented another
	// identity key than the pinned one ("safety number changed").
	IdentityChanged EventKind = iota + 1
	// DeviceAdded: a known correspondent's account listed a device this
	// device had not seen ("new device").
	DeviceAdded
)

// String returns "identity-changed" or "device-added".
func (k EventKind) String() string {
	if k == DeviceAdded {
		return "device-added"
	}
	return "identity-changed"
}

// IdentityEvent is one observed change of a correspondent's keys: what an
// app shows as "safety number changed" or "new device".
type IdentityEvent struct {
	Kind   EventKind
	Peer   scanlab.UserID
	Device uint32
	// Old is the pinned key (zero for a new device), New the one presented.
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

// pins is a device's pinned identities, per device of each correspondent,
// the correspondents whose safety number the user verified, and the events
// changes raised.
type pins struct {
	policy   IdentityPolicy
	keys     map[address]PublicIdentity
	accounts map[scanlab.UserID]int // pinned devices per account
	verified map[scanlab.UserID]bool
	events   []IdentityEvent
	changes  int // every event ever raised
}

func newPins(policy IdentityPolicy) *pins {
	return &pins{policy: policy, keys: make(map[address]PublicIdentity), accounts: make(map[scanlab.UserID]int),
		verified: make(map[scanlab.UserID]bool)}
}

// change is what pinning a presented key would change.
type change uint8

const (
	noChange change = iota
	identityChange
	deviceAdded
)

// check compares a presented identity with the pin for addr: a different
// pinned key is an identity change; no pin for a device of an account
// that has pins is a new device (the first contact with an account pins
// all its devices without an event: trust on first use). It returns
// ErrIdentityChanged if the policy — [RefuseChange] for a verified
// correspondent — refuses the change. It records nothing: the caller
// calls [pins.commit] once the new key is authenticated, so a forged
// message cannot raise an event.
func (p *pins) check(addr address, id PublicIdentity) (change, error) {
	old, ok := p.keys[addr]
	ch := noChange
	switch {
	case ok && old != id:
		ch = identityChange
	case !ok && p.accounts[addr.user] > 0:
		ch = deviceAdded
	}
	if ch != noChange && (p.policy == RefuseChange || p.verified[addr.user]) {
		return ch, fmt.Errorf("%w: %s device %d (%s)", ErrIdentityChanged, addr.user, addr.device, eventKind(ch))
	}
	return ch, nil
}

func eventKind(ch change) EventKind {
	if ch == deviceAdded {
		return DeviceAdded
	}
	return IdentityChanged
}

// commit pins id for addr, raising an event for a change unless the
// policy is [NoPinning]; accepted is false when the policy refused the key
// (the pin stays as it was).
func (p *pins) commit(addr address, id PublicIdentity, ch change, outgoing, accepted bool) {
	if ch != noChange && (p.policy != NoPinning || p.verified[addr.user]) {
		p.changes++
		p.events = append(p.events, IdentityEvent{Kind: eventKind(ch), Peer: addr.user, Device: addr.device,
			Old: p.keys[addr], New: id, Outgoing: outgoing, Accepted: accepted})
		if len(p.events) > MaxIdentityEvents {
			p.events = slices.Delete(p.events, 0, len(p.events)-MaxIdentityEvents)
		}
	}
	if !accepted {
		return
	}
	if _, ok := p.keys[addr]; !ok {
		p.accounts[addr.user]++
	}
	p.keys[addr] = id
}

// forget unpins a device an account no longer lists.
func (p *pins) forget(addr address) {
	if _, ok := p.keys[addr]; ok {
		delete(p.keys, addr)
		p.accounts[addr.user]--
	}
}

// devices returns the pinned identities of user's devices.
func (p *pins) devices(user scanlab.UserID) map[uint32]PublicIdentity {
	out := map[uint32]PublicIdentity{}
	for a, id := range p.keys {
		if a.user == user {
			out[a.device] = id
		}
	}
	return out
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
