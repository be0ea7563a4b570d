package stats

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// DefaultReplicates is the number of bootstrap replicates [Bootstrap] draws
// when B is 0. Percentile intervals need about a thousand replicates or more
// (Efron and Tibshirani, An Introduction to the Bootstrap, 1993); 2,000
// puts the Monte Carlo standard error of the rank of a 2.5% percentile at
// about 0.35 percentage points.
const DefaultReplicates = 2000

// Cluster is one account's contribution to a ratio of sums: Num counts what
// was caught (items detected, 1 if the account was flagged), Den what could
// have been (items delivered, 1 per account). Both are non-negative.
type Cluster struct {
	Num, Den float64
	// Ref is a second numerator for paired comparisons: what a reference
	// caught of the same account's items (see [Bootstrap.Paired]). Ratio
	// ignores it.
	Ref float64
}

// Bootstrap computes percentile intervals for ratios of per-account sums,
// Σ Num / Σ Den, by resampling accounts with replacement.
//
// # Seed stream
//
// Each call to [Bootstrap.Ratio] draws from its own PCG stream,
// rand.NewPCG(Seed, FNV-1a(key)), so a rate's interval depends only on the
// seed, its key and its clusters, never on which other rates were computed
// or in what order. Replicate b uses the stream's draws after those of
// replicates 0..b−1.
//
// # How it resamples
//
// A replicate draws n accounts uniformly with replacement from the n given.
// Accounts with identical (Num, Den) are interchangeable, so only how many
// draws land in each such group matters, and that vector is
// Multinomial(n; g₁/n, g₂/n, …). Ratio draws the counts of the large
// groups (32 accounts or more: the accounts with nothing to add, the
// accounts with one item and none caught, …) as a chain of binomials,
// c_k ~ Binomial(n − Σ_{j<k} c_j, g_k / Σ_{j≥k} g_j), and lets the draws
// left over pick accounts of the small groups one by one. That is exactly
// the distribution of resampling all n accounts, at a cost per replicate of
// about the number of large groups plus the number of accounts in small
// ones: a false-flag rate (two groups) costs the same at any n, a rate whose
// every account is different costs one uniform draw per account.
type Bootstrap struct {
	B    int    // replicates; 0 means DefaultReplicates
	Seed uint64 // the study's seed
}

// BootstrapInterval is the result of [Bootstrap.Ratio]: the interval and
// the counts behind it.
type BootstrapInterval struct {
	Interval
	Clusters   int     // accounts resampled (n)
	Num, Den   float64 // Σ Num and Σ Den over the accounts given
	Replicates int     // replicates drawn (B)
	// Undefined counts replicates whose resampled Σ Den was 0 (no account
	// with a denominator was drawn); they are left out of the percentiles,
	// so the interval is conditional on the rate being defined.
	Undefined int
}

// ErrCluster is returned (wrapped) for a cluster with a negative,
// infinite or NaN Num or Den.
var ErrCluster = errors.New("stats: bad cluster")

// Ratio returns the point estimate Σ Num / Σ Den over clusters and the
// percentile interval at level from the bootstrap replicates: the
// (1−level)/2 and (1+level)/2 quantiles of the replicate ratios, with
// linear interpolation between order statistics. key names the rate (for
// example "coverage/e2ee/item_recall") and selects its random stream. No
// clusters, or Σ Den = 0, give a NoData interval.
func (bs Bootstrap) Ratio(key string, clusters []Cluster, level float64) (BootstrapInterval, error) {
	out, groups, err := bs.start(clusters, level)
	if err != nil {
		return BootstrapInterval{}, err
	}
	b := out.Replicates
	for _, g := range groups {
		out.Num += g.Num * float64(g.count)
		out.Den += g.Den * float64(g.count)
	}
	if out.Den <= 0 {
		out.Interval = noData(MethodClusterBootstrap, level)
		return out, nil
	}
	r := rand.New(rand.NewPCG(bs.Seed, fnv64(key)))
	ratios := make([]float64, 0, b)
	rs := newResampler(groups, len(clusters), r)
	for range b {
		num, den := rs.draw()
		if den <= 0 {
			out.Undefined++
			continue
		}
		ratios = append(ratios, num/den)
	}
	est := out.Num / out.Den
	out.Interval = Interval{Method: MethodClusterBootstrap, Level: level, Estimate: est, Lo: est, Hi: est}
	if len(ratios) > 0 {
		slices.Sort(ratios)
		out.Lo = min(quantileSorted(ratios, (1-level)/2), est)
		out.Hi = max(quantileSorted(ratios, (1+level)/2), est)
	}
	return out, nil
}

// group is a set of interchangeable accounts: count accounts with the same
// Num and Den.
type group struct {
	Cluster
	count int
}

// start checks the level and the clusters, and returns the interval with
// its counts filled in and the clusters grouped.
func (bs Bootstrap) start(clusters []Cluster, level float64) (BootstrapInterval, []group, error) {
	if !(level > 0 && level < 1) {
		return BootstrapInterval{}, nil, fmt.Errorf("%w: got %v", ErrLevel, level)
	}
	b := bs.B
	if b <= 0 {
		b = DefaultReplicates
	}
	groups, err := groupClusters(clusters)
	return BootstrapInterval{Clusters: len(clusters), Replicates: b}, groups, err
}

// groupClusters checks every cluster and returns the distinct (Num, Den)
// pairs with their counts, in a fixed order: largest group first, then by
// Num and Den.
func groupClusters(clusters []Cluster) ([]group, error) {
	idx := make(map[Cluster]int)
	var groups []group
	for i, c := range clusters {
		if !(c.Num >= 0 && c.Den >= 0 && c.Ref >= 0) || math.IsInf(c.Num, 0) || math.IsInf(c.Den, 0) || math.IsInf(c.Ref, 0) {
			return nil, fmt.Errorf("%w: account %d has Num=%v Den=%v Ref=%v", ErrCluster, i, c.Num, c.Den, c.Ref)
		}
		if j, ok := idx[c]; ok {
			groups[j].count++
			continue
		}
		idx[c] = len(groups)
		groups = append(groups, group{Cluster: c, count: 1})
	}
	slices.SortFunc(groups, func(a, b group) int {
		return cmp.Or(cmp.Compare(b.count, a.count), cmp.Compare(a.Num, b.Num), cmp.Compare(a.Den, b.Den), cmp.Compare(a.Ref, b.Ref))
	})
	return groups, nil
}

// minGroup is the size from which a group of interchangeable accounts is
// drawn with one binomial rather than account by account: a binomial draw
// costs about as much as a few dozen uniform ones.
const minGroup = 32

// resampler draws replicates for one set of clusters.
type resampler struct {
	big  []group   // groups of at least minGroup accounts, largest first
	rest []Cluster // the accounts of smaller groups
	n    int       // accounts in all
	r    *rand.Rand
}

func newResampler(groups []group, n int, r *rand.Rand) *resampler {
	s := &resampler{n: n, r: r}
	for _, g := range groups {
		if g.count >= minGroup {
			s.big = append(s.big, g)
			continue
		}
		for range g.count {
			s.rest = append(s.rest, g.Cluster)
		}
	}
	return s
}

// draw returns one replicate's Σ Num and Σ Den; see sums.
func (s *resampler) draw() (num, den float64) {
	num, _, den = s.sums()
	return num, den
}

// sums returns one replicate's Σ Num, Σ Ref and Σ Den. How many of the n draws
// land in each big group, and in the small ones together, is drawn as a
// chain of conditional binomials; the draws that land in the small groups
// then pick their accounts uniformly.
func (s *resampler) sums() (num, ref, den float64) {
	left, rest := s.n, s.n // draws left; accounts not yet visited
	for _, g := range s.big {
		if left == 0 {
			return num, ref, den
		}
		c := left
		if g.count < rest {
			c = int(distuv.Binomial{N: float64(left), P: float64(g.count) / float64(rest), Src: s.r}.Rand())
		}
		num += float64(c) * g.Num
		ref += float64(c) * g.Ref
		den += float64(c) * g.Den
		left -= c
		rest -= g.count
	}
	for range left {
		c := s.rest[s.r.IntN(len(s.rest))]
		num += c.Num
		ref += c.Ref
		den += c.Den
	}
	return num, ref, den
}

// quantileSorted returns the q quantile of sorted values, interpolating
// linearly between order statistics (R's default, type 7).
func quantileSorted(s []float64, q float64) float64 {
	h := q * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// fnv64 is the 64-bit FNV-1a hash of s.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Paired returns the point estimate and percentile interval of a statistic
// of the sums of Num, Ref and Den over accounts — for example the share of
// what a reference design caught that another design lost, 1 − ΣNum/ΣRef —
// resampling the same accounts for both numerators, so that the interval
// reflects that the two designs saw the same offenders. stat reports false
// where the statistic is undefined (a zero denominator); such replicates
// are counted in Undefined and left out. key selects the random stream as
// in [Bootstrap.Ratio].
func (bs Bootstrap) Paired(key string, clusters []Cluster, level float64, stat func(num, ref, den float64) (float64, bool)) (BootstrapInterval, error) {
	out, groups, err := bs.start(clusters, level)
	if err != nil {
		return BootstrapInterval{}, err
	}
	b := out.Replicates
	var ref float64
	for _, g := range groups {
		out.Num += g.Num * float64(g.count)
		ref += g.Ref * float64(g.count)
		out.Den += g.Den * float64(g.count)
	}
	est, ok := stat(out.Num, ref, out.Den)
	if !ok {
		out.Interval = noData(MethodClusterBootstrap, level)
		return out, nil
	}
	r := rand.New(rand.NewPCG(bs.Seed, fnv64(key)))
	rs := newResampler(groups, len(clusters), r)
	vals := make([]float64, 0, b)
	for range b {
		v, ok := stat(rs.sums())
		if !ok {
			out.Undefined++
			continue
		}
		vals = append(vals, v)
	}
	out.Interval = Interval{Method: MethodClusterBootstrap, Level: level, Estimate: est, Lo: est, Hi: est}
	if len(vals) > 0 {
		slices.Sort(vals)
		out.Lo = min(quantileSorted(vals, (1-level)/2), est)
		out.Hi = max(quantileSorted(vals, (1+level)/2), est)
	}
	return out, nil
}
