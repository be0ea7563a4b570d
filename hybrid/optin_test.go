package hybrid_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"scanlab"
	"scanlab/hybrid"
)

// conversations returns n distinct conversations among users u0…u(k−1).
func conversations(n int) [][2]scanlab.UserID {
	var out [][2]scanlab.UserID
	for i := 0; len(out) < n; i++ {
		for j := 0; j < i && len(out) < n; j++ {
			out = append(out, [2]scanlab.UserID{scanlab.UserID(fmt.Sprint("u", i)), scanlab.UserID(fmt.Sprint("u", j))})
		}
	}
	return out
}

// TestChooserRates: over 20,000 conversations the encrypted share is the
// configured rate (within 4 standard errors), for benign and offender
// conversations apart, and ineligible conversations are never encrypted.
func TestChooserRates(t *testing.T) {
	convs := conversations(20000)
	offender := func(u scanlab.UserID) bool { return strings.HasSuffix(string(u), "7") }
	for _, c := range []struct {
		share, factor, wantBenign, wantOffender float64
	}{
		{0, 1, 0, 0},
		{1, 1, 1, 1},
		{0.3, 1, 0.3, 0.3},
		{0.3, 0, 0.3, 0.3},
		{0.1, 3, 0.1, 0.3},
		{0.4, 5, 0.4, 1},
	} {
		t.Run(fmt.Sprintf("share=%v/factor=%v", c.share, c.factor), func(t *testing.T) {
			choose, err := hybrid.OptIn{Share: c.share, OffenderFactor: c.factor, Seed: 7}.Chooser(offender, nil)
			if err != nil {
				t.Fatal(err)
			}
			var n, k [2]float64 // [benign, offender]
			for _, cv := range convs {
				i := 0
				if offender(cv[0]) || offender(cv[1]) {
					i = 1
				}
				n[i]++
				if choose(cv[0], cv[1]) {
					k[i]++
				}
				if choose(cv[0], cv[1]) != choose(cv[1], cv[0]) {
					t.Fatalf("%v: the choice depends on the direction", cv)
				}
			}
			for i, want := range []float64{c.wantBenign, c.wantOffender} {
				got := k[i] / n[i]
				if tol := 4*math.Sqrt(want*(1-want)/n[i]) + 1e-12; math.Abs(got-want) > tol {
					t.Errorf("offender=%v: encrypted share %.4f of %v conversations, want %v ± %.4f", i == 1, got, n[i], want, tol)
				}
			}
		})
	}
}

func TestChooserEligibility(t *testing.T) {
	adultsOnly := func(a, b scanlab.UserID) bool {
		return !strings.HasPrefix(string(a), "minor") && !strings.HasPrefix(string(b), "minor")
	}
	choose, err := hybrid.OptIn{Share: 1}.Chooser(nil, adultsOnly)
	if err != nil {
		t.Fatal(err)
	}
	if choose("minor1", "adult1") || choose("adult1", "minor1") {
		t.Error("an ineligible conversation was encrypted")
	}
	if !choose("adult1", "adult2") {
		t.Error("an eligible conversation at share 1 was not encrypted")
	}
}

// TestChooserSeed: the same seed repeats every choice; another seed changes
// some.
func TestChooserSeed(t *testing.T) {
	a, _ := hybrid.OptIn{Share: 0.5, Seed: 1}.Chooser(nil, nil)
	b, _ := hybrid.OptIn{Share: 0.5, Seed: 1}.Chooser(nil, nil)
	c, _ := hybrid.OptIn{Share: 0.5, Seed: 2}.Chooser(nil, nil)
	differ := 0
	for _, cv := range conversations(1000) {
		if a(cv[0], cv[1]) != b(cv[0], cv[1]) {
			t.Fatalf("%v: same seed, different choice", cv)
		}
		if a(cv[0], cv[1]) != c(cv[0], cv[1]) {
			differ++
		}
	}
	if differ < 400 || differ > 600 {
		t.Errorf("seeds 1 and 2 differ on %d of 1000 conversations, want about 500", differ)
	}
}

func TestOptInCheck(t *testing.T) {
	for _, c := range []struct {
		o    hybrid.OptIn
		want string
	}{
		{hybrid.OptIn{Share: -0.1}, "share"},
		{hybrid.OptIn{Share: 1.5}, "share"},
		{hybrid.OptIn{Share: math.NaN()}, "share"},
		{hybrid.OptIn{Share: 0.5, OffenderFactor: 0.5}, "offender factor"},
		{hybrid.OptIn{Share: 0.5, OffenderFactor: math.Inf(1)}, "offender factor"},
		{hybrid.OptIn{Share: 0.5, OffenderFactor: math.NaN()}, "offender factor"},
	} {
		t.Run(fmt.Sprintf("share=%v/factor=%v", c.o.Share, c.o.OffenderFactor), func(t *testing.T) {
			_, err := c.o.Chooser(nil, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one naming %q", err, c.want)
			}
		})
	}
	if err := (hybrid.OptIn{Share: 0.2, OffenderFactor: 1}).Check(); err != nil {
		t.Errorf("valid opt-in refused: %v", err)
	}
}

// ExampleOptIn shows adverse selection: offenders' conversations opt in at
// three times the benign rate.
func ExampleOptIn() {
	o := hybrid.OptIn{Share: 0.2, OffenderFactor: 3}
	fmt.Printf("benign %.1f, offender %.1f\n", o.Rate(false), o.Rate(true))
	// Output: benign 0.2, offender 0.6
}
