//go:build race

package perceptual

// raceEnabled reports that the race detector is on, which slows the large
// property checks down about fiftyfold; they then run at smaller sizes.
const raceEnabled = true
