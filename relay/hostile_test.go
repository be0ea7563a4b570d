package relay

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/relay/store"
	"scanlab/relay/wire"
)

// rawDevice opens a TLS connection to r with a fresh credential and, if
// user is not empty, registers it, speaking the wire protocol by hand.
func rawDevice(t *testing.T, r *Relay, user scanlab.UserID) *tls.Conn {
	t.Helper()
	cert, err := pki.DeviceCert("raw")
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", r.Addr(), &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: r.CA().Pool(), ServerName: "127.0.0.1", Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if user != "" {
		if err := wire.WriteFrame(c, wire.Register, wire.EncodeString(string(user))); err != nil {
			t.Fatal(err)
		}
		if f, err := wire.ReadFrame(c, 1<<16); err != nil || f.Type != wire.Registered {
			t.Fatalf("register: %v %v", f.Type, err)
		}
	}
	return c
}

// waitClosed reads from c until the relay closes it, failing the test if
// that takes longer than bound (a liveness bound, far above the deadline
// under test, not a timing measurement).
func waitClosed(t *testing.T, c net.Conn, bound time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(bound))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after %v", bound)
	}
}

// rssBytes returns the process's resident set size.
func rssBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

func heapInuse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// TestStalledFramesHoldLittleMemory: 20 devices announce 32 MiB frames,
// send a little and stall. The relay's memory must not grow by what they
// announced (issue: 63 → 675 MiB), and each connection must be closed once
// its frame deadline passes.
func TestStalledFramesHoldLittleMemory(t *testing.T) {
	const stallers, sent = 20, 10_000
	r := startRelay(t, Config{FrameTimeout: time.Second})
	runtime.GC()
	heap0, rss0 := heapInuse(), rssBytes(t)
	conns := make([]*tls.Conn, stallers)
	for i := range conns {
		conns[i] = rawDevice(t, r, scanlab.UserID(fmt.Sprint("staller-", i)))
		head := []byte{wire.Version, byte(wire.Send), 0, 0, 0, 0}
		binary.BigEndian.PutUint32(head[2:], wire.DefaultMaxFrame)
		if _, err := conns[i].Write(append(head, make([]byte, sent)...)); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the relay has read what was sent (all of it charged to the
	// in-flight budget), then measure.
	for r.Stats().InFlight < stallers*sent {
		time.Sleep(10 * time.Millisecond)
	}
	heapGrowth, rssGrowth := heapInuse()-heap0, rssBytes(t)-rss0
	t.Logf("20 stalled 32 MiB frames: heap +%d KiB, RSS +%d KiB", heapGrowth>>10, rssGrowth>>10)
	if heapGrowth > 100<<20 || rssGrowth > 100<<20 {
		t.Fatalf("memory grew by heap %d MiB, RSS %d MiB; want under 100 MiB", heapGrowth>>20, rssGrowth>>20)
	}
	for _, c := range conns {
		waitClosed(t, c, 30*time.Second)
	}
	if st := r.Stats(); st.TimedOut < stallers || st.InFlight != 0 {
		t.Fatalf("stats after the stall: %+v", st)
	}
	dial(t, r, "after-the-stall") // still serving
}

// TestSlowlorisIsCutOff: a device that trickles a frame slower than the
// minimum rate is cut off even though bytes keep coming.
func TestSlowlorisIsCutOff(t *testing.T) {
	r := startRelay(t, Config{FrameTimeout: 300 * time.Millisecond, MinRate: 1 << 10})
	c := rawDevice(t, r, "slow")
	head := []byte{wire.Version, byte(wire.Send), 0, 1, 0, 0} // 64 KiB
	c.Write(head)
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := c.Write([]byte{0}); err != nil { // one byte per 50 ms: 20 B/s
				done <- err
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	waitClosed(t, c, 30*time.Second)
	if r.Stats().TimedOut < 1 {
		t.Fatal("no timeout counted")
	}
}

// TestIdleAndSilentConnectionsAreClosed: a registered device idle past the
// idle timeout, and a connection that never registers, are both closed.
func TestIdleAndSilentConnectionsAreClosed(t *testing.T) {
	r := startRelay(t, Config{IdleTimeout: 200 * time.Millisecond, FrameTimeout: 200 * time.Millisecond})
	cases := map[string]scanlab.UserID{"registered-idle": "idle", "never-registers": ""}
	for name, user := range cases {
		t.Run("conn="+name, func(t *testing.T) {
			waitClosed(t, rawDevice(t, r, user), 30*time.Second)
		})
	}
}

// TestDeviceThatNeverReadsIsCutOff: a device asks for a large batch and
// never reads it. The relay's write deadline frees the handler.
func TestDeviceThatNeverReadsIsCutOff(t *testing.T) {
	r := startRelay(t, Config{FrameTimeout: 300 * time.Millisecond, MinRate: 16 << 20, NoSync: true})
	alice := dial(t, r, "alice")
	body := make([]byte, 4<<20)
	for i := range 6 {
		if _, err := alice.Send(env(fmt.Sprint("big-", i), "alice", "bob", string(body))); err != nil {
			t.Fatal(err)
		}
	}
	bob := rawDevice(t, r, "bob")
	wire.WriteFrame(bob, wire.Fetch, wire.EncodeFetch(wire.FetchRequest{Mailbox: "bob", Max: 10}))
	for r.Stats().TimedOut < 1 {
		time.Sleep(20 * time.Millisecond)
	}
	waitClosed(t, bob, 30*time.Second)
}

// TestConnectionCaps: per credential and in total.
func TestConnectionCaps(t *testing.T) {
	r := startRelay(t, Config{MaxConnsPerDevice: 2, MaxConns: 6})
	cert, _ := pki.DeviceCert("alice")
	opts := ClientOptions{Cert: &cert, RetryFor: -1}
	for range 2 {
		if _, err := DialWith(r.Addr(), r.CA().Pool(), "alice", opts); err != nil {
			t.Fatal(err)
		}
	}
	var re *RemoteError
	if _, err := DialWith(r.Addr(), r.CA().Pool(), "alice", opts); !errors.As(err, &re) || re.Msg != ErrTooManyConns.Error() || !re.Temporary() {
		t.Fatalf("third connection of one credential: %v", err)
	}
	for i := range 4 {
		dial(t, r, scanlab.UserID(fmt.Sprint("u", i)))
	}
	if _, err := DialWith(r.Addr(), r.CA().Pool(), "one-too-many", ClientOptions{RetryFor: -1}); err == nil {
		t.Fatal("connection beyond the global cap accepted")
	}
	if r.Stats().Refused < 2 {
		t.Fatalf("refusals counted: %+v", r.Stats())
	}
}

// TestPoisonEnvelopeIsRefused: an envelope whose delivery frame would
// exceed the frame limit is refused at send (issue: one encoded to exactly
// the limit was accepted and then failed every fetch), and envelopes that
// fit are delivered.
func TestPoisonEnvelopeIsRefused(t *testing.T) {
	r := startRelay(t, Config{NoSync: true})
	alice, bob := dial(t, r, "alice"), dial(t, r, "bob")
	cases := []struct {
		name  string
		size  int // encoded envelope size
		alive bool
	}{
		{"deliverable", wire.DefaultMaxFrame - wire.MinDeliveryCost, true},
		{"delivery-frame-one-over", wire.DefaultMaxFrame - wire.MinDeliveryCost + 1, false},
		{"send-frame-at-limit", wire.DefaultMaxFrame, false},
	}
	for i, c := range cases {
		t.Run("envelope="+c.name, func(t *testing.T) {
			e := env(fmt.Sprint(i), "alice", "bob", "")
			e.Body = make([]byte, c.size-len(wire.EncodeEnvelope(e)))
			if n := len(wire.EncodeEnvelope(e)); n != c.size {
				t.Fatalf("built a %d-byte envelope, want %d", n, c.size)
			}
			_, err := alice.Send(e)
			if (err == nil) != c.alive {
				t.Fatalf("send: %v", err)
			}
			ds, err := bob.Fetch(10)
			if err != nil {
				t.Fatalf("bob's fetch fails after the send: %v", err)
			}
			seqs := make([]uint64, len(ds))
			for i, d := range ds {
				seqs[i] = d.Seq
			}
			if len(ds) != map[bool]int{true: 1, false: 0}[c.alive] {
				t.Fatalf("bob fetched %d envelopes", len(ds))
			}
			bob.Ack(seqs...)
		})
	}
}

// TestStoredPoisonIsQuarantined: records already stored that cannot be
// delivered (too large for the frame limit, or undecryptable) are set
// aside and reported; the records around them are delivered.
func TestStoredPoisonIsQuarantined(t *testing.T) {
	r := startRelay(t, Config{MaxFrame: 1 << 20, NoSync: true})
	alice, bob := dial(t, r, "alice"), dial(t, r, "bob")
	alice.Send(env("before", "alice", "bob", "first"))
	big := wire.EncodeEnvelope(env("huge", "alice", "bob", strings.Repeat("h", 2<<20)))
	if _, err := r.Store().Enqueue("bob", big); err != nil { // as if stored under a larger limit
		t.Fatal(err)
	}
	if _, err := r.Store().Enqueue("bob", []byte("not an envelope")); err != nil {
		t.Fatal(err)
	}
	alice.Send(env("after", "alice", "bob", "last"))
	for range 3 { // every fetch, not only the first
		ds, err := bob.Fetch(10)
		if err != nil || len(ds) != 2 || ds[0].Envelope.ID != "before" || ds[1].Envelope.ID != "after" {
			t.Fatalf("fetch: %+v %v", ds, err)
		}
	}
	list, err := r.Store().QuarantineList()
	if err != nil || len(list) != 2 || r.Stats().Quarantined != 2 {
		t.Fatalf("quarantine: %d records (%v), stats %+v", len(list), err, r.Stats())
	}
}

// TestFetchStaysWithinTheFrameLimit: a fetch over many large messages
// returns batches that each fit one frame (issue: 10 × 16 MiB built a
// 160 MiB frame), and every message arrives.
func TestFetchStaysWithinTheFrameLimit(t *testing.T) {
	const limit = 4 << 20
	r := startRelay(t, Config{MaxFrame: limit, NoSync: true})
	alice, bob := dial(t, r, "alice"), dial(t, r, "bob")
	body := strings.Repeat("b", 3<<19) // 1.5 MiB
	for i := range 10 {
		if _, err := alice.Send(env(fmt.Sprint("m", i), "alice", "bob", body)); err != nil {
			t.Fatal(err)
		}
	}
	got, batches := 0, 0
	for got < 10 && batches < 20 {
		ds, err := bob.Fetch(10)
		if err != nil {
			t.Fatal(err)
		}
		size := wire.BatchHeader
		seqs := make([]uint64, len(ds))
		for i, d := range ds {
			size += wire.DeliveryHeader + len(wire.EncodeEnvelope(d.Envelope))
			seqs[i] = d.Seq
		}
		if size > limit || len(ds) == 0 {
			t.Fatalf("batch of %d envelopes is %d bytes; limit %d", len(ds), size, limit)
		}
		bob.Ack(seqs...)
		got += len(ds)
		batches++
	}
	if got != 10 {
		t.Fatalf("delivered %d of 10", got)
	}
}

// TestOneUserPerCredential: a credential that registered one user cannot
// register another (issue: any number of user IDs per certificate).
func TestOneUserPerCredential(t *testing.T) {
	r := startRelay(t, Config{})
	cert, _ := pki.DeviceCert("alice")
	if _, err := Dial(r.Addr(), r.CA().Pool(), "alice", &cert); err != nil {
		t.Fatal(err)
	}
	for _, u := range []scanlab.UserID{"mallory", "mallory-2"} {
		if _, err := Dial(r.Addr(), r.CA().Pool(), u, &cert); err == nil || !strings.Contains(err.Error(), "another user") {
			t.Fatalf("credential of alice registered %s: %v", u, err)
		}
	}
	if _, err := Dial(r.Addr(), r.CA().Pool(), "alice", &cert); err != nil {
		t.Fatalf("alice again: %v", err)
	}
}

// TestPrekeysCannotBeDrained: one device asking for bob's bundle over and
// over gets at most the one-time burst (issue: anyone could drain them);
// the rest stay for bob's real contacts, who still get bundles.
func TestPrekeysCannotBeDrained(t *testing.T) {
	r := startRelay(t, Config{OneTimeRate: Rate{Per: 0.001, Burst: 10}, DirectoryRate: Rate{Per: 1e6, Burst: 1e6}, NoSync: true})
	bob, mallory := dial(t, r, "bob"), dial(t, r, "mallory")
	var ots [][]byte
	for i := range 100 {
		ots = append(ots, []byte(fmt.Sprint("ot-", i)))
	}
	if err := bob.Publish("bob", scanlab.KeyBundle{Identity: []byte("ik"), OneTime: ots}); err != nil {
		t.Fatal(err)
	}
	handed := 0
	for range 300 {
		b, err := mallory.FetchKeys("bob")
		if err != nil || string(b.Identity) != "ik" {
			t.Fatalf("fetch: %v", err)
		}
		handed += len(b.OneTime)
	}
	left, _ := r.Store().OneTimeCount("bob")
	if handed > 10 || left < 90 {
		t.Fatalf("one-time keys handed out: %d, left: %d", handed, left)
	}
}

// TestDirectoryRequestsAreRateLimited: past its burst a device is told to
// come back later.
func TestDirectoryRequestsAreRateLimited(t *testing.T) {
	r := startRelay(t, Config{DirectoryRate: Rate{Per: 0.001, Burst: 5}, SendRate: Rate{Per: 0.001, Burst: 3}})
	m, err := DialWith(r.Addr(), r.CA().Pool(), "mallory", ClientOptions{RetryFor: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var re *RemoteError
	for i := range 6 {
		_, err := m.FetchKeys("bob")
		if limited := errors.As(err, &re) && re.Msg == ErrRateLimited.Error(); limited != (i == 5) {
			t.Fatalf("directory request %d: %v", i, err)
		}
	}
	for i := range 4 {
		_, err := m.Send(env(fmt.Sprint("s", i), "mallory", "bob", "hi"))
		if limited := errors.As(err, &re) && re.Temporary(); limited != (i == 3) {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if r.Stats().RateLimited != 2 {
		t.Fatalf("rate-limited requests counted: %d", r.Stats().RateLimited)
	}
}

// panicky is server logic that panics on an envelope with ID "boom".
type panicky struct{}

func (panicky) Accept(e *scanlab.Envelope) ([]scanlab.Detection, error) {
	if e.ID == "boom" {
		panic("scanner bug " + string(e.Body))
	}
	return nil, nil
}
func (panicky) Verify(scanlab.Report) ([]scanlab.Detection, error) { return nil, nil }

// TestHandlerPanicClosesOnlyThatConnection: a panic while handling one
// request answers it with an error and closes that connection; the relay
// and its other connections go on.
func TestHandlerPanicClosesOnlyThatConnection(t *testing.T) {
	r := startRelay(t, Config{Logic: func(scanlab.ServerEnv) (scanlab.ServerLogic, error) { return panicky{}, nil }})
	bystander := dial(t, r, "bystander")
	m, err := DialWith(r.Addr(), r.CA().Pool(), "mallory", ClientOptions{RetryFor: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var re *RemoteError
	if _, err := m.Send(env("boom", "mallory", "bob", "x")); !errors.As(err, &re) || re.Msg != ErrInternal.Error() {
		t.Fatalf("panicking request answered %v", err)
	}
	if _, err := bystander.Send(env("fine", "bystander", "bob", "y")); err != nil {
		t.Fatalf("another connection after the panic: %v", err)
	}
	if _, err := m.Send(env("next", "mallory", "bob", "z")); err != nil { // reconnects
		t.Fatalf("the panicking device reconnects: %v", err)
	}
	if r.Stats().Panics != 1 || m.Reconnects() != 1 {
		t.Fatalf("panics %d, reconnects %d", r.Stats().Panics, m.Reconnects())
	}
}

// TestCorruptDatabaseIsRefusedNotServed: single-byte flips across a relay
// database (issue: 13 of 45 made the relay panic at the first fetch, one
// meta flip rolled back an acknowledged message). Every flip either stops
// Start with a clear error or leaves every message deliverable.
func TestCorruptDatabaseIsRefusedNotServed(t *testing.T) {
	dir := t.TempDir()
	db := dir + "/relay.db"
	r := startRelay(t, Config{DBPath: db})
	keys := r.KMS()
	alice := dial(t, r, "alice")
	for i := range 60 {
		alice.Send(env(fmt.Sprint("m", i), "alice", "bob", fmt.Sprint("body ", i)))
	}
	r.Close()
	pristine, _ := os.ReadFile(db)
	used := int(binary.LittleEndian.Uint64(pristine[16+40:])) * os.Getpagesize()
	refused, served := 0, 0
	for i := range 45 {
		off := (i*7919 + 13) % used
		if i < 4 { // the meta pages: the last commit's and the one before
			off = (i%2)*os.Getpagesize() + 16 + 40 + 8*(i/2)
		}
		t.Run(fmt.Sprintf("flip=%d/offset=%d", i, off), func(t *testing.T) {
			damaged := bytes.Clone(pristine)
			damaged[off] ^= 0x10
			p := t.TempDir() + "/relay.db"
			os.WriteFile(p, damaged, 0o600)
			r2, err := Start(Config{DBPath: p, KMS: keys})
			if err != nil {
				if !errors.Is(err, store.ErrDamaged) {
					t.Fatalf("err = %v, want store.ErrDamaged", err)
				}
				refused++
				return
			}
			defer r2.Close()
			bob := dial(t, r2, "bob")
			ds, err := bob.Fetch(100)
			if err != nil || len(ds) != 60 {
				t.Fatalf("served a damaged file: %d of 60 messages, %v", len(ds), err)
			}
			served++
		})
	}
	t.Logf("%d flips refused at start, %d harmless", refused, served)
}
