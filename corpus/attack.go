package corpus

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"scanlab/perceptual"
)

// Hasher is a perceptual hash seen as a black box: an attack may call Hash
// on images of its choice and compare the results with a target, and
// nothing else.
type Hasher struct {
	Name string
	Hash func(image.Image) perceptual.Hash
}

// PDQHasher is PDQ at full resolution ([perceptual.PDQ]), its quality
// ignored.
var PDQHasher = Hasher{Name: "pdq", Hash: func(img image.Image) perceptual.Hash {
	h, _ := perceptual.PDQ(img)
	return h
}}

// PHashHasher is the 256-bit DCT hash [perceptual.PHash].
var PHashHasher = Hasher{Name: "phash", Hash: perceptual.PHash}

// The attacks' names, as they appear in [AttackResult] and [ImageLabel].
const (
	AttackEvade   = "evade"
	AttackCollide = "collide"
)

// AttackConfig bounds a black-box attack.
type AttackConfig struct {
	// Hasher is the oracle.
	Hasher Hasher
	// Threshold is the matching threshold in bits: two hashes match when
	// their distance is at most Threshold.
	Threshold int
	// Budget is the largest number of oracle queries the search may make;
	// the final check of the output is not counted.
	Budget int
	// MinPSNR is the perturbation bound: the output's PSNR against the
	// source image is at least MinPSNR dB (the perturbation's RMS is at
	// most 255·10^(−MinPSNR/20)). 0 means 30 dB.
	MinPSNR float64
	// Samples is the number of antithetic direction pairs per gradient
	// estimate (2·Samples queries per step); 0 means 10.
	Samples int
	// Freqs is the side of the block of lowest 2-D DCT frequencies the
	// perturbation is made of (Freqs² parameters); 0 means 16.
	Freqs int
}

func (c *AttackConfig) defaults() {
	if c.MinPSNR == 0 {
		c.MinPSNR = 30
	}
	if c.Samples <= 0 {
		c.Samples = 10
	}
	if c.Freqs <= 0 {
		c.Freqs = 16
	}
}

// AttackResult is the outcome of [Evade] or [Collide]. Hash, Distance,
// Success, PSNR and SSIM are recomputed from Image after the search: they
// say what the output image does, whatever the search believed.
type AttackResult struct {
	Attack   string      // AttackEvade or AttackCollide
	Image    *image.RGBA // the attacker's output
	Target   perceptual.Hash
	Hash     perceptual.Hash // the hash of Image, recomputed
	Distance int             // Distance(Hash, Target)
	// StartDistance is the distance of the unmodified source.
	StartDistance int
	// Success: for evasion, Distance > Threshold (the list entry no longer
	// matches); for a collision, Distance ≤ Threshold (it now matches).
	Success bool
	// Queries is the number of oracle calls the search made (at most the
	// budget).
	Queries    int
	PSNR, SSIM float64 // of Image against the source
}

// Evade perturbs src, a known image whose hash target is on the list, until
// its hash is more than cfg.Threshold bits from target, within cfg.Budget
// queries and the PSNR bound.
//
// The method follows the black-box attack of Jain, Creţu and de Montjoye,
// "Adversarial Detection Avoidance Attacks: Evaluating the robustness of
// perceptual hashing-based client-side scanning" (USENIX Security 2022,
// §4, the general black-box attack): gradient estimates with natural
// evolution strategies (antithetic Gaussian samples) on the Hamming
// distance, the only signal the oracle gives. The perturbation is built
// from the lowest 2-D DCT frequencies of the image, as in the low-frequency
// search space of Guo et al., "Simple Black-box Adversarial Attacks"
// (ICML 2019, §3, SimBA-DCT), and the same offset is added to R, G and B.
// It is kept inside the L2 ball the PSNR bound defines by projection.
func Evade(src image.Image, target perceptual.Hash, cfg AttackConfig, r *rand.Rand) AttackResult {
	return attack(AttackEvade, src, target, cfg, r)
}

// Collide perturbs src, a benign image, until its hash falls within
// cfg.Threshold bits of target, a list entry the attacker knows only as a
// hash (a leaked or guessed entry), within cfg.Budget queries and the PSNR
// bound: the second-preimage or framing attack of Prokos et al., "Squint
// Hard Enough: Attacking Perceptual Hashing with Adversarial Machine
// Learning" (USENIX Security 2023, §4), here with the same gradient-free
// search as [Evade] minimising the distance.
func Collide(src image.Image, target perceptual.Hash, cfg AttackConfig, r *rand.Rand) AttackResult {
	return attack(AttackCollide, src, target, cfg, r)
}

// perturbation renders low-frequency DCT coefficients as a pixel offset on
// a w×h image.
type perturbation struct {
	w, h, f int
	cx, cy  []float64 // f×w and f×h cosine tables
	tmp     []float64 // f×w
	delta   []float64 // w×h
}

func newPerturbation(w, h, f int) *perturbation {
	f = min(f, w, h)
	p := &perturbation{w: w, h: h, f: f, cx: make([]float64, f*w), cy: make([]float64, f*h), tmp: make([]float64, f*w), delta: make([]float64, w*h)}
	for u := range f {
		for x := range w {
			p.cx[u*w+x] = math.Cos(math.Pi * float64((2*x+1)*u) / float64(2*w))
		}
		for y := range h {
			p.cy[u*h+y] = math.Cos(math.Pi * float64((2*y+1)*u) / float64(2*h))
		}
	}
	return p
}

// rms2 is the mean square of the rendered offset of coefficients c: the
// cosines are orthogonal, with mean square 1 for frequency 0 and 1/2
// otherwise.
func (p *perturbation) rms2(c []float64) float64 {
	var s float64
	for u := range p.f {
		for v := range p.f {
			wt := 1.0
			if u > 0 {
				wt /= 2
			}
			if v > 0 {
				wt /= 2
			}
			s += c[u*p.f+v] * c[u*p.f+v] * wt
		}
	}
	return s
}

// project scales c into the ball of mean square maxMS.
func (p *perturbation) project(c []float64, maxMS float64) {
	if ms := p.rms2(c); ms > maxMS {
		k := math.Sqrt(maxMS / ms)
		for i := range c {
			c[i] *= k
		}
	}
}

// render writes src plus the offset of c into dst (clamped and rounded;
// clamping only moves pixels closer to src, so the PSNR bound holds).
func (p *perturbation) render(dst, src *image.RGBA, c []float64) {
	w, h, f := p.w, p.h, p.f
	for u := range f {
		t := p.tmp[u*w : u*w+w]
		clear(t)
		for v := range f {
			cv := c[u*f+v]
			if cv == 0 {
				continue
			}
			row := p.cx[v*w : v*w+w]
			for x := range w {
				t[x] += cv * row[x]
			}
		}
	}
	clear(p.delta)
	for u := range f {
		t := p.tmp[u*w : u*w+w]
		for y := range h {
			k := p.cy[u*h+y]
			d := p.delta[y*w : y*w+w]
			for x := range w {
				d[x] += k * t[x]
			}
		}
	}
	for y := range h {
		s := src.Pix[y*src.Stride:]
		o := dst.Pix[y*dst.Stride:]
		for x := range w {
			d := float32(p.delta[y*w+x])
			i := 4 * x
			o[i] = clampByte(float32(s[i]) + d)
			o[i+1] = clampByte(float32(s[i+1]) + d)
			o[i+2] = clampByte(float32(s[i+2]) + d)
			o[i+3] = 255
		}
	}
}

func attack(kind string, srcImg image.Image, target perceptual.Hash, cfg AttackConfig, r *rand.Rand) AttackResult {
	cfg.defaults()
	if cfg.Hasher.Hash == nil {
		panic("corpus: attack without a hasher")
	}
	src := opaque(ToRGBA(srcImg))
	w, h := src.Rect.Dx(), src.Rect.Dy()
	p := newPerturbation(w, h, cfg.Freqs)
	n := p.f * p.f
	maxRMS := 255 * math.Pow(10, -cfg.MinPSNR/20)
	maxMS := maxRMS * maxRMS
	// Exploration scale: a sample's offset has an RMS of about maxRMS/2.
	sigma := maxRMS / 2 / math.Sqrt(p.rms2(ones(n)))
	step := maxRMS / 3 // the L2 length of one update, in offset RMS

	queries := 0
	// score is what the search maximises: the distance for evasion, its
	// negative for a collision.
	score := func(img *image.RGBA) int {
		queries++
		d := perceptual.Distance(cfg.Hasher.Hash(img), target)
		if kind == AttackCollide {
			return -d
		}
		return d
	}
	won := func(s int) bool {
		if kind == AttackCollide {
			return -s <= cfg.Threshold
		}
		return s > cfg.Threshold
	}

	c := make([]float64, n)
	cand := make([]float64, n)
	grad := make([]float64, n)
	u := make([]float64, n)
	cur := image.NewRGBA(src.Rect)
	probe := image.NewRGBA(src.Rect)
	best := image.NewRGBA(src.Rect)
	copy(best.Pix, src.Pix)
	bestScore := score(src)
	found := won(bestScore)

	for !found && queries+2*cfg.Samples+1 <= cfg.Budget {
		clear(grad)
		for range cfg.Samples {
			for i := range u {
				u[i] = r.NormFloat64()
			}
			var fs [2]int
			for k, sgn := range [2]float64{1, -1} {
				for i := range cand {
					cand[i] = c[i] + sgn*sigma*u[i]
				}
				p.project(cand, maxMS)
				p.render(probe, src, cand)
				fs[k] = score(probe)
				if fs[k] > bestScore {
					bestScore = fs[k]
					copy(best.Pix, probe.Pix)
				}
				if won(fs[k]) {
					found = true
					break
				}
			}
			if found {
				break
			}
			diff := float64(fs[0] - fs[1])
			for i := range grad {
				grad[i] += diff * u[i]
			}
		}
		if found {
			break
		}
		// Step along the estimated gradient, with length step in offset
		// RMS, then project back into the PSNR ball.
		g := p.rms2(grad)
		if g == 0 {
			// No sample changed the distance: take a larger random step.
			for i := range c {
				c[i] += 2 * sigma * r.NormFloat64()
			}
		} else {
			k := step / math.Sqrt(g)
			for i := range c {
				c[i] += k * grad[i]
			}
		}
		p.project(c, maxMS)
		p.render(cur, src, c)
		s := score(cur)
		if s > bestScore {
			bestScore = s
			copy(best.Pix, cur.Pix)
		}
		found = won(s)
	}
	return Verify(kind, src, best, target, cfg, queries)
}

func ones(n int) []float64 {
	o := make([]float64, n)
	for i := range o {
		o[i] = 1
	}
	return o
}

// Verify builds an [AttackResult] for out, the output of an attack of kind
// on src after queries oracle calls, by hashing out (and src, for the
// starting distance) afresh with cfg.Hasher: the search's own record of
// its queries is not trusted.
func Verify(kind string, src, out *image.RGBA, target perceptual.Hash, cfg AttackConfig, queries int) AttackResult {
	h := cfg.Hasher.Hash(out)
	d := perceptual.Distance(h, target)
	res := AttackResult{
		Attack: kind, Image: out, Target: target, Hash: h, Distance: d,
		StartDistance: perceptual.Distance(cfg.Hasher.Hash(src), target), Queries: queries,
		PSNR: PSNR(src, out), SSIM: SSIM(src, out),
	}
	switch kind {
	case AttackEvade:
		res.Success = d > cfg.Threshold
	case AttackCollide:
		res.Success = d <= cfg.Threshold
	default:
		panic("corpus: unknown attack " + kind)
	}
	return res
}

// AttackItem labels the output of an attack on src: an [EvasiveImage]
// derived from a known image, or a [CollisionImage] that targets the list
// entry of targetID. The label records the attack whether or not it
// succeeded; res.Success says which.
func AttackItem(src ImageItem, targetID string, res AttackResult) ImageItem {
	it := ImageItem{Image: res.Image}
	switch res.Attack {
	case AttackEvade:
		it.ID = src.ID + "/evade"
		it.Label = ImageLabel{Class: EvasiveImage, Harmful: true, Source: src.ID, Attack: AttackEvade, Photo: src.Label.Photo}
	case AttackCollide:
		it.ID = fmt.Sprintf("%s/collide-%s", src.ID, targetID)
		it.Label = ImageLabel{Class: CollisionImage, Source: targetID, Attack: AttackCollide, Photo: src.Label.Photo}
	default:
		panic("corpus: unknown attack " + res.Attack)
	}
	return it
}
