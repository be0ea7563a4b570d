package corpus

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
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
				if want := cfg.ReportProb; u.ReportProb != want && !(u.Offender && u.ReportProb == 0) {
					t.Fatalf("user %s report probability %v, want %v (0 for offenders)", u.ID, u.ReportProb, want)
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
				var want float64
				for _, a := range DefaultArchetypes() {
					want += a.Share * a.NewAccountShare
				}
				within(t, "offender new-account share", newOff, offenders, want)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	for _, tc := range []struct {
		policy          DMPolicy
		connected, open bool
		want            bool
	}{
		{DMEveryone, true, true, true},
		{DMEveryone, false, true, true},
		{DMFriends, true, true, true},
		{DMFriends, false, true, false},
		{DMFriends, false, false, false},
		{DMNoOne, true, false, false},
		{DMNoOne, false, false, false},
		{DMNoOne, true, true, true},
		{DMNoOne, false, true, true},
		{"", true, false, false},
		{"Everyone", true, false, false},
	} {
		t.Run(fmt.Sprintf("policy=%q/connected=%v/open=%v", tc.policy, tc.connected, tc.open), func(t *testing.T) {
			if got := Allowed(tc.policy, tc.connected, tc.open); got != tc.want {
				t.Errorf("Allowed(%q, %v, %v) = %v, want %v", tc.policy, tc.connected, tc.open, got, tc.want)
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
	for _, tc := range []struct {
		name  string
		mod   func(*PopulationConfig)
		field string // the error must name it
	}{
		{"users=1", func(c *PopulationConfig) { c.Users = 1 }, "Users"},
		{"minor-share=1.5", func(c *PopulationConfig) { c.MinorShare = 1.5 }, "MinorShare"},
		{"offender-share=-1", func(c *PopulationConfig) { c.OffenderShare = -1 }, "OffenderShare"},
		{"offenders=adults+1", func(c *PopulationConfig) { c.Offenders = 1501 }, "Offenders"},
		{"offenders=-2", func(c *PopulationConfig) { c.Offenders = -2 }, "Offenders"},
		{"report-prob=NaN", func(c *PopulationConfig) { c.ReportProb = math.NaN() }, "ReportProb"},
		{"class-size=0", func(c *PopulationConfig) { c.ClassSize = 0 }, "ClassSize"},
		{"library-median=0", func(c *PopulationConfig) { c.LibraryMedian = 0 }, "LibraryMedian"},
		{"minor-policy=sum>1", func(c *PopulationConfig) { c.MinorPolicy.Everyone = 0.5 }, "MinorPolicy"},
		{"adult-policy=neg", func(c *PopulationConfig) { c.AdultPolicy = PolicyMix{Everyone: 1.2, NoOne: -0.2} }, "AdultPolicy"},
		{"stealth=1.5", func(c *PopulationConfig) { c.Stealth = FixedStealth(1.5) }, "Stealth"},
		{"stealth=-0.1", func(c *PopulationConfig) { c.Stealth = StealthRange{-0.1, 0.5} }, "Stealth"},
		{"stealth=reversed", func(c *PopulationConfig) { c.Stealth = StealthRange{0.8, 0.2} }, "Stealth"},
		{"archetype=unknown", func(c *PopulationConfig) {
			c.Archetypes = DefaultArchetypes()
			c.Archetypes[0].Archetype = "lurker"
		}, "Archetypes"},
		{"archetype-shares=sum<1", func(c *PopulationConfig) {
			c.Archetypes = DefaultArchetypes()
			c.Archetypes[0].Share = 0.1
		}, "Archetypes: shares sum"},
		{"images-per-week=-1", func(c *PopulationConfig) {
			c.Archetypes = DefaultArchetypes()
			c.Archetypes[1].ImagesPerWeek = -1
		}, "Archetypes[groomer].ImagesPerWeek"},
		{"targets-per-week=NaN", func(c *PopulationConfig) {
			c.Archetypes = DefaultArchetypes()
			c.Archetypes[0].TargetsPerWeek = math.NaN()
		}, "Archetypes[stranger].TargetsPerWeek"},
		{"target-ages=9..17", func(c *PopulationConfig) {
			c.Archetypes = DefaultArchetypes()
			c.Archetypes[3].TargetAges = IntRange{9, 17}
		}, "Archetypes[sextortion].TargetAges"},
		{"ring-size=1", func(c *PopulationConfig) {
			c.Archetypes = DefaultArchetypes()
			c.Archetypes[2].RingSize = IntRange{1, 3}
		}, "Archetypes[ring].RingSize"},
	} {
		t.Run("bad="+tc.name, func(t *testing.T) {
			cfg := popTestConfig(1)
			tc.mod(&cfg)
			_, err := GeneratePopulation(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %v, want one naming %s", err, tc.field)
			}
		})
	}
	p := mustPopulation(t, popTestConfig(1))
	for _, tc := range []struct {
		name  string
		mod   func(*ConversationConfig)
		field string
	}{
		{"days=0", func(c *ConversationConfig) { c.Days = 0 }, "Days"},
		{"image-share=2", func(c *ConversationConfig) { c.ImageShare = 2 }, "ImageShare"},
		{"rate=-1", func(c *ConversationConfig) { c.MessagesPerDay = -1 }, "MessagesPerDay"},
		{"recruits=-1", func(c *ConversationConfig) { c.RecruitsPerMonth = -1 }, "RecruitsPerMonth"},
		{"evasive-share=-0.1", func(c *ConversationConfig) { c.EvasiveShare = -0.1 }, "EvasiveShare"},
	} {
		t.Run("bad="+tc.name, func(t *testing.T) {
			cfg := popTestTraffic()
			tc.mod(&cfg)
			_, err := p.Conversations(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %v, want one naming %s", err, tc.field)
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
			gate := NewGate()
			for _, e := range mustConversations(t, p, popTestTraffic()) {
				to := p.User(e.To)
				admitted := gate.Admit(to.Policy, &e)
				if e.Harmful && to.Minor() {
					n++
					if admitted {
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

// BenchmarkPopulation generates populations and iterates over their
// traffic, reporting accounts·days per second. Run the largest with
// -benchtime=1x.
func BenchmarkPopulation(b *testing.B) {
	for _, size := range []struct{ users, days int }{{10000, 30}, {100000, 30}} {
		b.Run(fmt.Sprintf("users=%d/days=%d", size.users, size.days), func(b *testing.B) {
			pc := DefaultPopulationConfig()
			pc.Users = size.users
			cc := DefaultConversationConfig()
			cc.Days = size.days
			var events int
			for b.Loop() {
				p := mustPopulation(b, pc)
				seq, err := p.Events(cc)
				if err != nil {
					b.Fatal(err)
				}
				events = 0
				for range seq {
					events++
				}
			}
			b.ReportMetric(float64(size.users*size.days)*float64(b.N)/b.Elapsed().Seconds(), "accounts·days/s")
			b.ReportMetric(float64(events), "events/op")
		})
	}
}
