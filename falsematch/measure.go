package falsematch

import (
	"fmt"
	"strings"

	"scanlab/perceptual"
	"scanlab/stats"
)

// Size is how much a measurement generates.
type Size string

// The sizes of a measurement, as the study's --quick, default and --full.
const (
	Quick   Size = "quick"
	Default Size = "default"
	Full    Size = "full"
)

// The number of benign images each size generates. Drawing and hashing
// one image costs about 9 ms of CPU, so Default takes about 50 s on two
// cores and Full about four hours. The rule of three sets what each can
// show when nothing matches: a one-sided 95% bound of about 3/n on
// p(image), 3e−3, 3e−4 and 1e−6: only Full reaches the per-image rate
// Apple assumed (one in a million).
const (
	QuickImages   = 1_000
	DefaultImages = 10_000
	FullImages    = 3_000_000
)

// GeneratedImages returns how many benign images a size generates:
// QuickImages, DefaultImages or FullImages.
func (s Size) GeneratedImages() (int, error) {
	switch s {
	case Quick:
		return QuickImages, nil
	case Default, "":
		return DefaultImages, nil
	case Full:
		return FullImages, nil
	}
	return 0, fmt.Errorf("falsematch: unknown size %q (quick, default or full)", s)
}

// Config is one measurement.
type Config struct {
	Seed uint64
	Size Size
	// Images, if positive, replaces the size's number of generated
	// images.
	Images  int
	Workers int // goroutines generating images; 0 means one per CPU. Does not change the result.
	// Progress, if set, hears how many of the total images are done, up
	// to progressEvery times, from any of the workers.
	Progress func(done, total int)
}

// The benign sets and hash comparisons of [ImageRateRow].
const (
	BenignGenerated = "generated"            // the generated images against the list
	BenignReal      = "real-leave-scene-out" // each listed photograph against the entries of other scenes
	HashPDQ         = "pdq"                  // the image's PDQ hash as it is
	HashPDQDihedral = "pdq-dihedral"         // the best of its eight rotations and mirror images
)

// Benigns and Hashes list those values in the order rows report them.
var (
	Benigns = []string{BenignGenerated, BenignReal}
	Hashes  = []string{HashPDQ, HashPDQDihedral}
)

// ImageRateRow is a measured per-image false-match probability: the share
// of benign images whose nearest list entry is within the PDQ match
// threshold, both hashes of quality at least perceptual.MinQuality.
type ImageRateRow struct {
	Benign    string // BenignGenerated or BenignReal
	Hash      string // HashPDQ or HashPDQDihedral
	Images    int    // benign images of usable quality (n)
	Matches   int    // of which within Threshold of some entry (x)
	ListSize  int    // usable list entries (one per scene)
	Threshold int    // perceptual.MatchThreshold (31)
	// Interval is x/n with the exact two-sided 95% Clopper–Pearson interval.
	Interval stats.Interval
	// Upper95 is the exact one-sided 95% upper bound (Clopper–Pearson); for
	// x = 0 it is 1 − 0.05^(1/n) ≈ 3/n.
	Upper95 float64
}

// PhotoSummary counts the real photographs behind a measurement.
type PhotoSummary struct {
	Records      int // hashed files
	Scenes       int // distinct scenes
	UsableScenes int // scenes with a file of usable quality: the list size
	Sources      int // distinct sources (packages, toolchain, repository folders)
}

// Result is everything a measurement computes. Every field is a
// deterministic function of the seed and the size.
type Result struct {
	Seed      uint64
	Size      Size
	Photos    PhotoSummary
	Generated int // benign images generated
	Distinct  int // of which with distinct pixels
	Usable    int // of which of usable quality

	Rates      []ImageRateRow
	Summaries  []DistanceSummary
	Distances  []DistanceRow
	TailFits   []TailFitRow
	TailChecks []TailCheckRow
	Curve      []CurveRow
	SafeRates  []SafeRateRow
}

// Run measures the PDQ distance distribution between benign images and the
// list of real photographs ([RealPhotos], one entry per scene), estimates
// p(image) with exact intervals, fits the per-pair tail and draws the
// account-level curve.
func Run(cfg Config) (*Result, error) {
	n, err := cfg.Size.GeneratedImages()
	if err != nil {
		return nil, err
	}
	if cfg.Images > 0 {
		n = cfg.Images
	}
	return run(cfg, n)
}

// run is Run with n generated images.
func run(cfg Config, n int) (*Result, error) {
	photos, err := RealPhotos()
	if err != nil {
		return nil, err
	}
	list := buildList(photos)
	res := &Result{Seed: cfg.Seed, Size: cfg.Size, Photos: summarisePhotos(photos, list), Generated: n}
	g := generateBenign(cfg, n, list)
	res.Distinct = g.distinct
	if err := res.measure(g, list); err != nil {
		return nil, err
	}
	res.Curve = Curve(res.markers())
	res.SafeRates = SafeRates(AppleAccountTarget)
	return res, nil
}

func summarisePhotos(photos []Photo, list []listEntry) PhotoSummary {
	scenes, sources := map[string]bool{}, map[string]bool{}
	for _, p := range photos {
		scenes[p.Scene] = true
		sources[strings.Fields(p.Source)[0]] = true
	}
	return PhotoSummary{Records: len(photos), Scenes: len(scenes), UsableScenes: len(list), Sources: len(sources)}
}

// measure fills the distance sets, rates and tail fits.
func (res *Result) measure(g *generated, list []listEntry) error {
	nearest, nearestDih, pairs := &g.nearest, &g.nearestDih, &g.pairs
	rNearest, rPairs, same := realDistances(list)
	sets := []struct {
		name string
		h    *histogram
	}{{SetNearestGenerated, nearest}, {SetNearestGeneratedDihedral, nearestDih}, {SetPairsGenerated, pairs},
		{SetNearestReal, rNearest}, {SetPairsReal, rPairs}, {SetSameScene, same}}
	for _, s := range sets {
		res.Summaries = append(res.Summaries, summarise(s.name, s.h))
		res.Distances = append(res.Distances, rows(s.name, s.h)...)
	}
	res.Usable = int(nearest.n())
	if x := nearest.atMost(perceptual.MatchThreshold); g.matcherHits != x {
		return fmt.Errorf("falsematch: the matcher finds %d matches, the distance histogram %d", g.matcherHits, x)
	}
	for _, r := range []struct {
		benign, hash string
		h            *histogram
	}{{BenignGenerated, HashPDQ, nearest}, {BenignGenerated, HashPDQDihedral, nearestDih}, {BenignReal, HashPDQ, rNearest}} {
		row, err := rateRow(r.benign, r.hash, r.h, len(list))
		if err != nil {
			return err
		}
		res.Rates = append(res.Rates, row)
	}
	for _, s := range []struct {
		name string
		h    *histogram
	}{{SetPairsGenerated, pairs}, {SetPairsReal, rPairs}} {
		fits, checks := tailRows(s.name, s.h, len(list))
		res.TailFits, res.TailChecks = append(res.TailFits, fits...), append(res.TailChecks, checks...)
	}
	return nil
}

func rateRow(benign, hash string, nearest *histogram, listSize int) (ImageRateRow, error) {
	n, x := int(nearest.n()), int(nearest.atMost(perceptual.MatchThreshold))
	iv, err := stats.ClopperPearson(x, n, stats.Level95)
	if err != nil {
		return ImageRateRow{}, err
	}
	up, err := stats.ClopperPearsonUpper(x, n, stats.Level95)
	if err != nil {
		return ImageRateRow{}, err
	}
	return ImageRateRow{Benign: benign, Hash: hash, Images: n, Matches: x, ListSize: listSize,
		Threshold: perceptual.MatchThreshold, Interval: iv, Upper95: up.Hi}, nil
}

// markers returns the per-image probabilities the curve marks: the
// measured bound for generated images against the list, Apple's figures,
// and the tail fits at a million entries.
func (res *Result) markers() []Marker {
	var ms []Marker
	for _, r := range res.Rates {
		if r.Benign == BenignGenerated && r.Hash == HashPDQ && !r.Interval.NoData {
			ms = append(ms, Marker{Basis: BasisMeasuredUpper, PImage: r.Upper95})
		}
	}
	ms = append(ms, Marker{BasisAppleMeasured, AppleNeuralHashMeasured}, Marker{BasisAppleAssumed, AppleAssumedImageRate})
	for _, f := range res.TailFits {
		if f.Pairs == SetPairsGenerated && f.ListSize == 1_000_000 && f.PImage > 0 {
			ms = append(ms, Marker{Basis: fmt.Sprintf("%s%s-L%d", BasisTailFitPrefix, f.Model, f.ListSize), PImage: f.PImage})
		}
	}
	return ms
}
