package clientscan

import (
	"math"
	"slices"
	"testing"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/perceptual"
)

// TestModifiedClient: a client that skips scanning, or sends only synthetic
// vouchers, is never detected however many listed images it sends. The
// second is visible as an account whose every voucher matches.
func TestModifiedClient(t *testing.T) {
	const th = 2
	f := newFixture(t, seeds(1, th+3)...)
	for _, c := range []struct {
		name string
		b    Behaviour
		set  bool // switch with SetBehaviour rather than Options.Behaviour
	}{
		{"skip-scan", SkipScan, false},
		{"synthetic-only", SyntheticOnly, true},
		{"synthetic-only/chunks", SyntheticOnly, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := Options{List: f.hashes, Threshold: th, SyntheticRate: -1}
			if c.name == "synthetic-only/chunks" {
				o.Match = MatchVariant{Chunks: 4}
			}
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
			for i := range f.data {
				w.send(t, img(f.data[i]))
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
			n := len(f.data) * o.Match.positions()
			switch c.b {
			case SkipScan:
				if v.Vouchers != 0 || w.alice.Stats().Vouchers != 0 {
					t.Fatalf("skip-scan sent vouchers: %+v", v)
				}
			case SyntheticOnly:
				// Every voucher matches: far more than an honest account's
				// synthetic rate allows, which the provider can notice.
				if v.Vouchers != n || v.Matches != n || v.Revealed != 0 {
					t.Fatalf("synthetic-only view %+v", v)
				}
			}
			// The same images from an honest client are detected.
			w.alice.SetBehaviour(Honest)
			for i := range th + 1 {
				w.send(t, img(f.data[i]))
			}
			if c.b == SkipScan && len(hashDetections(w.r)) != th+1 {
				t.Fatalf("honest sends after skip-scan: %d detections", len(hashDetections(w.r)))
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
	if honest.Root() == creeping.Root() {
		t.Fatal("root unchanged by the added target")
	}
	if honest.TableBytes() == creeping.TableBytes() {
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
	honest := NewMode(Options{List: claimed.hashes, Threshold: th, SyntheticRate: -1, TableFactor: 10})
	if ok, err := honest.Audit(claimed.hashes); err != nil || !ok {
		t.Fatalf("audit of an honest table failed: %v %v", ok, err)
	}
	if _, err := LoadTable(m.DeviceHoldings(), m.Root()); err != nil {
		t.Fatalf("a device refuses the overfitted table: %v", err)
	}
	w := newWorld(t, m)
	for range th + 1 {
		w.send(t, img(target.data[0]))
	}
	if v := w.srv.Account("alice"); v.Matches != th+1 || v.Revealed != 1 {
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
	// Chunk candidate rate: 32-bit chunks, 2^20 entries → about 2^-12.
	if got := ChunkCandidateRate(1<<20, 8); math.Abs(got-1.0/4096)/(1.0/4096) > 0.01 {
		t.Fatalf("ChunkCandidateRate = %g", got)
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
