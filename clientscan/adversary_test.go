package clientscan

import (
	"math"
	"slices"
	"testing"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/perceptual"
)

// TestModifiedClient: each modification of the client hides its listed
// images from the provider while it lasts; each case checks what the
// provider sees meanwhile, and what happens when the same account then
// sends listed images honestly. Skip-scan leaves no trace and is caught
// once honest; synthetic-only within an honest account's synthetic budget
// looks like an unlucky honest account and is caught once honest; beyond
// the budget it shows as an Excess account and hides even the honest
// matches that follow.
func TestModifiedClient(t *testing.T) {
	const th = 2
	s := psi.DefaultSyntheticFactor * th // the synthetic budget's bound
	f := newFixture(t, seeds(1, th+1)...)
	for _, c := range []struct {
		name        string
		b           Behaviour
		match       MatchVariant
		set         bool // switch with SetBehaviour rather than Options.Behaviour
		images      int  // listed images sent while modified
		vouchers    int  // vouchers the provider sees meanwhile
		excess      bool
		caughtAfter bool // detected once it sends t+1 listed images honestly
	}{
		{name: "skip-scan", b: SkipScan, images: 5, vouchers: 0, caughtAfter: true},
		{name: "synthetic-only/within-budget", b: SyntheticOnly, set: true, images: 3, vouchers: 3, caughtAfter: true},
		{name: "synthetic-only/chunks=4", b: SyntheticOnly, match: MatchVariant{Chunks: 4}, images: 3, vouchers: 3, caughtAfter: true},
		{name: "synthetic-only/beyond-budget", b: SyntheticOnly, images: th + s + 2, vouchers: th + s + 2, excess: true},
	} {
		t.Run("modification="+c.name, func(t *testing.T) {
			o := Options{List: f.hashes, Threshold: th, SyntheticRate: -1, Match: c.match}
			if !c.set {
				o.Behaviour = func(u scanlab.UserID) Behaviour {
					if u == "alice" {
						return c.b
					}
					return Honest
				}
			}
			w := newWorld(t, fullMode(t, o))
			if c.set {
				w.alice.SetBehaviour(c.b)
			}
			for i := range c.images {
				w.send(t, img(f.data[i%len(f.data)]))
			}
			if d := hashDetections(w.r); len(d) != 0 {
				t.Fatalf("modified client detected: %v", d)
			}
			for i := range f.data {
				if len(w.view.holds(t, f.derivative[i])) != 0 {
					t.Fatal("derivative opened")
				}
			}
			v := w.srv.Account("alice")
			// Synthetic vouchers all match: the provider sees an account
			// whose every voucher matches, and, past t + 1 + s, an account
			// no honest client could be.
			if v.Vouchers != c.vouchers || v.Matches != c.vouchers || v.Revealed || v.Excess != c.excess {
				t.Fatalf("view while modified %+v, want %d vouchers, all matching, excess %v", v, c.vouchers, c.excess)
			}
			w.alice.SetBehaviour(Honest)
			for i := range th + 1 {
				w.send(t, img(f.data[i]))
			}
			dets, v := hashDetections(w.r), w.srv.Account("alice")
			if caught := len(dets) == th+1 && v.Revealed; caught != c.caughtAfter {
				t.Fatalf("after t+1 honest sends: %d detections, view %+v; want caught %v", len(dets), v, c.caughtAfter)
			}
			if !c.caughtAfter && !v.Excess {
				t.Fatalf("an account hiding past its budget is not marked: %+v", v)
			}
		})
	}
}

// TestScopeCreep: a curator adds a non-abuse target. The published root and
// the table size change (all a device can see), the provider's audit against
// the list it was given passes, an audit against an independent second
// curator's list fails, intersecting the two lists removes the target, and
// with the extended list an account sharing the target past the threshold
// has its derivatives opened.
func TestScopeCreep(t *testing.T) {
	const th = 2
	abuse := newFixture(t, seeds(1, 4)...)
	political := newFixture(t, 50) // a non-abuse image the curator targets
	honestList := abuse.hashes
	crept, labels := ScopeCreep(honestList, nil, political.hashes, []string{"political"})
	if len(crept) != len(honestList)+1 || labels[len(labels)-1] != "political" {
		t.Fatalf("ScopeCreep: %d entries, labels %q", len(crept), labels)
	}

	honest := fullMode(t, Options{List: honestList, Threshold: th, SyntheticRate: -1})
	creeping := fullMode(t, Options{List: crept, Labels: labels, Threshold: th, SyntheticRate: -1})
	hp, cp := published(t, honest), published(t, creeping)
	if hp.Root == cp.Root {
		t.Fatal("root unchanged by the added target")
	}
	if len(hp.Bytes()) == len(cp.Bytes()) {
		t.Log("table size unchanged (slot rounding)")
	}
	if ok, err := creeping.Audit(crept); err != nil || !ok {
		t.Fatalf("audit against the curator's own list: %v %v", ok, err)
	}
	if ok, err := creeping.Audit(honestList); err != nil || ok {
		t.Fatalf("audit against the honest list passed: %v %v", ok, err)
	}
	// A second curator in another jurisdiction holds the abuse list (and
	// its own extra entries); only the intersection ships.
	second := append(slices.Clone(honestList), newFixture(t, 60).hashes...)
	if got := IntersectLists(crept, second); !slices.Equal(got, honestList) {
		t.Fatalf("intersection %d entries, want the %d abuse entries", len(got), len(honestList))
	}

	w := newWorld(t, creeping)
	var ids []string
	for range th + 1 {
		ids = append(ids, w.send(t, img(political.data[0])))
	}
	dets := hashDetections(w.r)
	if len(dets) != th+1 || dets[ids[0]].Rule != "political" {
		t.Fatalf("detections %v", dets)
	}
	if len(w.view.holds(t, political.derivative[0])) != th+1 {
		t.Fatal("the provider did not see the targeted image's derivative")
	}
}

// TestOverfittingProvider: a provider that places extra targets into empty
// cuckoo slots publishes a table every device accepts; only an audit against
// the claimed list notices. The targets match on devices and are opened past
// the threshold (the provider's verification against its claimed list then
// drops them, but it has seen them).
func TestOverfittingProvider(t *testing.T) {
	const th = 2
	claimed := newFixture(t, seeds(1, 4)...)
	target := newFixture(t, 70)
	// The target fits only if one of its two slots is empty; each table
	// draws fresh nonces, so a provider simply retries.
	var m *Mode
	for range 20 {
		m = fullMode(t, Options{List: claimed.hashes, Overfit: target.hashes, Threshold: th, SyntheticRate: -1, TableFactor: 10})
		if m.OverfitPlaced() == 1 {
			break
		}
	}
	if m.OverfitPlaced() != 1 {
		t.Fatalf("placed %d targets", m.OverfitPlaced())
	}
	if ok, err := m.Audit(claimed.hashes); err != nil || ok {
		t.Fatalf("audit of an overfitted table passed: %v %v", ok, err)
	}
	honest := New(Options{List: claimed.hashes, Threshold: th, SyntheticRate: -1, TableFactor: 10})
	if ok, err := honest.Audit(claimed.hashes); err != nil || !ok {
		t.Fatalf("audit of an honest table failed: %v %v", ok, err)
	}
	if _, err := LoadTable(m.DeviceHoldings(), published(t, m).Root); err != nil {
		t.Fatalf("a device refuses the overfitted table: %v", err)
	}
	w := newWorld(t, m)
	for range th + 1 {
		w.send(t, img(target.data[0]))
	}
	if v := w.srv.Account("alice"); v.Matches != th+1 || !v.Revealed {
		t.Fatalf("account view %+v", v)
	}
	ev := w.view.holds(t, target.derivative[0])
	if len(ev) != th+1 {
		t.Fatalf("target derivative %d times in the provider's view, want %d", len(ev), th+1)
	}
	for _, e := range ev {
		if e.Route != RouteCandidate {
			t.Fatalf("route %q", e.Route)
		}
	}
}

// published returns the mode's published part.
func published(t testing.TB, m *Mode) Published {
	t.Helper()
	p, err := m.Published()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAccountFalseFlag(t *testing.T) {
	for _, c := range []struct {
		n int
		p float64
		t int
	}{{1_000_000, 1e-6, 30}, {100, 0.1, 5}, {10, 0.5, 3}} {
		got, want := AccountFalseFlag(c.n, c.p, c.t), psi.AccountFalseFlagProbability(c.n, c.p, c.t)
		if got != want || got < 0 || got > 1 {
			t.Fatalf("AccountFalseFlag(%d, %g, %d) = %g, want %g", c.n, c.p, c.t, got, want)
		}
	}
	// P[Binomial(10, 0.5) > 3] = 1 − (1+10+45+120)/1024.
	if got := AccountFalseFlag(10, 0.5, 3); math.Abs(got-(1-176.0/1024)) > 1e-9 {
		t.Fatalf("binomial tail %g", got)
	}
	// Chunk candidate rate: 32-bit chunks, 2^20 entries → about 2^-12;
	// chunks of 85 and 86 bits (K = 3) average the two rates.
	if got := ChunkCandidateRate(1<<20, 8); math.Abs(got-1.0/4096)/(1.0/4096) > 0.01 {
		t.Fatalf("ChunkCandidateRate = %g", got)
	}
	if got, want := ChunkCandidateRate(1<<20, 3), (2*math.Ldexp(1, 20-85)+math.Ldexp(1, 20-86))/3; math.Abs(got-want)/want > 1e-6 {
		t.Fatalf("ChunkCandidateRate(K=3) = %g, want %g", got, want)
	}
	if ChunkCandidateRate(10, 0) != 0 {
		t.Fatal("exact has no chunk candidates")
	}
}

func TestIntersectLists(t *testing.T) {
	a, b, c := perceptual.Hash{1}, perceptual.Hash{2}, perceptual.Hash{3}
	for _, tc := range []struct {
		in   [][]perceptual.Hash
		want []perceptual.Hash
	}{
		{nil, nil},
		{[][]perceptual.Hash{{a, b}}, []perceptual.Hash{a, b}},
		{[][]perceptual.Hash{{a, b, c, a}, {c, a}}, []perceptual.Hash{a, c}},
		{[][]perceptual.Hash{{a, b}, {b}, {a}}, nil},
		{[][]perceptual.Hash{{a, b}, {b, b}, {b, c}}, []perceptual.Hash{b}},
	} {
		if got := IntersectLists(tc.in...); !slices.Equal(got, tc.want) {
			t.Errorf("IntersectLists(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
