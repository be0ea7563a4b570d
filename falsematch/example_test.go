package falsematch_test

import (
	"fmt"

	"scanlab/falsematch"
)

func ExampleRevealProbability() {
	// Apple's assumed per-image rate and threshold, for an account that
	// uploads 100,000 photos in a year: revealed at its 31st false match.
	p := falsematch.RevealProbability(100_000, falsematch.AppleAssumedImageRate, falsematch.AppleThreshold)
	fmt.Printf("%.3g\n", p)
	// At 1e−9 per image, with t = 50 and 1,000 images, the probability is
	// far below the float64 range; its logarithm is not.
	fmt.Printf("%.1f\n", falsematch.LogRevealProbability(1_000, 1e-9, 50))
	// Output:
	// 1.1e-65
	// -372.8
}
