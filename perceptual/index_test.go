package perceptual

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func randomHash(rng *rand.Rand) Hash {
	var h Hash
	for i := 0; i < Size; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			h[i+j] = byte(v >> (8 * j))
		}
	}
	return h
}

// flip returns h with the given bits inverted.
func flip(h Hash, bitsToFlip []int) Hash {
	for _, k := range bitsToFlip {
		h[Size-1-k>>3] ^= 1 << (k & 7)
	}
	return h
}

// nearBy returns a hash exactly d bits from h. spread chooses where the
// flipped bits go: "random" anywhere; "even" as evenly as possible across
// the 16 slots (r+1 bits in as many slots as possible, the tight case of
// the pigeonhole argument); "packed" filling slot after slot.
func nearBy(rng *rand.Rand, h Hash, d int, spread string) Hash {
	var ks []int
	switch spread {
	case "random":
		ks = rng.Perm(Bits)[:d]
	case "even":
		offs := make([][]int, numSlots)
		for s := range offs {
			offs[s] = rng.Perm(slotBits)
		}
		first := rng.IntN(numSlots)
		for i := 0; i < d; i++ {
			s := (first + i) % numSlots
			ks = append(ks, s*slotBits+offs[s][i/numSlots])
		}
	case "packed":
		first := rng.IntN(Bits)
		for i := 0; i < d; i++ {
			ks = append(ks, (first+i)%Bits)
		}
	}
	return flip(h, ks)
}

// plantedList returns n random hashes, a query and, mixed in at random
// places, near-duplicates of the query at every distance 0..maxD with
// every spread.
func plantedList(seed uint64, n, maxD int) (entries []Hash, q Hash) {
	rng := rand.New(rand.NewPCG(seed, 1))
	q = randomHash(rng)
	entries = make([]Hash, 0, n)
	for range n {
		entries = append(entries, randomHash(rng))
	}
	for d := 0; d <= maxD; d++ {
		for _, spread := range []string{"random", "even", "packed"} {
			entries = slices.Insert(entries, rng.IntN(len(entries)+1), nearBy(rng, q, d, spread))
		}
	}
	return entries, q
}

func TestNearBy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	q := randomHash(rng)
	for _, spread := range []string{"random", "even", "packed"} {
		for d := 0; d <= Bits; d += 17 {
			if got := Distance(q, nearBy(rng, q, d, spread)); got != d {
				t.Errorf("spread=%s/d=%d: distance %d", spread, d, got)
			}
		}
	}
}

// TestIndexMatchesLinear is the property test: for random lists and
// queries with planted near-duplicates at distances 0..threshold and just
// above, the index returns exactly what the linear scan returns.
func TestIndexMatchesLinear(t *testing.T) {
	sizes := []int{0, 1, 50, 1000, 5000}
	if !testing.Short() && !raceEnabled {
		sizes = append(sizes, 30000, 200000)
	}
	thresholds := []int{-1, 0, 1, 10, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 100, 256}
	for _, n := range sizes {
		for _, th := range thresholds {
			t.Run(fmt.Sprintf("n=%d/t=%d", n, th), func(t *testing.T) {
				maxD := min(max(th, 0)+3, Bits)
				entries, q := plantedList(uint64(n*1000+th+1), n, maxD)
				ix := NewIndex(entries)
				want := Linear(entries, q, th)
				got := ix.Match(q, th)
				if !slices.Equal(got, want) {
					t.Fatalf("index found %d matches, linear %d\nindex  %v\nlinear %v", len(got), len(want), got, want)
				}
				if lin := ix.MatchLinear(q, th); !slices.Equal(lin, want) {
					t.Fatalf("MatchLinear differs from Linear")
				}
				// Every planted entry at distance ≤ threshold must be
				// found: 3 spreads × (threshold+1) distances at least.
				if th >= 0 && len(want) < 3*(th+1) {
					t.Fatalf("only %d matches for threshold %d", len(want), th)
				}
				// Random unrelated queries too.
				rng := rand.New(rand.NewPCG(uint64(n), uint64(th+7)))
				for range 5 {
					q := randomHash(rng)
					if got, want := ix.Match(q, th), Linear(entries, q, th); !slices.Equal(got, want) {
						t.Fatalf("random query: index %v, linear %v", got, want)
					}
				}
			})
		}
	}
}

// TestIndexDuplicates: equal entries are all reported, each once.
func TestIndexDuplicates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	h := randomHash(rng)
	entries := []Hash{h, randomHash(rng), h, nearBy(rng, h, 1, "random"), h}
	for range 5000 {
		entries = append(entries, randomHash(rng))
	}
	got := NewIndex(entries).Match(h, MatchThreshold)
	want := []Match{{0, 0}, {2, 0}, {4, 0}, {3, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestAppendMatchesKeepsPrefix(t *testing.T) {
	entries, q := plantedList(9, 5000, 31)
	ix := NewIndex(entries)
	prefix := []Match{{-1, 999}}
	got := ix.AppendMatches(prefix, q, 31)
	if got[0] != prefix[0] || !slices.Equal(got[1:], Linear(entries, q, 31)) {
		t.Errorf("AppendMatches changed or mis-sorted: %v", got[:3])
	}
}

func TestDistance(t *testing.T) {
	var zero, ones Hash
	for i := range ones {
		ones[i] = 0xff
	}
	tests := []struct {
		a, b Hash
		want int
	}{
		{zero, zero, 0}, {zero, ones, 256}, {ones, ones, 0},
		{zero, flip(zero, []int{0}), 1}, {zero, flip(zero, []int{255}), 1},
		{zero, flip(zero, []int{0, 63, 64, 127, 128, 191, 192, 255}), 8},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%v, %v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// The benchmark list: 10⁶ random hashes with 1,000 near-duplicates of the
// query planted at distances 0..31, built once.
var (
	benchOnce    sync.Once
	benchEntries []Hash
	benchQuery   Hash
	benchIndex   *Index
)

func benchList(b *testing.B) {
	benchOnce.Do(func() {
		rng := rand.New(rand.NewPCG(2026, 11))
		benchQuery = randomHash(rng)
		benchEntries = make([]Hash, 1_000_000)
		for i := range benchEntries {
			benchEntries[i] = randomHash(rng)
		}
		spreads := []string{"random", "even", "packed"}
		for i, pos := range rng.Perm(len(benchEntries))[:1000] {
			benchEntries[pos] = nearBy(rng, benchQuery, i%32, spreads[i%3])
		}
		benchIndex = NewIndex(benchEntries)
	})
	got, want := benchIndex.Match(benchQuery, MatchThreshold), benchIndex.MatchLinear(benchQuery, MatchThreshold)
	if !slices.Equal(got, want) || len(want) < 1000 {
		b.Fatalf("index %d matches, linear %d", len(got), len(want))
	}
}

// BenchmarkMatchIndex1M: one query against 10⁶ hashes, threshold 31.
func BenchmarkMatchIndex1M(b *testing.B) {
	benchList(b)
	b.ReportAllocs()
	var buf []Match
	for b.Loop() {
		buf = benchIndex.AppendMatches(buf[:0], benchQuery, MatchThreshold)
	}
}

// BenchmarkMatchLinear1M: the same query by a linear scan of the same
// packed hashes.
func BenchmarkMatchLinear1M(b *testing.B) {
	benchList(b)
	b.ReportAllocs()
	var buf []Match
	for b.Loop() {
		buf = benchIndex.AppendLinear(buf[:0], benchQuery, MatchThreshold)
	}
}

// TestIndexConcurrent: one index serves concurrent queries (run with
// -race).
func TestIndexConcurrent(t *testing.T) {
	entries, q := plantedList(77, 5000, 40)
	ix := NewIndex(entries)
	want := Linear(entries, q, MatchThreshold)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for range 5 {
				if got := ix.Match(q, MatchThreshold); !slices.Equal(got, want) {
					errs <- fmt.Sprintf("goroutine %d: %d matches, want %d", g, len(got), len(want))
					return
				}
				r := randomHash(rng)
				if got := ix.Match(r, 40); !slices.Equal(got, Linear(entries, r, 40)) {
					errs <- fmt.Sprintf("goroutine %d: random query differs", g)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// benchQueries are unrelated queries (no near-duplicate in the list, the
// common case for a scanner), cycled so each iteration starts cold.
var benchQueries = func() []Hash {
	rng := rand.New(rand.NewPCG(7, 7))
	qs := make([]Hash, 1024)
	for i := range qs {
		qs[i] = randomHash(rng)
	}
	return qs
}()

// BenchmarkMatchIndex1MRandomQueries: distinct random queries against the
// 10⁶-entry list, threshold 31.
func BenchmarkMatchIndex1MRandomQueries(b *testing.B) {
	benchList(b)
	var buf []Match
	i := 0
	for b.Loop() {
		buf = benchIndex.AppendMatches(buf[:0], benchQueries[i%len(benchQueries)], MatchThreshold)
		i++
	}
}

// BenchmarkMatchLinear1MRandomQueries is its linear-scan counterpart.
func BenchmarkMatchLinear1MRandomQueries(b *testing.B) {
	benchList(b)
	var buf []Match
	i := 0
	for b.Loop() {
		buf = benchIndex.AppendLinear(buf[:0], benchQueries[i%len(benchQueries)], MatchThreshold)
		i++
	}
}

// BenchmarkNewIndex1M builds the index over 10⁶ hashes.
func BenchmarkNewIndex1M(b *testing.B) {
	benchList(b)
	for b.Loop() {
		NewIndex(benchEntries)
	}
}
