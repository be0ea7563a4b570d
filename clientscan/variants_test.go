package clientscan

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"scanlab"
	"scanlab/e2ee"
	"scanlab/perceptual"
	"scanlab/textscan"
)

// flip returns h with the given bits flipped.
func flip(h perceptual.Hash, bits ...int) perceptual.Hash {
	for _, b := range bits {
		h[b/8] ^= 1 << (7 - b%8)
	}
	return h
}

// TestChunksNearDuplicate: a near-duplicate at small distance (a re-encoded
// copy, and a list entry a few bits away) is caught by chunks=K and missed by
// exact; the detection carries the full distance.
func TestChunksNearDuplicate(t *testing.T) {
	const th, k = 2, 8
	orig := newFixture(t, 1)
	noisy := testImage(1, 8) // the same picture, re-encoded with noise
	nimg, err := perceptual.DecodeImage(noisy, 0)
	if err != nil {
		t.Fatal(err)
	}
	nh, _ := perceptual.PDQ(nimg)
	d := perceptual.Distance(nh, orig.hashes[0])
	if d == 0 || d >= k {
		t.Fatalf("near-duplicate at distance %d; the test needs 0 < d < %d", d, k)
	}
	// A second listed entry three bits (in three different chunks) from
	// another image's hash.
	other := newFixture(t, 2)
	crafted := flip(other.hashes[0], 40, 100, 200)
	list := []perceptual.Hash{orig.hashes[0], crafted}

	cases := []struct {
		name  string
		match MatchVariant
		image []byte
		dist  int // expected detection distance; -1 for none
	}{
		{"exact/noisy-copy", MatchVariant{}, noisy, -1},
		{"exact/3-bits", MatchVariant{}, other.data[0], -1},
		{"exact/original", MatchVariant{}, orig.data[0], 0},
		{"chunks=8/noisy-copy", MatchVariant{Chunks: k}, noisy, d},
		{"chunks=8/3-bits", MatchVariant{Chunks: k}, other.data[0], 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, fullMode(t, Options{List: list, Threshold: th, SyntheticRate: -1, Match: c.match}))
			var ids []string
			for i := range th + 1 {
				ids = append(ids, w.send(t, img(c.image)))
				// Each PSI position counts an image at most once, so t
				// images never reveal, however many chunks they match.
				if v := w.srv.Account("alice"); i < th && (v.Revealed != 0 || len(hashDetections(w.r)) != 0) {
					t.Fatalf("revealed after %d images: %+v", i+1, v)
				}
			}
			dets := hashDetections(w.r)
			if c.dist < 0 {
				if len(dets) != 0 {
					t.Fatalf("detected: %v", dets)
				}
				if v := w.srv.Account("alice"); v.Matches != 0 {
					t.Fatalf("account view %+v", v)
				}
				return
			}
			if len(dets) != th+1 {
				t.Fatalf("%d detections, want %d", len(dets), th+1)
			}
			for _, id := range ids {
				if dets[id].Distance != c.dist {
					t.Fatalf("%s: distance %d, want %d", id, dets[id].Distance, c.dist)
				}
			}
			if got := w.alice.Stats().Vouchers; got != (th+1)*c.match.positions() {
				t.Fatalf("%d vouchers for %d images", got, th+1)
			}
		})
	}
}

// TestChunksFalseCandidate: list entries that share one whole chunk with an
// image's hash but are far from it in full distance match in the PSI, count
// towards the threshold and are opened, and the provider then drops them: no
// detection, but it saw their derivatives.
func TestChunksFalseCandidate(t *testing.T) {
	const th, k = 2, 8
	f := newFixture(t, seeds(10, th+1)...)
	var list []perceptual.Hash
	for _, h := range f.hashes {
		// Keep chunk 0 (bits 0..31), flip 56 bits spread over chunks 1..7:
		// distance 56.
		var bits []int
		for i := range 56 {
			bits = append(bits, 32+i*4)
		}
		list = append(list, flip(h, bits...))
	}
	w := newWorld(t, fullMode(t, Options{List: list, Threshold: th, SyntheticRate: -1, Match: MatchVariant{Chunks: k}}))
	for i := range f.data {
		w.send(t, img(f.data[i]))
	}
	if d := hashDetections(w.r); len(d) != 0 {
		t.Fatalf("false candidates detected: %v", d)
	}
	st := w.srv.Stats()
	if st.FalseCandidates != th+1 || st.Opened != th+1 || st.Detections != 0 {
		t.Fatalf("stats %+v", st)
	}
	if v := w.srv.Account("alice"); v.Revealed != 1 || v.Matches != th+1 {
		t.Fatalf("account view %+v", v)
	}
	for i := range f.data {
		ev := w.view.holds(t, f.derivative[i])
		if len(ev) != 1 || ev[0].Route != RouteCandidate || ev[0].Fields["verdict-message"] != "" {
			t.Fatalf("candidate %d in the provider's view: %+v", i, ev)
		}
	}
}

// TestDeviceHoldings: the plain variant ships every list entry; the PSI
// table holds none of them, in hex or raw.
func TestDeviceHoldings(t *testing.T) {
	f := newFixture(t, seeds(1, 20)...)
	for _, c := range []struct {
		name  string
		opts  Options
		plain bool
	}{
		{"plain", Options{ListVariant: ListPlain}, true},
		{"psi/exact", Options{}, false},
		{"psi/chunks=8", Options{Match: MatchVariant{Chunks: 8}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.opts
			o.List = f.hashes
			m := NewMode(o)
			held := m.DeviceHoldings()
			if len(held) == 0 || m.TableBytes() != len(held) {
				t.Fatalf("holdings of %d bytes, TableBytes %d", len(held), m.TableBytes())
			}
			for i, h := range f.hashes {
				hexIn := bytes.Contains(held, []byte(h.String()))
				rawIn := bytes.Contains(held, h[:])
				if c.plain && !hexIn {
					t.Fatalf("plain holdings lack entry %d", i)
				}
				if !c.plain && (hexIn || rawIn || bytes.Contains(held, []byte(hex.EncodeToString(h[:8])))) {
					t.Fatalf("table bytes hold entry %d", i)
				}
			}
			if !c.plain {
				if _, err := LoadTable(held, m.Root()); err != nil {
					t.Fatalf("shipped table does not load: %v", err)
				}
			}
		})
	}
}

// TestPlainListThroughRelay: the naive variant reports a match at once, with
// no threshold, so the provider sees the first matching image's derivative.
func TestPlainListThroughRelay(t *testing.T) {
	f := newFixture(t, 1, 2)
	w := newWorld(t, NewMode(Options{List: f.hashes[:1], ListVariant: ListPlain}))
	near := w.send(t, img(testImage(1, 8)))
	benign := w.send(t, img(f.data[1]))
	dets := hashDetections(w.r)
	if len(dets) != 1 || dets[near].Distance <= 0 || dets[near].Distance > perceptual.MatchThreshold {
		t.Fatalf("detections %v", dets)
	}
	if _, ok := dets[benign]; ok {
		t.Fatal("benign image detected")
	}
	if ev := w.view.routes(t, RoutePlainReport); len(ev) != 1 || ev[0].Fields["verdict-message"] != near {
		t.Fatalf("plain reports in the view: %+v", ev)
	}
	if ev := w.view.routes(t, RoutePlainList); len(ev) != 1 {
		t.Fatal("plain list not in the provider's view")
	}
	if len(w.view.holds(t, f.derivative[1])) != 0 {
		t.Fatal("benign derivative reported")
	}
}

// TestDeviceText: the device's verdict bit reaches the provider in the clear
// for every text; harmful verdicts raise device-text detections.
func TestDeviceText(t *testing.T) {
	w := newWorld(t, NewMode(Options{DeviceText: textscan.Rules(), SyntheticRate: -1}))
	cases := []struct {
		text    string
		harmful bool
	}{
		{"see you at practice tomorrow", false},
		{"this workout will kill me", false},
		{"you should just kill yourself", true},
	}
	ids := map[string]bool{}
	for _, c := range cases {
		ids[w.send(t, txt(c.text))] = c.harmful
	}
	var flagged []string
	for _, d := range w.r.Detections() {
		if d.Pathway == scanlab.DeviceText {
			flagged = append(flagged, d.MessageID)
		}
	}
	if len(flagged) != 1 || !ids[flagged[0]] {
		t.Fatalf("device-text detections %v", flagged)
	}
	ev := w.view.routes(t, RouteTextVerdict)
	if len(ev) != len(cases) {
		t.Fatalf("%d verdicts in the provider's view", len(ev))
	}
	for _, e := range ev {
		if want := ids[e.Fields["verdict-message"]]; (e.Fields["verdict"] == "1") != want {
			t.Fatalf("verdict record %+v", e.Fields)
		}
	}
	for _, c := range cases {
		if len(w.view.holds(t, []byte(c.text))) != 0 {
			t.Fatalf("text %q in the provider's view", c.text)
		}
	}
	if st := w.alice.Stats(); st.Verdicts != 3 || st.Harmful != 1 {
		t.Fatalf("device stats %+v", st)
	}
	// Modified clients: one attaches nothing, the other a "harmless" verdict.
	for _, b := range []Behaviour{SkipScan, SyntheticOnly} {
		w.alice.SetBehaviour(b)
		w.send(t, txt("you should just kill yourself"))
	}
	if n := len(w.view.routes(t, RouteTextVerdict)); n != len(cases)+1 {
		t.Fatalf("%d verdicts after the modified clients' texts", n)
	}
	n := 0
	for _, d := range w.r.Detections() {
		if d.Pathway == scanlab.DeviceText {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d device-text detections, want only the honest one", n)
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"exact", "exact", true}, {"", "exact", true}, {"chunks=8", "chunks=8", true},
		{"chunks=64", "chunks=64", true}, {"chunks=1", "", false}, {"chunks=65", "", false},
		{"chunks=x", "", false}, {"fuzzy", "", false},
	} {
		v, err := ParseMatch(c.in)
		if (err == nil) != c.ok || (c.ok && v.String() != c.want) {
			t.Errorf("ParseMatch(%q) = %v, %v", c.in, v, err)
		}
	}
	for _, c := range []struct {
		in string
		ok bool
	}{{"psi", true}, {"plain", true}, {"", true}, {"clear", false}} {
		if _, err := ParseList(c.in); (err == nil) != c.ok {
			t.Errorf("ParseList(%q): %v", c.in, err)
		}
	}
}

// TestChunkElements checks the pigeonhole guarantee on the elements
// themselves: a hash within distance K−1 of an entry shares at least one
// chunk element with it, and chunks of different positions never collide.
func TestChunkElements(t *testing.T) {
	f := newFixture(t, 3)
	h := f.hashes[0]
	for _, k := range []int{2, 3, 8, 10, 64} {
		// Flip k−1 bits spread over the hash: worst case for the guarantee.
		var bits []int
		for i := range k - 1 {
			bits = append(bits, (i*perceptual.Bits)/k+1)
		}
		g := flip(h, bits...)
		shared, seen := 0, map[string]bool{}
		for i := range k {
			a, b := chunkElement(h, i, k), chunkElement(g, i, k)
			if bytes.Equal(a, b) {
				shared++
			}
			if seen[string(a)] {
				t.Fatalf("k=%d: repeated element", k)
			}
			seen[string(a)] = true
		}
		if shared < 1 {
			t.Fatalf("k=%d: no shared chunk at distance %d", k, k-1)
		}
		// Flipping one bit in every chunk defeats chunk matching.
		var all []int
		for i := range k {
			all = append(all, (i*perceptual.Bits)/k)
		}
		g = flip(h, all...)
		for i := range k {
			if bytes.Equal(chunkElement(h, i, k), chunkElement(g, i, k)) {
				t.Fatalf("k=%d: chunk %d matches after a flip inside it", k, i)
			}
		}
	}
	if !strings.HasPrefix(string(chunkElement(h, 0, 8)), "c\x08\x00") {
		t.Fatal("chunk element prefix")
	}
}

// TestOptionErrors: invalid options surface as ErrOption from Setup, from
// NewClient and from NewProvider, never as a panic.
func TestOptionErrors(t *testing.T) {
	for name, o := range map[string]Options{
		"sealed-sender":  {E2EE: e2ee.Options{SealedSender: true}},
		"chunks=1":       {Match: MatchVariant{Chunks: 1}},
		"chunks=65":      {Match: MatchVariant{Chunks: 65}},
		"list-variant":   {ListVariant: "clear"},
		"synthetic-rate": {SyntheticRate: 1},
	} {
		t.Run(name, func(t *testing.T) {
			m := NewMode(o)
			if err := m.Setup(); !errors.Is(err, ErrOption) {
				t.Fatalf("Setup: %v", err)
			}
			if _, err := m.NewDevice("alice", e2ee.NewMemoryDirectory()); !errors.Is(err, ErrOption) {
				t.Fatalf("NewDevice: %v", err)
			}
			if _, err := m.NewServer(scanlab.ServerEnv{}); !errors.Is(err, ErrOption) {
				t.Fatalf("NewServer: %v", err)
			}
			if m.DeviceHoldings() != nil || m.TableBytes() != 0 {
				t.Fatal("holdings after a failed setup")
			}
		})
	}
}
