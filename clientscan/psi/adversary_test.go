package psi

import (
	"fmt"
	"testing"
)

// TestDropRate measures the cuckoo drop rate at several load factors (slots
// per entry). It only logs the rates; the assertion is that the default
// factor drops less than 1 in 10,000 entries.
func TestDropRate(t *testing.T) {
	items := elements("drop", 20000)
	var n1, n2 [NonceSize]byte
	n2[0] = 1
	for _, factor := range []float64{1.1, 1.5, 1.9, 2.0, 2.1, DefaultTableFactor, 3.0} {
		slots := int(factor * float64(len(items)))
		_, dropped := cuckoo(items, n1, n2, slots)
		rate := float64(len(dropped)) / float64(len(items))
		t.Logf("factor=%.1f load=%.3f dropped=%d rate=%.5f", factor, 1/factor, len(dropped), rate)
		if factor == DefaultTableFactor && rate > 1e-4 {
			t.Errorf("default table factor drops %.5f of entries", rate)
		}
	}
}

// TestDroppedNeverMatch builds a table too small for its list, so that
// entries are dropped, and checks that exactly the dropped entries never
// match: they are false negatives by construction.
func TestDroppedNeverMatch(t *testing.T) {
	p := Params{Threshold: 1, ADSize: 16, TableFactor: 1.1}
	list := elements("tight", 60)
	pr, err := NewProvider(list, p)
	if err != nil {
		t.Fatal(err)
	}
	s := testServer{pr, pr.NewServer()}
	tbl := download(t, s)
	a := newTestAccount(t, p)
	if s.Dropped() == 0 {
		t.Fatal("no entry dropped at load 0.9; the test needs some")
	}
	dropped := map[string]bool{}
	for _, y := range s.dropped {
		dropped[string(y)] = true
	}
	misses := 0
	for i, y := range list {
		v, err := a.Voucher(tbl, id(i), y, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, _, err := s.tryPairs(v)
		if err != nil {
			t.Fatal(err)
		}
		if dropped[string(y)] {
			misses++
			if n != 0 {
				t.Errorf("dropped entry %d matched", i)
			}
		} else if n != 1 {
			t.Errorf("stored entry %d: %d pairs open", i, n)
		}
	}
	t.Logf("%d of %d entries dropped at load %.2f: %d false negatives", s.Dropped(), len(list), 1/p.TableFactor, misses)
}

// TestOverfit plays the paper's Remark 5: a server fills empty slots with
// extra targets. Devices accept the table and match the extra targets; the
// root is consistent, so only an auditor with the claimed list and the
// server's secrets notices.
func TestOverfit(t *testing.T) {
	p := Params{Threshold: 1, ADSize: 16}
	claimed := elements("claimed", 20)
	extra := elements("extra", 10)
	honest := newTestServer(t, claimed, p)
	if ok, err := honest.Audit(claimed); err != nil || !ok {
		t.Fatalf("honest server fails its audit: %v, %v", ok, err)
	}
	evilProvider, err := NewOverfitProvider(claimed, extra, p)
	if err != nil {
		t.Fatal(err)
	}
	evil, placed := testServer{evilProvider, evilProvider.NewServer()}, evilProvider.Placed()
	if placed == 0 {
		t.Fatal("no extra target placed")
	}
	tbl := download(t, evil) // the device accepts it: the root matches what was published
	if tbl.Slots() != honest.Table().Slots() {
		t.Errorf("table size changed: %d vs %d slots", tbl.Slots(), honest.Table().Slots())
	}
	a := newTestAccount(t, p)
	matched := 0
	for i, y := range extra {
		v, err := a.Voucher(tbl, id(i), y, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n, _, _ := evil.tryPairs(v); n == 1 {
			matched++
		}
	}
	if matched != placed {
		t.Errorf("%d extra targets match, %d were placed", matched, placed)
	}
	if ok, err := evil.Audit(claimed); err != nil || ok {
		t.Fatalf("audit of the overfitted table against the claimed list passed: %v, %v", ok, err)
	}
	t.Logf("overfit: %d of %d extra targets placed in empty slots; device accepted; audit detects it", placed, len(extra))
}

// TestScopeCreep plays a curator that adds targets: the root changes, the
// device accepts the new table, and nothing in it says what was added.
func TestScopeCreep(t *testing.T) {
	p := Params{Threshold: 1, ADSize: 16}
	list := elements("list", 20)
	added := elements("added", 3)
	before := newTestServer(t, list, p)
	after := newTestServer(t, append(list[:len(list):len(list)], added...), p)
	if before.Root() == after.Root() {
		t.Fatal("root unchanged after adding targets")
	}
	tb, ta := download(t, before), download(t, after)
	// The device sees two valid tables of random-looking points; the only
	// visible difference is the size.
	t.Logf("scope creep: roots differ; slots %d -> %d", tb.Slots(), ta.Slots())
	if ok, _ := after.Audit(list); ok {
		t.Fatal("audit against the old list passed")
	}
	if ok, _ := after.Audit(append(list[:len(list):len(list)], added...)); !ok {
		t.Fatal("audit against the new list failed")
	}
}

// TestSyntheticOnlyClient plays a modified client that sends only synthetic
// vouchers: the server sees many matches and never reveals anything.
func TestSyntheticOnlyClient(t *testing.T) {
	p := Params{Threshold: 2, ADSize: 16}
	list := elements("list", 10)
	s := newTestServer(t, list, p)
	tbl := download(t, s)
	a := newTestAccount(t, p)
	for i := range list {
		if _, err := s.Process("cheat", wire(t)(a.Synthetic(tbl, id(i)))); err != nil {
			t.Fatal(err)
		}
	}
	if v := s.View("cheat"); v.Matches != len(list) || v.Revealed {
		t.Fatalf("view %+v", v)
	}
	if got := s.Revealed("cheat"); got != nil {
		t.Fatalf("revealed %v", got)
	}
	// Having sent more synthetic vouchers than an honest client can, the
	// account is no longer examined: even real matches stay hidden.
	for i := range p.Threshold + 1 {
		if _, err := s.Process("cheat", wire(t)(a.Voucher(tbl, id(100+i), list[i], nil))); err != nil {
			t.Fatal(err)
		}
	}
	if v := s.View("cheat"); v.Revealed {
		t.Fatalf("view %+v", v)
	}
}

func ExampleNewProvider() {
	p := Params{Threshold: 1, ADSize: 32}
	list := [][]byte{[]byte("target-1"), []byte("target-2"), []byte("target-3")}
	provider, err := NewProvider(list, p)
	if err != nil {
		panic(err)
	}
	server := provider.NewServer()
	// The device downloads the table and checks it against the published root.
	data, _ := provider.Table().MarshalBinary()
	table, err := UnmarshalTable(data, provider.Root())
	if err != nil {
		panic(err)
	}
	account, _ := NewAccount(p)
	for i, img := range []string{"holiday", "target-1", "cat", "target-3"} {
		v, _ := account.Voucher(table, []byte(fmt.Sprint("img-", i)), []byte(img), []byte("ad of "+img))
		b, _ := v.MarshalBinary()
		matched, _ := server.Process("alice", b)
		fmt.Printf("%s: matched=%v revealed=%d\n", img, matched, len(server.Revealed("alice")))
	}
	for _, m := range server.Revealed("alice") {
		fmt.Printf("%s: %s\n", m.ID, m.AD)
	}
	// Output:
	// holiday: matched=false revealed=0
	// target-1: matched=true revealed=0
	// cat: matched=false revealed=0
	// target-3: matched=true revealed=2
	// img-1: ad of target-1
	// img-3: ad of target-3
}

func ExampleAccountFalseFlagProbability() {
	// An account of one million images at a per-image false-match rate of
	// one in a million, at threshold 30 (revealed with more than 30 matches).
	fmt.Printf("%.2g\n", AccountFalseFlagProbability(1_000_000, 1e-6, 30))
	// Output: 4.6e-35
}
