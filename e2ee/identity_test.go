package e2ee

import (
	"errors"
	"fmt"
	"testing"

	"scanlab"
)

// replaceDevice gives user a new device with a fresh identity, published in
// the world's directory: a reinstall, or a device the provider controls
// registered under the user's name (key substitution, a ghost device).
func (w *world) replaceDevice(user scanlab.UserID, opts Options) *Device {
	w.t.Helper()
	d, err := NewDevice(opts, user, w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	w.devs[user] = d
	return d
}

// TestIdentityChange: a correspondent's identity key changes, in a first
// message from it (incoming) or in the bundle the directory hands out
// (outgoing, which is also how a provider substitutes keys). The change is
// never silent: with WarnOnChange the new key is pinned and an event
// recorded; with RefuseChange the message or the session is refused, the
// old pin stays and an event is recorded.
func TestIdentityChange(t *testing.T) {
	for _, policy := range []IdentityPolicy{WarnOnChange, RefuseChange} {
		for _, sealed := range []bool{false, true} {
			for _, dir := range []string{"incoming", "outgoing"} {
				name := fmt.Sprintf("policy=%s/sealed=%t/direction=%s", map[IdentityPolicy]string{WarnOnChange: "warn", RefuseChange: "refuse"}[policy], sealed, dir)
				t.Run(name, func(t *testing.T) {
					opts := Options{IdentityPolicy: policy, SealedSender: sealed}
					w := newWorld(t, opts, "alice", "bob")
					w.send("alice", "bob", "hello")
					w.send("bob", "alice", "hi")
					if dir == "incoming" {
						checkIncomingChange(t, w, opts)
					} else {
						checkOutgoingChange(t, w, opts)
					}
				})
			}
		}
	}
}

// checkIncomingChange: alice reinstalls and writes to bob.
func checkIncomingChange(t *testing.T, w *world, opts Options) {
	bob := w.devs["bob"]
	oldAlice := w.devs["alice"]
	oldID := oldAlice.Identity()
	newAlice := w.replaceDevice("alice", opts)
	e := w.seal(w.msg("alice", "bob", "it's me, new phone"))
	_, err := bob.Open(e)
	want := IdentityEvent{Kind: IdentityChanged, Peer: "alice", Device: PrimaryDevice, Old: oldID, New: newAlice.Identity(), Outgoing: false, Accepted: opts.IdentityPolicy == WarnOnChange}
	checkEvent(t, bob, want)
	pin, _ := bob.PinnedIdentity("alice")
	if opts.IdentityPolicy == WarnOnChange {
		if err != nil || pin != newAlice.Identity() {
			t.Fatalf("warn: Open = %v, pinned new key %t", err, pin == newAlice.Identity())
		}
		return
	}
	if !errors.Is(err, ErrIdentityChanged) || pin != oldID {
		t.Fatalf("refuse: Open = %v, kept old pin %t", err, pin == oldID)
	}
	// The old device's session is untouched.
	w.devs["alice"] = oldAlice
	w.send("alice", "bob", "old phone still works")
}

// checkOutgoingChange: bob's key in the directory changes (a reinstall, or
// the provider substituting a key it controls) and alice starts a new
// session to bob.
func checkOutgoingChange(t *testing.T, w *world, opts Options) {
	alice := w.devs["alice"]
	oldID, _ := alice.PinnedIdentity("bob")
	newBob := w.replaceDevice("bob", opts)
	alice.ResetSession("bob")
	e, err := alice.Seal(w.msg("alice", "bob", "are you there?"))
	want := IdentityEvent{Kind: IdentityChanged, Peer: "bob", Device: PrimaryDevice, Old: oldID, New: newBob.Identity(), Outgoing: true, Accepted: opts.IdentityPolicy == WarnOnChange}
	checkEvent(t, alice, want)
	pin, _ := alice.PinnedIdentity("bob")
	if opts.IdentityPolicy == RefuseChange {
		if !errors.Is(err, ErrIdentityChanged) || pin != oldID {
			t.Fatalf("refuse: Seal = %v, kept old pin %t", err, pin == oldID)
		}
		return
	}
	if err != nil || pin != newBob.Identity() {
		t.Fatalf("warn: Seal = %v, pinned new key %t", err, pin == newBob.Identity())
	}
	if _, err := w.srv.Accept(&e); err != nil {
		t.Fatal(err)
	}
	w.open(e)
}

func checkEvent(t *testing.T, d *Device, want IdentityEvent) {
	t.Helper()
	evs := d.IdentityEvents()
	if len(evs) != 1 || evs[0] != want || d.IdentityChanges() != 1 {
		t.Fatalf("identity events %+v (%d changes), want exactly %+v", evs, d.IdentityChanges(), want)
	}
}

// TestForgedChangeRaisesNoEvent: a first message naming a new identity key
// that does not decrypt proves nothing, so it changes no pin and raises no
// event.
func TestForgedChangeRaisesNoEvent(t *testing.T) {
	w := newWorld(t, Options{}, "alice", "bob")
	w.send("alice", "bob", "hello")
	w.replaceDevice("alice", Options{})
	e := w.seal(w.msg("alice", "bob", "forged"))
	e.Body[len(e.Body)-1] ^= 1
	if _, err := w.devs["bob"].Open(e); err == nil {
		t.Fatal("tampered first message opened")
	}
	if n := w.devs["bob"].IdentityChanges(); n != 0 {
		t.Fatalf("%d identity events from a message that did not decrypt", n)
	}
}

// TestReplayedFirstMessage: a first message replayed after the session it
// started is gone (dropped here as eviction or a reset would) is refused,
// with or without a one-time prekey, and changes nothing.
func TestReplayedFirstMessage(t *testing.T) {
	for _, opk := range []bool{true, false} {
		t.Run(fmt.Sprintf("opk=%t", opk), func(t *testing.T) {
			w := newWorld(t, Options{}, "alice", "bob")
			if !opk {
				for range (Options{}).withDefaults().OneTimePrekeys {
					w.dir.Fetch("bob") // someone used up bob's one-time prekeys
				}
			}
			e := w.seal(w.msg("alice", "bob", "first"))
			init, err := ParseInitMessage(e.Attach[AttachInit])
			if err != nil || init.HasOneTime != opk {
				t.Fatalf("initial message %+v, %v; want one-time prekey %t", init, err, opk)
			}
			w.open(e)
			bob := w.devs["bob"]
			bob.ResetSession("alice")
			if _, err := bob.Open(cloneEnvelope(e)); !errors.Is(err, ErrDuplicate) {
				t.Fatalf("replayed first message: err = %v, want ErrDuplicate", err)
			}
			if p := bob.peers["alice"]; len(p.convs) != 0 {
				t.Fatal("replayed first message started a session")
			}
		})
	}
}

// TestBaseKeyHistoryBounded: the memory of base keys holds at most its
// capacity, forgetting the oldest.
func TestBaseKeyHistoryBounded(t *testing.T) {
	b := newBaseKeys(3)
	for i := range 10 {
		b.add([KeySize]byte{byte(i)})
	}
	if len(b.seen) != 3 || len(b.order) != 3 || !b.has([KeySize]byte{9}) || b.has([KeySize]byte{6}) {
		t.Fatalf("history holds %d keys: %v", len(b.seen), b.order)
	}
}
