package falsematch

import (
	"bytes"
	"crypto/sha256"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"scanlab/corpus"
	"scanlab/perceptual"
)

// Stream is the purpose name of the generated benign images:
// image i is corpus.GenerateImage(corpus.ImageStream(seed, Stream, i),
// corpus.DefaultMinSide, corpus.DefaultMaxSide).
const Stream = "falsematch/benign"

// tally is what the generated benign images add up to. Images are counted
// as they are drawn and then dropped, so memory stays flat however many
// are drawn (16 bytes per image for the distinctness check).
type tally struct {
	nearest, nearestDih, pairs histogram
	// matcherHits counts the images perceptual.Matcher finds within
	// the threshold of some entry: a second count of nearest.atMost(31).
	matcherHits int64
}

// add counts one image: its eight dihedral hashes and its quality. Images
// below perceptual.MinQuality are left out, as scanners leave them out.
func (t *tally) add(d perceptual.Dihedral, quality int, list []listEntry, m *perceptual.Matcher) {
	if quality < perceptual.MinQuality {
		return
	}
	best, bestDih := perceptual.Bits, perceptual.Bits
	for _, e := range list {
		dist := perceptual.Distance(d[perceptual.Original], e.Hash)
		t.pairs[dist]++
		best = min(best, dist)
		dm, _ := d.MinDistance(e.Hash)
		bestDih = min(bestDih, dm)
	}
	t.nearest[best]++
	t.nearestDih[bestDih]++
	if _, ok := m.Nearest(perceptual.MatchThreshold, d[perceptual.Original]); ok {
		t.matcherHits++
	}
}

// merge adds o's counts to t.
func (t *tally) merge(o *tally) {
	for d := range t.nearest {
		t.nearest[d] += o.nearest[d]
		t.nearestDih[d] += o.nearestDih[d]
		t.pairs[d] += o.pairs[d]
	}
	t.matcherHits += o.matcherHits
}

// generated is the tally of the generated benign images.
type generated struct {
	tally
	distinct int // images with distinct pixels
}

// listMatcher indexes the list for perceptual.Matcher, the lookup every
// scanner uses.
func listMatcher(list []listEntry) *perceptual.Matcher {
	hashes := make([]perceptual.Hash, len(list))
	for i, e := range list {
		hashes[i] = e.Hash
	}
	return perceptual.NewMatcherOf(hashes, nil)
}

// progressEvery is how many progress reports a measurement makes at most.
const progressEvery = 200

// generateBenign draws n images from the seed's stream, hashes them and
// tallies their distances to the list on cfg.Workers goroutines (0: one per
// CPU). Image i depends only on (seed, i) and the tallies are sums, so the
// result does not depend on the number of workers.
func generateBenign(cfg Config, n int, list []listEntry) *generated {
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	m := listMatcher(list)
	sums := make([][16]byte, n) // a SHA-256 prefix of each image's pixels
	parts := make([]tally, workers)
	var next, done atomic.Int64
	step := int64(max(1, n/progressEvery))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				img := corpus.GenerateImage(corpus.ImageStream(cfg.Seed, Stream, i), corpus.DefaultMinSide, corpus.DefaultMaxSide)
				d, q := perceptual.PDQDihedral(img)
				parts[w].add(d, q, list, m)
				sum := sha256.Sum256(img.Pix)
				copy(sums[i][:], sum[:])
				if k := done.Add(1); cfg.Progress != nil && (k%step == 0 || k == int64(n)) {
					cfg.Progress(int(k), n)
				}
			}
		})
	}
	wg.Wait()
	g := &generated{}
	for i := range parts {
		g.merge(&parts[i])
	}
	slices.SortFunc(sums, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	g.distinct = len(slices.Compact(sums))
	return g
}
