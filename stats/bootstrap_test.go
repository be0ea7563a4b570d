package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// exactReplicateDist enumerates every resample of n accounts drawn with
// replacement from clusters and returns the probability of each
// (Σ Num, Σ Den).
func exactReplicateDist(clusters []Cluster) map[Cluster]float64 {
	n := len(clusters)
	dist := map[Cluster]float64{}
	idx := make([]int, n)
	total := math.Pow(float64(n), float64(n))
	for {
		var s Cluster
		for _, i := range idx {
			s.Num += clusters[i].Num
			s.Den += clusters[i].Den
		}
		dist[s] += 1 / total
		k := 0
		for k < n {
			idx[k]++
			if idx[k] < n {
				break
			}
			idx[k] = 0
			k++
		}
		if k == n {
			return dist
		}
	}
}

// TestResamplersExact checks both resampling methods against the exact
// distribution of a replicate's sums, enumerated over all 5⁵ resamples.
func TestResamplersExact(t *testing.T) {
	clusters := []Cluster{{Num: 0, Den: 0}, {Num: 1, Den: 3}, {Num: 0, Den: 2}, {Num: 1, Den: 3}, {Num: 2, Den: 2}}
	want := exactReplicateDist(clusters)
	groups, err := groupClusters(clusters)
	if err != nil {
		t.Fatal(err)
	}
	if groups[0] != (group{Cluster{Num: 1, Den: 3}, 2}) {
		t.Fatalf("largest group %+v, want {1 3}×2", groups[0])
	}
	const draws = 200_000
	methods := map[string]func(r *rand.Rand) *resampler{
		"binomials": func(r *rand.Rand) *resampler { return &resampler{big: groups, n: len(clusters), r: r} },
		"accounts":  func(r *rand.Rand) *resampler { return &resampler{rest: clusters, n: len(clusters), r: r} },
		"mixed": func(r *rand.Rand) *resampler {
			return &resampler{big: groups[:1], rest: []Cluster{{Num: 0, Den: 0}, {Num: 0, Den: 2}, {Num: 2, Den: 2}}, n: len(clusters), r: r}
		},
	}
	for name, mk := range methods {
		t.Run("method="+name, func(t *testing.T) {
			draw := mk(rand.New(rand.NewPCG(1, 2))).draw
			got := map[Cluster]float64{}
			for range draws {
				num, den := draw()
				got[Cluster{Num: num, Den: den}]++
			}
			for s, p := range want {
				sd := math.Sqrt(p * (1 - p) / draws)
				if f := got[s] / draws; math.Abs(f-p) > 5*sd+1e-9 {
					t.Errorf("sums %v: frequency %.5f, exact %.5f (±%.5f)", s, f, p, sd)
				}
				delete(got, s)
			}
			if len(got) != 0 {
				t.Errorf("impossible sums drawn: %v", got)
			}
		})
	}
}

func bernoulli(x, n int) []Cluster {
	c := make([]Cluster, n)
	for i := range c {
		c[i].Den = 1
		if i < x {
			c[i].Num = 1
		}
	}
	return c
}

// TestRatioBernoulli: with one trial per account the bootstrap interval of
// a proportion must be close to the Wilson interval.
func TestRatioBernoulli(t *testing.T) {
	for _, c := range []struct{ x, n int }{{300, 1000}, {50, 10_000}, {4000, 100_000}} {
		t.Run(fmt.Sprintf("x=%d/n=%d", c.x, c.n), func(t *testing.T) {
			got, err := Bootstrap{Seed: 1}.Ratio("p", bernoulli(c.x, c.n), Level95)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := Wilson(c.x, c.n, Level95)
			width := w.Hi - w.Lo
			if math.Abs(got.Lo-w.Lo) > 0.1*width || math.Abs(got.Hi-w.Hi) > 0.1*width {
				t.Fatalf("bootstrap %v, Wilson %v", got.Interval, w)
			}
			if got.Estimate != float64(c.x)/float64(c.n) || got.Clusters != c.n || got.Num != float64(c.x) {
				t.Fatalf("counts: %+v", got)
			}
		})
	}
}

// TestRatioClustered: when items come in whole accounts (all of an
// account's items caught or none), the interval must be as wide as the
// account count implies, not the item count.
func TestRatioClustered(t *testing.T) {
	var clusters []Cluster
	for i := range 15 {
		c := Cluster{Den: 20}
		if i < 12 {
			c.Num = 20
		}
		clusters = append(clusters, c)
	}
	got, err := Bootstrap{Seed: 3}.Ratio("offenders", clusters, Level95)
	if err != nil {
		t.Fatal(err)
	}
	naive, _ := Wilson(240, 300, Level95) // treats 300 items as independent
	if got.Hi-got.Lo < 2*(naive.Hi-naive.Lo) {
		t.Fatalf("cluster interval %v is no wider than the item-level %v", got.Interval, naive)
	}
}

func TestRatioDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	clusters := make([]Cluster, 5000)
	for i := range clusters {
		clusters[i] = Cluster{Num: float64(r.IntN(3)), Den: float64(3 + r.IntN(40))}
	}
	bs := Bootstrap{B: 500, Seed: 42}
	a, _ := bs.Ratio("k", clusters, Level95)
	b, _ := bs.Ratio("k", clusters, Level95)
	c, _ := bs.Ratio("other", clusters, Level95)
	d, _ := Bootstrap{B: 500, Seed: 43}.Ratio("k", clusters, Level95)
	if a != b {
		t.Fatalf("same seed and key differ: %+v %+v", a, b)
	}
	if a == c || a == d {
		t.Fatal("a different key or seed gave the same interval")
	}
}

func TestRatioNoData(t *testing.T) {
	for name, cl := range map[string][]Cluster{"empty": nil, "den=0": {{Num: 0, Den: 0}, {Num: 0, Den: 0}}} {
		t.Run("case="+name, func(t *testing.T) {
			got, err := Bootstrap{B: 10}.Ratio("k", cl, Level95)
			if err != nil || !got.NoData || got.String() != "no data" || math.IsNaN(got.Estimate) {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
	// One contributing account among 200: some replicates draw none of it.
	cl := make([]Cluster, 200)
	cl[0] = Cluster{Num: 1, Den: 2}
	got, err := Bootstrap{B: 1000, Seed: 1}.Ratio("k", cl, Level95)
	if err != nil || got.Undefined < 300 || got.Undefined > 440 || got.Estimate != 0.5 {
		t.Fatalf("got %+v (expected about 1000/e ≈ 368 undefined), %v", got, err)
	}
}

func TestRatioBadInput(t *testing.T) {
	for name, c := range map[string]Cluster{"neg": {Num: -1, Den: 1}, "nan": {Num: math.NaN(), Den: 1}, "inf": {Num: 1, Den: math.Inf(1)}, "neg-ref": {Num: 1, Den: 1, Ref: -1}} {
		t.Run("case="+name, func(t *testing.T) {
			if _, err := (Bootstrap{}).Ratio("k", []Cluster{{Num: 1, Den: 1}, c}, Level95); !errors.Is(err, ErrCluster) {
				t.Fatalf("got %v", err)
			}
		})
	}
	if _, err := (Bootstrap{}).Ratio("k", nil, 1.5); !errors.Is(err, ErrLevel) {
		t.Fatal("level 1.5 accepted")
	}
}

// benchClusters makes n accounts of one of the kinds of [BenchmarkRatio].
func benchClusters(n int, kind string) []Cluster {
	r := rand.New(rand.NewPCG(5, 5))
	cl := make([]Cluster, n)
	for i := range cl {
		switch kind {
		case "offenders": // 1% of accounts deliver 30 harmful items
			if r.IntN(100) == 0 {
				cl[i] = Cluster{Num: float64(r.IntN(30)), Den: 30}
			}
		case "benign": // every account delivers 0..199 items, 0.1% have a false match
			cl[i] = Cluster{Den: float64(r.IntN(200))}
			if r.IntN(1000) == 0 {
				cl[i].Num = 1
			}
		case "flags": // 0.1% of accounts flagged
			cl[i] = Cluster{Den: 1}
			if r.IntN(1000) == 0 {
				cl[i].Num = 1
			}
		case "distinct": // the worst case: (Num, Den) differs across accounts
			cl[i] = Cluster{Den: float64(r.IntN(1 << 20))}
			cl[i].Num = float64(r.IntN(int(cl[i].Den) + 1))
		}
	}
	return cl
}

// BenchmarkRatio measures one rate's interval with the default 2,000
// replicates, for rates of four shapes (see benchClusters).
func BenchmarkRatio(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, kind := range []string{"offenders", "benign", "flags", "distinct"} {
			cl := benchClusters(n, kind)
			b.Run(fmt.Sprintf("accounts=%d/kind=%s", n, kind), func(b *testing.B) {
				for b.Loop() {
					if _, err := (Bootstrap{Seed: 1}).Ratio("k", cl, Level95); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestPaired checks the paired bootstrap: the estimate is the statistic of
// the totals, the interval holds it, the same key gives the same interval,
// and pairing narrows the interval of a difference between two numerators
// that move together across accounts.
func TestPaired(t *testing.T) {
	var clusters []Cluster
	for i := range 200 {
		den := float64(1 + i%7)
		ref := den * float64(i%3) / 2 // what the reference caught
		num := min(ref, den*0.3)      // the other caught less, with it
		clusters = append(clusters, Cluster{Num: num, Ref: ref, Den: den})
	}
	loss := func(num, ref, den float64) (float64, bool) { return 1 - num/ref, ref > 0 }
	bs := Bootstrap{Seed: 7, B: 1000}
	iv, err := bs.Paired("loss", clusters, Level95, loss)
	if err != nil {
		t.Fatal(err)
	}
	var num, ref float64
	for _, c := range clusters {
		num, ref = num+c.Num, ref+c.Ref
	}
	if want := 1 - num/ref; math.Abs(iv.Estimate-want) > 1e-12 || iv.Lo > want || iv.Hi < want || iv.Lo == iv.Hi {
		t.Fatalf("Paired = %+v, want estimate %v inside a proper interval", iv.Interval, want)
	}
	again, _ := bs.Paired("loss", clusters, Level95, loss)
	if again.Interval != iv.Interval {
		t.Fatal("same key, different interval")
	}
	// Unpaired: resample the two numerators independently by giving each
	// its own accounts; the interval must be wider.
	var apart []Cluster
	for _, c := range clusters {
		apart = append(apart, Cluster{Num: c.Num, Den: c.Den}, Cluster{Ref: c.Ref, Den: c.Den})
	}
	wide, _ := bs.Paired("loss", apart, Level95, loss)
	if wide.Hi-wide.Lo <= iv.Hi-iv.Lo {
		t.Fatalf("pairing did not narrow the interval: paired %v, apart %v", iv.Interval, wide.Interval)
	}
	none, _ := bs.Paired("none", []Cluster{{Num: 1, Den: 1}}, Level95, loss)
	if !none.NoData {
		t.Fatal("no reference catches gave a result")
	}
}
