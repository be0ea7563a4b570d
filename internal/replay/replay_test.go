package replay

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func item(i int) Item {
	var k Key
	k[0], k[1] = byte(i), byte(i>>8)
	return Item{Key: k, RelayedAt: t0.Add(time.Duration(i) * time.Second)}
}

func TestAdmit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		before    [][]Item
		report    []Item
		wantFresh []bool
		wantErr   error
	}{
		{"case=first", nil, []Item{item(1)}, []bool{true}, nil},
		{"case=replay", [][]Item{{item(1)}}, []Item{item(1)}, nil, ErrReplayed},
		{"case=window-overlap", [][]Item{{item(1)}}, []Item{item(1), item(2)}, []bool{false, true}, nil},
		{"case=window-replay", [][]Item{{item(1), item(2)}}, []Item{item(2), item(1)}, nil, ErrReplayed},
		{"case=duplicate-inside", nil, []Item{item(3), item(3)}, []bool{true, false}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := New(10)
			for _, r := range tc.before {
				if _, err := g.Admit(r); err != nil {
					t.Fatal(err)
				}
			}
			n := g.Len()
			fresh, err := g.Admit(tc.report)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if fmt.Sprint(fresh) != fmt.Sprint(tc.wantFresh) {
				t.Fatalf("fresh = %v, want %v", fresh, tc.wantFresh)
			}
			if err != nil && g.Len() != n {
				t.Fatal("refused report changed the guard")
			}
		})
	}
}

// TestBoundedAndNeverReplays fills a small guard far beyond its capacity
// and replays every report ever admitted: each replay must be refused
// (remembered, or behind the horizon), and memory stays at the capacity.
func TestBoundedAndNeverReplays(t *testing.T) {
	const capacity, total = 8, 200
	g := New(capacity)
	for i := range total {
		// Reports arrive out of relay order in pairs.
		j := i ^ 1
		if _, err := g.Admit([]Item{item(j)}); err != nil {
			t.Fatalf("report %d: %v", j, err)
		}
		if g.Len() > capacity || len(g.order) > capacity {
			t.Fatalf("guard holds %d entries, capacity %d", g.Len(), capacity)
		}
	}
	for i := range total {
		if _, err := g.Admit([]Item{item(i)}); err == nil {
			t.Fatalf("replay of report %d accepted", i)
		}
	}
	if want := item(total - capacity - 1).RelayedAt; !g.Horizon().Equal(want) {
		t.Fatalf("horizon %v, want %v", g.Horizon(), want)
	}
	// A message newer than the horizon is still reportable.
	if _, err := g.Admit([]Item{item(total + 1)}); err != nil {
		t.Fatal(err)
	}
	// One at or before it is not, even if never reported.
	if _, err := g.Admit([]Item{{Key: Key{0xff}, RelayedAt: g.Horizon()}}); !errors.Is(err, ErrTooOld) {
		t.Fatalf("err = %v, want ErrTooOld", err)
	}
}
