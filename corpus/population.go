package corpus

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"scanlab"
)

// Persona is a user's place in the synthetic society of a [Population]. It is
// ground truth: the provider sees a declared age and the social graph, never
// the persona.
type Persona string

// The personas of a population. Teachers, coaches and parents are the benign
// adults with many young contacts that a metadata detector may mistake for
// offenders.
const (
	PersonaMinor    Persona = "minor"    // a child or teenager (10–17)
	PersonaParent   Persona = "parent"   // an adult in a household with children
	PersonaTeacher  Persona = "teacher"  // an adult connected to every student of a few school classes
	PersonaCoach    Persona = "coach"    // an adult connected to every member of a sports team or two
	PersonaAdult    Persona = "adult"    // any other benign adult
	PersonaOffender Persona = "offender" // an adult who contacts unconnected minors
)

// Personas lists the personas in a stable order.
var Personas = []Persona{PersonaMinor, PersonaParent, PersonaTeacher, PersonaCoach, PersonaAdult, PersonaOffender}

// DMPolicy is a user's direct-message setting: who may start a conversation
// with them. It is enforced by the provider before any scanner runs, in every
// mode; see [Allowed].
type DMPolicy string

// The direct-message policies, as the settings of Meta's apps name them
// (Settings and Privacy > Privacy > Direct Messages).
const (
	DMEveryone DMPolicy = "everyone" // anyone may message the user
	DMFriends  DMPolicy = "friends"  // only accounts connected to the user
	DMNoOne    DMPolicy = "no-one"   // nobody may start a direct message
)

// DMPolicies lists the policies in a stable order.
var DMPolicies = []DMPolicy{DMEveryone, DMFriends, DMNoOne}

// Allowed reports whether a recipient with the given policy accepts a message
// from a sender, where connected says whether the two are connected in the
// social graph: [DMEveryone] accepts all, [DMFriends] only connected senders,
// [DMNoOne] nobody. An unknown policy accepts nobody (fail closed).
//
// Experiments apply it to every [MessageEvent] to count the harmful contacts
// a recipient's setting prevents before any scanner runs.
func Allowed(policy DMPolicy, connected bool) bool {
	switch policy {
	case DMEveryone:
		return true
	case DMFriends:
		return connected
	}
	return false
}

// PolicyMix is a distribution over direct-message policies: the share of
// users with each setting. The shares must be non-negative and sum to 1.
type PolicyMix struct {
	Everyone, Friends, NoOne float64
}

func (m PolicyMix) check() error {
	if !(m.Everyone >= 0 && m.Friends >= 0 && m.NoOne >= 0) || math.Abs(m.Everyone+m.Friends+m.NoOne-1) > 1e-9 {
		return fmt.Errorf("policy mix %+v: shares must be non-negative and sum to 1", m)
	}
	return nil
}

func (m PolicyMix) draw(r *rand.Rand) DMPolicy {
	x := r.Float64()
	switch {
	case x < m.Everyone:
		return DMEveryone
	case x < m.Everyone+m.Friends:
		return DMFriends
	}
	return DMNoOne
}

// LookAlikeYoungContacts is the number of minor contacts from which a benign
// adult counts as a look-alike (see [User.LookAlike]).
const LookAlikeYoungContacts = 5

// User is one account of a [Population] with its ground truth. ID, the
// declared age (Age, and so [User.Minor]), AccountAge, Created, Policy and
// YoungContacts (from the social graph the platform keeps) are known to the
// provider; Persona, Offender, Evader, ModifiedClient and ReportProb are
// ground truth for the harness and must never reach a message, an envelope
// or a detector.
type User struct {
	ID scanlab.UserID
	// Age is the declared age in years. Minors are 10–17, adults 18–80.
	Age int
	// AccountAge is the account's age in days at the population's Start.
	AccountAge int
	// Created is when the account was created: Start − AccountAge days.
	Created time.Time
	// Persona is the user's place in the synthetic society.
	Persona Persona
	// Offender is true for an adult who contacts unconnected minors and
	// sends harmful content ([PersonaOffender]).
	Offender bool
	// Evader is true for an offender who transforms known images to evade
	// hash matching (content classes transformed-image and evasive-image
	// instead of known-image).
	Evader bool
	// ModifiedClient is true for an offender whose client skips on-device
	// scanning: experiments must not build safety vouchers for this user's
	// messages.
	ModifiedClient bool
	// Policy is the user's direct-message setting.
	Policy DMPolicy
	// ReportProb is the probability that this user, as a recipient,
	// reports a harmful message that reaches them.
	ReportProb float64
	// YoungContacts is the number of minors the user is connected to.
	YoungContacts int
}

// Minor reports whether the user's declared age is under 18.
func (u *User) Minor() bool { return u.Age < 18 }

// LookAlike reports whether u is a benign adult with at least
// [LookAlikeYoungContacts] minor contacts: a teacher, coach or family member
// whose metadata may resemble an offender's. Evaluations report false flags
// on these users beside recall.
func (u *User) LookAlike() bool {
	return !u.Offender && !u.Minor() && u.YoungContacts >= LookAlikeYoungContacts
}

// PopulationConfig configures [GeneratePopulation]. Shares are in [0, 1].
// Defaults come from [DefaultPopulationConfig]; where a default is an
// assumption of this study rather than a published figure, its comment says so.
type PopulationConfig struct {
	// Seed makes the population reproducible: equal configs give equal
	// populations.
	Seed uint64
	// Users is the number of accounts. Default 5000.
	Users int
	// Start is the simulated present: account ages are measured at Start
	// and conversations begin at Start. Default Monday 2 March 2026 00:00
	// UTC.
	Start time.Time
	// MinorShare is the share of users who are minors, exactly
	// round(MinorShare × Users). Default 0.25 (assumption: a general
	// messaging service with a teenage minority).
	MinorShare float64
	// OffenderShare is the share of adults who are offenders, exactly
	// round(OffenderShare × adults). Default 0.01 (assumption: prevalence
	// is unknown; chosen so that a default population holds a few dozen
	// offenders; sweep it).
	OffenderShare float64
	// EvaderShare is the share of offenders who transform known images to
	// evade hash matching, exactly round(EvaderShare × offenders). Default
	// 0.3 (assumption).
	EvaderShare float64
	// ModifiedClientShare is the share of offenders whose client skips
	// on-device scanning, exactly round(ModifiedClientShare × offenders),
	// drawn independently of evaders. Default 0.2 (assumption).
	ModifiedClientShare float64
	// MinorPolicy is the distribution of direct-message settings of
	// minors. Default 10% everyone, 85% friends, 5% no-one (assumption
	// after Meta's friends-only default for minors, metadata.md, with a
	// minority who change it).
	MinorPolicy PolicyMix
	// AdultPolicy is the distribution of direct-message settings of
	// adults. Default 80% everyone, 17% friends, 3% no-one (assumption:
	// adults keep the open default).
	AdultPolicy PolicyMix
	// ReportProb is every user's probability of reporting a harmful
	// message that reaches them. Default 0.01, the suggested default of
	// clientscan.md §4.5 ("probability that a recipient reports a harmful
	// item … 0.01 (sweep 0.001–0.05)", corroborated by the public's ≈1%
	// share of NCMEC CyberTips against Meta's >99% proactive rate).
	ReportProb float64
	// NewAccountShare is the share of benign accounts younger than 30 days
	// at Start. Default 0.05 (assumption).
	NewAccountShare float64
	// OffenderNewAccountShare is the share of offenders' accounts younger
	// than 30 days at Start. Default 0.6 (assumption after Meta's
	// description of adults who "repeatedly set up new profiles",
	// metadata.md).
	OffenderNewAccountShare float64
	// ClassSize is the number of students in a school class. Default 25.
	ClassSize int
	// ClassesPerTeacher is the number of classes one teacher is connected
	// to. Default 3.
	ClassesPerTeacher int
	// TeamShare is the share of minors in a sports team. Default 0.5.
	TeamShare float64
	// TeamSize is the number of minors in a team. Default 15.
	TeamSize int
	// TeamsPerCoach is the number of teams one coach is connected to.
	// Default 2.
	TeamsPerCoach int
	// CircleSize is the size of the adults' circles of friends and
	// colleagues. Default 10.
	CircleSize int
	// ClassmateLink, TeammateLink and CircleLink are the probabilities that
	// two members of a class, a team or an adult circle are connected.
	// Defaults 0.25, 0.35 and 0.3.
	ClassmateLink, TeammateLink, CircleLink float64
	// RelativeLink is the probability that an adult of a household is
	// connected to a child of one other household (an aunt or uncle, a
	// godparent). Default 0.5.
	RelativeLink float64
	// LongRange is the probability that a user gets one random connection
	// to another user of the same age group, which makes the clustered
	// graph a small world. Default 0.2.
	LongRange float64
}

// DefaultPopulationConfig returns the population of the default study: 5000
// users, a quarter of them minors, 1% of adults offenders. See the fields of
// [PopulationConfig] for every default and its source.
func DefaultPopulationConfig() PopulationConfig {
	return PopulationConfig{
		Seed:                    1,
		Users:                   5000,
		Start:                   time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		MinorShare:              0.25,
		OffenderShare:           0.01,
		EvaderShare:             0.3,
		ModifiedClientShare:     0.2,
		MinorPolicy:             PolicyMix{Everyone: 0.10, Friends: 0.85, NoOne: 0.05},
		AdultPolicy:             PolicyMix{Everyone: 0.80, Friends: 0.17, NoOne: 0.03},
		ReportProb:              0.01,
		NewAccountShare:         0.05,
		OffenderNewAccountShare: 0.6,
		ClassSize:               25,
		ClassesPerTeacher:       3,
		TeamShare:               0.5,
		TeamSize:                15,
		TeamsPerCoach:           2,
		CircleSize:              10,
		ClassmateLink:           0.25,
		TeammateLink:            0.35,
		CircleLink:              0.3,
		RelativeLink:            0.5,
		LongRange:               0.2,
	}
}

// checkShares returns an error for each named value outside [0, 1].
func checkShares(shares map[string]float64) []error {
	var errs []error
	for name, v := range shares {
		if !(v >= 0 && v <= 1) {
			errs = append(errs, fmt.Errorf("%s %v outside [0, 1]", name, v))
		}
	}
	return errs
}

func (cfg *PopulationConfig) check() error {
	var errs []error
	if cfg.Users < 2 {
		errs = append(errs, fmt.Errorf("%d users: need at least 2", cfg.Users))
	}
	errs = append(errs, checkShares(map[string]float64{
		"minor share": cfg.MinorShare, "offender share": cfg.OffenderShare,
		"evader share": cfg.EvaderShare, "modified-client share": cfg.ModifiedClientShare,
		"report probability": cfg.ReportProb, "new-account share": cfg.NewAccountShare,
		"offender new-account share": cfg.OffenderNewAccountShare, "team share": cfg.TeamShare,
		"classmate link": cfg.ClassmateLink, "teammate link": cfg.TeammateLink,
		"circle link": cfg.CircleLink, "relative link": cfg.RelativeLink, "long range": cfg.LongRange,
	})...)
	for name, v := range map[string]int{
		"class size": cfg.ClassSize, "classes per teacher": cfg.ClassesPerTeacher,
		"team size": cfg.TeamSize, "teams per coach": cfg.TeamsPerCoach, "circle size": cfg.CircleSize,
	} {
		if v < 1 {
			errs = append(errs, fmt.Errorf("%s %d: need at least 1", name, v))
		}
	}
	if err := cfg.MinorPolicy.check(); err != nil {
		errs = append(errs, fmt.Errorf("minors: %w", err))
	}
	if err := cfg.AdultPolicy.check(); err != nil {
		errs = append(errs, fmt.Errorf("adults: %w", err))
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// Population is a synthetic user population: accounts, their ground truth and
// a clustered small-world social graph of households, school classes, sports
// teams and adult circles, with a few long-range links. Users are sorted by
// ID; IDs are assigned in a random order so that nothing about a user can be
// read from its ID or position.
//
// A Population is read-only once generated and safe for concurrent use.
type Population struct {
	// Config is the configuration the population was generated from.
	Config PopulationConfig
	// Users holds every account, sorted by ID.
	Users []User

	index  map[scanlab.UserID]int
	adj    [][]int32  // sorted neighbours of each user
	groups []popGroup // classes and teams, for teachers' and coaches' broadcasts
	led    [][]int    // groups led by each user (teachers, coaches)
	minors []int32    // indices of minors
	adults []int32    // indices of adults
}

// popGroup is a school class or a sports team: a leader and its members.
type popGroup struct {
	leader  int
	members []int
}

// PCG streams of the population and conversation generators, distinct from
// those of the text workload so the two never share a random sequence.
const (
	popStreamGraph   = 1<<48 + 1
	popStreamRoles   = 1<<48 + 2
	popStreamIDs     = 1<<48 + 3
	popStreamTraffic = 1 << 49 // + user index
)

// GeneratePopulation generates a population. It returns an error for an
// invalid configuration, including one with too few adults to be parents,
// teachers and coaches of its minors.
func GeneratePopulation(cfg PopulationConfig) (*Population, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("corpus: bad population config: %w", err)
	}
	n := cfg.Users
	nMinor := int(math.Round(cfg.MinorShare * float64(n)))
	nAdult := n - nMinor
	nOff := int(math.Round(cfg.OffenderShare * float64(nAdult)))
	r := rand.New(rand.NewPCG(cfg.Seed, popStreamGraph))

	// Construction order: minors, teachers, coaches, offenders, parents,
	// other adults. IDs are shuffled at the end.
	users := make([]User, n)
	g := newGraphBuilder(n)
	for i := range nMinor {
		users[i] = User{Age: 10 + r.IntN(8), Persona: PersonaMinor}
	}
	next := nMinor
	take := func(p Persona, lo, hi int) (int, error) {
		if next >= n {
			return 0, fmt.Errorf("corpus: bad population config: %d adults are too few for the parents, teachers, coaches and offenders of %d minors", nAdult, nMinor)
		}
		users[next] = User{Age: lo + r.IntN(hi-lo+1), Persona: p}
		next++
		return next - 1, nil
	}

	// School classes by age, a teacher for every ClassesPerTeacher classes.
	byAge := make([]int, nMinor)
	for i := range byAge {
		byAge[i] = i
	}
	slices.SortStableFunc(byAge, func(a, b int) int { return users[a].Age - users[b].Age })
	var groups []popGroup
	teacher := -1
	for c, lo := 0, 0; lo < nMinor; c, lo = c+1, lo+cfg.ClassSize {
		if c%cfg.ClassesPerTeacher == 0 {
			var err error
			if teacher, err = take(PersonaTeacher, 24, 64); err != nil {
				return nil, err
			}
		}
		members := byAge[lo:min(lo+cfg.ClassSize, nMinor)]
		groups = append(groups, popGroup{leader: teacher, members: members})
		g.clique(r, members, cfg.ClassmateLink)
		for _, m := range members {
			g.add(teacher, m)
		}
	}
	// Sports teams of randomly chosen minors, a coach for every
	// TeamsPerCoach teams.
	inTeams := r.Perm(nMinor)[:int(math.Round(cfg.TeamShare*float64(nMinor)))]
	coach := -1
	for t, lo := 0, 0; lo < len(inTeams); t, lo = t+1, lo+cfg.TeamSize {
		if t%cfg.TeamsPerCoach == 0 {
			var err error
			if coach, err = take(PersonaCoach, 20, 59); err != nil {
				return nil, err
			}
		}
		members := inTeams[lo:min(lo+cfg.TeamSize, len(inTeams))]
		groups = append(groups, popGroup{leader: coach, members: members})
		g.clique(r, members, cfg.TeammateLink)
		for _, m := range members {
			g.add(coach, m)
		}
	}
	var offenders []int
	for range nOff {
		i, err := take(PersonaOffender, 20, 65)
		if err != nil {
			return nil, err
		}
		users[i].Offender = true
		offenders = append(offenders, i)
	}
	// Households: one to three children with one or two parents each.
	// The children of a household are drawn at random, not by age.
	var households [][]int // children first, then parents
	var nKids []int        // children of each household
	kids := r.Perm(nMinor)
	for lo := 0; lo < nMinor; {
		k := min(1+r.IntN(3), nMinor-lo)
		h := slices.Clone(kids[lo : lo+k])
		lo += k
		parents := 1
		if r.IntN(4) > 0 {
			parents = 2
		}
		for range parents {
			p, err := take(PersonaParent, 25, 55)
			if err != nil {
				return nil, err
			}
			h = append(h, p)
		}
		g.clique(r, h, 1)
		households = append(households, h)
		nKids = append(nKids, k)
	}
	for next < n {
		if _, err := take(PersonaAdult, 18, 80); err != nil {
			return nil, err
		}
	}
	// Relatives: the adults of a household and the children of another.
	for h, members := range households {
		o := r.IntN(len(households))
		if o == h {
			continue
		}
		for _, a := range members[nKids[h]:] {
			for _, c := range households[o][:nKids[o]] {
				if r.Float64() < cfg.RelativeLink {
					g.add(a, c)
				}
			}
		}
	}
	// Adult circles: friends and colleagues, offenders included (their
	// cover).
	adultPerm := r.Perm(nAdult)
	for lo := 0; lo < nAdult; lo += cfg.CircleSize {
		circle := adultPerm[lo:min(lo+cfg.CircleSize, nAdult)]
		for k := range circle {
			circle[k] += nMinor
		}
		g.clique(r, circle, cfg.CircleLink)
	}
	// Long-range links within each age group.
	for i := range n {
		if r.Float64() >= cfg.LongRange {
			continue
		}
		var j int
		if i < nMinor {
			j = r.IntN(nMinor)
		} else {
			j = nMinor + r.IntN(nAdult)
		}
		if j != i {
			g.add(i, j)
		}
	}
	// Offenders know a few other offenders: rings of two or three.
	r.Shuffle(len(offenders), func(a, b int) { offenders[a], offenders[b] = offenders[b], offenders[a] })
	for lo := 0; lo+1 < len(offenders); {
		k := min(2+r.IntN(2), len(offenders)-lo)
		g.clique(r, offenders[lo:lo+k], 1)
		lo += k
	}

	// Roles, account ages, policies: a stream of their own, so the graph
	// does not shift when these options change.
	rr := rand.New(rand.NewPCG(cfg.Seed, popStreamRoles))
	nEv := int(math.Round(cfg.EvaderShare * float64(nOff)))
	for _, k := range rr.Perm(nOff)[:nEv] {
		users[offenders[k]].Evader = true
	}
	nMod := int(math.Round(cfg.ModifiedClientShare * float64(nOff)))
	for _, k := range rr.Perm(nOff)[:nMod] {
		users[offenders[k]].ModifiedClient = true
	}
	for i := range users {
		u := &users[i]
		newShare := cfg.NewAccountShare
		if u.Offender {
			newShare = cfg.OffenderNewAccountShare
		}
		maxAge := 3650
		if u.Minor() {
			maxAge = min(maxAge, (u.Age-9)*365)
		}
		if rr.Float64() < newShare {
			u.AccountAge = rr.IntN(30)
		} else {
			// Log-uniform between 30 days and maxAge.
			u.AccountAge = int(30 * math.Exp(rr.Float64()*math.Log(float64(maxAge)/30)))
		}
		if u.Minor() {
			u.Policy = cfg.MinorPolicy.draw(rr)
		} else {
			u.Policy = cfg.AdultPolicy.draw(rr)
		}
		u.ReportProb = cfg.ReportProb
		u.Created = cfg.Start.AddDate(0, 0, -u.AccountAge)
	}

	// Shuffle IDs: user i of construction order becomes perm[i].
	perm := rand.New(rand.NewPCG(cfg.Seed, popStreamIDs)).Perm(n)
	p := &Population{
		Config: cfg,
		Users:  make([]User, n),
		index:  make(map[scanlab.UserID]int, n),
		adj:    make([][]int32, n),
		led:    make([][]int, n),
	}
	width := len(fmt.Sprint(n - 1))
	for i, u := range users {
		u.ID = scanlab.UserID(fmt.Sprintf("u%0*d", width, perm[i]))
		p.Users[perm[i]] = u
		p.index[u.ID] = perm[i]
	}
	for i, nb := range g.adj {
		out := make([]int32, 0, len(nb))
		for j := range nb {
			out = append(out, int32(perm[j]))
		}
		slices.Sort(out)
		p.adj[perm[i]] = out
	}
	for _, gr := range groups {
		members := make([]int, len(gr.members))
		for k, m := range gr.members {
			members[k] = perm[m]
		}
		p.led[perm[gr.leader]] = append(p.led[perm[gr.leader]], len(p.groups))
		p.groups = append(p.groups, popGroup{leader: perm[gr.leader], members: members})
	}
	for i := range p.Users {
		u := &p.Users[i]
		for _, j := range p.adj[i] {
			if p.Users[j].Minor() {
				u.YoungContacts++
			}
		}
		if u.Minor() {
			p.minors = append(p.minors, int32(i))
		} else {
			p.adults = append(p.adults, int32(i))
		}
	}
	return p, nil
}

// User returns the user with the given ID, or nil if there is none.
func (p *Population) User(id scanlab.UserID) *User {
	i, ok := p.index[id]
	if !ok {
		return nil
	}
	return &p.Users[i]
}

// Friends returns the users connected to id in the social graph, sorted.
func (p *Population) Friends(id scanlab.UserID) []scanlab.UserID {
	i, ok := p.index[id]
	if !ok {
		return nil
	}
	out := make([]scanlab.UserID, len(p.adj[i]))
	for k, j := range p.adj[i] {
		out[k] = p.Users[j].ID
	}
	return out
}

// Connected reports whether a and b are connected in the social graph (the
// friendships the platform knows).
func (p *Population) Connected(a, b scanlab.UserID) bool {
	i, ok1 := p.index[a]
	j, ok2 := p.index[b]
	return ok1 && ok2 && p.connected(i, j)
}

// Hops returns the distance between a and b in the social graph, capped at
// 3: 0 for the same user, 1 for connected users, 2 for users with a common
// friend and 3 for users further apart or unknown.
func (p *Population) Hops(a, b scanlab.UserID) int {
	i, ok1 := p.index[a]
	j, ok2 := p.index[b]
	if !ok1 || !ok2 {
		return 3
	}
	return p.hops(i, j)
}

func (p *Population) connected(i, j int) bool {
	_, ok := slices.BinarySearch(p.adj[i], int32(j))
	return ok
}

func (p *Population) hops(i, j int) int {
	switch {
	case i == j:
		return 0
	case p.connected(i, j):
		return 1
	}
	a, b := p.adj[i], p.adj[j]
	for x, y := 0, 0; x < len(a) && y < len(b); {
		switch {
		case a[x] == b[y]:
			return 2
		case a[x] < b[y]:
			x++
		default:
			y++
		}
	}
	return 3
}

// graphBuilder collects undirected edges during generation.
type graphBuilder struct {
	adj []map[int]struct{}
}

func newGraphBuilder(n int) *graphBuilder {
	g := &graphBuilder{adj: make([]map[int]struct{}, n)}
	for i := range g.adj {
		g.adj[i] = map[int]struct{}{}
	}
	return g
}

func (g *graphBuilder) add(a, b int) {
	if a == b {
		return
	}
	g.adj[a][b] = struct{}{}
	g.adj[b][a] = struct{}{}
}

// clique connects each pair of members with probability prob (1 connects
// all without drawing).
func (g *graphBuilder) clique(r *rand.Rand, members []int, prob float64) {
	for x := range members {
		for y := x + 1; y < len(members); y++ {
			if prob >= 1 || r.Float64() < prob {
				g.add(members[x], members[y])
			}
		}
	}
}
