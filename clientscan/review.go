package clientscan

import (
	"crypto/sha256"
	"encoding/binary"
	"image"

	"scanlab/perceptual"
)

// Defaults of the steps after the threshold.
const (
	// DefaultSecondThreshold is the largest distance, in bits out of 256,
	// at which the second hash ([SecondHash]) confirms a match. It was
	// chosen on one generated corpus (corpus seed 3: 60 listed images under
	// Thorn's 10 benign transforms, 200 benign images) between the
	// near-duplicates PDQ matched (second-hash distance: median 7, 99th
	// percentile 77, the far ones vignetted), the unrelated pairs (at least
	// 81 over 12,000) and 7 PDQ collisions crafted against listed images
	// (at least 88). The package doc gives the figures measured on another
	// corpus.
	DefaultSecondThreshold = 70
	// DefaultReviewError is the probability that a human reviewer's verdict
	// on a visual derivative is wrong. It is an assumption: neither Apple
	// nor anyone else published a figure. Sweep it.
	DefaultReviewError = 0.01
)

// Review configures what follows the PDQ check of an opened match, before a
// detection: a second, independent perceptual hash over the visual
// derivative, then a human reviewer (Apple, "CSAM Detection Technical
// Summary" and "Security Threat Model Review", 2021).
type Review struct {
	// Hashes[i] is the curator's second hash ([SecondHash]) of the image of
	// list entry i; it must be empty or as long as Options.List. Empty
	// skips the second hash (ServerStats.SecondSkipped counts the matches
	// that went to review without it).
	Hashes []perceptual.Hash
	// Threshold is the largest second-hash distance that confirms a match;
	// ≤ 0 means DefaultSecondThreshold.
	Threshold int
	// ErrorRate is the probability that the reviewer's verdict is wrong,
	// in [0, 1]; zero means DefaultReviewError, negative means a reviewer
	// who never errs.
	ErrorRate float64
	// Truth, if set, says whether an opened derivative really shows the
	// content of list entry entry: the reviewer's eyes, which the harness
	// supplies from its ground truth. Nil means the reviewer sees what the
	// two hashes agree on. The reviewer's verdict is Truth, flipped with
	// probability ErrorRate.
	Truth func(derivative []byte, entry int) bool
	// Seed seeds the reviewer's errors: each verdict depends only on the
	// seed and the message, not on the order of review.
	Seed uint64
}

func (r Review) withDefaults() Review {
	if r.Threshold <= 0 {
		r.Threshold = DefaultSecondThreshold
	}
	switch {
	case r.ErrorRate == 0:
		r.ErrorRate = DefaultReviewError
	case r.ErrorRate < 0:
		r.ErrorRate = 0
	}
	return r
}

// SecondHash returns the provider's second perceptual hash of an image: the
// 256-bit dHash ([perceptual.DHash]) of its visual derivative
// ([VisualDerivative]). The curator computes it on each listed image; the
// provider recomputes it from each opened derivative. dHash compares
// neighbouring gradients where PDQ thresholds DCT coefficients, so a
// perturbation crafted to move an image's PDQ hash onto a list entry leaves
// it far off; pHash of the derivative, a DCT hash like PDQ, does not.
func SecondHash(img image.Image) perceptual.Hash {
	return derivativeHash(VisualDerivative(img))
}

// derivativeHash is [SecondHash] of a derivative's bytes.
func derivativeHash(derivative []byte) perceptual.Hash {
	g := image.NewGray(image.Rect(0, 0, DerivativeSide, DerivativeSide))
	copy(g.Pix, derivative)
	return perceptual.DHash(g)
}

// Stages at which the provider drops an opened match, or confirms it.
const (
	stageFar       = "pdq-distance" // no list entry within VerifyDistance: a false candidate
	stageSecond    = "second-hash"  // the second hash disagrees
	stageReview    = "review"       // the reviewer rejects it
	stageConfirmed = "confirmed"    // a detection
)

// judgement is what the provider concludes about one opened match.
type judgement struct {
	hit    perceptual.Hit // the nearest list entry by PDQ (when found)
	second int            // second-hash distance; −1 when not computed
	stage  string
}

// judge runs the steps after the threshold on one opened match: the full
// PDQ distance, the second hash, the reviewer.
func (p *provider) judge(h perceptual.Hash, derivative []byte, messageID string) judgement {
	j := judgement{second: -1}
	hit, ok := p.matcher.Nearest(p.opts.VerifyDistance, h)
	if !ok {
		j.stage = stageFar
		return j
	}
	j.hit = hit
	r := p.opts.Review
	if len(r.Hashes) > 0 {
		j.second = perceptual.Distance(derivativeHash(derivative), r.Hashes[hit.Entry])
		if j.second > r.Threshold {
			j.stage = stageSecond
			return j
		}
	}
	truth := true
	if r.Truth != nil {
		truth = r.Truth(derivative, hit.Entry)
	}
	if truth != (reviewCoin(r.Seed, messageID) < r.ErrorRate) {
		j.stage = stageConfirmed
	} else {
		j.stage = stageReview
	}
	return j
}

// reviewCoin is the reviewer's die for one message: a uniform number in
// [0, 1) from SHA-256 of the seed and the message ID. It decides only
// whether the simulated reviewer errs; it protects nothing.
func reviewCoin(seed uint64, messageID string) float64 {
	h := sha256.New()
	h.Write([]byte("scanlab clientscan review v1\x00"))
	h.Write(binary.BigEndian.AppendUint64(nil, seed))
	h.Write([]byte(messageID))
	return float64(binary.BigEndian.Uint64(h.Sum(nil))>>11) / (1 << 53)
}
