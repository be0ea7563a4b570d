package corpus

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"scanlab"
)

// popBuilder holds a population under construction. Users are indexed in
// construction order (minors, teachers, coaches, offenders, parents, other
// adults); [popBuilder.finish] shuffles them into ID order.
type popBuilder struct {
	cfg    *PopulationConfig
	r      *rand.Rand // the graph stream
	users  []User
	next   int // construction index of the next adult to take
	nMinor int
	nAdult int
	nOff   int
	edges  []uint64 // undirected edges, the smaller index in the high half

	groups     []popGroup
	households []household
	offenders  []int // construction indices of offenders
}

// household is one home: its children, then its adults.
type household struct {
	members []int
	kids    int // members[:kids] are the children
}

func newPopBuilder(cfg *PopulationConfig) *popBuilder {
	nMinor, nAdult, nOff := cfg.counts()
	return &popBuilder{
		cfg:    cfg,
		r:      rand.New(rand.NewPCG(cfg.Seed, popStreamGraph)),
		users:  make([]User, cfg.Users),
		next:   nMinor,
		nMinor: nMinor,
		nAdult: nAdult,
		nOff:   nOff,
	}
}

// link connects a and b.
func (b *popBuilder) link(a, c int) {
	if a == c {
		return
	}
	lo, hi := min(a, c), max(a, c)
	b.edges = append(b.edges, uint64(lo)<<32|uint64(hi))
}

// clique connects each pair of members with probability prob (1 connects
// all without drawing).
func (b *popBuilder) clique(r *rand.Rand, members []int, prob float64) {
	for x := range members {
		for y := x + 1; y < len(members); y++ {
			if prob >= 1 || r.Float64() < prob {
				b.link(members[x], members[y])
			}
		}
	}
}

// take makes the next adult a user of persona p aged lo..hi and returns its
// construction index.
func (b *popBuilder) take(p Persona, lo, hi int) (int, error) {
	if b.next >= len(b.users) {
		return 0, fmt.Errorf("%d adults are too few for the parents, teachers, coaches and offenders of %d minors", b.nAdult, b.nMinor)
	}
	b.users[b.next] = User{Age: lo + b.r.IntN(hi-lo+1), Persona: p}
	b.next++
	return b.next - 1, nil
}

func (b *popBuilder) addMinors() {
	for i := range b.nMinor {
		b.users[i] = User{Age: 10 + b.r.IntN(8), Persona: PersonaMinor}
	}
}

// addSchools forms school classes of minors of similar age, with a teacher
// for every ClassesPerTeacher classes.
func (b *popBuilder) addSchools() error {
	byAge := make([]int, b.nMinor)
	for i := range byAge {
		byAge[i] = i
	}
	slices.SortStableFunc(byAge, func(x, y int) int { return b.users[x].Age - b.users[y].Age })
	return b.addGroups(byAge, b.cfg.ClassSize, b.cfg.ClassesPerTeacher, b.cfg.ClassmateLink, PersonaTeacher, 24, 64)
}

// addTeams forms sports teams of randomly chosen minors, with a coach for
// every TeamsPerCoach teams.
func (b *popBuilder) addTeams() error {
	inTeams := b.r.Perm(b.nMinor)[:int(math.Round(b.cfg.TeamShare*float64(b.nMinor)))]
	return b.addGroups(inTeams, b.cfg.TeamSize, b.cfg.TeamsPerCoach, b.cfg.TeammateLink, PersonaCoach, 20, 59)
}

// addGroups cuts members into groups of size, each led by an adult of
// persona leader (aged lo..hi) who leads perLeader groups and is connected
// to every member; members of a group are connected with probability link.
func (b *popBuilder) addGroups(members []int, size, perLeader int, link float64, leader Persona, lo, hi int) error {
	lead := -1
	for g, from := 0, 0; from < len(members); g, from = g+1, from+size {
		if g%perLeader == 0 {
			var err error
			if lead, err = b.take(leader, lo, hi); err != nil {
				return err
			}
		}
		group := members[from:min(from+size, len(members))]
		b.groups = append(b.groups, popGroup{leader: lead, members: group})
		b.clique(b.r, group, link)
		for _, m := range group {
			b.link(lead, m)
		}
	}
	return nil
}

// addOffenders takes the offenders' accounts; [popBuilder.addHouseholds]
// places each in a household.
func (b *popBuilder) addOffenders() error {
	for range b.nOff {
		i, err := b.take(PersonaOffender, 20, 65)
		if err != nil {
			return err
		}
		b.users[i].Offender = true
		b.offenders = append(b.offenders, i)
	}
	return nil
}

// addHouseholds forms homes of one to three children (drawn at random, not
// by age) with one or two parents each, and puts every offender into a
// random home as one more adult: the place in the graph a stealthy
// offender shares with benign parents.
func (b *popBuilder) addHouseholds() error {
	kids := b.r.Perm(b.nMinor)
	for from := 0; from < b.nMinor; {
		k := min(1+b.r.IntN(3), b.nMinor-from)
		h := household{members: slices.Clone(kids[from : from+k]), kids: k}
		from += k
		parents := 1
		if b.r.IntN(4) > 0 {
			parents = 2
		}
		for range parents {
			p, err := b.take(PersonaParent, 25, 55)
			if err != nil {
				return err
			}
			h.members = append(h.members, p)
		}
		b.households = append(b.households, h)
	}
	if len(b.households) > 0 {
		for _, o := range b.offenders {
			h := &b.households[b.r.IntN(len(b.households))]
			h.members = append(h.members, o)
		}
	}
	for _, h := range b.households {
		b.clique(b.r, h.members, 1)
	}
	return nil
}

func (b *popBuilder) addOtherAdults() error {
	for b.next < len(b.users) {
		if _, err := b.take(PersonaAdult, 18, 80); err != nil {
			return err
		}
	}
	return nil
}

// linkRelatives connects the adults of each household to the children of
// one other household (aunts, uncles, godparents).
func (b *popBuilder) linkRelatives() {
	for h, home := range b.households {
		o := b.r.IntN(len(b.households))
		if o == h {
			continue
		}
		for _, a := range home.members[home.kids:] {
			for _, c := range b.households[o].members[:b.households[o].kids] {
				if b.r.Float64() < b.cfg.RelativeLink {
					b.link(a, c)
				}
			}
		}
	}
}

// linkCircles forms the adults' circles of friends and colleagues,
// offenders included.
func (b *popBuilder) linkCircles() {
	perm := b.r.Perm(b.nAdult)
	for from := 0; from < b.nAdult; from += b.cfg.CircleSize {
		circle := perm[from:min(from+b.cfg.CircleSize, b.nAdult)]
		for k := range circle {
			circle[k] += b.nMinor
		}
		b.clique(b.r, circle, b.cfg.CircleLink)
	}
}

// linkLongRange gives some users one random link within their age group.
func (b *popBuilder) linkLongRange() {
	for i := range b.users {
		if b.r.Float64() >= b.cfg.LongRange {
			continue
		}
		if i < b.nMinor {
			b.link(i, b.r.IntN(b.nMinor))
		} else {
			b.link(i, b.nMinor+b.r.IntN(b.nAdult))
		}
	}
}

// finish shuffles construction indices into ID order (user i becomes
// perm[i]) and builds the population's indexes and adjacency lists.
func (b *popBuilder) finish() *Population {
	n := len(b.users)
	perm := rand.New(rand.NewPCG(b.cfg.Seed, popStreamIDs)).Perm(n)
	p := &Population{
		Config: *b.cfg,
		Users:  make([]User, n),
		index:  make(map[scanlab.UserID]int, n),
		led:    make([][]int32, n),
		home:   make([]int32, n),
		params: map[Archetype]*ArchetypeParams{},
	}
	for _, a := range b.cfg.archetypes() {
		p.params[a.Archetype] = &a
	}
	width := len(fmt.Sprint(n - 1))
	for i, u := range b.users {
		u.ID = scanlab.UserID(fmt.Sprintf("u%0*d", width, perm[i]))
		p.Users[perm[i]] = u
		p.index[u.ID] = perm[i]
		p.home[perm[i]] = -1
	}
	p.adj, p.adjOff = adjacency(n, b.edges, perm)
	for _, gr := range b.groups {
		members := make([]int, len(gr.members))
		for k, m := range gr.members {
			members[k] = perm[m]
		}
		p.led[perm[gr.leader]] = append(p.led[perm[gr.leader]], int32(len(p.groups)))
		p.groups = append(p.groups, popGroup{leader: perm[gr.leader], members: members})
	}
	for h, home := range b.households {
		for _, m := range home.members {
			p.home[perm[m]] = int32(h)
		}
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
	return p
}

// adjacency returns the sorted, deduplicated neighbour lists of n users
// from undirected edges in construction indices, renamed by perm, and the
// offset of each list in the backing array they share (n+1 offsets).
func adjacency(n int, edges []uint64, perm []int) ([][]int32, []int) {
	slices.Sort(edges)
	edges = slices.Compact(edges)
	deg := make([]int, n)
	for _, e := range edges {
		deg[perm[e>>32]]++
		deg[perm[e&0xffffffff]]++
	}
	backing := make([]int32, 2*len(edges))
	adj := make([][]int32, n)
	off := make([]int, n+1)
	for i := range adj {
		adj[i] = backing[off[i] : off[i] : off[i]+deg[i]]
		off[i+1] = off[i] + deg[i]
	}
	for _, e := range edges {
		a, c := perm[e>>32], perm[e&0xffffffff]
		adj[a] = append(adj[a], int32(c))
		adj[c] = append(adj[c], int32(a))
	}
	for _, nb := range adj {
		slices.Sort(nb)
	}
	return adj, off
}
