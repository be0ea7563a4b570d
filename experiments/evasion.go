package experiments

import (
	"errors"
	"fmt"
	"image"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"

	"scanlab/corpus"
	"scanlab/perceptual"
	"scanlab/schema"
)

func init() {
	register(Experiment{
		Name:    "evasion",
		Summary: "robustness of PDQ and pHash to Thorn's benchmark transforms, and black-box evasion and collision attacks",
		Run:     runEvasion,
		spec:    func(o Options) any { return o.Evasion.withDefaults(o.Scale) },
	})
}

// The evasion experiment measures how list matching with PDQ and pHash
// survives benign edits and deliberate attacks.
//
// Workload: the bundled public-domain photographs (category "photo") and
// generated photo-like images (category "generated"), each prepared as
// Thorn's benchmark prepares its references ([corpus.ThornReference]: long
// side 256 px, JPEG quality 95). Each reference is edited with Thorn's v0
// transforms (and, in the full run, every strength of every transform
// family) through [corpus.ThornApply] (the edit, then JPEG quality 95).
//
// evasion.csv: one row per (algo, transform, threshold): items edited,
// matched (distance to its own reference ≤ threshold), recall, and the
// mean PSNR of the edit (empty when it changes the size). The thresholds
// are 31 bits for both hashes (Meta's recommendation for PDQ), for pHash
// also the threshold of PDQ's false-positive rate at 31 (matched on
// Gaussian fits of the two distributions of distances between distinct
// references, as the sample has no false pair at 31; no extra rows when it
// is 31 or 70), Thorn's pooled
// thresholds (PDQ 66, pHash 70 bits) and, for each transform Thorn
// published, Thorn's own threshold for that transform and hash (its
// normalised threshold × 256; [evasionThornThreshold]), so that our recall
// can be compared with Thorn's at the same threshold. The attacks use 31
// for both. Rows whose transform starts with "attack" are
// the attacks on the references: for attack-evade, matched is the number
// of attacked images still matched (recall after the attack) and success
// the share that escaped; for attack-collide, matched is the number of
// benign images that now match their target (the framing success rate).
// Their strength is the PSNR floor in dB; queries is the median number of
// oracle queries, psnr and ssim the means over the outputs, and
// success_jpeg95 the success rate once the output is re-encoded as JPEG at
// quality 95 (the attack does not aim to survive re-encoding).
//
// thorn-metric.csv: Thorn's metric per (algo, transform): recall at 99.99%
// precision, where each edited image's positive distance is to its own
// reference and its negative distance to the nearest other reference of
// the same category, beside Thorn's published recall and threshold.
const (
	evasionPDQThreshold = 31
	evasionThornPDQ     = 66 // 0.257812 × 256, Thorn's overall PDQ threshold
	evasionThornPHash   = 70 // 0.273438 × 256, Thorn's overall pHash threshold
	evasionPrecision    = 99.99

	evasionCollideSamples = 50 // NES direction pairs per step of a collision
)

// EvasionOptions size the evasion experiment; zero fields take the scale's
// defaults.
type EvasionOptions struct {
	Photos          int `json:"photos,omitempty"`           // bundled photos used, at most
	Generated       int `json:"generated,omitempty"`        // generated references
	Attacked        int `json:"attacked,omitempty"`         // references attacked, per hash
	Collisions      int `json:"collisions,omitempty"`       // collision attacks, per hash
	Budget          int `json:"budget,omitempty"`           // oracle queries per evasion attack
	CollisionBudget int `json:"collision_budget,omitempty"` // oracle queries per collision attack
}

func (e EvasionOptions) withDefaults(s Scale) EvasionOptions {
	def := EvasionOptions{Photos: 100, Generated: 400, Attacked: 24, Collisions: 8, Budget: 1000, CollisionBudget: 3000}
	if s == Quick {
		def = EvasionOptions{Photos: 100, Generated: 48, Attacked: 6, Collisions: 2, Budget: 400, CollisionBudget: 1500}
	}
	pick := func(v, d int) int {
		if v > 0 {
			return v
		}
		return d
	}
	return EvasionOptions{
		Photos: pick(e.Photos, def.Photos), Generated: pick(e.Generated, def.Generated),
		Attacked: pick(e.Attacked, def.Attacked), Collisions: pick(e.Collisions, def.Collisions),
		Budget: pick(e.Budget, def.Budget), CollisionBudget: pick(e.CollisionBudget, def.CollisionBudget),
	}
}

// Thorn's published recall (thorn-oss/perception docs/examples/
// benchmarking.rst at a30815de), per transform: PDQ and pHash-256 recall %
// at 99.99% precision, and the normalised thresholds.
var evasionThornPublished = map[string][4]float64{
	// transform: pdq recall, pdq threshold, phash recall, phash threshold
	"blur2":     {99.948, 0.234375, 100, 0.179688},
	"crop0.05":  {9.03, 0.257812, 7.058, 0.226562},
	"gamma2":    {100, 0.210938, 100, 0.234375},
	"jpeg95":    {99.896, 0.257812, 99.896, 0.234375},
	"noise0.2":  {99.222, 0.257812, 99.896, 0.273438},
	"pad0.2":    {1.349, 0.28125, 2.387, 0.273438},
	"resize0.5": {99.844, 0.265625, 100, 0.234375},
	"rotate4":   {54.489, 0.273438, 59.626, 0.257812},
	"vignette":  {100, 0.132812, 100, 0.132812},
	"watermark": {99.014, 0.273438, 99.377, 0.28125},
}

var evasionHashers = []corpus.Hasher{corpus.PDQHasher, corpus.PHashHasher}

// evasionRef is one reference image, its category (for Thorn's nearest
// impostor) and its hashes in the order of evasionHashers.
type evasionRef struct {
	category string
	img      *image.RGBA
	hashes   []perceptual.Hash
}

// evasionEdit is one edited reference: its hashes and PSNR.
type evasionEdit struct {
	hashes []perceptual.Hash
	psnr   float64 // NaN when the size changed
}

// evasionStudy is one run's references, transforms and edits.
type evasionStudy struct {
	o          Options
	sizes      EvasionOptions
	photos     int
	transforms []corpus.Transform
	refs       []*evasionRef
	edits      [][]evasionEdit // edits[t][i]: transform t of reference i
}

func runEvasion(o Options, dir string) (map[string]any, error) {
	st, err := newEvasionStudy(o)
	if err != nil {
		return nil, err
	}
	n := len(st.refs)
	o.progress("evasion: %d references (%d photos), %d transforms", n, st.photos, len(st.transforms))
	st.applyTransforms()
	imp := st.impostors()
	summary := map[string]any{
		"references": n, "photos": st.photos, "generated": st.sizes.Generated, "transforms": len(st.transforms),
		"pdq_threshold": evasionPDQThreshold, "synthetic_images": corpus.SyntheticImages,
	}
	imp.summarise(summary)
	rows := st.recallRows(imp.thresholds())
	thornRows := st.thornMetricRows()
	o.progress("evasion: attacks (%d evasion, %d collision per hash)", st.sizes.Attacked, st.sizes.Collisions)
	rows = append(rows, st.attackRows(summary)...)
	return summary, errors.Join(schema.Evasion.WriteFile(o.Out, rows), schema.ThornMetric.WriteFile(o.Out, thornRows))
}

// newEvasionStudy picks the transforms and prepares the references: photos
// first, then generated images, in parallel; every image comes from its own
// seeded stream.
func newEvasionStudy(o Options) (*evasionStudy, error) {
	st := &evasionStudy{o: o, sizes: o.Evasion.withDefaults(o.Scale)}
	photos, err := corpus.BundledPhotos()
	if err != nil {
		return nil, err
	}
	photos = photos[:min(len(photos), st.sizes.Photos)]
	st.photos = len(photos)
	st.transforms = evasionTransforms(o.Scale)
	n := len(photos) + st.sizes.Generated
	st.refs = make([]*evasionRef, n)
	evasionParallel(n, func(i int) {
		var ref evasionRef
		if i < len(photos) {
			ref.category = "photo"
			ref.img = corpus.ThornReference(photos[i].Image)
		} else {
			ref.category = "generated"
			ref.img = corpus.ThornReference(corpus.GenerateImage(o.rng(fmt.Sprintf("evasion/image/%d", i)), corpus.DefaultMinSide, corpus.DefaultMaxSide))
		}
		for _, h := range evasionHashers {
			ref.hashes = append(ref.hashes, h.Hash(ref.img))
		}
		st.refs[i] = &ref
	}, nil)
	return st, nil
}

// evasionTransforms are Thorn's v0 transforms plus, in the quick study, a
// few more, and otherwise every strength of every transform family.
func evasionTransforms(s Scale) []corpus.Transform {
	transforms := corpus.ThornV0()
	extra := []string{"flip", "grayscale", "jpegq50", "jpegq90"}
	if s != Quick {
		extra = nil
		for _, f := range corpus.TransformNames() {
			sw, _ := corpus.Sweep(f)
			for _, t := range sw {
				extra = append(extra, t.Name)
			}
		}
	}
	for _, n := range extra {
		if !slices.ContainsFunc(transforms, func(t corpus.Transform) bool { return t.Name == n }) && n != "noop" {
			transforms = append(transforms, corpus.MustTransform(n))
		}
	}
	return transforms
}

// applyTransforms edits every reference with every transform.
func (st *evasionStudy) applyTransforms() {
	n := len(st.refs)
	st.edits = make([][]evasionEdit, len(st.transforms))
	for t := range st.edits {
		st.edits[t] = make([]evasionEdit, n)
	}
	evasionParallel(n*len(st.transforms), func(k int) {
		t, i := k/n, k%n
		tr := st.transforms[t]
		ref := st.refs[i]
		out := corpus.ThornApply(tr, ref.img, st.o.rng(fmt.Sprintf("evasion/transform/%s/%d", tr.Name, i)))
		e := evasionEdit{psnr: math.NaN()}
		if out.Rect.Size() == ref.img.Rect.Size() {
			e.psnr = corpus.PSNR(ref.img, out)
		}
		for _, h := range evasionHashers {
			e.hashes = append(e.hashes, h.Hash(out))
		}
		st.edits[t][i] = e
	}, st.o.advance)
}

// impostorStats are the distances between all pairs of distinct
// references, per hash: the false-positive side of every threshold.
type impostorStats struct {
	pairs    int
	counts   [][]int // counts[a][d]: pairs at distance d under hash a
	muQ, sdQ float64 // PDQ's mean and standard deviation
	muP, sdP float64 // pHash's
	// phashMatched is the pHash threshold with PDQ's false-positive rate
	// at 31, matched on Gaussian fits: with a few hundred references PDQ
	// has no false pair at 31, so the threshold is the same number of
	// standard deviations below the mean.
	phashMatched int
}

func (st *evasionStudy) impostors() impostorStats {
	n := len(st.refs)
	imp := impostorStats{pairs: n * (n - 1) / 2, counts: make([][]int, len(evasionHashers))}
	for a := range evasionHashers {
		imp.counts[a] = make([]int, perceptual.Bits+1)
		for i := range n {
			for j := i + 1; j < n; j++ {
				imp.counts[a][perceptual.Distance(st.refs[i].hashes[a], st.refs[j].hashes[a])]++
			}
		}
	}
	imp.muQ, imp.sdQ = meanSD(imp.counts[0])
	imp.muP, imp.sdP = meanSD(imp.counts[1])
	z := (imp.muQ - evasionPDQThreshold) / imp.sdQ
	imp.phashMatched = max(0, int(math.Round(imp.muP-z*imp.sdP)))
	return imp
}

// meanSD returns the mean and standard deviation of a histogram.
func meanSD(hist []int) (mu, sd float64) {
	var s, s2, c float64
	for d, k := range hist {
		s += float64(d * k)
		s2 += float64(d * d * k)
		c += float64(k)
	}
	mu = s / c
	return mu, math.Sqrt(math.Max(0, s2/c-mu*mu))
}

// falsePairs returns the pairs at distance ≤ t under hash a.
func (imp impostorStats) falsePairs(a, t int) int {
	s := 0
	for d := 0; d <= t && d <= perceptual.Bits; d++ {
		s += imp.counts[a][d]
	}
	return s
}

// thresholds are the thresholds evaluated per hash: 31 and Thorn's pooled
// one, and for pHash the FPR-matched one when it differs from both.
func (imp impostorStats) thresholds() [][]int {
	th := [][]int{{evasionPDQThreshold, evasionThornPDQ}, {evasionPDQThreshold, evasionThornPHash}}
	if imp.phashMatched != evasionPDQThreshold && imp.phashMatched != evasionThornPHash {
		th[1] = []int{evasionPDQThreshold, imp.phashMatched, evasionThornPHash}
	}
	return th
}

func (imp impostorStats) summarise(m map[string]any) {
	m["phash_fpr_matched_threshold"] = imp.phashMatched
	m["impostor_pairs"] = imp.pairs
	m["pdq_false_pairs_at_31"] = imp.falsePairs(0, evasionPDQThreshold)
	m["phash_false_pairs_at_31"] = imp.falsePairs(1, evasionPDQThreshold)
	m["phash_false_pairs_at_matched"] = imp.falsePairs(1, imp.phashMatched)
	m["pdq_impostor_mean"], m["pdq_impostor_sd"] = evasionFloat(imp.muQ, 2), evasionFloat(imp.sdQ, 2)
	m["phash_impostor_mean"], m["phash_impostor_sd"] = evasionFloat(imp.muP, 2), evasionFloat(imp.sdP, 2)
}

// evasionThornThreshold returns Thorn's threshold in bits for a transform
// under hash a (an index of evasionHashers), and whether Thorn published
// one.
func evasionThornThreshold(transform string, a int) (int, bool) {
	p, ok := evasionThornPublished[transform]
	if !ok {
		return 0, false
	}
	return int(math.Round(p[2*a+1] * perceptual.Bits)), true
}

// rowThresholds are the thresholds of one hash and transform's rows: the
// hash's thresholds and, where Thorn published the transform, Thorn's own
// threshold for it, in increasing order.
func rowThresholds(thresholds []int, transform string, a int) []int {
	out := slices.Clone(thresholds)
	if th, ok := evasionThornThreshold(transform, a); ok && !slices.Contains(out, th) {
		out = append(out, th)
	}
	slices.Sort(out)
	return out
}

// recallRows gives, per hash, transform and threshold, how many edited
// references still match their own reference.
func (st *evasionStudy) recallRows(thresholds [][]int) []schema.EvasionRow {
	n := len(st.refs)
	var rows []schema.EvasionRow
	for a, h := range evasionHashers {
		for t, tr := range st.transforms {
			for _, thr := range rowThresholds(thresholds[a], tr.Name, a) {
				matched := 0
				var psnrSum float64
				psnrN := 0
				for i := range n {
					e := st.edits[t][i]
					if perceptual.Distance(e.hashes[a], st.refs[i].hashes[a]) <= thr {
						matched++
					}
					if !math.IsNaN(e.psnr) {
						psnrSum += e.psnr
						psnrN++
					}
				}
				psnr := math.NaN()
				if psnrN == n {
					psnr = psnrSum / float64(n)
				}
				rows = append(rows, schema.EvasionRow{Algo: h.Name, Transform: tr.Name, Strength: evasionStrength(tr), Threshold: thr,
					Items: n, Matched: matched, Recall: float64(matched) / float64(n), PSNR: psnr,
					SSIM: math.NaN(), Success: math.NaN(), SuccessJPEG95: math.NaN()})
			}
		}
	}
	return rows
}

// thornMetricRows computes Thorn's metric per hash and transform: each
// edit's positive distance is to its own reference, its negative distance
// to the nearest other reference of the same category.
func (st *evasionStudy) thornMetricRows() []schema.ThornMetricRow {
	n := len(st.refs)
	var rows []schema.ThornMetricRow
	for a, h := range evasionHashers {
		for t, tr := range st.transforms {
			pos, neg := make([]int, n), make([]int, n)
			for i := range n {
				eh := st.edits[t][i].hashes[a]
				pos[i] = perceptual.Distance(eh, st.refs[i].hashes[a])
				neg[i] = perceptual.Bits + 1
				for j := range n {
					if j != i && st.refs[j].category == st.refs[i].category {
						neg[i] = min(neg[i], perceptual.Distance(eh, st.refs[j].hashes[a]))
					}
				}
			}
			thr, recall, prec := evasionThornRecall(pos, neg, evasionPrecision)
			row := schema.ThornMetricRow{Algo: h.Name, Transform: tr.Name, Strength: evasionStrength(tr), Items: n,
				Recall: recall, Precision: prec, ThornRecall: math.NaN()}
			if th, ok := evasionThornThreshold(tr.Name, a); ok {
				row.ThornRecall, row.ThornThreshold = evasionThornPublished[tr.Name][2*a], schema.Some(th)
			}
			if thr >= 0 {
				row.Threshold = schema.Some(thr)
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// evasionAttack is one attack job: evade hash a on reference i, or collide
// a benign image with a target under hash a.
type evasionAttack struct {
	a, i    int
	collide bool
}

// PSNR floors of the attacks, in dB.
const evadePSNR, collidePSNR = 35, 20

// attackRows runs the attacks — evasion on the first references (photos
// first), collisions of generated benign images with list entries — and
// summarises each (hash, attack) as a row.
func (st *evasionStudy) attackRows(summary map[string]any) []schema.EvasionRow {
	n, sz := len(st.refs), st.sizes
	nAtk := min(sz.Attacked, n)
	var jobs []evasionAttack
	for a := range evasionHashers {
		for i := range sz.Collisions {
			jobs = append(jobs, evasionAttack{a, i, true})
		}
		for i := range nAtk {
			jobs = append(jobs, evasionAttack{a, i, false})
		}
	}
	results := make([]corpus.AttackResult, len(jobs))
	evasionParallel(len(jobs), func(k int) { results[k] = st.attack(jobs[k]) }, st.o.advance)
	var rows []schema.EvasionRow
	for a, h := range evasionHashers {
		for _, collide := range []bool{false, true} {
			var rs []corpus.AttackResult
			for k, j := range jobs {
				if j.a == a && j.collide == collide {
					rs = append(rs, results[k])
				}
			}
			if len(rs) == 0 {
				continue
			}
			name, floor, budget := "attack-evade", evadePSNR, sz.Budget
			if collide {
				name, floor, budget = "attack-collide", collidePSNR, sz.CollisionBudget
			}
			row, medianDist := attackRow(h, name, floor, collide, rs)
			rows = append(rows, row)
			summary[h.Name+"_"+name+"_budget"] = budget
			summary[h.Name+"_"+name+"_median_distance"] = medianDist
		}
	}
	return rows
}

// attack runs one attack job.
func (st *evasionStudy) attack(j evasionAttack) corpus.AttackResult {
	h, sz, n := evasionHashers[j.a], st.sizes, len(st.refs)
	if !j.collide {
		cfg := corpus.AttackConfig{Hasher: h, Threshold: evasionPDQThreshold, Budget: sz.Budget, MinPSNR: evadePSNR}
		return corpus.Evade(st.refs[j.i].img, st.refs[j.i].hashes[j.a], cfg, st.o.rng(fmt.Sprintf("evasion/attack/evade/%s/%d", h.Name, j.i)))
	}
	benign := corpus.ThornReference(corpus.GenerateImage(st.o.rng(fmt.Sprintf("evasion/benign/%d", j.i)), corpus.DefaultMinSide, corpus.DefaultMaxSide))
	target := st.refs[evasionCollideTarget(j.i, sz.Collisions, n)].hashes[j.a]
	// Collisions need many bits moved at once: more samples per gradient
	// estimate (50 pairs) converge where 10 stall near 50 bits.
	cfg := corpus.AttackConfig{Hasher: h, Threshold: evasionPDQThreshold, Budget: sz.CollisionBudget, MinPSNR: collidePSNR, Samples: evasionCollideSamples}
	return corpus.Collide(benign, target, cfg, st.o.rng(fmt.Sprintf("evasion/attack/collide/%s/%d", h.Name, j.i)))
}

// attackRow summarises one hash's results of one attack, and returns the
// median final distance.
func attackRow(h corpus.Hasher, name string, floor int, collide bool, rs []corpus.AttackResult) (schema.EvasionRow, int) {
	matched, succ, succJPEG := 0, 0, 0
	var psnr, ssim float64
	var qs, dists []int
	for _, r := range rs {
		if r.Success {
			succ++
		}
		// Does the outcome survive a messaging app's re-encoding (JPEG
		// quality 95, as in Thorn's pipeline)?
		dj := perceptual.Distance(h.Hash(corpus.JPEGRoundTrip(r.Image, corpus.ThornQuality)), r.Target)
		if (dj > evasionPDQThreshold) == !collide {
			succJPEG++
		}
		if r.Distance <= evasionPDQThreshold {
			matched++
		}
		psnr += r.PSNR
		ssim += r.SSIM
		qs = append(qs, r.Queries)
		dists = append(dists, r.Distance)
	}
	m := float64(len(rs))
	return schema.EvasionRow{Algo: h.Name, Transform: name, Strength: float64(floor), Threshold: evasionPDQThreshold,
		Items: len(rs), Matched: matched, Recall: float64(matched) / m, PSNR: psnr / m, SSIM: ssim / m,
		Queries: schema.Some(evasionMedian(qs)), Success: float64(succ) / m, SuccessJPEG95: float64(succJPEG) / m}, evasionMedian(dists)
}

// evasionThornRecall is Thorn's compute_threshold_recall
// (perception/benchmarking/common.py at a30815de): sort the positive
// distances; at each as a threshold, true positives are its rank and false
// positives the negatives at or below it; the threshold is the last
// positive before precision first falls below target. It returns the
// threshold (−1 when even the smallest fails), recall % (positives at or
// below the threshold) and precision % there.
func evasionThornRecall(pos, neg []int, target float64) (thr int, recall, precision float64) {
	pos, neg = slices.Clone(pos), slices.Clone(neg)
	slices.Sort(pos)
	slices.Sort(neg)
	prec := func(i int) float64 {
		fp := sort.SearchInts(neg, pos[i]+1) // negatives ≤ pos[i]
		return 100 * float64(i+1) / float64(i+1+fp)
	}
	bad := -1
	for i := range pos {
		if prec(i) < target {
			bad = i
			break
		}
	}
	switch bad {
	case -1:
		return pos[len(pos)-1], 100, prec(len(pos) - 1)
	case 0:
		return -1, 0, math.NaN()
	}
	thr = pos[bad-1]
	got := sort.SearchInts(pos, thr+1)
	return thr, 100 * float64(got) / float64(len(pos)), prec(bad - 1)
}

// evasionCollideTarget spreads the collision targets evenly over the
// references, photos and generated images alike.
func evasionCollideTarget(i, count, n int) int { return i * n / max(count, 1) % n }

// evasionParallel runs f(0..n-1) on GOMAXPROCS workers. Each call writes
// only its own slot, so results do not depend on scheduling. done, if not
// nil, hears how many calls have finished.
func evasionParallel(n int, f func(i int), done func(finished, n int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	finished := 0
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
				if done != nil {
					mu.Lock()
					finished++
					done(finished, n)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func evasionStrength(t corpus.Transform) float64 {
	if t.Strength == 0 {
		return math.NaN()
	}
	return t.Strength
}

func evasionFloat(v float64, prec int) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func evasionMedian(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
