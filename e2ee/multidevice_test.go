package e2ee

import (
	"errors"
	"fmt"
	"testing"

	"scanlab"
	"scanlab/keylog"
)

// link adds device n to user's account in the world's directory and tells
// the user's primary about it.
func (w *world) link(user scanlab.UserID, n uint32, opts Options) *Device {
	w.t.Helper()
	d, err := w.devs[user].Provision(n, w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// ghost registers device n under user's account without the user knowing:
// the provider's ghost device.
func (w *world) ghost(user scanlab.UserID, n uint32, opts Options) *Device {
	w.t.Helper()
	d, err := NewLinkedDevice(opts, user, n, w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// TestFanOut: bob has a phone and a laptop; alice's message is encrypted
// to both, each opens its own copy, with one franking commitment, and a
// report from the laptop verifies.
func TestFanOut(t *testing.T) {
	for _, opts := range []Options{{}, {SealedSender: true}, {PQ: true}} {
		t.Run(fmt.Sprintf("sealed=%t/pq=%t", opts.SealedSender, opts.PQ), func(t *testing.T) {
			w := newWorld(t, opts, "alice", "bob")
			laptop := w.link("bob", 2, opts)
			for i := range 3 {
				m := w.msg("alice", "bob", fmt.Sprintf("message %d", i))
				e := w.seal(m)
				if _, ok := e.Attach[AttachDevices]; !ok {
					t.Fatal("no copy for the second device")
				}
				for name, d := range map[string]*Device{"phone": w.devs["bob"], "laptop": laptop} {
					got, err := d.Open(e)
					if err != nil || got.Content.Text != m.Content.Text || got.From != "alice" {
						t.Fatalf("%s opened %+v, %v", name, got, err)
					}
				}
				if i == 2 {
					r, err := laptop.Report(m)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := w.srv.Verify(r); err != nil {
						t.Fatalf("report from the laptop: %v", err)
					}
				}
			}
			w.send("bob", "alice", "reply from the phone")
			if _, err := laptop.Seal(w.msg("bob", "alice", "x")); err == nil {
				t.Fatal("a linked device sent")
			}
		})
	}
}

// TestGhostDevice: after alice and bob have talked, the provider adds a
// device it controls to bob's account and makes alice's app re-read bob's
// devices. With pinning a "new device" event is raised (WarnOnChange still
// encrypts to the ghost, which reads the message; RefuseChange does not);
// without pinning nothing is raised and the ghost reads everything.
func TestGhostDevice(t *testing.T) {
	for _, tc := range []struct {
		policy     IdentityPolicy
		name       string
		wantEvent  bool
		ghostReads bool
	}{
		{NoPinning, "none", false, true},
		{WarnOnChange, "warn", true, true},
		{RefuseChange, "refuse", true, false},
	} {
		t.Run("policy="+tc.name, func(t *testing.T) {
			opts := Options{IdentityPolicy: tc.policy}
			w := newWorld(t, opts, "alice", "bob")
			w.send("alice", "bob", "hello")
			w.send("bob", "alice", "hi")
			g := w.ghost("bob", 7, opts)
			alice := w.devs["alice"]
			if err := alice.RefreshDevices("bob"); err != nil {
				t.Fatal(err)
			}
			evs := alice.IdentityEvents()
			if got := len(evs) == 1 && evs[0].Kind == DeviceAdded && evs[0].Device == 7 && evs[0].Accepted == (tc.policy != RefuseChange); got != tc.wantEvent {
				t.Fatalf("events %+v, want a device-added event: %t", evs, tc.wantEvent)
			}
			if !tc.wantEvent && len(evs) != 0 {
				t.Fatalf("events without pinning: %+v", evs)
			}
			m := w.msg("alice", "bob", "secret after the ghost joined")
			e := w.seal(m)
			w.open(e)
			got, err := g.Open(e)
			if reads := err == nil && got.Content.Text == m.Content.Text; reads != tc.ghostReads {
				t.Fatalf("ghost read the message: %t (%v), want %t", reads, err, tc.ghostReads)
			}
		})
	}
}

// substitute publishes a fresh device under user's name — the provider's
// key, or a reinstall — and returns it.
func substitute(w *world, user scanlab.UserID, opts Options) *Device {
	d, err := NewDevice(opts, user, w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// TestSafetyNumbers: equal on both sides when nothing was tampered with,
// different once the provider substituted a key or added a ghost, and a
// comparison that matched makes the later substitution fail.
func TestSafetyNumbers(t *testing.T) {
	for _, attack := range []string{"none", "substitution", "ghost"} {
		t.Run("attack="+attack, func(t *testing.T) {
			opts := Options{IdentityPolicy: NoPinning}
			w := newWorld(t, opts, "alice", "bob")
			w.link("bob", 2, opts)
			w.send("alice", "bob", "hello")
			w.send("bob", "alice", "hi")
			alice, bob := w.devs["alice"], w.devs["bob"]
			switch attack {
			case "substitution":
				substitute(w, "bob", opts)
			case "ghost":
				w.ghost("bob", 3, opts)
			}
			if err := alice.RefreshDevices("bob"); err != nil {
				t.Fatal(err)
			}
			a, err := alice.SafetyNumber("bob")
			if err != nil {
				t.Fatal(err)
			}
			b, err := bob.SafetyNumber("alice")
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != SafetyNumberDigits {
				t.Fatalf("safety number %q", a)
			}
			err = bob.VerifySafetyNumber("alice", a)
			if tampered := attack != "none"; tampered != errors.Is(err, ErrSafetyNumber) || tampered == (a == b) {
				t.Fatalf("numbers %s / %s, verify: %v; tampered %t", a, b, err, tampered)
			}
		})
	}
	t.Run("verified-then-substituted", func(t *testing.T) {
		opts := Options{} // WarnOnChange: an unverified contact's new key is accepted with a notice
		w := newWorld(t, opts, "alice", "bob")
		w.send("alice", "bob", "hello")
		w.send("bob", "alice", "hi")
		alice, bob := w.devs["alice"], w.devs["bob"]
		n, err := bob.SafetyNumber("alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := alice.VerifySafetyNumber("bob", n); err != nil {
			t.Fatalf("honest numbers differ: %v", err)
		}
		substitute(w, "bob", opts)
		if err := alice.RefreshDevices("bob"); !errors.Is(err, ErrIdentityChanged) {
			t.Fatalf("substituted key of a verified contact: %v, want ErrIdentityChanged", err)
		}
		if _, err := alice.Seal(w.msg("alice", "bob", "still to the real bob")); err != nil {
			t.Fatal(err)
		}
		if got := alice.PinnedDevices("bob")[PrimaryDevice]; got != bob.Identity() {
			t.Fatal("the substituted key was pinned")
		}
	})
}

// TestCheckKeys: a device passes every fetched account to the key check
// with the keys served, and a refusal stops the send.
func TestCheckKeys(t *testing.T) {
	var seen []keylog.Entry
	refuse := false
	opts := Options{CheckKeys: func(self scanlab.UserID, e keylog.Entry, proof []byte) error {
		seen = append(seen, e)
		if refuse {
			return keylog.ErrInclusion
		}
		return nil
	}}
	w := newWorld(t, opts, "alice", "bob")
	w.link("bob", 2, opts)
	w.send("alice", "bob", "hello")
	want := LogEntry("bob", w.devs["alice"].PinnedDevices("bob"))
	if len(seen) != 1 || !seen[0].Equal(want) || len(seen[0].Keys) != 2 {
		t.Fatalf("checked %+v, want %+v", seen, want)
	}
	refuse = true
	if err := w.devs["alice"].RefreshDevices("bob"); !errors.Is(err, keylog.ErrInclusion) {
		t.Fatalf("refused keys: %v", err)
	}
}

// TestAccountRoundTrip encodes and parses an account, and refuses
// malformed ones.
func TestAccountRoundTrip(t *testing.T) {
	w := newWorld(t, Options{}, "bob")
	w.link("bob", 2, Options{})
	kb, err := w.dir.Fetch("bob")
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseAccount(kb)
	if err != nil || len(a.Devices) != 2 || a.Devices[1].Device != 2 {
		t.Fatalf("%+v, %v", a, err)
	}
	a.Proof = []byte("proof")
	again, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseAccount(again)
	if err != nil || string(b.Proof) != "proof" {
		t.Fatalf("%+v, %v", b, err)
	}
	for i := 1; i < len(again.Identity); i++ {
		if _, err := ParseAccount(scanlab.KeyBundle{Identity: again.Identity[:i]}); err == nil {
			t.Fatalf("truncated to %d bytes: no error", i)
		}
	}
}

// TestWriteDeviceFuzzSeeds writes the seeds of FuzzParseAccount and
// FuzzParseDeviceCopies when run with -write-fuzz-seeds.
func TestWriteDeviceFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to regenerate")
	}
	for _, opts := range []Options{{}, {SealedSender: true, PQ: true}} {
		w := newWorld(t, opts, "alice", "bob")
		w.link("bob", 2, opts)
		kb, err := w.dir.Fetch("bob")
		if err != nil {
			t.Fatal(err)
		}
		writeSeed(t, "FuzzParseAccount", kb.Identity)
		e := w.seal(w.msg("alice", "bob", "to both devices"))
		writeSeed(t, "FuzzParseDeviceCopies", e.Attach[AttachDevices])
	}
}

// FuzzParseAccount: an account encoding never panics the parser, and one
// it accepts re-encodes to the same bytes.
func FuzzParseAccount(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAccount(scanlab.KeyBundle{Identity: b})
		if err != nil || len(b) == 0 || b[0] != accountVersion {
			return
		}
		again, err := a.Marshal()
		if err != nil || string(again.Identity) != string(b) {
			t.Fatalf("accepted account does not re-encode: %v", err)
		}
	})
}

// FuzzParseDeviceCopies: the device copies attachment never panics the
// parser, and what it accepts re-encodes to the same bytes.
func FuzzParseDeviceCopies(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := parseParts(b)
		if err != nil {
			return
		}
		if string(encodeParts(ps)) != string(b) {
			t.Fatal("accepted copies do not re-encode")
		}
	})
}
