package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"scanlab"
	"scanlab/kms"
)

func TestEnqueueOnceDeduplicates(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	k, _ := kms.New()
	path := filepath.Join(t.TempDir(), "relay.db")
	open := func() *Store {
		s, err := Open(path, k, Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	q1, dup, err := s.EnqueueOnce("alice", "m1", "bob", []byte("first"))
	if err != nil || dup {
		t.Fatalf("first send: dup=%v err=%v", dup, err)
	}
	cases := []struct {
		name    string
		sender  scanlab.UserID
		id      string
		wantDup bool
	}{
		{"same-pair", "alice", "m1", true},
		{"other-sender", "carol", "m1", false},
		{"other-id", "alice", "m2", false},
		// No separator trick: ("ali", "cem1") is another pair than ("alice", "m1").
		{"shifted-boundary", "ali", "cem1", false},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			q, dup, err := s.EnqueueOnce(c.sender, c.id, "bob", []byte("again"))
			if err != nil || dup != c.wantDup || (dup && q != q1) {
				t.Fatalf("seq=%d dup=%v err=%v; want dup=%v (seq %d)", q, dup, err, c.wantDup, q1)
			}
		})
	}
	// Survives a restart.
	s.Close()
	s = open()
	defer s.Close()
	if q, dup, _ := s.EnqueueOnce("alice", "m1", "bob", []byte("after restart")); !dup || q != q1 {
		t.Fatalf("after restart: seq=%d dup=%v, want the first record %d", q, dup, q1)
	}
	items, _, _ := s.Pending("bob", lim(100))
	if len(items) != 4 {
		t.Fatalf("bob holds %d records, want 4 (one per distinct pair)", len(items))
	}
	// Past the window the pair is forgotten.
	now = now.Add(2 * time.Hour)
	if n, err := s.SweepDedup(time.Hour, 1000); err != nil || n != 4 {
		t.Fatalf("sweep forgot %d pairs, %v; want 4", n, err)
	}
	if _, dup, _ := s.EnqueueOnce("alice", "m1", "bob", []byte("late")); dup {
		t.Fatal("a pair outside the window was still remembered")
	}
}

// TestEnqueueAllKeepsOrderAndDeduplicates stores a device's pipelined
// sends in one call: sequence numbers follow the list, a resend within the
// list or of an earlier record is stored once, and the mailbox holds the
// distinct records in list order.
func TestEnqueueAllKeepsOrderAndDeduplicates(t *testing.T) {
	s, _, _ := newStore(t)
	first, _, err := s.EnqueueOnce("alice", "m0", "bob", []byte("m0"))
	if err != nil {
		t.Fatal(err)
	}
	recs := []Outgoing{
		{Sender: "alice", ID: "m1", To: "bob", Data: []byte("m1")},
		{Sender: "alice", ID: "m0", To: "bob", Data: []byte("m0 again")},
		{Sender: "alice", ID: "m2", To: "bob", Data: []byte("m2")},
		{Sender: "alice", ID: "m1", To: "bob", Data: []byte("m1 again")},
		{Sender: "alice", ID: "m3", To: "carol", Data: []byte("m3")},
	}
	got, err := s.EnqueueAll(recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		name string
		dup  bool
		same int // index of the record it must equal, -1 for the earlier m0
	}{{"new", false, 0}, {"resend-of-earlier", true, -1}, {"new", false, 2}, {"resend-within-list", true, 0}, {"new", false, 4}} {
		t.Run(fmt.Sprintf("record=%d/%s", i, c.name), func(t *testing.T) {
			want := first
			if c.same >= 0 {
				want = got[c.same].Seq
			}
			if got[i].Dup != c.dup || got[i].Seq != want {
				t.Fatalf("stored %+v, want dup=%v seq=%d", got[i], c.dup, want)
			}
		})
	}
	if !(first < got[0].Seq && got[0].Seq < got[2].Seq && got[2].Seq < got[4].Seq) {
		t.Fatalf("sequence numbers out of list order: %d then %+v", first, got)
	}
	items, _, _ := s.Pending("bob", lim(100))
	var order []string
	for _, it := range items {
		order = append(order, string(it.Data))
	}
	if strings.Join(order, ",") != "m0,m1,m2" {
		t.Fatalf("bob's mailbox holds %v, want m0,m1,m2", order)
	}
}

func TestSweepDedupBoundsEntries(t *testing.T) {
	s, _, _ := newStore(t)
	for i := range 50 {
		if _, _, err := s.EnqueueOnce("alice", fmt.Sprint("m", i), "bob", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.SweepDedup(time.Hour, 10); err != nil || n != 40 || s.DedupEntries() != 10 {
		t.Fatalf("swept %d (%v), %d left; want 40 swept, 10 left", n, err, s.DedupEntries())
	}
	counts, _ := s.Counts()
	if counts[Dedup] != 10 {
		t.Fatalf("counts after sweep: %v", counts)
	}
	// The newest stay: m49 is still a duplicate, m0 no longer.
	if _, dup, _ := s.EnqueueOnce("alice", "m49", "bob", nil); !dup {
		t.Fatal("newest pair forgotten")
	}
	if _, dup, _ := s.EnqueueOnce("alice", "m0", "bob", nil); dup {
		t.Fatal("oldest pair kept beyond the bound")
	}
}

func TestOneUserPerCredential(t *testing.T) {
	s, _, _ := newStore(t)
	if err := s.BindDevice("alice", []byte("fp-1")); err != nil {
		t.Fatal(err)
	}
	if err := s.BindDevice("mallory", []byte("fp-1")); !errors.Is(err, ErrCredentialInUse) {
		t.Fatalf("second user on one credential: err = %v, want ErrCredentialInUse", err)
	}
	if err := s.BindDevice("alice", []byte("fp-1")); err != nil {
		t.Fatalf("rebinding the same pair: %v", err)
	}
}

func TestPendingLimits(t *testing.T) {
	s, _, _ := newStore(t)
	for _, n := range []int{100, 5000, 100, 100} {
		if _, err := s.Enqueue("bob", bytes.Repeat([]byte{'x'}, n)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name      string
		lim       Limit
		wantSizes []int
		wantBad   int
	}{
		{"count=2", Limit{Count: 2, Bytes: 1 << 20}, []int{100, 5000}, 0},
		{"bytes=5200", Limit{Count: 10, Bytes: 5200}, []int{100, 5000, 100}, 0},
		{"bytes=5199", Limit{Count: 10, Bytes: 5199}, []int{100, 5000}, 0},
		{"bytes=4999", Limit{Count: 10, Bytes: 4999}, []int{100, 100, 100}, 1},
		{"bytes=250/overhead=20", Limit{Count: 10, Bytes: 250, Overhead: 20}, []int{100, 100}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			size, _ := s.PendingSize("bob", c.lim)
			items, bad, err := s.Pending("bob", c.lim)
			var sizes []int
			total := 0
			for _, it := range items {
				sizes = append(sizes, len(it.Data))
				total += len(it.Data) + c.lim.Overhead
			}
			if err != nil || fmt.Sprint(sizes) != fmt.Sprint(c.wantSizes) || len(bad) != c.wantBad || size != total {
				t.Fatalf("sizes %v bad %v err %v size %d; want %v, %d bad, size %d", sizes, bad, err, size, c.wantSizes, c.wantBad, total)
			}
			for _, b := range bad {
				if !errors.Is(b, ErrOversized) {
					t.Fatalf("bad record: %v, want ErrOversized", b)
				}
			}
		})
	}
}

func TestQuarantineKeepsTheRawRecord(t *testing.T) {
	s, _, _ := newStore(t)
	q, _ := s.Enqueue("bob", []byte("undeliverable"))
	k := seqKey(s.Index("bob"), q)
	var raw []byte
	s.corrupt(Mail, k, func(b []byte) []byte { raw = bytes.Clone(b); return b })
	if err := s.Quarantine(Mail, k, "too large"); err != nil {
		t.Fatal(err)
	}
	list, err := s.QuarantineList()
	if err != nil || len(list) != 1 || list[0].Reason != "too large" || !bytes.Equal(list[0].Raw, raw) || !bytes.Equal(list[0].Key, k) {
		t.Fatalf("quarantine list = %+v, %v", list, err)
	}
	if items, _, _ := s.Pending("bob", lim(10)); len(items) != 0 {
		t.Fatal("quarantined record still pending")
	}
}

// damagedStore returns the path and keys of a closed store holding n
// messages for bob.
func damagedStore(t *testing.T, n int) (string, *kms.Manager) {
	t.Helper()
	s, k, path := newStore(t)
	for i := range n {
		if _, err := s.Enqueue("bob", fmt.Appendf(nil, "message %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	return path, k
}

func TestDamagedRecordIsRefusedOrRepaired(t *testing.T) {
	path, k := damagedStore(t, 5)
	s, err := Open(path, k, Options{SkipCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	q := seqKey(s.Index("bob"), 3)
	s.corrupt(Mail, q, func(b []byte) []byte { b[len(b)-3] ^= 0x40; return b })
	s.Close()
	before, _ := os.ReadFile(path)
	if _, err := Open(path, k, Options{}); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "repair") {
		t.Fatalf("damaged record: err = %v, want ErrDamaged with a hint", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("refusing changed the file")
	}
	s, err = Open(path, k, Options{Repair: true})
	if err != nil {
		t.Fatalf("repair: %v", err)
	}
	defer s.Close()
	items, bad, _ := s.Pending("bob", lim(10))
	list, _ := s.QuarantineList()
	if len(items) != 4 || len(bad) != 0 || len(list) != 1 || !bytes.Equal(list[0].Key, q) {
		t.Fatalf("after repair: %d pending, %d bad, quarantine %+v", len(items), len(bad), list)
	}
}

func TestDamagedMetaPageIsRefused(t *testing.T) {
	for _, page := range []int{0, 1} {
		for _, off := range []int{16, 24, 40, 64, 71} { // magic, page size, root, txid, checksum
			t.Run(fmt.Sprintf("page=%d/offset=%d", page, off), func(t *testing.T) {
				path, k := damagedStore(t, 3)
				flipByte(t, path, int64(page*os.Getpagesize()+off))
				if _, err := Open(path, k, Options{}); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "meta page") {
					t.Fatalf("err = %v, want ErrDamaged naming the meta page", err)
				}
			})
		}
	}
}

// TestRandomByteFlipsNeverPanic flips single bytes across the file: each
// open either refuses with ErrDamaged or yields a store whose pending
// messages are all intact.
func TestRandomByteFlipsNeverPanic(t *testing.T) {
	path, k := damagedStore(t, 300)
	pristine, _ := os.ReadFile(path)
	// Flip only below the high-water mark (meta page 0's pgid field): the
	// rest of the file is preallocated and unused.
	used := int(binary.LittleEndian.Uint64(pristine[16+40:])) * os.Getpagesize()
	r := rand.New(rand.NewPCG(14, 5))
	refused, served := 0, 0
	for i := range 60 {
		off := r.IntN(used)
		t.Run(fmt.Sprintf("flip=%d/offset=%d", i, off), func(t *testing.T) {
			damaged := bytes.Clone(pristine)
			damaged[off] ^= byte(1 + r.IntN(255))
			p := filepath.Join(t.TempDir(), "relay.db")
			os.WriteFile(p, damaged, 0o600)
			s, err := Open(p, k, Options{})
			if err != nil {
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("err = %v, want ErrDamaged", err)
				}
				refused++
				return
			}
			defer s.Close()
			items, bad, err := s.Pending("bob", lim(1000))
			if err != nil || len(bad) != 0 || len(items) != 300 {
				t.Fatalf("opened a damaged file: %d items, bad %v, err %v", len(items), bad, err)
			}
			served++
		})
	}
	t.Logf("%d flips refused, %d harmless", refused, served)
}

func flipByte(t *testing.T, path string, off int64) { xorByte(t, path, off, 0x01) }

func xorByte(t *testing.T, path string, off int64, mask byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= mask
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// TestRotationSavedKeysOpenEveryRecordAtEveryStep checks the crash-safety
// order of RotateKEK: after each committed step, the keys saved last open
// every record in the file.
func TestRotationSavedKeysOpenEveryRecordAtEveryStep(t *testing.T) {
	s, k, _ := newStore(t)
	for i := range 20 {
		s.Enqueue(scanlab.UserID(fmt.Sprint("user-", i%3)), fmt.Appendf(nil, "message %d", i))
	}
	s.PutKeys("user-1", []byte("identity"), [][]byte{[]byte("ot-1"), []byte("ot-2")})
	var saved kms.Keys
	check := func(moment string) {
		m, err := kms.FromKeys(saved)
		if err != nil {
			t.Fatalf("%s: saved keys: %v", moment, err)
		}
		if err := walk(s.db, m, func(Record) error { return nil }); err != nil {
			t.Fatalf("%s: the saved keys do not open every record: %v", moment, err)
		}
	}
	saved = k.Export()
	rotateChunk = 3
	steps := 0
	afterRewrapChunk = func() { steps++; check(fmt.Sprint("after step ", steps)) }
	defer func() { rotateChunk, afterRewrapChunk = 2048, nil }()
	n, err := s.RotateKEK(func() error { saved = k.Export(); return nil })
	if err != nil || n != 24 {
		t.Fatalf("rotate: %d records, %v", n, err)
	}
	check("after rotation")
	if steps < 8 {
		t.Fatalf("only %d steps observed", steps)
	}
	if len(saved.KEKs) != 1 {
		t.Fatalf("saved keys hold %d KEKs after rotation, want 1", len(saved.KEKs))
	}
}

// TestCheckPassesABusyFile runs the structural check over a file shaped by
// every kind of write the relay makes: large values on overflow pages,
// deletions, a rotation, sweeps and quarantines.
func TestCheckPassesABusyFile(t *testing.T) {
	s, k, path := newStore(t)
	r := rand.New(rand.NewPCG(1, 2))
	sizes := make([]int, 600)
	for i := range sizes {
		sizes[i] = 50 + r.IntN(300)
		if i%50 == 0 {
			sizes[i] = 100_000 + r.IntN(100_000) // overflow pages
		}
	}
	seqs := make([]uint64, len(sizes))
	var wg sync.WaitGroup
	for w := range 20 { // concurrent writers share batched commits
		wg.Go(func() {
			for i := w; i < len(sizes); i += 20 {
				q, _, err := s.EnqueueOnce("alice", fmt.Sprint("m", i), scanlab.UserID(fmt.Sprint("u", i%20)), make([]byte, sizes[i]))
				if err != nil {
					t.Error(err)
				}
				seqs[i] = q
				if i%3 != 0 {
					s.Ack(scanlab.UserID(fmt.Sprint("u", i%20)), q)
				}
			}
		})
	}
	wg.Wait()
	s.PutKeys("alice", []byte("identity"), [][]byte{[]byte("a"), []byte("b")})
	s.BindDevice("alice", []byte("fp"))
	if _, err := s.RotateKEK(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	s.SweepDedup(time.Hour, 100)
	s.Quarantine(Mail, seqKey(s.Index("u0"), seqs[0]), "test")
	s.Close()
	if err := checkPages(path, false); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, k, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

// livePageHolding returns the file offset of the reachable page that holds
// b. Copy-on-write leaves stale copies of a page in free pages, and with no
// freelist on disk nothing marks them: damaging one tests nothing.
func livePageHolding(t *testing.T, path string, b []byte) int64 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &fileChecker{f: f, free: map[uint64]bool{}, seen: map[uint64]bool{0: true, 1: true}}
	if err := c.run(int64(len(raw))); err != nil || len(c.problems) > 0 {
		t.Fatalf("check before the damage: %v %v", err, c.problems)
	}
	size := int(c.pageSize)
	for at := 0; ; {
		i := bytes.Index(raw[at:], b)
		if i < 0 {
			t.Fatal("no reachable page holds the record")
		}
		at += i
		if id := uint64(at / size); c.seen[id] {
			return int64(at / size * size)
		}
		at++
	}
}

// TestCheckCatchesSwollenOverflow lengthens a reachable page's overflow
// run over pages nothing references. Without a freelist on disk those pages
// look free, so only the node's own size can show the count is wrong.
func TestCheckCatchesSwollenOverflow(t *testing.T) {
	s, _, path := newStoreWith(t, Options{NoSync: true})
	for i := range 300 {
		q, err := s.Enqueue("bob", fmt.Appendf(nil, "message %03d %s", i, strings.Repeat("x", 100)))
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			s.Ack("bob", q)
		}
	}
	s.Close()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	c := &fileChecker{f: f, free: map[uint64]bool{}, seen: map[uint64]bool{0: true, 1: true}}
	defer f.Close()
	err = c.run(st.Size())
	if err != nil || len(c.problems) > 0 {
		t.Fatalf("check before the damage: %v %v", err, c.problems)
	}
	victim, free := uint64(0), 0
	for id := uint64(2); id < c.hwm; id++ {
		if !c.seen[id] {
			free++
		}
	}
	var run uint32
	for id := uint64(2); id < c.hwm && victim == 0; id++ {
		p, err := c.page(id) // fails unless a node starts at id
		if n := uint64(len(p)) / uint64(c.pageSize); err == nil && c.seen[id] && id+n < c.hwm && !c.seen[id+n] {
			victim, run = id, uint32(n) // a reachable node followed by an unreferenced page
		}
	}
	if victim == 0 {
		t.Fatalf("no reachable node is followed by an unreferenced page (%d of %d pages unreferenced)", free, c.hwm)
	}
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.WriteAt(binary.LittleEndian.AppendUint32(nil, run), int64(victim)*c.pageSize+12) // overflow run−1 → run
	if err := errors.Join(err, w.Close()); err != nil {
		t.Fatal(err)
	}
	if err := checkPages(path, false); !errors.Is(err, ErrDamaged) {
		t.Fatalf("check after swelling page %d: %v, want ErrDamaged", victim, err)
	}
}

// TestSalvageAfterPageDamage damages the header of a page holding mail:
// the plain open refuses; the repairing open salvages every record the
// damage left readable, brings back none that were deleted, and keeps the
// damaged file.
func TestSalvageAfterPageDamage(t *testing.T) {
	cases := []struct {
		name     string
		offset   int // in the page header
		mask     byte
		wantMost bool // every live record survives
	}{
		{"type", 8, 0x40, true},
		{"id", 0, 0x01, true},
		{"count-up", 11, 0x01, true},
		{"overflow", 12, 0x03, true},
	}
	for _, c := range cases {
		t.Run("header="+c.name, func(t *testing.T) {
			s, k, path := newStoreWith(t, Options{NoSync: true})
			var seqs []uint64
			for i := range 200 {
				q, err := s.Enqueue("bob", fmt.Appendf(nil, "message %03d %s", i, strings.Repeat("x", 100)))
				if err != nil {
					t.Fatal(err)
				}
				seqs = append(seqs, q)
			}
			for _, q := range seqs[:100] { // acknowledged: must stay gone
				s.Ack("bob", q)
			}
			live, _, _ := s.Pending("bob", lim(1000))
			var target []byte
			s.corrupt(Mail, s.MailKey("bob", seqs[150]), func(b []byte) []byte { target = bytes.Clone(b); return b })
			s.Close()
			page := livePageHolding(t, path, target)
			xorByte(t, path, page+int64(c.offset), c.mask)
			if _, err := Open(path, k, Options{}); !errors.Is(err, ErrDamaged) {
				t.Fatalf("plain open: %v, want ErrDamaged", err)
			}
			s2, err := Open(path, k, Options{Repair: true})
			if err != nil {
				t.Fatalf("repairing open: %v", err)
			}
			defer s2.Close()
			got, _, _ := s2.Pending("bob", lim(1000))
			rep := s2.Salvaged()
			if rep == nil || len(got) > len(live) || (c.wantMost && len(got) != len(live)) {
				t.Fatalf("salvaged %d of %d live records (report %+v)", len(got), len(live), rep)
			}
			for i, it := range got {
				if !bytes.Equal(it.Data, live[i].Data) || it.Seq <= seqs[99] {
					t.Fatalf("record %d differs or was deleted before the damage", i)
				}
			}
			if _, err := os.Stat(rep.Damaged); err != nil {
				t.Fatalf("damaged file not kept: %v", err)
			}
			// New records never reuse a sequence number from before.
			if q, _ := s2.Enqueue("bob", []byte("after")); q <= seqs[len(seqs)-1] {
				t.Fatalf("new record got seq %d, not past %d", q, seqs[len(seqs)-1])
			}
		})
	}
}

func TestSalvageRefusesWrongKeys(t *testing.T) {
	path, _ := damagedStore(t, 100)
	b, _ := os.ReadFile(path)
	used := int(binary.LittleEndian.Uint64(b[16+40:]))
	flipByte(t, path, int64((used-1)*os.Getpagesize()+8))
	before, _ := os.ReadFile(path)
	other, _ := kms.New()
	if _, err := Open(path, other, Options{Repair: true}); err == nil {
		t.Fatal("salvaged with keys that open nothing")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a refused salvage changed the file")
	}
}
