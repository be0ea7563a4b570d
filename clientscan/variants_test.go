package clientscan

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"scanlab"
	"scanlab/clientscan/psi"
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

// TestChunksNearDuplicate: a near-duplicate at small distance (a
// re-encoded copy, and a list entry three bits away) is caught by chunks=K
// and missed by exact; the detection carries the full distance. Under
// chunks=K the device tests one chunk per image, so an image d bits away
// (in c ≤ d chunks) matches with probability (K−c)/K: the account is
// revealed after more than t matching images, and no earlier.
func TestChunksNearDuplicate(t *testing.T) {
	const th, k, maxImages = 2, 8, 40
	orig := newFixture(t, 1)
	noisy := testImage(1, 8) // the same picture, re-encoded with noise
	sc, err := perceptual.ScanImage(noisy)
	if err != nil {
		t.Fatal(err)
	}
	d := perceptual.Distance(sc.Hash, orig.hashes[0])
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
		{"match=exact/image=noisy-copy", MatchVariant{}, noisy, -1},
		{"match=exact/image=3-bits", MatchVariant{}, other.data[0], -1},
		{"match=exact/image=original", MatchVariant{}, orig.data[0], 0},
		{"match=chunks=8/image=original", MatchVariant{Chunks: k}, orig.data[0], 0},
		{"match=chunks=8/image=noisy-copy", MatchVariant{Chunks: k}, noisy, d},
		{"match=chunks=8/image=3-bits", MatchVariant{Chunks: k}, other.data[0], 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, fullMode(t, Options{List: list, Threshold: th, SyntheticRate: -1, Match: c.match}))
			var ids []string
			for range maxImages {
				ids = append(ids, w.send(t, img(c.image)))
				v := w.srv.Account("alice")
				// One voucher, at most one match, per image: t matching
				// images never reveal.
				if v.Vouchers != len(ids) || v.Matches > len(ids) || v.Revealed != (v.Matches > th) {
					t.Fatalf("after %d images: %+v", len(ids), v)
				}
				if v.Revealed || c.dist < 0 && len(ids) > th {
					break
				}
			}
			dets := hashDetections(w.r)
			v := w.srv.Account("alice")
			if c.dist < 0 {
				if len(dets) != 0 || v.Matches != 0 {
					t.Fatalf("detected: %v, view %+v", dets, v)
				}
				return
			}
			if !v.Revealed || len(dets) != v.Real || v.Real != th+1 {
				t.Fatalf("%d detections, view %+v after %d images", len(dets), v, len(ids))
			}
			if c.dist == 0 && len(ids) != th+1 {
				t.Fatalf("an exact copy needed %d images, want t+1 = %d", len(ids), th+1)
			}
			for id, det := range dets {
				if det.Distance != c.dist {
					t.Fatalf("%s: distance %d, want %d", id, det.Distance, c.dist)
				}
			}
			t.Logf("revealed after %d images, %d matched", len(ids), v.Matches)
		})
	}
}

// TestChunksOneBitPerImage: under chunks=K the provider learns one match
// bit per image below the threshold, as under exact, whatever the image:
// with K = 8 and t = 30, listed images (all of whose chunks are on the
// list) add at most one match each, like benign ones, and the provider's
// record of each envelope holds one voucher and one bit. Testing all K
// chunks per image would show a listed image as K matches.
func TestChunksOneBitPerImage(t *testing.T) {
	const th, k = 30, 8
	listed := newFixture(t, seeds(1, 5)...)
	benign := newFixture(t, seeds(100, 40)...)
	b := newBench(t, Options{List: listed.hashes, Threshold: th, SyntheticRate: -1, Match: MatchVariant{Chunks: k}})
	send := func(data []byte) int {
		before := b.srv.Account("alice").Matches
		if _, err := b.accept(b.seal(t, img(data))); err != nil {
			t.Fatal(err)
		}
		return b.srv.Account("alice").Matches - before
	}
	listedMatches := 0
	for _, d := range listed.data {
		added := send(d)
		if added != 1 {
			t.Fatalf("a listed image added %d matches, want 1 (every chunk is listed)", added)
		}
		listedMatches += added
	}
	for _, d := range benign.data {
		if added := send(d); added > 1 {
			t.Fatalf("a benign image added %d matches", added)
		}
	}
	ev, err := b.log.Open()
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	for _, e := range ev {
		if e.Route != RouteVouchers {
			continue
		}
		records++
		if _, err := psi.ParseVoucher(e.Data); err != nil {
			t.Fatalf("record of %s is not one voucher: %v", e.Fields["message"], err)
		}
		if m := e.Fields["matched"]; m != "true" && m != "false" {
			t.Fatalf("record of %s: matched = %q", e.Fields["message"], m)
		}
	}
	if v := b.srv.Account("alice"); records != len(listed.data)+len(benign.data) || v.Revealed || v.Matches < listedMatches {
		t.Fatalf("%d records, view %+v", records, v)
	}
}

// TestChunksFalseCandidate: list entries that share one whole chunk with an
// image's hash but are far from it in full distance match in the PSI, count
// towards the threshold and are opened, and the provider then drops them: no
// detection, but it saw their derivatives. Each image has, for every chunk,
// a list entry sharing that chunk alone, so whichever chunk the device
// tests matches.
func TestChunksFalseCandidate(t *testing.T) {
	const th, k = 2, 8
	f := newFixture(t, seeds(10, th+1)...)
	var list []perceptual.Hash
	for _, h := range f.hashes {
		for keep := range k {
			// Keep chunk keep (32 bits); flip 8 bits in each other chunk:
			// distance 56.
			var bits []int
			for c := range k {
				if c != keep {
					for i := range 8 {
						bits = append(bits, 32*c+4*i)
					}
				}
			}
			list = append(list, flip(h, bits...))
		}
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
	if v := w.srv.Account("alice"); !v.Revealed || v.Matches != th+1 {
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
			m := New(o)
			held := m.DeviceHoldings()
			if len(held) == 0 || !bytes.Equal(published(t, m).Bytes(), held) {
				t.Fatalf("holdings of %d bytes", len(held))
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
				if _, err := LoadTable(held, published(t, m).Root); err != nil {
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
	w := newWorld(t, fullMode(t, Options{List: f.hashes[:1], ListVariant: ListPlain}))
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
	w := newWorld(t, fullMode(t, Options{DeviceText: textscan.Rules(), SyntheticRate: -1}))
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

// TestOptionErrors: invalid options surface as ErrOption from Published,
// NewDevice and NewServer, never as a panic.
func TestOptionErrors(t *testing.T) {
	for name, o := range map[string]Options{
		"sealed-sender":      {E2EE: e2ee.Options{SealedSender: true}},
		"chunks=1":           {Match: MatchVariant{Chunks: 1}},
		"chunks=65":          {Match: MatchVariant{Chunks: 65}},
		"list-variant":       {ListVariant: "clear"},
		"synthetic-rate":     {SyntheticRate: 1},
		"second-hash-count":  {List: []perceptual.Hash{{1}}, Review: Review{Hashes: []perceptual.Hash{{1}, {2}}}},
		"review-error-above": {Review: Review{ErrorRate: 1.5}},
	} {
		t.Run("case="+name, func(t *testing.T) {
			m := New(o)
			if _, err := m.Published(); !errors.Is(err, ErrOption) {
				t.Fatalf("Published: %v", err)
			}
			if _, err := m.NewDevice("alice", e2ee.NewMemoryDirectory()); !errors.Is(err, ErrOption) {
				t.Fatalf("NewDevice: %v", err)
			}
			if _, err := m.NewServer(scanlab.ServerEnv{}); !errors.Is(err, ErrOption) {
				t.Fatalf("NewServer: %v", err)
			}
			if m.DeviceHoldings() != nil || m.Dropped() != 0 || m.OverfitPlaced() != 0 {
				t.Fatal("holdings after a failed setup")
			}
		})
	}
}

// TestMayMatch checks the harness oracle against what the provider really
// counts: an image it calls unmatchable never adds a match, under exact and
// chunk matching, and a listed image is always called matchable.
func TestMayMatch(t *testing.T) {
	f := newFixture(t, seeds(1, 12)...)
	for _, v := range []MatchVariant{{}, {Chunks: 4}, {Chunks: 8}} {
		t.Run("match="+v.String(), func(t *testing.T) {
			m := fullMode(t, Options{List: f.hashes[:3], Match: v, SyntheticRate: -1, Threshold: 50})
			for i, h := range f.hashes[:3] {
				if !m.MayMatch(h) {
					t.Errorf("listed hash %d: MayMatch false", i)
				}
			}
			w := newWorld(t, m)
			unmatchable := 0
			for i := 3; i < len(f.hashes); i++ {
				if m.MayMatch(f.hashes[i]) {
					continue
				}
				unmatchable++
				before := w.srv.Account("alice").Matches
				w.send(t, img(f.data[i]))
				if after := w.srv.Account("alice").Matches; after != before {
					t.Fatalf("image %d called unmatchable added a match", i)
				}
			}
			// A listed image adds one (no synthetic vouchers here, and under
			// chunks=K its tested chunk is the entry's own).
			before := w.srv.Account("alice").Matches
			w.send(t, img(f.data[0]))
			if w.srv.Account("alice").Matches != before+1 || unmatchable == 0 {
				t.Fatalf("listed image: matches %d → %d; %d unmatchable images tried", before, w.srv.Account("alice").Matches, unmatchable)
			}
		})
	}
}
