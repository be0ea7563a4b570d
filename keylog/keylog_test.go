package keylog

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func entry(account string, device uint32, id byte) Entry {
	return Entry{Account: account, Keys: []Key{{Device: device, Identity: []byte{id, id, id}}}}
}

// grow appends n entries for accounts a0, a1, ...
func grow(t testing.TB, l *Log, n int) {
	t.Helper()
	for i := range n {
		if _, err := l.Append(entry(fmt.Sprintf("a%d", l.Size()), 1, byte(i))); err != nil {
			t.Fatal(err)
		}
	}
}

// served is what a directory attaches when it serves the entry at index
// to a client that last saw a head of size from.
func served(t testing.TB, l *Log, index, from uint64) Proof {
	t.Helper()
	h, err := l.Head()
	if err != nil {
		t.Fatal(err)
	}
	inc, err := l.Inclusion(index, h.Size)
	if err != nil {
		t.Fatal(err)
	}
	p := Proof{Head: h, Index: index, Inclusion: inc, FromSize: from}
	if from > 0 {
		if p.Consistency, err = l.Consistency(from, h.Size); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// TestInclusion checks every entry of logs of several sizes, and that keys
// the log does not hold fail: an inclusion proof of another entry, at its
// index, does not prove them.
func TestInclusion(t *testing.T) {
	for _, size := range []int{1, 2, 3, 7, 8, 13} {
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			l := New(newKey(t))
			grow(t, l, size)
			for i := range uint64(size) {
				leaves, _ := l.Entries(i, i+1)
				e, err := ParseEntry(leaves[0])
				if err != nil {
					t.Fatal(err)
				}
				if err := NewClient(l.PublicKey()).Check(e, served(t, l, i, 0)); err != nil {
					t.Fatalf("entry %d: %v", i, err)
				}
				forged := e
				forged.Keys = []Key{{Device: 1, Identity: []byte("the provider's key")}}
				err = NewClient(l.PublicKey()).Check(forged, served(t, l, i, 0))
				if !errors.Is(err, ErrInclusion) {
					t.Fatalf("entry %d with other keys: %v, want ErrInclusion", i, err)
				}
			}
		})
	}
}

// TestConsistency lets a client see the log grow (accepted), then shows it
// a log rewritten behind a head it saw (refused), a rolled-back head and a
// head signed by another key.
func TestConsistency(t *testing.T) {
	for _, tc := range []struct{ before, after int }{{1, 2}, {1, 5}, {3, 4}, {4, 9}, {6, 6}} {
		t.Run(fmt.Sprintf("before=%d/after=%d", tc.before, tc.after), func(t *testing.T) {
			key := newKey(t)
			l := New(key)
			grow(t, l, tc.before)
			c := NewClient(l.PublicKey())
			if err := c.Check(entry("a0", 1, 0), served(t, l, 0, 0)); err != nil {
				t.Fatal(err)
			}
			grow(t, l, tc.after-tc.before)
			if err := c.Check(entry("a0", 1, 0), served(t, l, 0, uint64(tc.before))); err != nil {
				t.Fatalf("grown log refused: %v", err)
			}
			// The provider rewrites its history: the same entries except the
			// last one seen, replaced, and signs the new tree.
			rewritten := New(key)
			grow(t, rewritten, tc.after-1)
			rewritten.Append(entry("a-last", 1, 99))
			err := c.Check(entry("a0", 1, 0), served(t, rewritten, 0, uint64(tc.after)))
			if !errors.Is(err, ErrConsistency) {
				t.Fatalf("rewritten log: %v, want ErrConsistency", err)
			}
			if c.Last().Size != uint64(tc.after) {
				t.Fatalf("a refused head was remembered")
			}
		})
	}
	t.Run("rollback", func(t *testing.T) {
		l := New(newKey(t))
		grow(t, l, 3)
		old := served(t, l, 0, 0)
		grow(t, l, 2)
		c := NewClient(l.PublicKey())
		if err := c.Check(entry("a0", 1, 0), served(t, l, 0, 0)); err != nil {
			t.Fatal(err)
		}
		if err := c.Check(entry("a0", 1, 0), old); !errors.Is(err, ErrConsistency) {
			t.Fatalf("older head: %v, want ErrConsistency", err)
		}
	})
	t.Run("other-key", func(t *testing.T) {
		l := New(newKey(t))
		grow(t, l, 2)
		if err := NewClient(ed25519.PublicKey(newKey(t).Public().(ed25519.PublicKey))).Check(entry("a0", 1, 0), served(t, l, 0, 0)); !errors.Is(err, ErrSignature) {
			t.Fatalf("head of another key: %v, want ErrSignature", err)
		}
	})
}

// TestSplitView forks the log: one client is shown a fork with an extra
// entry, everyone else the main log. An auditor fed only the main log's
// heads sees nothing wrong; fed the client's heads too (gossip), it
// catches the fork, whichever way round the heads arrive.
func TestSplitView(t *testing.T) {
	for _, tc := range []struct {
		name          string
		mainExtra     int // entries the main log gains after the fork
		gossip        bool
		clientFirst   bool
		wantSplitView bool
	}{
		{"no-gossip", 0, false, false, false},
		{"no-gossip/main-grows", 2, false, false, false},
		{"gossip/same-size", 1, true, false, true},
		{"gossip/main-larger", 3, true, false, true},
		{"gossip/fork-larger", 0, true, true, true},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			main := New(newKey(t))
			grow(t, main, 4)
			fork := main.Clone()
			fork.Append(entry("victim", 2, 0xee)) // the ghost device
			grow(t, main, tc.mainExtra)
			shown := NewClient(main.PublicKey())
			if err := shown.Check(entry("victim", 2, 0xee), served(t, fork, 4, 0)); err != nil {
				t.Fatalf("the forked client's own checks must pass: %v", err)
			}
			a := NewAuditor(main.PublicKey(), main.Consistency)
			var heads []Head
			if h, err := main.Head(); err == nil {
				heads = append(heads, h)
			}
			if tc.gossip {
				heads = append(heads, shown.Heads()...)
			}
			if tc.clientFirst {
				heads[0], heads[len(heads)-1] = heads[len(heads)-1], heads[0]
			}
			var caught error
			for _, h := range heads {
				if err := a.Observe(h); err != nil && caught == nil {
					caught = err
				}
			}
			if got := errors.Is(caught, ErrSplitView); got != tc.wantSplitView {
				t.Fatalf("split view caught = %v (%v), want %v", got, caught, tc.wantSplitView)
			}
		})
	}
}

// TestMonitor has an owner check the log after the provider logged a key
// in its name that it never published.
func TestMonitor(t *testing.T) {
	l := New(newKey(t))
	grow(t, l, 2)
	own := entry("bob", 1, 7)
	l.Append(own)
	m := NewMonitor(l.PublicKey(), "bob")
	m.Published(own.Keys[0])
	check := func() error {
		h, _ := l.Head()
		entries, _ := l.Entries(0, h.Size)
		from := m.c.Last().Size
		var cons [][]byte
		if from > 0 {
			cons, _ = l.Consistency(from, h.Size)
		}
		return m.Check(h, from, cons, entries)
	}
	if err := check(); err != nil {
		t.Fatalf("honest log: %v", err)
	}
	ghost := Entry{Account: "bob", Keys: []Key{own.Keys[0], {Device: 9, Identity: []byte("ghost")}}}
	l.Append(ghost)
	if err := check(); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("ghost logged: %v, want ErrUnknownKey", err)
	}
}

func TestEntryRoundTrip(t *testing.T) {
	e := Entry{Account: "alice", Keys: []Key{{Device: 3, Identity: []byte("k3")}, {Device: 1, Identity: []byte("k1")}}}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseEntry(b)
	if err != nil || !got.Equal(e) || got.Keys[0].Device != 1 {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []Entry{{Account: ""}, {Account: "x", Keys: []Key{{1, []byte("a")}, {1, []byte("b")}}}, {Account: "x", Keys: []Key{{1, nil}}}} {
		if _, err := bad.Marshal(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%+v: %v, want ErrMalformed", bad, err)
		}
	}
}

// seeds reads testdata/fuzz-seeds/NAME-*.bin.
func seeds(f *testing.F, name string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", name+"-*.bin"))
	if len(paths) == 0 {
		f.Fatalf("no seeds for %s in testdata", name)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParseEntry(f *testing.F) {
	seeds(f, "entry")
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		if err != nil {
			return
		}
		again, err := e.Marshal()
		if err != nil || string(again) != string(b) {
			t.Fatalf("parsed entry does not re-encode to its bytes: %v", err)
		}
	})
}

func FuzzParseProof(f *testing.F) {
	seeds(f, "proof")
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProof(b)
		if err != nil {
			return
		}
		if string(p.Marshal()) != string(b) {
			t.Fatal("parsed proof does not re-encode to its bytes")
		}
	})
}

// TestSeedsParse checks the fuzz seeds are there.
func TestSeedsParse(t *testing.T) {
	for _, pat := range []string{"entry-*.bin", "proof-*.bin"} {
		paths, _ := filepath.Glob(filepath.Join("testdata", pat))
		if len(paths) == 0 {
			t.Fatalf("no %s", pat)
		}
	}
}
