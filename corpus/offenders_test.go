package corpus

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

func TestArchetypeTableSourced(t *testing.T) {
	table := DefaultArchetypes()
	if err := checkArchetypes(table); err != nil {
		t.Fatal(err)
	}
	var names []Archetype
	for _, a := range table {
		names = append(names, a.Archetype)
		t.Run("archetype="+string(a.Archetype), func(t *testing.T) {
			if missing := a.undocumented(); len(missing) > 0 {
				t.Errorf("no source for %v", missing)
			}
		})
	}
	if !slices.Equal(names, Archetypes) {
		t.Errorf("table rows %v, want %v", names, Archetypes)
	}
	// The check can fail: a row without a source is caught.
	bare := table[0]
	bare.Sources = map[string]string{"Share": "assumption"}
	if len(bare.undocumented()) == 0 {
		t.Error("undocumented fields not found")
	}
}

func TestApportion(t *testing.T) {
	table := DefaultArchetypes() // 0.4, 0.3, 0.15, 0.15
	for _, tc := range []struct {
		n    int
		want []int
	}{
		{0, []int{0, 0, 0, 0}},
		{1, []int{1, 0, 0, 0}},
		{7, []int{3, 2, 1, 1}},
		{10, []int{4, 3, 2, 1}},
		{100, []int{40, 30, 15, 15}},
	} {
		t.Run(fmt.Sprintf("n=%d", tc.n), func(t *testing.T) {
			if got := apportion(tc.n, table); !slices.Equal(got, tc.want) {
				t.Errorf("apportion(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}

// accountFeatures are, for one sender, the signals the rules of package
// behavior read, computed here from the workload as the detector would.
type accountFeatures struct {
	strangerMinors, distantMinors, minorRecipients, maxBurst float64
	newAccount                                               float64
	harmfulImages                                            float64
}

// featuresOf computes accountFeatures of every adult sender.
func featuresOf(p *Population, evs []MessageEvent) map[int]*accountFeatures {
	out := map[int]*accountFeatures{}
	recipients := map[[2]int]bool{}
	firsts := map[int][]time.Time{}
	for _, e := range evs {
		i, j := p.index[e.From], p.index[e.To]
		if p.Users[i].Minor() {
			continue
		}
		f := out[i]
		if f == nil {
			f = &accountFeatures{}
			out[i] = f
		}
		if e.Harmful && e.Class.Image() {
			f.harmfulImages++
		}
		if !recipients[[2]int{i, j}] && p.Users[j].Minor() {
			f.minorRecipients++
		}
		recipients[[2]int{i, j}] = true
		if e.FirstContact && !e.Connected && p.Users[j].Minor() {
			f.strangerMinors++
			if e.Hops >= 3 {
				f.distantMinors++
			}
			firsts[i] = append(firsts[i], e.At)
		}
	}
	for i, f := range out {
		ts := firsts[i]
		for lo, hi := 0, 0; hi < len(ts); hi++ {
			for ts[hi].Sub(ts[lo]) > time.Hour {
				lo++
			}
			f.maxBurst = max(f.maxBurst, float64(hi-lo+1))
		}
		if p.Users[i].AccountAge < 30 {
			f.newAccount = 1
		}
	}
	return out
}

// sample is one feature over a group of accounts.
type sample []float64

func (s sample) mean() float64 {
	var sum float64
	for _, x := range s {
		sum += x
	}
	return sum / float64(len(s))
}

func (s sample) variance() float64 {
	m, v := s.mean(), 0.0
	for _, x := range s {
		v += (x - m) * (x - m)
	}
	return v / float64(len(s)-1)
}

// stealthWorld generates a population rich in offenders at one stealth and
// the features of its adults, by group: each archetype and benign parents.
func stealthWorld(t *testing.T, stealth float64) (map[string][]*accountFeatures, *Population) {
	t.Helper()
	pc := DefaultPopulationConfig()
	pc.Seed = 41
	pc.OffenderShare = 0.1
	pc.Stealth = FixedStealth(stealth)
	p := mustPopulation(t, pc)
	cc := DefaultConversationConfig()
	cc.Days = 14
	feats := featuresOf(p, mustConversations(t, p, cc))
	groups := map[string][]*accountFeatures{}
	for i := range p.Users {
		u := &p.Users[i]
		g := string(u.Archetype)
		switch {
		case u.Minor():
			continue
		case !u.Offender:
			g = string(u.Persona)
		}
		f := feats[i]
		if f == nil {
			f = &accountFeatures{newAccount: map[bool]float64{true: 1}[u.AccountAge < 30]}
		}
		groups[g] = append(groups[g], f)
	}
	return groups, p
}

func column(fs []*accountFeatures, get func(*accountFeatures) float64) sample {
	s := make(sample, len(fs))
	for k, f := range fs {
		s[k] = get(f)
	}
	return s
}

var featureColumns = []struct {
	name string
	get  func(*accountFeatures) float64
}{
	{"stranger-minors", func(f *accountFeatures) float64 { return f.strangerMinors }},
	{"distant-minors", func(f *accountFeatures) float64 { return f.distantMinors }},
	{"minor-recipients", func(f *accountFeatures) float64 { return f.minorRecipients }},
	{"max-burst", func(f *accountFeatures) float64 { return f.maxBurst }},
	{"new-account", func(f *accountFeatures) float64 { return f.newAccount }},
}

// TestStealthOneLikeParents checks the definition of stealth 1: every
// archetype that targets minors looks, in every signal the rules read, like
// a benign parent (means within five standard errors).
func TestStealthOneLikeParents(t *testing.T) {
	groups, _ := stealthWorld(t, 1)
	parents := groups[string(PersonaParent)]
	for _, a := range []Archetype{ArchetypeStranger, ArchetypeGroomer, ArchetypeSextortion} {
		off := groups[string(a)]
		for _, c := range featureColumns {
			t.Run(fmt.Sprintf("archetype=%s/feature=%s", a, c.name), func(t *testing.T) {
				x, y := column(off, c.get), column(parents, c.get)
				se := math.Sqrt(x.variance()/float64(len(x)) + y.variance()/float64(len(y)))
				t.Logf("offenders %.3f (n=%d), parents %.3f (n=%d), se %.3f", x.mean(), len(x), y.mean(), len(y), se)
				if d := math.Abs(x.mean() - y.mean()); d > 5*se+1e-9 {
					t.Errorf("means differ by %.3f, more than 5 se", d)
				}
			})
		}
	}
}

// TestStealthZeroAsTheRulesExpect checks that at stealth 0 the stranger and
// sextortion archetypes first-contact far more unconnected minors, in
// bigger bursts and from newer accounts, than any benign group, that the
// groomer's targets are mostly friends of friends, and that stealth moves
// offenders monotonically towards parents.
func TestStealthZeroAsTheRulesExpect(t *testing.T) {
	byStealth := map[float64]map[string][]*accountFeatures{}
	for _, s := range []float64{0, 0.5, 1} {
		byStealth[s], _ = stealthWorld(t, s)
	}
	g0 := byStealth[0]
	strangers := func(fs []*accountFeatures) float64 {
		return column(fs, featureColumns[0].get).mean()
	}
	for _, a := range []Archetype{ArchetypeStranger, ArchetypeSextortion} {
		for _, p := range []Persona{PersonaParent, PersonaTeacher, PersonaCoach, PersonaAdult} {
			if o, b := strangers(g0[string(a)]), strangers(g0[string(p)]); o < 2*b || o < 3 {
				t.Errorf("%s: %.2f unconnected minors per offender, %s %.2f", a, o, p, b)
			}
		}
		var prev float64 = math.Inf(1)
		for _, s := range []float64{0, 0.5, 1} {
			m := strangers(byStealth[s][string(a)])
			t.Logf("%s at stealth %v: %.2f unconnected minors", a, s, m)
			if m >= prev {
				t.Errorf("%s: stealth %v does not lower unconnected minors (%.2f after %.2f)", a, s, m, prev)
			}
			prev = m
		}
	}
	groom := g0[string(ArchetypeGroomer)]
	near := 1 - column(groom, featureColumns[1].get).mean()/strangers(groom)
	if near < 0.6 {
		t.Errorf("groomers: %.2f of unconnected minors within two hops, want most", near)
	}
}

// TestImageVolume checks images per offender per week against the table at
// stealth 0: close to the rate for rings, whose peers are there from the
// start; at most the rate, but not far below half of it, for archetypes
// whose images wait for a first contact.
func TestImageVolume(t *testing.T) {
	groups, p := stealthWorld(t, 0)
	weeks := 2.0
	for _, a := range p.Config.archetypes() {
		fs := groups[string(a.Archetype)]
		got := column(fs, func(f *accountFeatures) float64 { return f.harmfulImages }).mean() / weeks
		t.Logf("%s: %.2f harmful images per offender per week (table %.1f, n=%d)", a.Archetype, got, a.ImagesPerWeek, len(fs))
		lo := 0.3
		if a.Archetype == ArchetypeRing {
			lo = 0.8
		}
		if got > a.ImagesPerWeek*1.2 || got < a.ImagesPerWeek*lo {
			t.Errorf("%s: %.2f images per week, table %.1f", a.Archetype, got, a.ImagesPerWeek)
		}
	}
}
