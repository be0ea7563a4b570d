package experiments

import (
	"fmt"
	"image"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"

	"scanlab/corpus"
	"scanlab/perceptual"
)

func init() {
	register(Experiment{
		Name:    "evasion",
		Summary: "robustness of PDQ and pHash to Thorn's benchmark transforms, and black-box evasion and collision attacks",
		Run:     runEvasion,
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
// is 31 or 70), and Thorn's pooled
// thresholds (PDQ 66, pHash 70 bits). The attacks use 31 for both. Rows whose transform starts with "attack" are
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

// evasionSizes are the workload sizes; tests may shrink them.
var evasionSizes = struct {
	maxPhotos                       int // bundled photos used, at most
	quickGenerated, fullGenerated   int
	quickAttacked, fullAttacked     int
	quickCollisions, fullCollisions int
	quickBudget, fullBudget         int // evasion queries
	quickCollBudget, fullCollBudget int // collision queries
}{100, 48, 400, 6, 24, 2, 8, 400, 1000, 1500, 3000}

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

func runEvasion(o Options, dir string) (map[string]any, error) {
	sz := evasionSizes
	nGen, nAtk, nColl, budget, collBudget := sz.fullGenerated, sz.fullAttacked, sz.fullCollisions, sz.fullBudget, sz.fullCollBudget
	if o.Quick {
		nGen, nAtk, nColl, budget, collBudget = sz.quickGenerated, sz.quickAttacked, sz.quickCollisions, sz.quickBudget, sz.quickCollBudget
	}
	photos, err := corpus.BundledPhotos()
	if err != nil {
		return nil, err
	}
	photos = photos[:min(len(photos), sz.maxPhotos)]
	transforms := corpus.ThornV0()
	extra := []string{"flip", "grayscale", "jpegq50", "jpegq90"}
	if !o.Quick {
		extra = nil
		for _, f := range corpus.TransformNames() {
			s, _ := corpus.Sweep(f)
			for _, t := range s {
				extra = append(extra, t.Name)
			}
		}
	}
	for _, n := range extra {
		if !slices.ContainsFunc(transforms, func(t corpus.Transform) bool { return t.Name == n }) && n != "noop" {
			transforms = append(transforms, corpus.MustTransform(n))
		}
	}

	// References: photos first, then generated images, prepared in
	// parallel; every image comes from its own seeded stream.
	n := len(photos) + nGen
	o.progress("evasion: %d references (%d photos), %d transforms", n, len(photos), len(transforms))
	refs := make([]*evasionRef, n)
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
		refs[i] = &ref
	})

	// Edits: edits[t][i].
	edits := make([][]evasionEdit, len(transforms))
	for t := range edits {
		edits[t] = make([]evasionEdit, n)
	}
	evasionParallel(n*len(transforms), func(k int) {
		t, i := k/n, k%n
		tr := transforms[t]
		out := corpus.ThornApply(tr, refs[i].img, o.rng(fmt.Sprintf("evasion/transform/%s/%d", tr.Name, i)))
		e := evasionEdit{psnr: math.NaN()}
		if out.Rect.Size() == refs[i].img.Rect.Size() {
			e.psnr = corpus.PSNR(refs[i].img, out)
		}
		for _, h := range evasionHashers {
			e.hashes = append(e.hashes, h.Hash(out))
		}
		edits[t][i] = e
	})

	// False-positive rates over all pairs of distinct references, and the
	// pHash threshold with PDQ's rate at 31.
	pairs := n * (n - 1) / 2
	impostor := make([][]int, len(evasionHashers)) // impostor[a][d] = pairs at distance d
	for a := range evasionHashers {
		impostor[a] = make([]int, perceptual.Bits+1)
		for i := range n {
			for j := i + 1; j < n; j++ {
				impostor[a][perceptual.Distance(refs[i].hashes[a], refs[j].hashes[a])]++
			}
		}
	}
	fpAt := func(a, t int) int {
		s := 0
		for d := 0; d <= t && d <= perceptual.Bits; d++ {
			s += impostor[a][d]
		}
		return s
	}
	// With a few hundred references PDQ has no false pair at 31, so the
	// pHash threshold of equal false-positive rate is matched on Gaussian
	// fits of the two impostor distributions: the same number of standard
	// deviations below the mean.
	mean := func(a int) (mu, sd float64) {
		var s, s2, c float64
		for d, k := range impostor[a] {
			s += float64(d * k)
			s2 += float64(d * d * k)
			c += float64(k)
		}
		mu = s / c
		return mu, math.Sqrt(math.Max(0, s2/c-mu*mu))
	}
	muQ, sdQ := mean(0)
	muP, sdP := mean(1)
	z := (muQ - evasionPDQThreshold) / sdQ
	phashMatched := max(0, int(math.Round(muP-z*sdP)))
	pdqFP := fpAt(0, evasionPDQThreshold)
	thresholds := [][]int{{evasionPDQThreshold, evasionThornPDQ}, {evasionPDQThreshold, evasionThornPHash}}
	if phashMatched != evasionPDQThreshold && phashMatched != evasionThornPHash {
		thresholds[1] = []int{evasionPDQThreshold, phashMatched, evasionThornPHash}
	}

	header := []string{"algo", "transform", "strength", "threshold", "items", "matched", "recall", "psnr", "ssim", "queries", "success", "success_jpeg95"}
	var rows [][]string
	for a, h := range evasionHashers {
		for t, tr := range transforms {
			for _, thr := range thresholds[a] {
				matched := 0
				var psnrSum float64
				psnrN := 0
				for i := range n {
					if perceptual.Distance(edits[t][i].hashes[a], refs[i].hashes[a]) <= thr {
						matched++
					}
					if !math.IsNaN(edits[t][i].psnr) {
						psnrSum += edits[t][i].psnr
						psnrN++
					}
				}
				psnr := ""
				if psnrN == n {
					psnr = evasionFloat(psnrSum/float64(n), 2)
				}
				rows = append(rows, []string{h.Name, tr.Name, evasionStrength(tr), strconv.Itoa(thr), strconv.Itoa(n), strconv.Itoa(matched),
					evasionFloat(float64(matched)/float64(n), 4), psnr, "", "", "", ""})
			}
		}
	}

	// Thorn's metric.
	var thornRows [][]string
	for a, h := range evasionHashers {
		for t, tr := range transforms {
			pos := make([]int, n)
			neg := make([]int, n)
			for i := range n {
				pos[i] = perceptual.Distance(edits[t][i].hashes[a], refs[i].hashes[a])
				neg[i] = perceptual.Bits + 1
				for j := range n {
					if j != i && refs[j].category == refs[i].category {
						neg[i] = min(neg[i], perceptual.Distance(edits[t][i].hashes[a], refs[j].hashes[a]))
					}
				}
			}
			thr, recall, prec := evasionThornRecall(pos, neg, evasionPrecision)
			pub := [2]string{"", ""}
			if p, ok := evasionThornPublished[tr.Name]; ok {
				pub = [2]string{evasionFloat(p[2*a], 3), strconv.Itoa(int(math.Round(p[2*a+1] * perceptual.Bits)))}
			}
			thrS := ""
			if thr >= 0 {
				thrS = strconv.Itoa(thr)
			}
			thornRows = append(thornRows, []string{h.Name, tr.Name, evasionStrength(tr), strconv.Itoa(n), thrS, evasionFloat(recall, 3), evasionFloat(prec, 3), pub[0], pub[1]})
		}
	}

	// Attacks, on the first references (photos first) for evasion, and on
	// generated benign images targeting list entries for collisions.
	o.progress("evasion: attacks (%d evasion, %d collision per hash)", nAtk, nColl)
	nAtk = min(nAtk, n)
	type atkJob struct {
		a, i    int
		collide bool
	}
	var jobs []atkJob
	for a := range evasionHashers {
		for i := range nColl {
			jobs = append(jobs, atkJob{a, i, true})
		}
		for i := range nAtk {
			jobs = append(jobs, atkJob{a, i, false})
		}
	}
	results := make([]corpus.AttackResult, len(jobs))
	const evadePSNR, collidePSNR = 35, 20
	evasionParallel(len(jobs), func(k int) {
		j := jobs[k]
		h := evasionHashers[j.a]
		if !j.collide {
			cfg := corpus.AttackConfig{Hasher: h, Threshold: evasionPDQThreshold, Budget: budget, MinPSNR: evadePSNR}
			results[k] = corpus.Evade(refs[j.i].img, refs[j.i].hashes[j.a], cfg, o.rng(fmt.Sprintf("evasion/attack/evade/%s/%d", h.Name, j.i)))
			return
		}
		benign := corpus.ThornReference(corpus.GenerateImage(o.rng(fmt.Sprintf("evasion/benign/%d", j.i)), corpus.DefaultMinSide, corpus.DefaultMaxSide))
		target := refs[evasionCollideTarget(j.i, nColl, n)].hashes[j.a]
		// Collisions need many bits moved at once: more samples per
		// gradient estimate (50 pairs) converge where 10 stall near 50 bits.
		cfg := corpus.AttackConfig{Hasher: h, Threshold: evasionPDQThreshold, Budget: collBudget, MinPSNR: collidePSNR, Samples: evasionCollideSamples}
		results[k] = corpus.Collide(benign, target, cfg, o.rng(fmt.Sprintf("evasion/attack/collide/%s/%d", h.Name, j.i)))
	})
	summary := map[string]any{
		"references": n, "photos": len(photos), "generated": nGen, "transforms": len(transforms),
		"pdq_threshold": evasionPDQThreshold, "phash_fpr_matched_threshold": phashMatched,
		"impostor_pairs": pairs, "pdq_false_pairs_at_31": pdqFP, "phash_false_pairs_at_31": fpAt(1, evasionPDQThreshold),
		"phash_false_pairs_at_matched": fpAt(1, phashMatched),
		"pdq_impostor_mean":            evasionFloat(muQ, 2), "pdq_impostor_sd": evasionFloat(sdQ, 2),
		"phash_impostor_mean": evasionFloat(muP, 2), "phash_impostor_sd": evasionFloat(sdP, 2),
		"synthetic_images": corpus.SyntheticImages,
	}
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
			name, floor, bud := "attack-evade", evadePSNR, budget
			if collide {
				name, floor, bud = "attack-collide", collidePSNR, collBudget
			}
			matched, succ, succJPEG := 0, 0, 0
			var psnr, ssim float64
			var qs, dists []int
			for _, r := range rs {
				if r.Success {
					succ++
				}
				// Does the outcome survive a messaging app's re-encoding
				// (JPEG quality 95, as in Thorn's pipeline)?
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
			rows = append(rows, []string{h.Name, name, strconv.Itoa(floor), strconv.Itoa(evasionPDQThreshold), strconv.Itoa(len(rs)), strconv.Itoa(matched),
				evasionFloat(float64(matched)/m, 4), evasionFloat(psnr/m, 2), evasionFloat(ssim/m, 4), strconv.Itoa(evasionMedian(qs)), evasionFloat(float64(succ)/m, 4),
				evasionFloat(float64(succJPEG)/m, 4)})
			summary[h.Name+"_"+name+"_budget"] = bud
			summary[h.Name+"_"+name+"_median_distance"] = evasionMedian(dists)
		}
	}

	if err := writeCSV(filepath.Join(dir, "evasion.csv"), header, rows); err != nil {
		return nil, err
	}
	if err := writeCSV(filepath.Join(dir, "thorn-metric.csv"),
		[]string{"algo", "transform", "strength", "items", "threshold", "recall", "precision", "thorn_recall", "thorn_threshold"}, thornRows); err != nil {
		return nil, err
	}
	return summary, nil
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
// only its own slot, so results do not depend on scheduling.
func evasionParallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func evasionStrength(t corpus.Transform) string {
	if t.Strength == 0 {
		return ""
	}
	return strconv.FormatFloat(t.Strength, 'g', -1, 64)
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
