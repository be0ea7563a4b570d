package perceptual

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
)

// Match is one list entry found near a query.
type Match struct {
	Entry    int // position of the entry in the list the index was built from
	Distance int // Hamming distance from the query, in bits
}

// compareMatches orders matches by distance, then by entry.
func compareMatches(a, b Match) int {
	if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
		return c
	}
	return cmp.Compare(a.Entry, b.Entry)
}

// Linear returns every entry within threshold bits of q (distance ≤
// threshold), ordered by distance and then entry, by comparing q with each
// entry in turn. It is the reference against which [Index] is tested.
func Linear(entries []Hash, q Hash, threshold int) []Match {
	var ms []Match
	for i, e := range entries {
		if d := Distance(q, e); d <= threshold {
			ms = append(ms, Match{i, d})
		}
	}
	slices.SortFunc(ms, compareMatches)
	return ms
}

// The index splits the 256 bits into slots of slotBits consecutive bits:
// slot s holds bits 16s..16s+15 in the PDQ reference's numbering, word
// w[s] of the reference's Hash256.
const (
	numSlots = 16
	slotBits = Bits / numSlots
	slotVals = 1 << slotBits
	// maxRadius is the largest per-slot search radius the index
	// enumerates: radius 2 covers thresholds up to 47, the range Meta's
	// multi-index design (pdq/README-MIH.md) searches exactly. Beyond it
	// the number of probes (697 or more per slot) makes a scan cheaper.
	maxRadius = 2
)

// slotMasks lists the 16-bit masks of popcount 0, 1, ..., maxRadius in that
// order; radiusEnd[r] is the number of masks of popcount ≤ r.
var slotMasks, radiusEnd = func() ([]uint16, [maxRadius + 1]int) {
	var masks []uint16
	var end [maxRadius + 1]int
	for r := 0; r <= maxRadius; r++ {
		for m := 0; m < slotVals; m++ {
			if bits.OnesCount16(uint16(m)) == r {
				masks = append(masks, uint16(m))
			}
		}
		end[r] = len(masks)
	}
	return masks, end
}()

// Index finds every entry of a fixed list of hashes within a Hamming
// distance of a query, with the same results as [Linear] but without
// comparing the query to every entry (multi-index hashing: Norouzi,
// Punjani and Fleet, "Fast Search in Hamming Space with Multi-Index
// Hashing", CVPR 2012; the 16 × 16-bit layout of Meta's
// pdq/README-MIH.md).
//
// # How it works, and why it is exact
//
// The 256 bits are cut into 16 disjoint slots of 16 bits. For each slot
// the index keeps every entry in a bucket by its value in that slot (a
// counting sort: an offset table of 65,537 entries and an array of bucket
// records).
//
// Claim: if d(q, e) ≤ t, then some slot s has d_s(q, e) ≤ r = ⌊t/16⌋, where
// d_s counts the differing bits inside slot s. Proof: the slots partition
// the bits, so d(q, e) = Σ_s d_s(q, e). If every slot had d_s ≥ r+1, the
// sum would be at least 16(r+1) > t, because r+1 > t/16 by the definition
// of the floor; a contradiction. (For Meta's threshold t = 31, r = 1: a
// match is within one bit of the query on some slot. It need not agree
// exactly on any slot, since 16 slots × 2 bits = 32 > 31.)
//
// Search: for each slot s and each 16-bit mask m of popcount ≤ r, the
// bucket of value q_s ⊕ m is read. An entry e with d_s ≤ r lies in the
// bucket of mask m = q_s ⊕ e_s, which is probed, so by the claim every
// match is a candidate. Then, for each candidate:
//
//  1. A lower bound: the bucket record carries 96 other bits of the entry
//     (the 64-bit word after the slot's word and half of the next), and
//     the distance counted on those bits alone is at most the full
//     distance. If it exceeds t the candidate cannot match and is dropped.
//     A random entry passes with probability P(Binomial(96, ½) ≤ 31) ≈
//     4·10⁻⁴, so almost every unrelated candidate is rejected from the
//     bucket record itself, read sequentially, without touching the entry's
//     hash elsewhere in memory: that random access is what dominates a
//     plain multi-index search.
//  2. De-duplication: a near-duplicate is usually a candidate in several
//     slots; a per-query bitmap makes sure each entry is verified once.
//  3. Verification with the full 256-bit distance, so there are no false
//     positives.
//
// Results are sorted by distance, then entry, as [Linear]'s.
//
// Cost: 16·Σ_{k≤r} C(16,k) probes (16 for t < 16, 272 for t < 32, 2,192
// for t < 48), each reading about n/65,536 records for n random entries.
// For t ≥ 48, or when that estimate reaches the list size, Match falls
// back to a linear scan, which is then cheaper; results are exact either
// way.
//
// Memory: 16 bytes per entry per slot plus 32 for the hash, 288 bytes per
// entry, and 4 MiB of offset tables: about 300 MB for 10⁶ entries and 3 GB
// for 10⁷ (the price of step 1). The entry count must fit in 32 bits.
//
// An Index is immutable and safe for concurrent use.
type Index struct {
	words   [][4]uint64        // entry hashes; words[i][k] holds bits 64k..64k+63
	starts  [numSlots][]uint32 // bucket v of slot s is records[s][starts[s][v]:starts[s][v+1]]
	records [numSlots][]bucketRecord
}

// bucketRecord is one entry in one slot's bucket: the entry number and 96
// bits of the entry outside the slot, for the lower bound of step 1.
type bucketRecord struct {
	word uint64 // word (s/4+1) mod 4 of the entry
	half uint32 // the low half of word (s/4+2) mod 4
	id   uint32
}

// otherWords returns which words of a hash slot s's records carry: all of
// word a and the low half of word b.
func otherWords(s int) (a, b int) {
	k := s >> 2
	return (k + 1) & 3, (k + 2) & 3
}

// slot returns the 16-bit value of slot s of a hash given as words.
func slot(w *[4]uint64, s int) uint16 { return uint16(w[s>>2] >> (16 * (s & 3))) }

// NewIndex builds an index over entries. The index keeps its own copy; the
// numbers in a [Match] are positions in entries. It panics if there are 2³²
// or more entries.
func NewIndex(entries []Hash) *Index {
	if uint64(len(entries)) >= math.MaxUint32 {
		panic("perceptual: too many entries for an index")
	}
	ix := &Index{words: make([][4]uint64, len(entries))}
	for i := range entries {
		ix.words[i] = entries[i].words()
	}
	next := make([]uint32, slotVals)
	for s := 0; s < numSlots; s++ {
		starts := make([]uint32, slotVals+1)
		for i := range ix.words {
			starts[int(slot(&ix.words[i], s))+1]++
		}
		for v := 1; v <= slotVals; v++ {
			starts[v] += starts[v-1]
		}
		recs := make([]bucketRecord, len(entries))
		copy(next, starts[:slotVals])
		a, b := otherWords(s)
		for i := range ix.words {
			w := &ix.words[i]
			v := slot(w, s)
			recs[next[v]] = bucketRecord{word: w[a], half: uint32(w[b]), id: uint32(i)}
			next[v]++
		}
		ix.starts[s], ix.records[s] = starts, recs
	}
	return ix
}

// Len returns the number of entries.
func (ix *Index) Len() int { return len(ix.words) }

// Match returns every entry within threshold bits of q (distance ≤
// threshold), ordered by distance and then entry: exactly what [Linear]
// returns for the same entries. A negative threshold matches nothing.
func (ix *Index) Match(q Hash, threshold int) []Match {
	return ix.AppendMatches(nil, q, threshold)
}

// AppendMatches is [Index.Match] appending to dst, so a caller can reuse
// one slice across queries. Only the appended part is sorted.
func (ix *Index) AppendMatches(dst []Match, q Hash, threshold int) []Match {
	if threshold < 0 {
		return dst
	}
	r := threshold / numSlots
	if r > maxRadius || numSlots*radiusEnd[r]*(len(ix.words)/slotVals+1) >= len(ix.words) {
		return ix.AppendLinear(dst, q, threshold)
	}
	qw := q.words()
	masks := slotMasks[:radiusEnd[r]]
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	seen := sc.seenFor(len(ix.words))
	verified := sc.verified[:0]
	keys := sc.keys[:0]
	// Look up every bucket first, then touch the first record of each, and
	// only then scan them: the lookups of a cold query are cache misses,
	// and issuing them in independent batches lets the processor overlap
	// them instead of waiting for each in turn.
	spans := sc.spans[:0]
	for s := 0; s < numSlots; s++ {
		qs := slot(&qw, s)
		starts := ix.starts[s]
		for _, m := range masks {
			v := int(qs ^ m)
			spans = append(spans, span{starts[v], starts[v+1]})
		}
	}
	sc.spans = spans
	var touch uint32
	for i, sp := range spans {
		if sp.lo < sp.hi {
			touch ^= ix.records[i/len(masks)][sp.lo].id
		}
	}
	touchSink.Store(touch)
	for i, sp := range spans {
		s := i / len(masks)
		a, b := otherWords(s)
		qa, qb := qw[a], uint32(qw[b])
		for _, rec := range ix.records[s][sp.lo:sp.hi] {
			if bits.OnesCount64(qa^rec.word)+bits.OnesCount32(qb^rec.half) > threshold {
				continue // step 1
			}
			id := rec.id
			if seen[id>>6]>>(id&63)&1 != 0 {
				continue // step 2
			}
			seen[id>>6] |= 1 << (id & 63)
			verified = append(verified, id)
		}
	}
	// Step 3 in a loop of its own, so the loads of the candidates' hashes
	// are independent of each other and overlap.
	for _, id := range verified {
		ew := &ix.words[id]
		d := bits.OnesCount64(qw[0]^ew[0]) + bits.OnesCount64(qw[1]^ew[1]) +
			bits.OnesCount64(qw[2]^ew[2]) + bits.OnesCount64(qw[3]^ew[3])
		if d <= threshold {
			keys = append(keys, uint64(d)<<32|uint64(id))
		}
	}
	for _, id := range verified {
		seen[id>>6] = 0 // restore the all-clear invariant
	}
	sc.verified, sc.keys = verified, keys
	sc.tmp = grow(sc.tmp, len(keys))
	return appendSorted(dst, keys, sc.tmp)
}

// touchSink keeps the touching loop of AppendMatches from being removed.
var touchSink atomic.Uint32

// span bounds one bucket in a slot's records.
type span struct{ lo, hi uint32 }

// scratch is the per-query working space of a search.
type scratch struct {
	spans    []span   // the buckets to scan
	seen     []uint64 // a bit per entry, all clear between queries
	verified []uint32 // the entries whose bit is set
	keys     []uint64 // matches as distance<<32 | entry
	tmp      []uint64 // room to sort keys
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// seenFor returns an all-clear bitmap of at least n bits.
func (sc *scratch) seenFor(n int) []uint64 {
	if w := (n + 63) / 64; len(sc.seen) < w {
		sc.seen = make([]uint64, w)
	}
	return sc.seen
}

// appendSorted sorts keys (distance<<32 | entry) and appends them to dst
// as matches, in the order of compareMatches. Many keys are first
// distributed by distance into tmp (a counting sort; distances are at most
// 256), so only the entries within each distance remain to be sorted.
func appendSorted(dst []Match, keys, tmp []uint64) []Match {
	if len(keys) >= 64 && len(tmp) >= len(keys) {
		var at [Bits + 2]int
		for _, k := range keys {
			at[k>>32+1]++
		}
		for d := 1; d < len(at); d++ {
			at[d] += at[d-1]
		}
		for _, k := range keys {
			tmp[at[k>>32]] = k
			at[k>>32]++
		}
		lo := 0 // at[d] is now the end of distance d's run
		for d := 0; d <= Bits && lo < len(keys); d++ {
			slices.Sort(tmp[lo:at[d]])
			lo = at[d]
		}
		keys = tmp[:len(keys)]
	} else {
		slices.Sort(keys)
	}
	dst = slices.Grow(dst, len(keys))
	for _, k := range keys {
		dst = append(dst, Match{Entry: int(uint32(k)), Distance: int(k >> 32)})
	}
	return dst
}

// MatchLinear returns what [Index.Match] returns, by comparing q with
// every entry. It is the fair baseline for the index: the same packed
// hashes, no index.
func (ix *Index) MatchLinear(q Hash, threshold int) []Match {
	return ix.AppendLinear(nil, q, threshold)
}

// AppendLinear is [Index.MatchLinear] appending to dst.
func (ix *Index) AppendLinear(dst []Match, q Hash, threshold int) []Match {
	if threshold < 0 {
		return dst
	}
	qw := q.words()
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	keys := sc.keys[:0]
	for i := range ix.words {
		ew := &ix.words[i]
		d := bits.OnesCount64(qw[0]^ew[0]) + bits.OnesCount64(qw[1]^ew[1]) +
			bits.OnesCount64(qw[2]^ew[2]) + bits.OnesCount64(qw[3]^ew[3])
		if d <= threshold {
			keys = append(keys, uint64(d)<<32|uint64(i))
		}
	}
	sc.keys = keys
	sc.tmp = grow(sc.tmp, len(keys))
	return appendSorted(dst, keys, sc.tmp)
}
