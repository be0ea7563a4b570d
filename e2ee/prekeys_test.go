package e2ee

import (
	"errors"
	"fmt"
	"testing"

	"scanlab"
)

// TestRotatePrekeys: after a rotation new sessions use the new signed
// prekey; a first message made from a bundle fetched before the rotation
// still opens while its signed prekey is kept, and is refused once
// KeptSignedPrekeys more rotations have deleted it.
func TestRotatePrekeys(t *testing.T) {
	for _, pq := range []bool{false, true} {
		t.Run(fmt.Sprintf("pq=%t", pq), func(t *testing.T) {
			w := newWorld(t, Options{PQ: pq}, "alice", "bob", "carol")
			bob := w.devs["bob"]
			early := w.seal(w.msg("alice", "bob", "made before the rotation"))
			late := w.seal(w.msg("carol", "bob", "made before the rotations"))
			oldSPK, oldPQ := bob.pre.SignedID, bob.pre.PQID
			if err := bob.RotatePrekeys(4); err != nil {
				t.Fatal(err)
			}
			if bob.pre.SignedID == oldSPK || (pq && (bob.pre.PQID == oldPQ || bob.pre.PQ[oldPQ] == nil)) {
				t.Fatalf("signed prekey %d → %d, PQ %d → %d", oldSPK, bob.pre.SignedID, oldPQ, bob.pre.PQID)
			}
			w.open(early)
			kb, err := w.dir.Fetch("bob")
			if err != nil {
				t.Fatal(err)
			}
			b, err := ParseBundle(kb)
			if err != nil || b.SignedID != bob.pre.SignedID || (pq && !b.PQOneTime) {
				t.Fatalf("bundle after rotation: signed prekey %d, want %d; PQ one-time %t; %v", b.SignedID, bob.pre.SignedID, b.PQOneTime, err)
			}
			for range KeptSignedPrekeys {
				if err := bob.RotatePrekeys(0); err != nil {
					t.Fatal(err)
				}
			}
			if bob.pre.Signed[oldSPK] != nil || bob.pre.PQ[oldPQ] != nil || len(bob.pre.Signed) != KeptSignedPrekeys+1 {
				t.Fatalf("after %d more rotations bob holds %d signed prekeys (the first: %t)", KeptSignedPrekeys, len(bob.pre.Signed), bob.pre.Signed[oldSPK] != nil)
			}
			if _, err := bob.Open(late); !errors.Is(err, ErrBadInit) {
				t.Fatalf("first message on a deleted signed prekey: err = %v, want ErrBadInit", err)
			}
			w.devs["carol"].ResetSession("bob")
			w.send("carol", "bob", "a new session on the current prekeys")
		})
	}
}

// TestPQOneTimePrekeys: with PQ, each fetched bundle carries a signed
// one-time ML-KEM prekey, which the recipient deletes once used; when they
// run out, the last-resort key is used and kept (PQXDH, rev. 3, §3.3).
func TestPQOneTimePrekeys(t *testing.T) {
	const n = 2
	users := []scanlab.UserID{"bob", "s1", "s2", "s3"}
	w := newWorld(t, Options{PQ: true, OneTimePrekeys: n}, users...)
	bob := w.devs["bob"]
	if len(bob.pre.PQOneTime) != n {
		t.Fatalf("bob holds %d one-time PQ prekeys, want %d", len(bob.pre.PQOneTime), n)
	}
	for i, u := range users[1:] {
		e := w.seal(w.msg(u, "bob", "hello"))
		init, err := ParseInitMessage(e.Attach[AttachInit])
		if err != nil {
			t.Fatal(err)
		}
		_, oneTime := bob.pre.PQOneTime[init.PQID]
		if lastResort := init.PQID == bob.pre.PQID; oneTime == lastResort || oneTime != (i < n) {
			t.Fatalf("message %d used PQ prekey %d: one-time %t, last resort %t", i, init.PQID, oneTime, lastResort)
		}
		w.open(e)
		if _, ok := bob.pre.PQOneTime[init.PQID]; ok {
			t.Fatalf("one-time PQ prekey %d kept after use", init.PQID)
		}
		if bob.pre.PQ[bob.pre.PQID] == nil {
			t.Fatal("last-resort PQ prekey deleted")
		}
	}
}

// TestOneTimePrekeysBounded: a device holds at most MaxOneTimePrekeys
// unused one-time sets, forgetting the oldest.
func TestOneTimePrekeysBounded(t *testing.T) {
	id, _ := NewIdentity()
	pk, _, err := id.NewPrekeys(MaxOneTimePrekeys-1, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := id.Rotate(pk, 5); err != nil {
		t.Fatal(err)
	}
	if len(pk.OneTime) != MaxOneTimePrekeys || len(pk.oneTimes) != MaxOneTimePrekeys {
		t.Fatalf("%d one-time prekeys held, want %d", len(pk.OneTime), MaxOneTimePrekeys)
	}
}
