package relay

import (
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"scanlab/internal/pki"
	"scanlab/kms"
	"scanlab/relay/wire"
)

// TestResendAfterRestartIsStoredOnce: the relay remembers (sender, message
// ID) across a restart (issue: a kill run delivered 3 messages twice).
func TestResendAfterRestartIsStoredOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "relay.db")
	keys, _ := kms.New()
	cert, _ := pki.DeviceCert("alice")
	r := startRelay(t, Config{DBPath: db, KMS: keys})
	alice, err := Dial(r.Addr(), r.CA().Pool(), "alice", &cert)
	if err != nil {
		t.Fatal(err)
	}
	first, err := alice.Send(env("m1", "alice", "bob", "once"))
	if err != nil {
		t.Fatal(err)
	}
	alice.Close()
	r.Close()
	r2 := startRelay(t, Config{DBPath: db, KMS: keys})
	alice2, err := Dial(r2.Addr(), r2.CA().Pool(), "alice", &cert)
	if err != nil {
		t.Fatal(err)
	}
	defer alice2.Close()
	again, err := alice2.Send(env("m1", "alice", "bob", "once"))
	if err != nil || !again.Dup || again.Seq != first.Seq {
		t.Fatalf("resend after restart: %+v %v; want a duplicate of seq %d", again, err, first.Seq)
	}
	ds, err := dial(t, r2, "bob").Fetch(10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("bob holds %d copies, %v; want 1", len(ds), err)
	}
}

// cutter is a TCP proxy in front of the relay that can cut the connection
// right after forwarding a device's next write (the relay gets the whole
// request, the device never sees the answer) or halfway through it (the
// relay gets part of a frame).
type cutter struct {
	ln     net.Listener
	target string
	mode   atomic.Int32 // 0: pass, 1: cut after the next write, 2: cut mid-write
	cuts   atomic.Int32
}

const (
	cutAfterRequest = 1
	cutMidFrame     = 2
)

func newCutter(t *testing.T, target string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go c.serve()
	return c
}

func (c *cutter) addr() string { return c.ln.Addr().String() }

func (c *cutter) serve() {
	for {
		dev, err := c.ln.Accept()
		if err != nil {
			return
		}
		rel, err := net.Dial("tcp", c.target)
		if err != nil {
			dev.Close()
			continue
		}
		go func() { io.Copy(dev, rel); dev.Close() }()
		go c.forward(dev, rel)
	}
}

// forward copies device → relay, cutting both sides when armed.
func (c *cutter) forward(dev, rel net.Conn) {
	defer dev.Close()
	defer rel.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := dev.Read(buf)
		if err != nil {
			return
		}
		switch c.mode.Load() {
		case cutMidFrame:
			if c.mode.CompareAndSwap(cutMidFrame, 0) {
				rel.Write(buf[:n/2])
				c.cuts.Add(1)
				return
			}
		case cutAfterRequest:
			if c.mode.CompareAndSwap(cutAfterRequest, 0) {
				rel.Write(buf[:n])
				c.cuts.Add(1)
				return
			}
		}
		if _, err := rel.Write(buf[:n]); err != nil {
			return
		}
	}
}

// TestClientResendsAcrossCutsExactlyOnce: a connection cut after the relay
// got a send (the answer lost) or in the middle of its frame; the client
// reconnects and resends, and the recipient gets each message once
// (issue: relay.Client never reconnected or resent).
func TestClientResendsAcrossCutsExactlyOnce(t *testing.T) {
	cases := []struct {
		name    string
		mode    int32
		wantDup bool
	}{
		{"after-request", cutAfterRequest, true},
		{"mid-frame", cutMidFrame, false},
	}
	for _, c := range cases {
		t.Run("cut="+c.name, func(t *testing.T) {
			r := startRelay(t, Config{})
			p := newCutter(t, r.Addr())
			alice, err := DialWith(p.addr(), r.CA().Pool(), "alice", ClientOptions{MinBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer alice.Close()
			bob := dial(t, r, "bob")
			p.mode.Store(c.mode)
			rc, err := alice.Send(env("m1", "alice", "bob", "exactly once"))
			if err != nil || p.cuts.Load() != 1 || alice.Reconnects() != 1 || rc.Dup != c.wantDup {
				t.Fatalf("send: %+v %v; cuts %d, reconnects %d; want dup=%v", rc, err, p.cuts.Load(), alice.Reconnects(), c.wantDup)
			}
			ds, err := bob.Receive(10, 0)
			if err != nil || len(ds) != 1 || string(ds[0].Envelope.Body) != "exactly once" {
				t.Fatalf("bob received %+v, %v", ds, err)
			}
		})
	}
}

// TestClientRidesOutARelayRestart: requests made while the relay is down
// wait for it (within RetryFor) and then succeed.
func TestClientRidesOutARelayRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "relay.db")
	keys, _ := kms.New()
	caPath := filepath.Join(t.TempDir(), "relay.ca")
	r := startRelay(t, Config{DBPath: db, KMS: keys, CAPath: caPath})
	addr := r.Addr()
	alice, err := DialWith(addr, r.CA().Pool(), "alice", ClientOptions{MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	r.Close()
	var wg sync.WaitGroup
	var sendErr error
	wg.Go(func() { _, sendErr = alice.Send(env("m1", "alice", "bob", "while down")) })
	time.Sleep(100 * time.Millisecond) // let it fail a few times
	r2 := startRelay(t, Config{DBPath: db, KMS: keys, CAPath: caPath, Addr: addr})
	wg.Wait()
	if sendErr != nil || alice.Reconnects() < 1 {
		t.Fatalf("send across the restart: %v (reconnects %d)", sendErr, alice.Reconnects())
	}
	if ds, _ := dial(t, r2, "bob").Fetch(10); len(ds) != 1 {
		t.Fatalf("bob holds %d messages", len(ds))
	}
}

// TestReceiveHandsEachMessageOnce: Receive never hands the application a
// message twice: not a record it holds unacknowledged, not a second copy
// the relay stored after its dedup window.
func TestReceiveHandsEachMessageOnce(t *testing.T) {
	r := startRelay(t, Config{NoSync: true})
	alice, bob := dial(t, r, "alice"), dial(t, r, "bob")
	m1 := env("m1", "alice", "bob", "hello")
	alice.Send(m1)
	got, err := bob.Receive(10, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("first receive: %+v %v", got, err)
	}
	bob.Drop() // a network failure before the application acknowledged
	if again, err := bob.Receive(10, 50*time.Millisecond); err != nil || len(again) != 0 {
		t.Fatalf("handed again: %+v %v", again, err)
	}
	// A second copy stored by the relay (as past its dedup window).
	if _, err := r.Store().Enqueue("bob", wire.EncodeEnvelope(m1)); err != nil {
		t.Fatal(err)
	}
	if n, _ := bob.Ack(got[0].Seq); n != 1 {
		t.Fatalf("ack deleted %d", n)
	}
	if again, err := bob.Receive(10, 50*time.Millisecond); err != nil || len(again) != 0 {
		t.Fatalf("second copy handed over: %+v %v", again, err)
	}
	if ds, _ := bob.Fetch(10); len(ds) != 0 {
		t.Fatalf("second copy not acknowledged: %d left", len(ds))
	}
}

// TestLongPollWakesOnArrival: a Receive waiting for mail returns the
// message sent while it waits.
func TestLongPollWakesOnArrival(t *testing.T) {
	r := startRelay(t, Config{NoSync: true})
	alice, bob := dial(t, r, "alice"), dial(t, r, "bob")
	done := make(chan []wire.Delivery)
	go func() {
		ds, _ := bob.Receive(10, 20*time.Second)
		done <- ds
	}()
	time.Sleep(50 * time.Millisecond)
	alice.Send(env("m1", "alice", "bob", "wake up"))
	if ds := <-done; len(ds) != 1 || ds[0].Envelope.ID != "m1" {
		t.Fatalf("long poll returned %+v", ds)
	}
}

// TestRelayIdentityIsStable: with CAPath the relay keeps its CA across
// restarts (issue: a new CA at every start), sealed: the file holds no key
// in the clear and does not open under other keys.
func TestRelayIdentityIsStable(t *testing.T) {
	db := filepath.Join(t.TempDir(), "relay.db")
	caPath := filepath.Join(t.TempDir(), "relay.ca")
	keys, _ := kms.New()
	r := startRelay(t, Config{DBPath: db, KMS: keys, CAPath: caPath})
	pem := string(r.CA().PEM())
	pool := r.CA().Pool()
	r.Close()
	r2 := startRelay(t, Config{DBPath: db, KMS: keys, CAPath: caPath})
	if string(r2.CA().PEM()) != pem {
		t.Fatal("the relay's CA changed across a restart")
	}
	if _, err := Dial(r2.Addr(), pool, "alice", nil); err != nil {
		t.Fatalf("a device trusting the first CA: %v", err)
	}
	r2.Close()
	other, _ := kms.New()
	if _, err := Start(Config{DBPath: filepath.Join(t.TempDir(), "other.db"), KMS: other, CAPath: caPath}); err == nil {
		t.Fatal("CA file opened under other keys")
	}
}

// TestWrongKeysAreRefused: a relay started on an existing database with
// keys that do not open it stops with a clear error (issue: a misspelt
// --kms started silently with new keys).
func TestWrongKeysAreRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "relay.db")
	r := startRelay(t, Config{DBPath: db})
	dial(t, r, "alice").Send(env("m1", "alice", "bob", "kept"))
	r.Close()
	other, _ := kms.New()
	if _, err := Start(Config{DBPath: db, KMS: other}); err == nil || !strings.Contains(err.Error(), "keys do not open") {
		t.Fatalf("start with other keys: %v", err)
	}
}
