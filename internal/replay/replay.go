// Package replay refuses abuse reports about messages that were already
// reported, in bounded memory. The modes verify reports statelessly (a MAC
// the provider attached when it relayed the message); this package adds the
// one piece of state verification cannot avoid: which relayed messages have
// already been reported.
//
// A [Guard] remembers at most its capacity of reported messages, each by a
// 32-byte key (the provider's tag of the relayed message) and the time the
// provider relayed it. When it is full it forgets the earliest-relayed
// entries and raises its horizon to their relay time; from then on a report
// about any message relayed at or before the horizon is refused as too old.
// So a replay is never accepted while the guard lives — it is either
// remembered or behind the horizon — and the price of the bound is that,
// under a high report rate, old messages stop being reportable.
//
// # Who sees what
//
// The guard holds the provider's own tags and relay times of reported
// messages: nothing the provider did not already see. It lives in the
// server's memory only: after a restart it is empty, so a report accepted
// before the restart can be submitted once more. Closing that gap needs the
// remembered keys in the provider's database (the relay's report log).
package replay

import (
	"container/heap"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultCapacity is the number of reported messages a [Guard] remembers
// when given no capacity: 65,536 entries, which hold about 12 MiB of heap
// (measured with runtime.ReadMemStats after filling a guard, Go 1.26).
const DefaultCapacity = 1 << 16

// Errors from [Guard.Admit].
var (
	// ErrReplayed means every message of the report was already reported.
	ErrReplayed = errors.New("replay: report was already accepted")
	// ErrTooOld means a message was relayed at or before the guard's
	// horizon, so the guard can no longer tell whether it was reported.
	ErrTooOld = errors.New("replay: message relayed before the report horizon")
)

// Key names one relayed message: the provider's tag over it.
type Key [32]byte

// Item is one reported message: its key and the time the provider relayed
// it (as authenticated by the tag).
type Item struct {
	Key       Key
	RelayedAt time.Time
}

// Guard remembers reported messages. It is safe for concurrent use.
type Guard struct {
	mu       sync.Mutex
	capacity int
	horizon  time.Time // refused: relayed at or before; zero: none yet
	seen     map[Key]time.Time
	order    entries // min-heap by relay time
}

// New returns an empty guard remembering at most capacity messages
// (DefaultCapacity if capacity <= 0).
func New(capacity int) *Guard {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Guard{capacity: capacity, seen: make(map[Key]time.Time)}
}

// Admit records the messages of one report and returns, for each, whether
// it had not been reported before. It refuses the whole report, recording
// nothing, with [ErrTooOld] if any message lies at or before the horizon,
// and with [ErrReplayed] if none is new. Duplicates inside items count once.
func (g *Guard) Admit(items []Item) (fresh []bool, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fresh = make([]bool, len(items))
	anyFresh := false
	for i, it := range items {
		if !g.horizon.IsZero() && !it.RelayedAt.After(g.horizon) {
			return nil, fmt.Errorf("%w: message %d relayed at %s, horizon %s", ErrTooOld, i, it.RelayedAt.UTC().Format(time.RFC3339Nano), g.horizon.UTC().Format(time.RFC3339Nano))
		}
		_, done := g.seen[it.Key]
		fresh[i] = !done && !containsKey(items[:i], it.Key)
		anyFresh = anyFresh || fresh[i]
	}
	if !anyFresh {
		return nil, ErrReplayed
	}
	for i, it := range items {
		if fresh[i] {
			g.seen[it.Key] = it.RelayedAt
			heap.Push(&g.order, entry{it.Key, it.RelayedAt})
		}
	}
	g.evict()
	return fresh, nil
}

// evict forgets the earliest-relayed entries beyond capacity and moves the
// horizon up to the latest relay time forgotten.
func (g *Guard) evict() {
	for len(g.seen) > g.capacity {
		e := heap.Pop(&g.order).(entry)
		delete(g.seen, e.key)
		if e.at.After(g.horizon) {
			g.horizon = e.at
		}
	}
}

// Len returns the number of reported messages the guard remembers.
func (g *Guard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.seen)
}

// Horizon returns the relay time at or before which reports are refused;
// the zero time if the guard has forgotten nothing yet.
func (g *Guard) Horizon() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.horizon
}

func containsKey(items []Item, k Key) bool {
	for _, it := range items {
		if it.Key == k {
			return true
		}
	}
	return false
}

type entry struct {
	key Key
	at  time.Time
}

// entries is a min-heap of entries by relay time.
type entries []entry

func (h entries) Len() int           { return len(h) }
func (h entries) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h entries) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *entries) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *entries) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
