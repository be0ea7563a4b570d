package corpus

import (
	"fmt"
	"image"
	"sync/atomic"
	"testing"

	"scanlab/perceptual"
)

func attackSource(i int) *image.RGBA {
	return GenerateImage(ImageStream(11, "attack-test", i), 64, 96)
}

// The attacks' reported outcome must be what the output image does when
// hashed again.
func TestAttackResultIsRecomputed(t *testing.T) {
	for _, h := range []Hasher{PDQHasher, PHashHasher} {
		for _, kind := range []string{AttackEvade, AttackCollide} {
			t.Run(fmt.Sprintf("hash=%s/attack=%s", h.Name, kind), func(t *testing.T) {
				src := attackSource(0)
				target := h.Hash(src)
				cfg := AttackConfig{Hasher: h, Threshold: 31, Budget: 60, MinPSNR: 30}
				var res AttackResult
				if kind == AttackEvade {
					res = Evade(src, target, cfg, ImageStream(1, "a", 0))
				} else {
					target = h.Hash(attackSource(1))
					cfg.MinPSNR = 20
					res = Collide(src, target, cfg, ImageStream(1, "a", 0))
				}
				got := h.Hash(res.Image)
				d := perceptual.Distance(got, target)
				if got != res.Hash || d != res.Distance {
					t.Fatalf("reported distance %d, recomputed %d", res.Distance, d)
				}
				if want := (kind == AttackEvade) == (d > cfg.Threshold); res.Success != want {
					t.Fatalf("success %v at distance %d, threshold %d", res.Success, d, cfg.Threshold)
				}
				if res.Queries > cfg.Budget || res.Queries < 1 {
					t.Fatalf("%d queries, budget %d", res.Queries, cfg.Budget)
				}
				if res.PSNR < cfg.MinPSNR-0.01 {
					t.Fatalf("PSNR %.2f below the bound %.0f", res.PSNR, cfg.MinPSNR)
				}
				if res.Image.Bounds() != src.Bounds() {
					t.Fatalf("bounds %v, want %v", res.Image.Bounds(), src.Bounds())
				}
			})
		}
	}
}

// lyingHasher reports a far-away hash on its lie-th call and the true hash
// otherwise: a search that trusts its queries would claim a success the
// output image does not have.
func lyingHasher(h Hasher, lie int64) Hasher {
	var calls atomic.Int64
	return Hasher{Name: "liar", Hash: func(img image.Image) perceptual.Hash {
		if calls.Add(1) == lie {
			var far perceptual.Hash
			for i := range far {
				far[i] = 0xa5
			}
			return far
		}
		return h.Hash(img)
	}}
}

func TestAttackCannotClaimUnachievedSuccess(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind string
	}{{"evade", AttackEvade}, {"collide", AttackCollide}} {
		t.Run("attack="+tc.name, func(t *testing.T) {
			src := attackSource(2)
			target := PDQHasher.Hash(src)
			if tc.kind == AttackCollide {
				target = PDQHasher.Hash(attackSource(3))
			}
			liar := lyingHasher(PDQHasher, 3)
			if tc.kind == AttackCollide {
				// Lie with the target itself: distance 0.
				var calls atomic.Int64
				liar = Hasher{Name: "liar", Hash: func(img image.Image) perceptual.Hash {
					if calls.Add(1) == 3 {
						return target
					}
					return PDQHasher.Hash(img)
				}}
			}
			// A perturbation too small to move 32 bits or to reach the
			// target: the only success the search sees is the lie.
			cfg := AttackConfig{Hasher: liar, Threshold: 31, Budget: 4, Samples: 1, MinPSNR: 60}
			var res AttackResult
			if tc.kind == AttackEvade {
				res = Evade(src, target, cfg, ImageStream(1, "liar", 0))
			} else {
				res = Collide(src, target, cfg, ImageStream(1, "liar", 0))
			}
			if res.Queries != 3 {
				t.Fatalf("%d queries: the search stopped before or went past the lie on query 3", res.Queries)
			}
			real := perceptual.Distance(PDQHasher.Hash(res.Image), target)
			if res.Distance != real {
				t.Fatalf("reported distance %d, true distance %d", res.Distance, real)
			}
			if res.Success {
				t.Fatalf("claimed success at true distance %d", real)
			}
		})
	}
}

func TestAttackItem(t *testing.T) {
	src := ImageItem{ID: "known-0001", Label: ImageLabel{Class: KnownImage, Harmful: true, Listed: true}}
	ev := AttackItem(src, "", AttackResult{Attack: AttackEvade, Image: attackSource(0)})
	if ev.Label.Class != EvasiveImage || !ev.Label.Harmful || ev.Label.Source != src.ID || ev.Label.Listed {
		t.Errorf("evasive item label %+v", ev.Label)
	}
	co := AttackItem(ImageItem{ID: "benign-0002"}, "known-0001", AttackResult{Attack: AttackCollide, Image: attackSource(0)})
	if co.Label.Class != CollisionImage || co.Label.Harmful || co.Label.Source != "known-0001" {
		t.Errorf("collision item label %+v", co.Label)
	}
}

func TestQualityMeasures(t *testing.T) {
	a := attackSource(0)
	if p, s := PSNR(a, a), SSIM(a, a); p != MaxPSNR || s < 0.9999 {
		t.Errorf("identical images: PSNR %g SSIM %g", p, s)
	}
	b := MustTransform("noise0.05").Apply(a, ImageStream(1, "q", 0))
	c := MustTransform("noise0.2").Apply(a, ImageStream(1, "q", 0))
	if !(PSNR(a, b) > PSNR(a, c)) || !(SSIM(a, b) > SSIM(a, c)) {
		t.Errorf("more noise is not worse: PSNR %g vs %g, SSIM %g vs %g", PSNR(a, b), PSNR(a, c), SSIM(a, b), SSIM(a, c))
	}
	if p := PSNR(a, MustTransform("crop0.1").Apply(a, nil)); p == p {
		t.Errorf("PSNR of different sizes = %g, want NaN", p)
	}
}
