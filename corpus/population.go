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
	PersonaOffender Persona = "offender" // an adult who sends harmful content; it holds a parent's place in the graph
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
// social graph and open whether their conversation has already begun (a
// message between them was delivered before, either way): [DMEveryone]
// accepts all, [DMFriends] only connected senders, [DMNoOne] no new
// conversation (an open one goes on). The workload has no history before its
// start, so under [DMNoOne] old friends count as new until one of them
// writes to the other: the setting is modelled a little stricter than it
// is. An unknown policy accepts nobody (fail closed).
//
// A [Gate] applies it to a stream of messages, keeping track of open
// conversations.
func Allowed(policy DMPolicy, connected, open bool) bool {
	switch policy {
	case DMEveryone:
		return true
	case DMFriends:
		return connected
	case DMNoOne:
		return open
	}
	return false
}

// Gate is the provider's contact gate over a stream of messages in time
// order: it applies each recipient's direct-message policy ([Allowed]) and
// remembers which conversations have begun. Experiments run every message
// of a workload through one, before any scanner, to count what the
// recipients' settings prevent. It is not safe for concurrent use.
type Gate struct {
	open map[string]bool
}

// NewGate returns a gate with no conversation open.
func NewGate() *Gate { return &Gate{open: map[string]bool{}} }

// Admit reports whether a recipient with the given policy accepts e, and
// if so records the conversation as open.
func (g *Gate) Admit(policy DMPolicy, e *MessageEvent) bool {
	a, b := e.From, e.To
	if b < a {
		a, b = b, a
	}
	key := string(a) + "\x00" + string(b)
	if !Allowed(policy, e.Connected, g.open[key]) {
		return false
	}
	g.open[key] = true
	return true
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
// declared age (Age, and so [User.Minor]), AccountAge, Created, Policy,
// Library and YoungContacts (from the social graph the platform keeps) are
// known to the provider; Persona, Offender, Archetype, Stealth, Evader,
// ModifiedClient and ReportProb are ground truth for the harness and must
// never reach a message, an envelope or a detector.
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
	// Offender is true for an adult who sends harmful content
	// ([PersonaOffender]); Archetype says how.
	Offender bool
	// Archetype is the offender's archetype, empty for benign users.
	Archetype Archetype
	// Stealth is the offender's stealth in [0, 1] (see [StealthRange]), 0
	// for benign users.
	Stealth float64
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
	// reports a harmful message that reaches them; 0 for offenders.
	ReportProb float64
	// Library is the number of photos in the account's library (the store
	// an on-device scanner would hash), drawn from
	// [PopulationConfig.LibraryMedian].
	Library int
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
// Errors about a bad configuration name the field.
type PopulationConfig struct {
	// Seed makes the population reproducible: equal configs give equal
	// populations.
	Seed uint64
	// Users is the number of accounts. Default 10,000.
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
	// round(OffenderShare × adults), unless Offenders is set. Default 0.01
	// (assumption: prevalence is unknown; sweep it).
	OffenderShare float64
	// Offenders, when positive, is the number of offenders instead of
	// OffenderShare; it may not exceed the number of adults.
	Offenders int
	// Archetypes is the archetype table: the mix of offenders (each row's
	// Share) and how each kind behaves. Nil means [DefaultArchetypes]. The
	// offenders of each archetype number exactly its share of all
	// offenders, the remainders going to the largest fractions.
	Archetypes []ArchetypeParams
	// Stealth is the range of the offenders' stealth (see
	// [StealthRange]). Default 0: offenders as their archetype says.
	Stealth StealthRange
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
	// ReportProb is every benign user's probability of reporting a harmful
	// message that reaches them. Default 0.01, the suggested default of
	// clientscan.md §4.5 ("probability that a recipient reports a harmful
	// item … 0.01 (sweep 0.001–0.05)", corroborated by the public's ≈1%
	// share of NCMEC CyberTips against Meta's >99% proactive rate).
	ReportProb float64
	// NewAccountShare is the share of benign accounts younger than 30 days
	// at Start. Default 0.05 (assumption). Offenders' share is their
	// archetype's, moved towards this one by stealth.
	NewAccountShare float64
	// LibraryMedian is the median number of photos in an account's library;
	// sizes are log-normal with LibrarySigma. Default 1000 (assumption: no
	// published per-account figure; Apple sized its threshold assuming
	// every library is larger than the largest real one, refs/clientscan.md
	// §1.4). Sweep it with the client-side threshold.
	LibraryMedian float64
	// LibrarySigma is the log-normal σ of library sizes. Default 1
	// (assumption: a tenth of libraries over 3.6 times the median).
	LibrarySigma float64
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

// DefaultPopulationConfig returns the population of the default study:
// 10,000 users, a quarter of them minors, 1% of adults offenders of the
// default archetypes at stealth 0. See the fields of [PopulationConfig] for
// every default and its source.
func DefaultPopulationConfig() PopulationConfig {
	return PopulationConfig{
		Seed:                1,
		Users:               10000,
		Start:               time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		MinorShare:          0.25,
		OffenderShare:       0.01,
		EvaderShare:         0.3,
		ModifiedClientShare: 0.2,
		MinorPolicy:         PolicyMix{Everyone: 0.10, Friends: 0.85, NoOne: 0.05},
		AdultPolicy:         PolicyMix{Everyone: 0.80, Friends: 0.17, NoOne: 0.03},
		ReportProb:          0.01,
		NewAccountShare:     0.05,
		LibraryMedian:       1000,
		LibrarySigma:        1,
		ClassSize:           25,
		ClassesPerTeacher:   3,
		TeamShare:           0.5,
		TeamSize:            15,
		TeamsPerCoach:       2,
		CircleSize:          10,
		ClassmateLink:       0.25,
		TeammateLink:        0.35,
		CircleLink:          0.3,
		RelativeLink:        0.5,
		LongRange:           0.2,
	}
}

// fieldError returns an error about the configuration field named field:
// its name, then format (after a space unless format starts with ':').
func fieldError(field, format string, args ...any) error {
	if !strings.HasPrefix(format, ":") {
		format = " " + format
	}
	return fmt.Errorf("%s"+format, append([]any{field}, args...)...)
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

// archetypes returns the configured archetype table or the default one.
func (cfg *PopulationConfig) archetypes() []ArchetypeParams {
	if cfg.Archetypes == nil {
		return DefaultArchetypes()
	}
	return cfg.Archetypes
}

// counts returns the numbers of minors, adults and offenders.
func (cfg *PopulationConfig) counts() (minors, adults, offenders int) {
	minors = int(math.Round(cfg.MinorShare * float64(cfg.Users)))
	adults = cfg.Users - minors
	offenders = int(math.Round(cfg.OffenderShare * float64(adults)))
	if cfg.Offenders > 0 {
		offenders = cfg.Offenders
	}
	return minors, adults, offenders
}

func (cfg *PopulationConfig) check() error {
	var errs []error
	if cfg.Users < 2 {
		errs = append(errs, fieldError("Users", "%d: need at least 2", cfg.Users))
	}
	errs = append(errs, checkShares(map[string]float64{
		"MinorShare": cfg.MinorShare, "OffenderShare": cfg.OffenderShare,
		"EvaderShare": cfg.EvaderShare, "ModifiedClientShare": cfg.ModifiedClientShare,
		"ReportProb": cfg.ReportProb, "NewAccountShare": cfg.NewAccountShare, "TeamShare": cfg.TeamShare,
		"ClassmateLink": cfg.ClassmateLink, "TeammateLink": cfg.TeammateLink,
		"CircleLink": cfg.CircleLink, "RelativeLink": cfg.RelativeLink, "LongRange": cfg.LongRange,
	})...)
	errs = append(errs, checkRates(map[string]float64{"LibrarySigma": cfg.LibrarySigma})...)
	if !(cfg.LibraryMedian >= 1 && cfg.LibraryMedian < 1e7) {
		errs = append(errs, fieldError("LibraryMedian", "%v outside [1, 1e7)", cfg.LibraryMedian))
	}
	for name, v := range map[string]int{
		"ClassSize": cfg.ClassSize, "ClassesPerTeacher": cfg.ClassesPerTeacher,
		"TeamSize": cfg.TeamSize, "TeamsPerCoach": cfg.TeamsPerCoach, "CircleSize": cfg.CircleSize,
	} {
		if v < 1 {
			errs = append(errs, fmt.Errorf("%s %d: need at least 1", name, v))
		}
	}
	if cfg.Offenders < 0 {
		errs = append(errs, fieldError("Offenders", "%d: must not be negative", cfg.Offenders))
	} else if _, adults, off := cfg.counts(); cfg.Users >= 2 && off > adults {
		errs = append(errs, fieldError("Offenders", "%d: more than the %d adults", off, adults))
	}
	if err := cfg.MinorPolicy.check(); err != nil {
		errs = append(errs, fieldError("MinorPolicy", ": %w", err))
	}
	if err := cfg.AdultPolicy.check(); err != nil {
		errs = append(errs, fieldError("AdultPolicy", ": %w", err))
	}
	if err := cfg.Stealth.check(); err != nil {
		errs = append(errs, err)
	}
	if err := checkArchetypes(cfg.archetypes()); err != nil {
		errs = append(errs, err)
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
	adj    [][]int32  // sorted neighbours of each user, one backing array
	adjOff []int      // offset of adj[i] in the backing array; adjOff[n] is its length
	groups []popGroup // classes and teams, for teachers' and coaches' broadcasts
	led    [][]int32  // groups led by each user (teachers, coaches)
	home   []int32    // household of each user, −1 for none
	minors []int32    // indices of minors
	adults []int32    // indices of adults
	params map[Archetype]*ArchetypeParams
}

// popGroup is a school class or a sports team: a leader and its members.
type popGroup struct {
	leader  int
	members []int
}

// PCG streams of the population and conversation generators, distinct from
// those of the text workload so the two never share a random sequence.
const (
	popStreamGraph = 1<<48 + 1
	popStreamRoles = 1<<48 + 2
	popStreamIDs   = 1<<48 + 3
)

// GeneratePopulation generates a population in named steps: minors, their
// school classes and teachers, sports teams and coaches, offenders,
// households, other adults, then the links between households, within adult
// circles and across the graph; then, from a stream of their own so the
// graph does not shift when they change, the offenders' archetypes and
// rings, content roles and account facts. It returns an error for an
// invalid configuration, including one with too few adults to be parents,
// teachers and coaches of its minors.
func GeneratePopulation(cfg PopulationConfig) (*Population, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("corpus: bad population config: %w", err)
	}
	b := newPopBuilder(&cfg)
	b.addMinors()
	for _, step := range []func() error{b.addSchools, b.addTeams, b.addOffenders, b.addHouseholds, b.addOtherAdults} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("corpus: bad population config: %w", err)
		}
	}
	b.linkRelatives()
	b.linkCircles()
	b.linkLongRange()

	rr := rand.New(rand.NewPCG(cfg.Seed, popStreamRoles))
	b.assignArchetypes(rr)
	b.linkRings(rr)
	b.assignContentRoles(rr)
	b.assignAccounts(rr)
	return b.finish(), nil
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
