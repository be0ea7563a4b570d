package corpus

import (
	"cmp"
	"container/heap"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// PCG streams of the traffic generator: one per user for its plan over the
// period, one per user and day for that day's messages.
const (
	popStreamPlan = 1 << 61 // + user index
	popStreamDay  = 1 << 62 // + user index << 16 + day
)

const day = 86400 // seconds

// pendingEvent is a message before it is ordered. Its key orders events by
// time, then by the order they were generated in (seq), so the order does
// not depend on how events were collected.
type pendingEvent struct {
	key      uint64 // at << seqBits | seq
	from, to int32
	class    uint8 // index in ContentClasses
	reported bool
}

// seqBits is the width of the sequence number in a pendingEvent's key; the
// time in seconds takes the bits above (at most 365 days need 25 bits).
const seqBits = 38

func (e pendingEvent) at() int64 { return int64(e.key >> seqBits) }

func (a pendingEvent) compare(b pendingEvent) int { return cmp.Compare(a.key, b.key) }

// eventQueue is a min-heap of events scheduled for later days.
type eventQueue []pendingEvent

func (q eventQueue) Len() int           { return len(q) }
func (q eventQueue) Less(i, j int) bool { return q[i].key < q[j].key }
func (q eventQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)        { *q = append(*q, x.(pendingEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// classIndex maps each content class to its index in ContentClasses.
var classIndex = func() map[ContentClass]uint8 {
	m := map[ContentClass]uint8{}
	for k, c := range ContentClasses {
		m[c] = uint8(k)
	}
	return m
}()

// offenderState is what the generator tracks about one offender.
type offenderState struct {
	params  *ArchetypeParams
	stealth float64
	evader  bool
	// targets are the minors contacted so far, each with the time of its
	// first contact; images go only to a target already contacted.
	targets []target
	// considered holds every minor already chosen or passed over as a
	// target, so that each is considered once.
	considered map[int32]bool
	peers      []int32 // ring members it trades with
}

type target struct {
	who  int32
	from int64
}

// trafficGen generates the events of one [Population.Events] iteration.
type trafficGen struct {
	p    *Population
	cfg  *ConversationConfig
	seed uint64
	end  int64
	src  *rand.PCG
	r    *rand.Rand // the stream currently in use

	rate      []float64 // each user's mean ordinary messages per day
	recruitOn map[int32][]int32
	off       map[int32]*offenderState

	queue  eventQueue     // events for later days
	today  []pendingEvent // events of the day being generated
	dayEnd int64
	seq    uint64  // events generated, for the ordering key
	seen   pairSet // pairs that have exchanged a message
	count  int64   // events emitted
}

func newTrafficGen(p *Population, cfg *ConversationConfig) *trafficGen {
	src := rand.NewPCG(0, 0)
	return &trafficGen{
		p:         p,
		cfg:       cfg,
		seed:      p.Config.Seed ^ (cfg.Seed * 0x9e3779b97f4a7c15),
		end:       int64(cfg.Days) * day,
		src:       src,
		r:         rand.New(src),
		rate:      make([]float64, len(p.Users)),
		recruitOn: map[int32][]int32{},
		off:       map[int32]*offenderState{},
		seen:      newPairSet(p),
	}
}

// use switches the generator to stream s.
func (g *trafficGen) use(s uint64) { g.src.Seed(g.seed, s) }

// run plans every user's period, then generates and yields day by day.
func (g *trafficGen) run(yield func(MessageEvent) bool) {
	for i := range g.p.Users {
		g.use(popStreamPlan + uint64(i))
		g.plan(int32(i))
	}
	for d := range g.cfg.Days {
		g.dayEnd = int64(d+1) * day
		for i := range g.p.Users {
			g.use(popStreamDay + uint64(i)<<16 + uint64(d))
			g.userDay(int32(i), int64(d)*day)
		}
		for len(g.queue) > 0 && g.queue[0].at() < g.dayEnd {
			g.today = append(g.today, heap.Pop(&g.queue).(pendingEvent))
		}
		slices.SortFunc(g.today, pendingEvent.compare)
		for _, e := range g.today {
			if !yield(g.event(e)) {
				return
			}
		}
		g.today = g.today[:0]
	}
}

// send schedules a message from i to j at time at (seconds since Start),
// dropping it outside the period; the recipient's report is drawn now.
func (g *trafficGen) send(i, j int32, at int64, class ContentClass) {
	if at < 0 || at >= g.end || i == j || j < 0 {
		return
	}
	prob := g.cfg.MistakenReportProb
	if class.Harmful() {
		prob = g.p.Users[j].ReportProb
	}
	e := pendingEvent{key: uint64(at)<<seqBits | g.seq, from: i, to: j, class: classIndex[class], reported: g.r.Float64() < prob}
	g.seq++
	if at < g.dayEnd {
		g.today = append(g.today, e)
	} else {
		heap.Push(&g.queue, e)
	}
}

// event turns a pending event into a [MessageEvent]: first contact, graph
// facts, ID.
func (g *trafficGen) event(e pendingEvent) MessageEvent {
	old := g.seen.add(int(e.from), int(e.to))
	g.count++
	h := g.p.hops(int(e.from), int(e.to))
	from := &g.p.Users[e.from]
	class := ContentClasses[e.class]
	return MessageEvent{
		ID:           messageID(g.count),
		From:         from.ID,
		To:           g.p.Users[e.to].ID,
		At:           g.p.Config.Start.Add(time.Duration(e.at()) * time.Second),
		FirstContact: !old,
		Connected:    h == 1,
		Hops:         h,
		Class:        class,
		Harmful:      class.Harmful(),
		Reported:     e.reported,
		Archetype:    from.Archetype,
	}
}

// pairSet records which pairs of users have exchanged a message: one bit
// per edge of the social graph for connected pairs (most messages), a map
// for the others.
type pairSet struct {
	p        *Population
	edgeBits []uint64
	others   map[uint64]struct{}
}

func newPairSet(p *Population) pairSet {
	return pairSet{p: p, edgeBits: make([]uint64, (p.adjOff[len(p.adj)]+63)/64), others: map[uint64]struct{}{}}
}

// add records the pair {a, b} and reports whether it was there before.
func (s *pairSet) add(a, b int) bool {
	a, b = min(a, b), max(a, b)
	if k, ok := slices.BinarySearch(s.p.adj[a], int32(b)); ok {
		bit := s.p.adjOff[a] + k
		old := s.edgeBits[bit/64]&(1<<(bit%64)) != 0
		s.edgeBits[bit/64] |= 1 << (bit % 64)
		return old
	}
	key := uint64(a)<<32 | uint64(b)
	if _, old := s.others[key]; old {
		return true
	}
	s.others[key] = struct{}{}
	return false
}

// messageID formats the n-th message's ID: "m" and nine digits, more
// beyond a billion messages.
func messageID(n int64) string {
	if n >= 1e9 {
		return "m" + strconv.FormatInt(n, 10)
	}
	var buf [10]byte
	buf[0] = 'm'
	for k := 9; k >= 1; k-- {
		buf[k] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[:])
}

// daytime returns a time between 07:00 and 23:00 of the day starting at d0.
func (g *trafficGen) daytime(d0 int64) int64 { return d0 + 7*3600 + g.r.Int64N(16*3600) }

// plan draws user i's plan for the period: its message rate, the days a
// teacher or coach recruits, and an offender's targets and conversations.
func (g *trafficGen) plan(i int32) {
	u := &g.p.Users[i]
	g.rate[i] = g.cfg.MessagesPerDay * math.Exp(0.5*g.r.NormFloat64()-0.125)
	if len(g.p.led[i]) > 0 {
		for range popPoisson(g.r, g.cfg.RecruitsPerMonth*float64(g.cfg.Days)/30) {
			g.recruitOn[i] = append(g.recruitOn[i], int32(g.r.IntN(g.cfg.Days)))
		}
	}
	if u.Offender {
		g.planOffender(i)
	}
}

// userDay generates user i's messages on the day starting at d0.
func (g *trafficGen) userDay(i int32, d0 int64) {
	u := &g.p.Users[i]
	mentor := u.Persona == PersonaParent || u.Persona == PersonaTeacher ||
		u.Persona == PersonaCoach || u.Persona == PersonaOffender
	o := g.off[i]
	for range popPoisson(g.r, g.rate[i]) {
		at := g.daytime(d0)
		to := g.ordinaryRecipient(i, u.Minor(), mentor)
		if to < 0 {
			continue
		}
		g.send(i, to, at, g.ordinaryClass())
		if o != nil && g.p.Users[to].Minor() {
			g.maybeCovertTarget(i, o, to, at)
		}
	}
	if groups := g.p.led[i]; len(groups) > 0 {
		g.broadcasts(i, groups, d0)
		for _, d := range g.recruitOn[i] {
			if int64(d)*day == d0 {
				g.recruit(i, d0)
			}
		}
	}
	if o != nil {
		g.images(i, o, d0)
	}
}

// ordinaryRecipient picks the recipient of an ordinary message of user i,
// or −1 for none.
func (g *trafficGen) ordinaryRecipient(i int32, minor, mentor bool) int32 {
	p, cfg := g.p, g.cfg
	to := -1
	switch x := g.r.Float64(); {
	case minor && x < cfg.MinorStrangerShare:
		to = p.friendOfFriendMinor(g.r, int(i))
	case !minor && x < cfg.StrangerShare:
		to = p.stranger(g.r, int(i), p.adults)
	case mentor && x < cfg.StrangerShare+cfg.MentorStrangerShare:
		to = p.unconnectedMinor(g.r, int(i), cfg.DistantShare)
	}
	if to < 0 && len(p.adj[i]) > 0 {
		to = int(p.adj[i][g.r.IntN(len(p.adj[i]))])
	}
	return int32(to)
}

// ordinaryClass draws the class of an ordinary message.
func (g *trafficGen) ordinaryClass() ContentClass {
	if g.r.Float64() < g.cfg.ImageShare {
		if g.r.Float64() < g.cfg.CollisionShare {
			return ClassCollisionImage
		}
		return ClassBenignImage
	}
	return ClassBenignText
}

// broadcasts sends a teacher's or coach's messages to a whole class or team
// within a few minutes.
func (g *trafficGen) broadcasts(i int32, groups []int32, d0 int64) {
	for range popPoisson(g.r, g.cfg.BroadcastsPerWeek/7) {
		at := g.daytime(d0)
		class := g.ordinaryClass()
		for _, m := range g.p.groups[groups[g.r.IntN(len(groups))]].members {
			at += 5 + g.r.Int64N(36)
			g.send(i, int32(m), at, class)
		}
	}
}

// recruit sends a teacher's or coach's first messages to three to eight
// unconnected minors within about an hour.
func (g *trafficGen) recruit(i int32, d0 int64) {
	at := g.daytime(d0)
	for range 3 + g.r.IntN(6) {
		if to := g.p.unconnectedMinor(g.r, int(i), g.cfg.DistantShare); to >= 0 {
			g.send(i, int32(to), at, ClassBenignText)
		}
		at += 60 + g.r.Int64N(8*60)
	}
}
