package relay

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"scanlab"
	"scanlab/relay/wire"
)

// receiveAll receives until n messages arrived or a liveness bound
// passes, and returns their IDs in arrival order.
func receiveAll(t *testing.T, c *Client, n int) []string {
	t.Helper()
	var ids []string
	for deadline := time.Now().Add(30 * time.Second); len(ids) < n && time.Now().Before(deadline); {
		ds, err := c.Receive(1000, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for _, d := range ds {
			ids = append(ids, d.Envelope.ID)
			seqs = append(seqs, d.Seq)
		}
		if len(seqs) > 0 {
			if _, err := c.Ack(seqs...); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

// TestPipelinedSendsAreStoredOnceInOrder sends through a window of
// outstanding requests, as one caller writing lists (SendAsync) and as
// concurrent callers: every message is stored once, and a caller's lists
// arrive in the order written.
func TestPipelinedSendsAreStoredOnceInOrder(t *testing.T) {
	const n = 120
	for _, window := range []int{1, 4, 64} {
		for _, how := range []string{"async-lists", "concurrent"} {
			t.Run(fmt.Sprintf("window=%d/way=%s", window, how), func(t *testing.T) {
				r := startRelay(t, Config{})
				alice, err := DialWith(r.Addr(), r.CA().Pool(), "alice", ClientOptions{Window: window})
				if err != nil {
					t.Fatal(err)
				}
				defer alice.Close()
				bob := dial(t, r, "bob")
				want := ids("m", n)
				if how == "async-lists" {
					sendLists(t, alice, want)
				} else {
					sendConcurrently(t, alice, want)
				}
				got := receiveAll(t, bob, n)
				if how == "concurrent" {
					got = sortedCopy(got)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("bob received %d messages %v, want %v", len(got), got, want)
				}
			})
		}
	}
}

// sendLists sends ids in lists of 1 to 9 with SendAsync, waiting for each
// list's receipts only after writing the next, and checks the receipts'
// sequence numbers follow the writes.
func sendLists(t *testing.T, c *Client, ids []string) {
	t.Helper()
	var pending []*PendingSend
	for i, k := 0, 1; i < len(ids); i, k = i+k, k%9+1 {
		var es []scanlab.Envelope
		for _, id := range ids[i:min(i+k, len(ids))] {
			es = append(es, env(id, "alice", "bob", "body of "+id))
		}
		pending = append(pending, c.SendAsync(es...)...)
	}
	var last uint64
	for i, p := range pending {
		rc, err := p.Wait()
		if err != nil || rc.Dup || rc.Seq <= last {
			t.Fatalf("send %d: %+v %v (previous seq %d)", i, rc, err, last)
		}
		last = rc.Seq
	}
}

// sendConcurrently sends each id from a goroutine of its own.
func sendConcurrently(t *testing.T, c *Client, ids []string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Go(func() { _, errs[i] = c.Send(env(id, "alice", "bob", "body of "+id)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// TestPipelineResendsAcrossACut cuts the connection in the middle of a
// window of outstanding sends: each Wait resends what was lost, and the
// recipient gets every message once.
func TestPipelineResendsAcrossACut(t *testing.T) {
	for _, mode := range []struct {
		name string
		v    int32
	}{{"mid-frame", cutMidFrame}, {"after-request", cutAfterRequest}} {
		t.Run("cut="+mode.name, func(t *testing.T) {
			r := startRelay(t, Config{})
			p := newCutter(t, r.Addr())
			alice, err := DialWith(p.addr(), r.CA().Pool(), "alice", ClientOptions{Window: 16, MinBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer alice.Close()
			bob := dial(t, r, "bob")
			want := ids("c", 40)
			var es []scanlab.Envelope
			for _, id := range want {
				es = append(es, env(id, "alice", "bob", id))
			}
			pending := alice.SendAsync(es[:10]...)
			p.mode.Store(mode.v)
			pending = append(pending, alice.SendAsync(es[10:]...)...)
			for i, ps := range pending {
				if _, err := ps.Wait(); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			if p.cuts.Load() != 1 || alice.Reconnects() != 1 {
				t.Fatalf("cuts %d, reconnects %d; want 1 and 1", p.cuts.Load(), alice.Reconnects())
			}
			if got := sortedCopy(receiveAll(t, bob, len(want))); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("bob received %v, want each of %v once", got, want)
			}
		})
	}
}

// TestRelayAnswersPipelinedRequestsInOrder writes a burst of requests in
// one write, a refused send and a fetch among the sends, and reads the
// answers: one each, in order, the sends stored in order, and the answers
// written before a waiting fetch are not held back by its wait.
func TestRelayAnswersPipelinedRequestsInOrder(t *testing.T) {
	r := startRelay(t, Config{})
	c := rawDevice(t, r, "alice")
	var burst bytes.Buffer
	send := func(id string) {
		wire.WriteFrame(&burst, wire.Send, wire.EncodeEnvelope(env(id, "alice", "bob", id)))
	}
	send("p1")
	send("p2")
	wire.WriteFrame(&burst, wire.Fetch, wire.EncodeFetch(wire.FetchRequest{Mailbox: "alice", Max: 10}))
	send("p3")
	wire.WriteFrame(&burst, wire.Send, wire.EncodeEnvelope(env("spoof", "mallory", "bob", "x")))
	send("p4")
	wire.WriteFrame(&burst, wire.Fetch, wire.EncodeFetch(wire.FetchRequest{Mailbox: "alice", Max: 10, Wait: time.Minute}))
	if _, err := c.Write(burst.Bytes()); err != nil {
		t.Fatal(err)
	}
	// A liveness bound far below the last fetch's wait (MaxWait, 30 s).
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	var last uint64
	for i, want := range []wire.Type{wire.Sent, wire.Sent, wire.Batch, wire.Sent, wire.Error, wire.Sent} {
		f, err := wire.ReadFrame(c, 1<<20)
		if err != nil || f.Type != want {
			t.Fatalf("answer %d: %v %v, want type %v", i, f.Type, err, want)
		}
		if f.Type == wire.Sent {
			rc, err := wire.DecodeReceipt(f.Payload)
			if err != nil || rc.Seq <= last {
				t.Fatalf("answer %d: receipt %+v %v after seq %d", i, rc, err, last)
			}
			last = rc.Seq
		}
	}
	bob := dial(t, r, "bob")
	if got := receiveAll(t, bob, 4); fmt.Sprint(got) != "[p1 p2 p3 p4]" {
		t.Fatalf("bob received %v, want [p1 p2 p3 p4]", got)
	}
}

// TestClosedClientsLeaveNoGoroutines: a closed client's connection reader
// ends, even when no request was outstanding.
func TestClosedClientsLeaveNoGoroutines(t *testing.T) {
	r := startRelay(t, Config{})
	before := runtime.NumGoroutine()
	for i := range 20 {
		c, err := DialWith(r.Addr(), r.CA().Pool(), scanlab.UserID(fmt.Sprint("user-", i)), ClientOptions{Window: 4})
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if i == 0 {
			defer func() {
				if _, err := c.Send(env("m", "user-0", "bob", "x")); err != ErrClosed {
					t.Errorf("send on a closed client: %v, want ErrClosed", err)
				}
			}()
		}
	}
	// A liveness bound: the readers and the relay's handlers wind down.
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > before+2; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after closing 20 clients, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
