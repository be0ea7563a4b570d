package relay

import (
	"sync"
	"time"

	"scanlab"
	"scanlab/relay/wire"
)

// inbox is the client-side half of exactly-once delivery: it remembers the
// records handed to the application and not yet acknowledged (by sequence
// number, exact) and the last (sender, message ID) pairs handed over
// (bounded, for copies the relay stored twice after its dedup window).
type inbox struct {
	mu     sync.Mutex
	handed map[uint64]bool
	recent map[string]bool
	order  []string // recent, oldest first (a ring of len(cap))
	next   int
}

func newInbox(size int) inbox {
	return inbox{handed: map[uint64]bool{}, recent: map[string]bool{}, order: make([]string, size)}
}

func pairKey(e scanlab.Envelope) string { return string(e.From) + "\x00" + e.ID }

// admit splits a fetched batch into deliveries new to the application and
// the sequence numbers to acknowledge without handing them over (copies of
// a message already handed). Records handed and not yet acknowledged are
// neither: the application holds them and acknowledges them itself.
func (b *inbox) admit(ds []wire.Delivery) (fresh []wire.Delivery, reack []uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range ds {
		k := pairKey(d.Envelope)
		switch {
		case b.handed[d.Seq]:
		case b.recent[k]:
			reack = append(reack, d.Seq)
		default:
			b.handed[d.Seq] = true
			b.remember(k)
			fresh = append(fresh, d)
		}
	}
	return fresh, reack
}

// remember adds a pair to the bounded recent set, forgetting the oldest.
func (b *inbox) remember(k string) {
	if old := b.order[b.next]; old != "" {
		delete(b.recent, old)
	}
	b.order[b.next] = k
	b.recent[k] = true
	b.next = (b.next + 1) % len(b.order)
}

// acked forgets records the relay confirmed deleted.
func (b *inbox) acked(seqs []uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, q := range seqs {
		delete(b.handed, q)
	}
}

// Receive returns up to max messages new to the application, waiting up to
// wait for some to arrive (a long poll). Each message is handed over once
// per Client: a record fetched again while the application holds it
// unacknowledged (its ack failed, or is still to come) is skipped, and a
// second copy of a (sender, message ID) the relay stored twice (after its
// dedup window) is acknowledged and dropped. The application acknowledges
// with [Client.Ack] or [Client.AckNext] once it has kept a message; until
// then the relay keeps it.
func (c *Client) Receive(max int, wait time.Duration) ([]wire.Delivery, error) {
	deadline := time.Now().Add(wait)
	for attempt := 0; ; attempt++ {
		acks := c.takeAcks()
		ds, err := c.fetchAcking(c.user, max, time.Until(deadline), acks)
		if err != nil {
			c.requeueAcks(acks)
			return nil, err
		}
		fresh, reack := c.inbox.admit(ds)
		if len(reack) > 0 {
			if _, err := c.Ack(reack...); err != nil {
				return fresh, err
			}
		}
		if len(fresh) > 0 || len(ds) == 0 || !time.Now().Before(deadline) {
			return fresh, nil
		}
		if len(reack) == 0 {
			// Only records the application holds came back: the relay will
			// answer at once again, so pause instead of spinning.
			time.Sleep(min(c.opts.MinBackoff<<min(attempt, 6), time.Until(deadline)))
		}
	}
}
