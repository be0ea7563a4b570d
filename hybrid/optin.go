package hybrid

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"scanlab"
)

// OptIn says who opts in to end-to-end encryption, as ground truth for a
// workload: each eligible conversation between benign users is encrypted
// with probability Share, and each eligible conversation with an offender
// in it with probability min(1, Share × OffenderFactor). OffenderFactor 1
// is uniform opt-in; above 1 is adverse selection — the people encryption
// hides from scanning are the ones who seek it out. No platform publishes
// who opts in, so experiments sweep OffenderFactor rather than fix it.
//
// The draw is a deterministic coin per conversation, keyed by Seed and the
// two user IDs in byte order, so a conversation keeps its choice for every
// message in both directions and a run repeats.
type OptIn struct {
	// Share is the probability that an eligible conversation between
	// benign users is encrypted, in [0, 1].
	Share float64
	// OffenderFactor multiplies Share for conversations with an offender
	// in them; it must be at least 1 (0 means 1).
	OffenderFactor float64
	// Seed keys the per-conversation coin.
	Seed uint64
}

// Check returns an error naming the field that is out of range.
func (o OptIn) Check() error {
	var errs []error
	if !(o.Share >= 0 && o.Share <= 1) {
		errs = append(errs, fmt.Errorf("share %v outside [0, 1]", o.Share))
	}
	if o.OffenderFactor != 0 && !(o.OffenderFactor >= 1 && !math.IsInf(o.OffenderFactor, 0)) {
		errs = append(errs, fmt.Errorf("offender factor %v: want a finite factor of at least 1", o.OffenderFactor))
	}
	return errors.Join(errs...)
}

// Rate returns the probability that an eligible conversation is encrypted:
// Share, or min(1, Share × OffenderFactor) when offender is true.
func (o OptIn) Rate(offender bool) float64 {
	if !offender || o.OffenderFactor <= 1 {
		return o.Share
	}
	return min(1, o.Share*o.OffenderFactor)
}

// Chooser returns the choice of encrypted conversations: a conversation is
// encrypted when eligible says it may be (nil: every conversation may) and
// its coin falls below [OptIn.Rate], with offender telling which users are
// offenders (nil: none are). offender and eligible are ground truth from
// the workload; neither reaches the provider.
func (o OptIn) Chooser(offender func(scanlab.UserID) bool, eligible func(a, b scanlab.UserID) bool) (Choose, error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("hybrid: opt-in: %w", err)
	}
	return func(a, b scanlab.UserID) bool {
		if b < a {
			a, b = b, a
		}
		if eligible != nil && !eligible(a, b) {
			return false
		}
		bad := offender != nil && (offender(a) || offender(b))
		return Coin(o.Seed, a, b) < o.Rate(bad)
	}, nil
}

// Coin returns the conversation's uniform draw in [0, 1): a PCG generator
// seeded with seed and the FNV-1a hash of a and b (in the order given,
// separated by a zero byte, which no user ID contains in a valid
// population). Callers that want one coin per conversation pass a ≤ b.
func Coin(seed uint64, a, b scanlab.UserID) float64 {
	h := fnv.New64a()
	h.Write([]byte(a))
	h.Write([]byte{0})
	h.Write([]byte(b))
	return rand.New(rand.NewPCG(seed, h.Sum64())).Float64()
}
