package corpus

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"scanlab"
)

// popTestConfig is a population small enough for quick tests.
func popTestConfig(seed uint64) PopulationConfig {
	cfg := DefaultPopulationConfig()
	cfg.Seed = seed
	cfg.Users = 2000
	cfg.OffenderShare = 0.02
	return cfg
}

func popTestTraffic() ConversationConfig {
	cfg := DefaultConversationConfig()
	cfg.Days = 7
	return cfg
}

func mustPopulation(t testing.TB, cfg PopulationConfig) *Population {
	t.Helper()
	p, err := GeneratePopulation(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustConversations(t testing.TB, p *Population, cfg ConversationConfig) []MessageEvent {
	t.Helper()
	evs, err := p.Conversations(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// within checks a binomial share against its expectation with five standard
// deviations of slack.
func within(t *testing.T, what string, got, n int, want float64) {
	t.Helper()
	if n == 0 {
		t.Errorf("%s: no trials", what)
		return
	}
	share := float64(got) / float64(n)
	tol := 5*math.Sqrt(want*(1-want)/float64(n)) + 1e-9
	if math.Abs(share-want) > tol {
		t.Errorf("%s = %.4f (%d/%d), want %.4f ± %.4f", what, share, got, n, want, tol)
	}
}

func TestPopulationDeterministic(t *testing.T) {
	a := mustPopulation(t, popTestConfig(7))
	b := mustPopulation(t, popTestConfig(7))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different populations")
	}
	ea := mustConversations(t, a, popTestTraffic())
	eb := mustConversations(t, b, popTestTraffic())
	if !reflect.DeepEqual(ea, eb) {
		t.Fatal("same seeds, different conversations")
	}

	c := mustPopulation(t, popTestConfig(8))
	same := 0
	for i := range a.Users {
		if a.Users[i].Persona == c.Users[i].Persona && slices.Equal(a.adj[i], c.adj[i]) {
			same++
		}
	}
	if same > len(a.Users)/10 {
		t.Errorf("seeds 7 and 8 agree on persona and friends of %d of %d users", same, len(a.Users))
	}

	other := popTestTraffic()
	other.Seed++
	eo := mustConversations(t, a, other)
	sameMsg := 0
	for i := range min(len(ea), len(eo)) {
		if ea[i].From == eo[i].From && ea[i].To == eo[i].To && ea[i].At.Equal(eo[i].At) {
			sameMsg++
		}
	}
	if sameMsg > len(ea)/100 {
		t.Errorf("traffic seeds 1 and 2 share %d of %d messages", sameMsg, len(ea))
	}
}

func TestPopulationShares(t *testing.T) {
	for _, tc := range []struct {
		minor, offender, evader, modified float64
	}{
		{0.25, 0.01, 0.3, 0.2},
		{0.1, 0.05, 0, 1},
		{0.4, 0, 0.5, 0.5},
		{0.3, 0.1, 1, 0},
	} {
		name := fmt.Sprintf("minors=%v/offenders=%v/evaders=%v/modified=%v", tc.minor, tc.offender, tc.evader, tc.modified)
		t.Run(name, func(t *testing.T) {
			cfg := popTestConfig(3)
			cfg.MinorShare, cfg.OffenderShare = tc.minor, tc.offender
			cfg.EvaderShare, cfg.ModifiedClientShare = tc.evader, tc.modified
			p := mustPopulation(t, cfg)
			var minors, offenders, evaders, modified int
			policies := map[bool]map[DMPolicy]int{true: {}, false: {}}
			var newBenign, benign, newOff int
			for i := range p.Users {
				u := &p.Users[i]
				if u.Minor() {
					minors++
				}
				policies[u.Minor()][u.Policy]++
				if (u.Persona == PersonaOffender) != u.Offender {
					t.Fatalf("user %s: persona %s, offender %v", u.ID, u.Persona, u.Offender)
				}
				if u.Offender {
					offenders++
					if u.Minor() {
						t.Fatalf("offender %s is a minor (%d)", u.ID, u.Age)
					}
					if u.AccountAge < 30 {
						newOff++
					}
				} else {
					benign++
					if u.AccountAge < 30 {
						newBenign++
					}
				}
				if u.Evader {
					evaders++
				}
				if u.ModifiedClient {
					modified++
				}
				if (u.Evader || u.ModifiedClient) && !u.Offender {
					t.Fatalf("user %s evades or runs a modified client but is no offender", u.ID)
				}
				if u.ReportProb != cfg.ReportProb {
					t.Fatalf("user %s report probability %v, want %v", u.ID, u.ReportProb, cfg.ReportProb)
				}
				if !u.Created.Equal(cfg.Start.AddDate(0, 0, -u.AccountAge)) {
					t.Fatalf("user %s created %v with account age %d days", u.ID, u.Created, u.AccountAge)
				}
			}
			wantMinors := int(math.Round(tc.minor * float64(cfg.Users)))
			wantOff := int(math.Round(tc.offender * float64(cfg.Users-wantMinors)))
			if minors != wantMinors || offenders != wantOff {
				t.Errorf("minors %d, offenders %d; want %d and %d", minors, offenders, wantMinors, wantOff)
			}
			if want := int(math.Round(tc.evader * float64(wantOff))); evaders != want {
				t.Errorf("evaders %d, want %d", evaders, want)
			}
			if want := int(math.Round(tc.modified * float64(wantOff))); modified != want {
				t.Errorf("modified clients %d, want %d", modified, want)
			}
			for _, group := range []struct {
				minor bool
				mix   PolicyMix
			}{{true, cfg.MinorPolicy}, {false, cfg.AdultPolicy}} {
				pol := policies[group.minor]
				n := pol[DMEveryone] + pol[DMFriends] + pol[DMNoOne]
				within(t, fmt.Sprintf("minor=%v everyone share", group.minor), pol[DMEveryone], n, group.mix.Everyone)
				within(t, fmt.Sprintf("minor=%v friends share", group.minor), pol[DMFriends], n, group.mix.Friends)
				within(t, fmt.Sprintf("minor=%v no-one share", group.minor), pol[DMNoOne], n, group.mix.NoOne)
			}
			within(t, "benign new-account share", newBenign, benign, cfg.NewAccountShare)
			if offenders > 0 {
				within(t, "offender new-account share", newOff, offenders, cfg.OffenderNewAccountShare)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	for _, tc := range []struct {
		policy    DMPolicy
		connected bool
		want      bool
	}{
		{DMEveryone, true, true},
		{DMEveryone, false, true},
		{DMFriends, true, true},
		{DMFriends, false, false},
		{DMNoOne, true, false},
		{DMNoOne, false, false},
		{"", true, false},
		{"Everyone", true, false},
	} {
		t.Run(fmt.Sprintf("policy=%q/connected=%v", tc.policy, tc.connected), func(t *testing.T) {
			if got := Allowed(tc.policy, tc.connected); got != tc.want {
				t.Errorf("Allowed(%q, %v) = %v, want %v", tc.policy, tc.connected, got, tc.want)
			}
		})
	}
}

func TestPopulationGraph(t *testing.T) {
	p := mustPopulation(t, popTestConfig(4))
	ids := make([]scanlab.UserID, len(p.Users))
	for i, u := range p.Users {
		ids[i] = u.ID
		if p.User(u.ID) != &p.Users[i] {
			t.Fatalf("User(%s) does not return the user", u.ID)
		}
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatal("user IDs not unique and sorted")
	}
	if p.User("nobody") != nil || p.Friends("nobody") != nil || p.Connected("nobody", ids[0]) {
		t.Error("unknown user found")
	}
	minContacts := map[Persona]int{}
	count := map[Persona]int{}
	lookAlikes := map[Persona]int{}
	for i, u := range p.Users {
		friends := p.Friends(u.ID)
		young := 0
		for _, f := range friends {
			if f == u.ID {
				t.Fatalf("%s is its own friend", u.ID)
			}
			if !slices.Contains(p.Friends(f), u.ID) {
				t.Fatalf("%s lists %s as a friend but not the other way round", u.ID, f)
			}
			if !p.Connected(u.ID, f) || p.Hops(u.ID, f) != 1 {
				t.Fatalf("friends %s and %s: connected %v, hops %d", u.ID, f, p.Connected(u.ID, f), p.Hops(u.ID, f))
			}
			if p.User(f).Minor() {
				young++
			}
		}
		if young != u.YoungContacts {
			t.Fatalf("%s: YoungContacts %d, counted %d", u.ID, u.YoungContacts, young)
		}
		if p.Hops(u.ID, u.ID) != 0 {
			t.Fatalf("Hops(%s, itself) = %d", u.ID, p.Hops(u.ID, u.ID))
		}
		if j := (i * 7919) % len(p.Users); j != i && !p.Connected(u.ID, ids[j]) {
			h := p.Hops(u.ID, ids[j])
			common := false
			for _, f := range friends {
				common = common || p.Connected(f, ids[j])
			}
			if (h == 2) != common || h < 2 || h > 3 {
				t.Fatalf("Hops(%s, %s) = %d, common friend %v", u.ID, ids[j], h, common)
			}
		}
		if c, ok := minContacts[u.Persona]; !ok || young < c {
			minContacts[u.Persona] = young
		}
		count[u.Persona]++
		if u.LookAlike() {
			lookAlikes[u.Persona]++
		}
	}
	// Teachers and coaches lead whole classes and teams: many young
	// contacts each. Adults outside families, schools and clubs have none.
	if minContacts[PersonaTeacher] < p.Config.ClassSize || minContacts[PersonaCoach] < 2 {
		t.Errorf("fewest young contacts: teacher %d, coach %d", minContacts[PersonaTeacher], minContacts[PersonaCoach])
	}
	if lookAlikes[PersonaTeacher] != count[PersonaTeacher] || lookAlikes[PersonaParent] == 0 {
		t.Errorf("look-alikes %v among %v", lookAlikes, count)
	}
	if lookAlikes[PersonaOffender] != 0 || lookAlikes[PersonaMinor] != 0 {
		t.Errorf("offenders or minors counted as look-alikes: %v", lookAlikes)
	}
}

func TestPopulationTooFewAdults(t *testing.T) {
	cfg := popTestConfig(1)
	cfg.MinorShare = 0.9
	if _, err := GeneratePopulation(cfg); err == nil {
		t.Fatal("90% minors: no error")
	}
}

func TestPopulationConfigErrors(t *testing.T) {
	for name, mod := range map[string]func(*PopulationConfig){
		"users=1":            func(c *PopulationConfig) { c.Users = 1 },
		"minor-share=1.5":    func(c *PopulationConfig) { c.MinorShare = 1.5 },
		"offender-share=-1":  func(c *PopulationConfig) { c.OffenderShare = -1 },
		"report-prob=NaN":    func(c *PopulationConfig) { c.ReportProb = math.NaN() },
		"class-size=0":       func(c *PopulationConfig) { c.ClassSize = 0 },
		"minor-policy=sum>1": func(c *PopulationConfig) { c.MinorPolicy.Everyone = 0.5 },
		"adult-policy=neg":   func(c *PopulationConfig) { c.AdultPolicy = PolicyMix{Everyone: 1.2, NoOne: -0.2} },
	} {
		t.Run("bad="+name, func(t *testing.T) {
			cfg := popTestConfig(1)
			mod(&cfg)
			if _, err := GeneratePopulation(cfg); err == nil {
				t.Error("no error")
			}
		})
	}
	p := mustPopulation(t, popTestConfig(1))
	for name, mod := range map[string]func(*ConversationConfig){
		"days=0":         func(c *ConversationConfig) { c.Days = 0 },
		"image-share=2":  func(c *ConversationConfig) { c.ImageShare = 2 },
		"rate=-1":        func(c *ConversationConfig) { c.MessagesPerDay = -1 },
		"targets-mean=0": func(c *ConversationConfig) { c.TargetsMean = 0 },
		"known-share=-0": func(c *ConversationConfig) { c.KnownShare = -0.1 },
	} {
		t.Run("bad="+name, func(t *testing.T) {
			cfg := popTestTraffic()
			mod(&cfg)
			if _, err := p.Conversations(cfg); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestConversationsConsistent(t *testing.T) {
	p := mustPopulation(t, popTestConfig(5))
	cfg := popTestTraffic()
	evs := mustConversations(t, p, cfg)
	start, end := p.Config.Start, p.Config.Start.AddDate(0, 0, cfg.Days)
	seen := map[[2]scanlab.UserID]bool{}
	classes := map[ContentClass]int{}
	for k, e := range evs {
		if k > 0 && (e.At.Before(evs[k-1].At) || e.ID <= evs[k-1].ID) {
			t.Fatalf("event %d (%s at %v) after %s at %v", k, e.ID, e.At, evs[k-1].ID, evs[k-1].At)
		}
		if e.At.Before(start) || !e.At.Before(end) {
			t.Fatalf("event %s at %v outside [%v, %v)", e.ID, e.At, start, end)
		}
		from, to := p.User(e.From), p.User(e.To)
		if from == nil || to == nil || e.From == e.To {
			t.Fatalf("event %s from %q to %q", e.ID, e.From, e.To)
		}
		pair := [2]scanlab.UserID{min(e.From, e.To), max(e.From, e.To)}
		if e.FirstContact == seen[pair] {
			t.Fatalf("event %s: first contact %v, pair seen before %v", e.ID, e.FirstContact, seen[pair])
		}
		seen[pair] = true
		if e.Connected != p.Connected(e.From, e.To) || e.Hops != p.Hops(e.From, e.To) {
			t.Fatalf("event %s: connected %v hops %d, graph says %v and %d", e.ID, e.Connected, e.Hops, p.Connected(e.From, e.To), p.Hops(e.From, e.To))
		}
		if e.Harmful != e.Class.Harmful() || !slices.Contains(ContentClasses, e.Class) {
			t.Fatalf("event %s: class %q harmful %v", e.ID, e.Class, e.Harmful)
		}
		if e.Harmful && !from.Offender {
			t.Fatalf("event %s: benign user %s sends %s", e.ID, e.From, e.Class)
		}
		switch e.Class {
		case ClassKnownImage:
			if from.Evader {
				t.Fatalf("event %s: evader %s sends an unaltered known image", e.ID, e.From)
			}
		case ClassTransformedImage, ClassEvasiveImage:
			if !from.Evader {
				t.Fatalf("event %s: non-evader %s sends %s", e.ID, e.From, e.Class)
			}
		}
		classes[e.Class]++
	}
	for _, c := range ContentClasses {
		if classes[c] == 0 {
			t.Errorf("no %s in %d events: %v", c, len(evs), classes)
		}
	}
	benign := classes[ClassBenignText] + classes[ClassBenignImage] + classes[ClassCollisionImage]
	perUserDay := float64(benign) / float64(len(p.Users)*cfg.Days)
	if perUserDay < 0.8*cfg.MessagesPerDay || perUserDay > 1.5*cfg.MessagesPerDay {
		t.Errorf("%.2f benign messages per user and day, configured mean %v", perUserDay, cfg.MessagesPerDay)
	}
	known := classes[ClassKnownImage] + classes[ClassTransformedImage] + classes[ClassEvasiveImage]
	within(t, "known share of harmful images", known, known+classes[ClassNovelImage], cfg.KnownShare)
}

func TestConversationsReports(t *testing.T) {
	p := mustPopulation(t, popTestConfig(6))
	for _, prob := range []float64{0, 0.2, 1} {
		t.Run(fmt.Sprintf("report=%v", prob), func(t *testing.T) {
			for i := range p.Users {
				p.Users[i].ReportProb = prob
			}
			cfg := popTestTraffic()
			cfg.MistakenReportProb = 0.01
			var harmful, harmfulRep, benign, benignRep int
			for _, e := range mustConversations(t, p, cfg) {
				if e.Harmful {
					harmful++
					if e.Reported {
						harmfulRep++
					}
				} else {
					benign++
					if e.Reported {
						benignRep++
					}
				}
			}
			within(t, "harmful reported", harmfulRep, harmful, prob)
			within(t, "benign reported", benignRep, benign, cfg.MistakenReportProb)
		})
	}
}

// senderStats summarises what each user sent: distinct unconnected minors
// first contacted, and the share of first contacts among distinct
// recipients.
type senderStats struct {
	strangerMinors map[scanlab.UserID]int
	recipients     map[scanlab.UserID]int
	first          map[scanlab.UserID]int
}

func statsOf(p *Population, evs []MessageEvent) senderStats {
	s := senderStats{map[scanlab.UserID]int{}, map[scanlab.UserID]int{}, map[scanlab.UserID]int{}}
	pairs := map[[2]scanlab.UserID]bool{}
	for _, e := range evs {
		if pair := [2]scanlab.UserID{e.From, e.To}; !pairs[pair] {
			pairs[pair] = true
			s.recipients[e.From]++
		}
		if e.FirstContact {
			s.first[e.From]++
			if !e.Connected && p.User(e.To).Minor() {
				s.strangerMinors[e.From]++
			}
		}
	}
	return s
}

func TestOffendersDiffer(t *testing.T) {
	p := mustPopulation(t, popTestConfig(9))
	evs := mustConversations(t, p, popTestTraffic())
	s := statsOf(p, evs)
	type agg struct {
		n              int
		strangerMinors float64
		firstShare     float64
	}
	by := map[Persona]*agg{}
	for _, u := range p.Users {
		a := by[u.Persona]
		if a == nil {
			a = &agg{}
			by[u.Persona] = a
		}
		a.n++
		a.strangerMinors += float64(s.strangerMinors[u.ID])
		if s.recipients[u.ID] > 0 {
			a.firstShare += float64(s.first[u.ID]) / float64(s.recipients[u.ID])
		}
	}
	off := by[PersonaOffender]
	offMinors, offFirst := off.strangerMinors/float64(off.n), off.firstShare/float64(off.n)
	t.Logf("offenders: %.2f unconnected minors first-contacted, first-contact share %.2f", offMinors, offFirst)
	for _, persona := range []Persona{PersonaParent, PersonaTeacher, PersonaCoach, PersonaAdult} {
		a := by[persona]
		m, f := a.strangerMinors/float64(a.n), a.firstShare/float64(a.n)
		t.Logf("%s: %.2f unconnected minors first-contacted, first-contact share %.2f", persona, m, f)
		// Offenders contact more than twice as many unconnected minors per
		// head as any benign group (measured with the defaults: about 9
		// against about 3 for teachers, the closest group), and a larger
		// share of their contacts are new.
		if offMinors < 2*m || offMinors < 3 {
			t.Errorf("offenders first-contact %.2f unconnected minors, %ss %.2f", offMinors, persona, m)
		}
		if offFirst <= f {
			t.Errorf("offenders' first-contact share %.2f, %ss' %.2f", offFirst, persona, f)
		}
	}
}

func TestPolicyPrevents(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mix       PolicyMix
		wantShare float64 // of offenders' harmful messages to minors that are allowed
	}{
		{"everyone", PolicyMix{Everyone: 1}, 1},
		{"friends", PolicyMix{Friends: 1}, 0},
		{"no-one", PolicyMix{NoOne: 1}, 0},
	} {
		t.Run("minor-policy="+tc.name, func(t *testing.T) {
			cfg := popTestConfig(10)
			cfg.MinorPolicy = tc.mix
			p := mustPopulation(t, cfg)
			var n, allowed int
			for _, e := range mustConversations(t, p, popTestTraffic()) {
				to := p.User(e.To)
				if e.Harmful && to.Minor() {
					n++
					if Allowed(to.Policy, e.Connected) {
						allowed++
					}
				}
			}
			if n == 0 || float64(allowed)/float64(n) != tc.wantShare {
				t.Errorf("%d of %d harmful messages to minors allowed, want share %v", allowed, n, tc.wantShare)
			}
		})
	}
}

func BenchmarkPopulation(b *testing.B) {
	for b.Loop() {
		p := mustPopulation(b, DefaultPopulationConfig())
		mustConversations(b, p, DefaultConversationConfig())
	}
}
