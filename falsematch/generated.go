package falsematch

import (
	"crypto/sha256"
	"runtime"
	"sync"
	"sync/atomic"

	"scanlab/corpus"
	"scanlab/perceptual"
)

// Stream is the purpose name of the generated benign images:
// image i is corpus.GenerateImage(corpus.ImageStream(seed, Stream, i),
// corpus.DefaultMinSide, corpus.DefaultMaxSide).
const Stream = "falsematch/benign"

// generated is the hashes of the generated benign images.
type generated struct {
	dihedral []perceptual.Dihedral // the eight PDQ hashes of each image; [perceptual.Original] is its PDQ hash
	quality  []int
	distinct int // images with distinct pixels
}

// generateBenign draws n images from the seed's stream and hashes them on
// workers goroutines (0: one per CPU). Image i depends only on (seed, i),
// so the result does not depend on the number of workers.
func generateBenign(seed uint64, n, workers int) *generated {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g := &generated{dihedral: make([]perceptual.Dihedral, n), quality: make([]int, n)}
	sums := make([][sha256.Size]byte, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				img := corpus.GenerateImage(corpus.ImageStream(seed, Stream, i), corpus.DefaultMinSide, corpus.DefaultMaxSide)
				g.dihedral[i], g.quality[i] = perceptual.PDQDihedral(img)
				sums[i] = sha256.Sum256(img.Pix)
			}
		})
	}
	wg.Wait()
	seen := make(map[[sha256.Size]byte]bool, n)
	for _, s := range sums {
		seen[s] = true
	}
	g.distinct = len(seen)
	return g
}
