package psi

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"scanlab/stats"
)

// Below-threshold privacy. Below the threshold the server sees, per
// account, how many vouchers matched; synthetic vouchers are meant to hide
// how many of those are real. [BelowThreshold] measures how well, for a grid
// of library sizes, synthetic calibrations and real counts k: the server's
// best advantage in telling an account with k real matches from one with
// none, from the count alone, by the closed form ([MatchCountDistance]) and
// by simulating the accounts' own synthetic schedules side by side.

// PrivacyConfig is the grid [BelowThreshold] measures.
type PrivacyConfig struct {
	// Threshold is t; zero means 30, Apple's.
	Threshold int
	// Libraries are the account sizes, in images; nil means 100, 1,000,
	// 10,000 and 100,000.
	Libraries []int
	// Real are the numbers k of real matches compared with none; nil means
	// 1, 2, 5, 10, 20 and t. Each must be at most t (below the threshold).
	Real []int
	// Calibrations are the synthetic policies; nil means
	// [DefaultCalibrations](t, 0.05).
	Calibrations []Calibration
	// Trials is the number of simulated accounts per group and half (a
	// learning half and a held-out half); zero means 1000.
	Trials int
	// Seed seeds the simulation: the same config gives the same rows.
	Seed uint64
}

// DefaultCalibrations returns the calibrations the table compares at
// threshold t, each replacing a voucher with probability rate while its
// budget lasts: a uniform budget on {0, …, 2c·t} for c = 1, 3 and 10 (about
// c·t synthetic vouchers in a large library; "about-t" is this package's
// default), no budget (a count proportional to the library, which needs s
// above the largest count), and the fixed cap of 3t of earlier versions
// (which reveals the real count of a large library).
func DefaultCalibrations(t int, rate float64) []Calibration {
	return []Calibration{
		{Name: "about-t", Rate: rate, Budget: BudgetUniform, Max: 2 * t},
		{Name: "about-3t", Rate: rate, Budget: BudgetUniform, Max: 6 * t},
		{Name: "about-10t", Rate: rate, Budget: BudgetUniform, Max: 20 * t},
		{Name: "proportional", Rate: rate, Budget: BudgetNone},
		{Name: "former-cap-3t", Rate: rate, Budget: BudgetFixed, Max: 3 * t},
	}
}

func (c PrivacyConfig) withDefaults() PrivacyConfig {
	if c.Threshold == 0 {
		c.Threshold = 30
	}
	if c.Libraries == nil {
		c.Libraries = []int{100, 1_000, 10_000, 100_000}
	}
	if c.Real == nil {
		c.Real = []int{1, 2, 5, 10, 20, c.Threshold}
	}
	if c.Calibrations == nil {
		c.Calibrations = DefaultCalibrations(c.Threshold, 0.05)
	}
	if c.Trials == 0 {
		c.Trials = 1000
	}
	return c
}

func (c PrivacyConfig) check() error {
	if c.Threshold < 1 || c.Trials < 1 {
		return fmt.Errorf("psi: privacy grid: threshold %d, trials %d", c.Threshold, c.Trials)
	}
	for _, n := range c.Libraries {
		if n < 1 || n > 10_000_000 {
			return fmt.Errorf("psi: privacy grid: library of %d images outside [1, 1e7]", n)
		}
	}
	for _, k := range c.Real {
		if k < 1 || k > c.Threshold {
			return fmt.Errorf("psi: privacy grid: %d real matches outside [1, t = %d]", k, c.Threshold)
		}
	}
	for _, cal := range c.Calibrations {
		if err := cal.check(); err != nil {
			return fmt.Errorf("psi: privacy grid: calibration %q: %w", cal.Name, err)
		}
	}
	return nil
}

// PrivacyRow is one cell of the below-threshold table.
type PrivacyRow struct {
	Threshold   int    // t
	Library     int    // images in the account
	Calibration string // Calibration.Name
	Real        int    // k real matches, compared with none
	// MeanSynthetic is the expected number of synthetic vouchers the
	// account sends (closed form).
	MeanSynthetic float64
	// Closed is the server's best advantage from the count, the total
	// variation distance between the two count distributions (closed form,
	// [MatchCountDistance]).
	Closed float64
	// Simulated is the advantage, on held-out simulated accounts, of the
	// threshold test ("at least c matches means real ones") learned on
	// other simulated accounts; Low and High bound it at 95% (Newcombe's
	// hybrid score interval for a difference of two proportions,
	// [stats.NewcombeDifference]). A
	// learned test is at most the best one, so Simulated estimates Closed
	// from below; the two agree when the best test is a threshold test.
	Simulated, Low, High float64
	// Trials is the number of simulated accounts per group and half.
	Trials int
}

// BelowThreshold computes the below-threshold table: for every library
// size, calibration and k, the server's best advantage in telling k real
// matches from none, by closed form and by seeded simulation of the
// accounts' own schedules. Rows come in the order of the config's lists
// (library, then calibration, then k). The simulation runs 4 × Trials
// synthetic schedules per library and calibration, each costing one coin
// draw per synthetic voucher.
func BelowThreshold(cfg PrivacyConfig) ([]PrivacyRow, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	var rows []PrivacyRow
	for _, n := range cfg.Libraries {
		for _, cal := range cfg.Calibrations {
			r, err := privacyCell(cfg, n, cal)
			if err != nil {
				return nil, err
			}
			rows = append(rows, r...)
		}
	}
	return rows, nil
}

// privacyCell computes the rows of one library size and calibration. The
// accounts with no real match (a learning and a held-out half) are compared
// with each k; the accounts with real matches share their synthetic
// schedules across k, each k placing its own real matches.
func privacyCell(cfg PrivacyConfig, n int, cal Calibration) ([]PrivacyRow, error) {
	sim := func(half string, ks []int) ([][]int, error) {
		return simulateCounts(cal, n, ks, cfg.Trials, streamSeed(cfg.Seed, n, cal.Name, half))
	}
	noneLearn, err := sim("none-learn", []int{0})
	if err != nil {
		return nil, err
	}
	noneTest, err := sim("none-test", []int{0})
	if err != nil {
		return nil, err
	}
	learnK, err := sim("real-learn", cfg.Real)
	if err != nil {
		return nil, err
	}
	testK, err := sim("real-test", cfg.Real)
	if err != nil {
		return nil, err
	}
	lf := logFactorials(n)
	s := syntheticPMF(n, cal, lf)
	p0 := countPMF(s, n, 0, lf)
	mean := ExpectedSynthetic(n, cal)
	var rows []PrivacyRow
	for i, k := range cfg.Real {
		cut := learnThreshold(noneLearn[0], learnK[i])
		adv, err := heldOutAdvantage(noneTest[0], testK[i], cut)
		if err != nil {
			return nil, err
		}
		rows = append(rows, PrivacyRow{
			Threshold: cfg.Threshold, Library: n, Calibration: cal.Name, Real: k,
			MeanSynthetic: mean, Closed: totalVariation(p0, countPMF(s, n, k, lf)),
			Simulated: adv.Estimate, Low: adv.Lo, High: adv.Hi, Trials: cfg.Trials,
		})
	}
	return rows, nil
}

// streamSeed derives the seed of one simulation stream from the config's
// seed and the stream's name, so that cells do not depend on each other or
// on the order they run in.
func streamSeed(seed uint64, n int, cal, half string) [32]byte {
	h := sha256.New()
	h.Write([]byte("scanlab psi below-threshold v1\x00"))
	h.Write(binary.BigEndian.AppendUint64(nil, seed))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(n)))
	h.Write([]byte(cal + "\x00" + half))
	return [32]byte(h.Sum(nil))
}

// simulateCounts draws trials accounts of n images, each with its own
// synthetic schedule under cal (the schedule an [Account] runs), and
// returns, for each k in ks, the matching-voucher count each account shows
// with k real matches placed at uniform positions.
func simulateCounts(cal Calibration, n int, ks []int, trials int, seed [32]byte) ([][]int, error) {
	src := rand.NewChaCha8(seed)
	rng := rand.New(src)
	out := make([][]int, len(ks))
	var synth []int
	for range trials {
		var err error
		if synth, err = syntheticPositions(cal, n, src, synth[:0]); err != nil {
			return nil, err
		}
		for i, k := range ks {
			out[i] = append(out[i], k+len(synth)-replaced(rng, n, k, synth))
		}
	}
	return out, nil
}

// syntheticPositions runs one account's schedule over n vouchers and
// appends the positions of its synthetic vouchers, in increasing order.
func syntheticPositions(cal Calibration, n int, coins *rand.ChaCha8, dst []int) ([]int, error) {
	s, err := newSchedule(cal, coins)
	if err != nil {
		return nil, err
	}
	for pos := -1; ; {
		gap, ok, err := s.skip()
		if err != nil {
			return nil, err
		}
		pos += min(gap, n) + 1
		if !ok || pos >= n {
			return dst, nil
		}
		dst = append(dst, pos)
	}
}

// replaced places k real matches at distinct uniform positions among n and
// returns how many fall on a synthetic position (sorted).
func replaced(rng *rand.Rand, n, k int, synth []int) int {
	seen := make(map[int]bool, k)
	hits := 0
	for len(seen) < k {
		p := rng.IntN(n)
		if seen[p] {
			continue
		}
		seen[p] = true
		if _, ok := slices.BinarySearch(synth, p); ok {
			hits++
		}
	}
	return hits
}

// learnThreshold returns the cut c that maximises P̂[count ≤ c | none] −
// P̂[count ≤ c | real] on the learning samples: the test "count > c means
// real matches" that separates them best.
func learnThreshold(none, real []int) int {
	a, b := slices.Sorted(slices.Values(none)), slices.Sorted(slices.Values(real))
	best, cut := math.Inf(-1), -1
	for _, c := range slices.Concat(a, b) {
		fa, _ := slices.BinarySearch(a, c+1) // count ≤ c
		fb, _ := slices.BinarySearch(b, c+1)
		if d := float64(fa)/float64(len(a)) - float64(fb)/float64(len(b)); d > best {
			best, cut = d, c
		}
	}
	return cut
}

// heldOutAdvantage returns P̂[count > cut | real] − P̂[count > cut | none] on
// held-out samples, with its 95% interval.
func heldOutAdvantage(none, real []int, cut int) (stats.Interval, error) {
	over := func(xs []int) int {
		n := 0
		for _, x := range xs {
			if x > cut {
				n++
			}
		}
		return n
	}
	iv, err := stats.NewcombeDifference(over(real), len(real), over(none), len(none), stats.Level95)
	if err != nil {
		return iv, fmt.Errorf("psi: held-out advantage: %w", err)
	}
	return iv, nil
}
