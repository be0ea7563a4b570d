package psi

import (
	"fmt"
	"math"
	"math/bits"
	mrand "math/rand/v2"
	"testing"
)

// enumerate returns the exact distribution of the matching-voucher count of
// an account of n images with k real matches under c, by brute force over
// every coin sequence, every budget and every set of real positions: the
// synthetic vouchers are the first min(X, B) positions whose coin came up,
// the count is |real ∪ synthetic|. It is independent of countPMF's
// closed form (n ≤ 12).
func enumerate(n, k int, c Calibration) []float64 {
	budgets := map[int]float64{}
	switch c.Budget {
	case BudgetUniform:
		for b := 0; b <= c.Max; b++ {
			budgets[b] = 1 / float64(c.Max+1)
		}
	case BudgetFixed:
		budgets[c.Max] = 1
	default:
		budgets[n] = 1
	}
	var realSets []uint
	for m := uint(0); m < 1<<n; m++ {
		if bits.OnesCount(m) == k {
			realSets = append(realSets, m)
		}
	}
	out := make([]float64, n+1)
	for coins := uint(0); coins < 1<<n; coins++ {
		x := bits.OnesCount(coins)
		pc := math.Pow(c.Rate, float64(x)) * math.Pow(1-c.Rate, float64(n-x))
		for b, pb := range budgets {
			synth, used := uint(0), 0
			for i := range n {
				if coins>>i&1 == 1 && used < b {
					synth |= 1 << i
					used++
				}
			}
			for _, r := range realSets {
				out[bits.OnesCount(synth|r)] += pc * pb / float64(len(realSets))
			}
		}
	}
	return out
}

// TestCountPMF checks the closed form of the server's count against brute
// force for small accounts, for every budget rule.
func TestCountPMF(t *testing.T) {
	for _, c := range []Calibration{
		{Rate: 0.3, Budget: BudgetUniform, Max: 3},
		{Rate: 0.5, Budget: BudgetUniform, Max: 0},
		{Rate: 0.2, Budget: BudgetFixed, Max: 2},
		{Rate: 0.4, Budget: BudgetNone},
		{Rate: 0, Budget: BudgetUniform, Max: 4},
	} {
		for _, n := range []int{1, 5, 9} {
			for _, k := range []int{0, 1, 3} {
				if k > n {
					continue
				}
				t.Run(fmt.Sprintf("budget=%s/max=%d/rate=%g/n=%d/k=%d", c.Budget, c.Max, c.Rate, n, k), func(t *testing.T) {
					lf := logFactorials(n)
					got, want := countPMF(syntheticPMF(n, c, lf), n, k, lf), enumerate(n, k, c)
					for i := range want {
						if math.Abs(got[i]-want[i]) > 1e-12 {
							t.Fatalf("P[count = %d] = %.15g, brute force %.15g", i, got[i], want[i])
						}
					}
				})
			}
		}
	}
}

// TestScheduleSkip checks that jumping through a schedule (what the
// simulation does) gives the same synthetic vouchers as deciding voucher by
// voucher (what a device does), from the same coins.
func TestScheduleSkip(t *testing.T) {
	for i, c := range []Calibration{
		{Rate: 0.05, Budget: BudgetUniform, Max: 60},
		{Rate: 0.3, Budget: BudgetFixed, Max: 20},
		{Rate: 0.01, Budget: BudgetNone},
	} {
		seed := [32]byte{byte(i)}
		a, err := newSchedule(c, mrand.NewChaCha8(seed))
		if err != nil {
			t.Fatal(err)
		}
		b, err := newSchedule(c, mrand.NewChaCha8(seed))
		if err != nil {
			t.Fatal(err)
		}
		const n = 5000
		var byNext, bySkip []int
		for v := range n {
			if s, err := a.next(); err != nil {
				t.Fatal(err)
			} else if s {
				byNext = append(byNext, v)
			}
		}
		for pos := -1; ; {
			g, ok, err := b.skip()
			if err != nil {
				t.Fatal(err)
			}
			if pos += g + 1; !ok || pos >= n {
				break
			}
			bySkip = append(bySkip, pos)
		}
		if fmt.Sprint(byNext) != fmt.Sprint(bySkip) {
			t.Fatalf("%+v: next gives %d synthetic vouchers, skip %d", c, len(byNext), len(bySkip))
		}
		if len(byNext) == 0 {
			t.Fatalf("%+v: no synthetic voucher in %d", c, n)
		}
	}
}

// TestSyntheticCalibration draws the server's view below the threshold from
// real accounts (their own schedules, seeded) and checks it against the
// closed form: the empirical count distributions with 0 and with t real
// matches lie within sampling error of countPMF, and the empirical advantage
// within sampling error of MatchCountDistance.
func TestSyntheticCalibration(t *testing.T) {
	const trials = 2000
	tests := []struct {
		n, th    int
		rate     float64
		maxSynth int
	}{
		{200, 3, 0.5, 200}, // the budget rarely binds: the count is binomial
		{200, 3, 0.05, 6},  // the budget binds often
		{60, 3, 0.2, 6},
	}
	for ti, tc := range tests {
		name := fmt.Sprintf("n=%d/t=%d/rate=%g/s=%d", tc.n, tc.th, tc.rate, tc.maxSynth)
		t.Run(name, func(t *testing.T) {
			p := Params{Threshold: tc.th, SyntheticRate: tc.rate, MaxSynthetic: tc.maxSynth, ADSize: 16,
				Coins: mrand.NewChaCha8([32]byte{byte(ti), 1})}
			rng := mrand.New(mrand.NewPCG(uint64(ti), 1))
			observe := func(m int) int {
				a := newTestAccount(t, p)
				real := rng.Perm(tc.n)[:m]
				isReal := map[int]bool{}
				for _, i := range real {
					isReal[i] = true
				}
				count := 0
				for i := range tc.n {
					synthetic, err := a.coin()
					if err != nil {
						t.Fatal(err)
					}
					if synthetic || isReal[i] {
						count++
					}
				}
				return count
			}
			hist := func(m int) []float64 {
				h := make([]float64, tc.n+1)
				for range trials {
					h[observe(m)] += 1.0 / trials
				}
				return h
			}
			c := p.calibration()
			c.Max = tc.maxSynth
			h0, ht := hist(0), hist(tc.th)
			lf := logFactorials(tc.n)
			s := syntheticPMF(tc.n, c, lf)
			p0, pt := countPMF(s, tc.n, 0, lf), countPMF(s, tc.n, tc.th, lf)
			// Expected TV distance of an empirical distribution from its
			// model: about ½ Σ sqrt(2 p(1−p) / (π K)).
			tvToModel := func(h, model []float64) (tv, expect float64) {
				for i := range h {
					tv += math.Abs(h[i]-model[i]) / 2
					expect += math.Sqrt(2*model[i]*(1-model[i])/(math.Pi*trials)) / 2
				}
				return tv, expect
			}
			tv0, e0 := tvToModel(h0, p0)
			tvT, eT := tvToModel(ht, pt)
			if tv0 > 2*e0 || tvT > 2*eT {
				t.Errorf("empirical vs model: TV %.3f (sampling %.3f) with 0 real, %.3f (sampling %.3f) with t real", tv0, e0, tvT, eT)
			}
			adv := 0.0
			for i := range h0 {
				adv += math.Abs(h0[i]-ht[i]) / 2
			}
			model := MatchCountDistance(tc.n, tc.th, c)
			if math.Abs(adv-model) > e0+eT+0.02 {
				t.Errorf("advantage %.3f, model %.3f", adv, model)
			}
			t.Logf("trials=%d: TV to model %.3f, %.3f (sampling ≈ %.3f); server advantage %.3f (model %.3f); mean synthetic %.2f",
				trials, tv0, tvT, e0, adv, model, ExpectedSynthetic(tc.n, c))
		})
	}
}

// TestCapRevealsCount reproduces the leak of a fixed cap: at the former
// defaults (rate 0.05, cap 3t = 90) an account of 5,000 images has exactly
// 90 synthetic vouchers, so one real match shows; a uniform budget hides it
// up to 1/(s+1).
func TestCapRevealsCount(t *testing.T) {
	const n, th = 5000, 30
	former := Calibration{Rate: 0.05, Budget: BudgetFixed, Max: 3 * th}
	uniform := Calibration{Rate: 0.05, Budget: BudgetUniform, Max: DefaultSyntheticFactor * th}
	if d := MatchCountDistance(n, 1, former); d < 0.95 {
		t.Errorf("former cap: advantage %.3f between 0 and 1 real match, want ≥ 0.95", d)
	}
	want := 1.0 / float64(uniform.Max+1)
	if d := MatchCountDistance(n, 1, uniform); math.Abs(d-want) > 0.002 {
		t.Errorf("uniform budget: advantage %.4f, want ≈ 1/(s+1) = %.4f", d, want)
	}
	if e := ExpectedSynthetic(n, uniform); math.Abs(e-th) > 0.01 {
		t.Errorf("uniform budget of s = 2t: mean synthetic count %.3f, want t = %d", e, th)
	}
	if e := ExpectedSynthetic(1000, Calibration{Rate: 0.03, Budget: BudgetNone}); math.Abs(e-30) > 1e-9 {
		t.Errorf("no budget: mean %.6f, want n·rate = 30", e)
	}
}

// TestSyntheticEndToEnd runs accounts with a synthetic rate through real
// vouchers and the server, and checks that the server's match count is the
// real members plus the synthetic vouchers sent for non-members, and that no
// account is revealed below the threshold.
func TestSyntheticEndToEnd(t *testing.T) {
	const th, n = 3, 40
	list := elements("list", 10)
	p := Params{Threshold: th, SyntheticRate: 0.2, ADSize: 16, Coins: mrand.NewChaCha8([32]byte{9})}
	s := newTestServer(t, list, p)
	tbl := download(t, s)
	sawSynthetic := false
	for k := range 3 {
		account := fmt.Sprint("acct-", k)
		a := newTestAccount(t, p)
		want := 0
		for i := range n {
			element := []byte(fmt.Sprint("holiday-", i))
			member := i%13 == 0 && i > 0 // three members: 13, 26, 39
			if member {
				element = list[i%10]
			}
			before := a.Synthetics()
			matched, err := s.Process(account, wire(t)(a.Voucher(tbl, id(i), element, []byte("ad"))))
			if err != nil {
				t.Fatal(err)
			}
			synthetic := a.Synthetics() > before
			sawSynthetic = sawSynthetic || synthetic
			if member || synthetic {
				want++
			}
			if matched != (member || synthetic) {
				t.Fatalf("image %d: matched=%v member=%v synthetic=%v", i, matched, member, synthetic)
			}
		}
		if v := s.View(account); v.Matches != want || v.Revealed || a.Synthetics() > s.p.MaxSynthetic {
			t.Fatalf("%s: view %+v, want %d matches, not revealed; %d synthetic", account, v, want, a.Synthetics())
		}
	}
	if !sawSynthetic {
		t.Fatal("the seed gives no synthetic voucher; pick another")
	}
}
