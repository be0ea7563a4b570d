package falsematch

import (
	"fmt"
	"math"
	"reflect"
	"sync/atomic"
	"testing"

	"scanlab/perceptual"
)

func TestRevealProbabilitySemantics(t *testing.T) {
	cases := []struct {
		n    int
		p    float64
		t    int
		want float64
		tol  float64 // relative
		note string
	}{
		{1, 0.5, 0, 0.5, 1e-12, "one image: revealed when it matches"},
		{2, 0.5, 0, 0.75, 1e-12, "P[X ≥ 1]"},
		{2, 0.5, 1, 0.25, 1e-12, "P[X ≥ 2]: revealed at the second match"},
		{2, 0.5, 2, 0, 0, "more than t = n matches is impossible"},
		// Poisson(1) tail, the figure of the shared clientscan notes §1.5 for
		// "≥ 30 matches among 1e6 photos at 1e−6": e^−1·Σ_{k≥30} 1/k! = 1.4326e−33.
		{1_000_000, 1e-6, 29, 1.4326e-33, 0.01, "Poisson limit, at least 30 matches"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("n=%d/p=%g/t=%d", c.n, c.p, c.t), func(t *testing.T) {
			got := RevealProbability(c.n, c.p, c.t)
			if math.Abs(got-c.want) > c.tol*c.want || (c.want == 0 && got != 0) {
				t.Fatalf("got %.6g, want %.6g (%s)", got, c.want, c.note)
			}
		})
	}
	// The reveal happens at the (t+1)-th match: with exactly t+1 images
	// that all match, P = p^(t+1).
	if got := RevealProbability(31, 0.5, 30); math.Abs(got-math.Pow(0.5, 31)) > 1e-20 {
		t.Fatalf("31 images at t=30: %g, want 2^-31", got)
	}
}

func TestCurve(t *testing.T) {
	markers := []Marker{{BasisAppleAssumed, AppleAssumedImageRate}}
	rows := Curve(markers)
	points := (CurveMaxLog10P-CurveMinLog10P)*CurvePointsPerDecade + 1
	if want := len(CurveLibraries) * CurveMaxT * (points + len(markers)); len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	for i, r := range rows {
		if math.IsNaN(r.Log10PAccount) || math.IsInf(r.Log10PAccount, 0) || r.Log10PAccount > 0 {
			t.Fatalf("row %d: %+v", i, r)
		}
		if i > 0 && r.Basis == BasisSweep && rows[i-1].Basis == BasisSweep && rows[i-1].T == r.T &&
			rows[i-1].Library == r.Library && r.Log10PAccount < rows[i-1].Log10PAccount {
			t.Fatalf("not increasing in p at row %d: %+v after %+v", i, r, rows[i-1])
		}
	}
	first, last := rows[0], rows[points-1]
	if math.Abs(first.PImage-1e-9) > 1e-20 || math.Abs(last.PImage-1e-2) > 1e-15 {
		t.Fatalf("sweep runs %g..%g", first.PImage, last.PImage)
	}
	// Apple's numbers: t = 30 and p = 1e−6 keep a 100,000-image library far
	// below one in a trillion; p = 1e−2 at t = 1 does not.
	for _, r := range rows {
		if r.Library == 100_000 && r.T == AppleThreshold && r.Basis == BasisAppleAssumed && r.Log10PAccount > -12 {
			t.Fatalf("Apple's assumption gives %+v", r)
		}
	}
}

func TestSafeRates(t *testing.T) {
	for _, r := range SafeRates(AppleAccountTarget) {
		at := LogRevealProbability(r.Library, r.MaxPImage, r.T)
		above := LogRevealProbability(r.Library, r.MaxPImage*1.001, r.T)
		if at > -12+1e-6 || above <= -12 {
			t.Fatalf("%+v: log10 P = %.6f at the rate, %.6f just above", r, at, above)
		}
	}
}

func TestHypergeometricModel(t *testing.T) {
	if got := logHypergeometricUpper(0); math.Abs(got) > 1e-12 {
		t.Fatalf("P[K ≥ 0] = exp(%g)", got)
	}
	// P[K = 128] = 1/C(256, 128) ≈ 1/5.77e75.
	if got := logHypergeometricUpper(128) / math.Ln10; math.Abs(got+75.7613) > 1e-3 {
		t.Fatalf("log10 P[K = 128] = %.4f, want -75.7613", got)
	}
	// Mean and sd of D = 2(128 − K) from the pmf must be 128 and hypergeometricSD.
	var mean, m2 float64
	for k := 0; k <= 128; k++ {
		p := math.Exp(logHypergeometricUpper(k)) - math.Exp(logHypergeometricUpper(k+1))
		d := float64(2 * (128 - k))
		mean += p * d
		m2 += p * d * d
	}
	if sd := math.Sqrt(m2 - mean*mean); math.Abs(mean-128) > 1e-9 || math.Abs(sd-hypergeometricSD) > 1e-9 {
		t.Fatalf("mean %g sd %g, want 128 and %g", mean, sd, hypergeometricSD)
	}
}

// TestTailFitRecovers draws distances from the ideal-hash model and checks
// that the normal fits land near it, the exponential one above it, and the
// check rows follow the data.
func TestTailFitRecovers(t *testing.T) {
	h := new(histogram)
	for k := 0; k <= 128; k++ {
		p := math.Exp(logHypergeometricUpper(k)) - math.Exp(logHypergeometricUpper(k+1))
		h[2*(128-k)] = int64(math.Round(p * 1e7))
	}
	fits, checks := tailRows("test", h, 100)
	for _, f := range fits {
		if f.Model == ModelHypergeometric || f.ListSize != 100 {
			continue
		}
		ideal := logHypergeometricUpper(113) / math.Ln10
		if f.Model == ModelExponential {
			if f.Log10PPair < ideal {
				t.Errorf("the exponential tail (%.2f) is lighter than the ideal hash's (%.2f)", f.Log10PPair, ideal)
			}
		} else if math.Abs(f.Log10PPair-ideal) > 6 {
			t.Errorf("%s: log10 p_pair %.2f, ideal hash %.2f", f.Model, f.Log10PPair, ideal)
		}
		if math.Abs(f.Log10PImage-(f.Log10PPair+2)) > 1e-6 {
			t.Errorf("%s: 100 entries give log10 %.4f from %.4f per pair", f.Model, f.Log10PImage, f.Log10PPair)
		}
	}
	for _, c := range checks {
		if c.Count >= 1000 && math.Abs(c.Normal-c.Observed) > 0.2*c.Observed {
			t.Errorf("distance %d: normal %.3g, observed %.3g", c.Distance, c.Normal, c.Observed)
		}
	}
}

// TestRunDeterministic: the same seed gives the same result whatever the
// number of workers, and another seed a different one.
func TestRunDeterministic(t *testing.T) {
	const n = 24
	a, err := run(Config{Seed: 7, Workers: 1}, n)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := run(Config{Seed: 7, Workers: 3}, n)
	c, _ := run(Config{Seed: 8, Workers: 2}, n)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the number of workers changed the result")
	}
	if reflect.DeepEqual(a.Distances, c.Distances) {
		t.Fatal("another seed gave the same distances")
	}
	if a.Generated != n || a.Distinct != n || a.Usable == 0 || a.Photos.UsableScenes < 60 {
		t.Fatalf("summary %+v", a)
	}
	if len(a.Rates) != 3 || a.Rates[0].Images != a.Usable || a.Rates[0].ListSize != a.Photos.UsableScenes {
		t.Fatalf("rates %+v", a.Rates)
	}
}

// TestMatchesCounted plants a list entry's own hash among the benign
// images: it must be counted as a match, by the histogram and the matcher,
// and a measurement whose two counts disagree must fail.
func TestMatchesCounted(t *testing.T) {
	photos, err := RealPhotos()
	if err != nil {
		t.Fatal(err)
	}
	list := buildList(photos)
	m := listMatcher(list)
	g := &generated{}
	var planted, blank perceptual.Dihedral
	for k := range planted {
		planted[k] = list[4].Hash
	}
	g.add(planted, 100, list, m)
	g.add(blank, 100, list, m)
	g.add(planted, perceptual.MinQuality-1, list, m) // too poor to count
	if x := g.nearest.atMost(perceptual.MatchThreshold); x != 1 || g.matcherHits != 1 || g.nearest.n() != 2 {
		t.Fatalf("%d matches by distance, %d by the matcher, %d images; want 1, 1, 2", x, g.matcherHits, g.nearest.n())
	}
	if err := (&Result{}).measure(g, list); err != nil {
		t.Fatal(err)
	}
	g.matcherHits = 0
	if err := (&Result{}).measure(g, list); err == nil {
		t.Fatal("a matcher count that disagrees with the histogram was not caught")
	}
	row, err := rateRow(BenignGenerated, HashPDQ, &g.nearest, len(list))
	if err != nil || row.Matches != 1 || row.Interval.Estimate != 0.5 || row.Upper95 <= row.Interval.Estimate {
		t.Fatalf("row %+v, %v", row, err)
	}
}

// TestProgress: a measurement reports its progress up to the total, at
// most progressEvery times.
func TestProgress(t *testing.T) {
	var calls, last atomic.Int64
	cfg := Config{Seed: 2, Workers: 2, Progress: func(done, total int) {
		calls.Add(1)
		if total != 30 {
			t.Errorf("total %d, want 30", total)
		}
		if done == total {
			last.Store(int64(done))
		}
	}}
	if _, err := run(cfg, 30); err != nil {
		t.Fatal(err)
	}
	if last.Load() != 30 || calls.Load() == 0 || calls.Load() > progressEvery {
		t.Fatalf("%d calls, last done %d", calls.Load(), last.Load())
	}
}

func TestSizes(t *testing.T) {
	for s, want := range map[Size]int{Quick: 1_000, Default: 10_000, Full: 3_000_000, "": 10_000} {
		if n, err := s.GeneratedImages(); err != nil || n != want {
			t.Fatalf("%q: %d, %v", s, n, err)
		}
	}
	if _, err := Size("huge").GeneratedImages(); err == nil {
		t.Fatal("unknown size accepted")
	}
	if _, err := Run(Config{Size: "huge"}); err == nil {
		t.Fatal("Run accepted an unknown size")
	}
}

// BenchmarkGenerateAndHash measures the cost of one benign image: drawing
// it and computing its eight PDQ hashes.
func BenchmarkGenerateAndHash(b *testing.B) {
	photos, err := RealPhotos()
	if err != nil {
		b.Fatal(err)
	}
	list := buildList(photos)
	seed := uint64(0)
	for b.Loop() {
		seed++
		generateBenign(Config{Seed: seed, Workers: 1}, 1, list) // one image per call: image 0 of another seed each time
	}
}

// BenchmarkRun measures a whole quick measurement (1,000 images).
func BenchmarkRun(b *testing.B) {
	for b.Loop() {
		if _, err := Run(Config{Seed: 1, Size: Quick}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCurve measures the account-level curve and the safe rates.
func BenchmarkCurve(b *testing.B) {
	for b.Loop() {
		Curve(nil)
		SafeRates(AppleAccountTarget)
	}
}
