package corpus

import "math/rand/v2"

// planOffender draws offender i's plan for the period: its ring peers, and
// the targets its archetype contacts as strangers, each kept with
// probability 1 − stealth, first-contacted in sessions, each followed by a
// conversation.
func (g *trafficGen) planOffender(i int32) {
	u := &g.p.Users[i]
	a := g.p.params[u.Archetype]
	o := &offenderState{params: a, stealth: u.Stealth, evader: u.Evader, considered: map[int32]bool{}}
	g.off[i] = o
	if a.Archetype == ArchetypeRing {
		for _, j := range g.p.adj[i] {
			if g.p.Users[j].Archetype == ArchetypeRing {
				o.peers = append(o.peers, j)
			}
		}
		g.ringChat(i, o)
		return
	}
	n := popPoisson(g.r, a.TargetsPerWeek*float64(g.cfg.Days)/7)
	var overt []int32
	for range n {
		t := g.p.pickTarget(g.r, int(i), g.r.Float64() < a.NearTargetShare, a.TargetAges)
		keep := g.r.Float64() >= o.stealth // drawn always, to keep the stream aligned
		if t < 0 || o.considered[int32(t)] {
			continue
		}
		o.considered[int32(t)] = true
		if keep {
			overt = append(overt, int32(t))
		}
	}
	for from := 0; from < len(overt); {
		k := min(a.SessionSize.draw(g.r), len(overt)-from)
		at := int64(g.r.IntN(g.cfg.Days))*day + int64(a.SessionHours.draw(g.r))*3600 + g.r.Int64N(3600)
		for _, t := range overt[from : from+k] {
			g.send(i, t, at, ClassBenignText)
			o.targets = append(o.targets, target{who: t, from: at})
			g.converse(i, o, t, at)
			at += int64(a.SessionGapMinutes.draw(g.r))*60 + g.r.Int64N(60)
		}
		from += k
	}
}

// maybeCovertTarget makes minor t, just reached at time at by offender i's
// ordinary traffic, a target with probability stealth, unless t lives in
// i's household, is outside the archetype's target ages or was considered
// before. Its harm follows in the pair the ordinary message opened.
func (g *trafficGen) maybeCovertTarget(i int32, o *offenderState, t int32, at int64) {
	a := o.params
	age := g.p.Users[t].Age
	if a.TargetsPerWeek == 0 || o.considered[t] || age < a.TargetAges.Lo || age > a.TargetAges.Hi ||
		(g.p.home[t] >= 0 && g.p.home[t] == g.p.home[i]) {
		return
	}
	o.considered[t] = true
	if g.r.Float64() < o.stealth {
		o.targets = append(o.targets, target{who: t, from: at})
		g.converse(i, o, t, at)
	}
}

// converse schedules offender i's conversation with target t after the
// first contact at time at: the rest of its rapport texts, then its harmful
// texts, each step exponential so that the whole lasts ConversationDays on
// average.
func (g *trafficGen) converse(i int32, o *offenderState, t int32, at int64) {
	a := o.params
	rapport := max(a.RapportTexts.draw(g.r), 1) - 1 // the first contact was one
	harmful := a.HarmfulTexts.draw(g.r)
	steps := rapport + harmful
	if steps == 0 {
		return
	}
	mean := a.ConversationDays * day / float64(steps)
	for k := range steps {
		at += 60 + int64(g.r.ExpFloat64()*mean)
		class := ClassBenignText
		if k >= rapport {
			class = ClassHarmfulText
		}
		g.send(i, t, at, class)
	}
}

// ringChat schedules a ring member's benign texts to each of its peers over
// the period (the images come day by day).
func (g *trafficGen) ringChat(i int32, o *offenderState) {
	for _, j := range o.peers {
		for range o.params.RapportTexts.draw(g.r) {
			g.send(i, j, g.r.Int64N(g.end), ClassBenignText)
		}
	}
}

// images sends offender i's harmful images of the day starting at d0: a
// Poisson number with mean ImagesPerWeek/7, each to a random ring peer or
// to a random target already contacted (none when there is none).
func (g *trafficGen) images(i int32, o *offenderState, d0 int64) {
	for range popPoisson(g.r, o.params.ImagesPerWeek/7) {
		at := g.daytime(d0)
		class := g.harmfulImage(o)
		to := int32(-1)
		if len(o.peers) > 0 {
			to = o.peers[g.r.IntN(len(o.peers))]
		} else {
			to = g.contactedTarget(o.targets, at)
		}
		if to >= 0 {
			g.send(i, to, at, class)
		}
	}
}

// contactedTarget returns a random one of targets first contacted before
// at, or −1 when there is none.
func (g *trafficGen) contactedTarget(targets []target, at int64) int32 {
	n := 0
	for _, t := range targets {
		if t.from < at {
			n++
		}
	}
	if n == 0 {
		return -1
	}
	k := g.r.IntN(n)
	for _, t := range targets {
		if t.from < at {
			if k == 0 {
				return t.who
			}
			k--
		}
	}
	return -1
}

// harmfulImage draws the class of one of the offender's harmful images:
// known with the archetype's KnownShare, altered if the offender is an
// evader, novel otherwise.
func (g *trafficGen) harmfulImage(o *offenderState) ContentClass {
	if g.r.Float64() >= o.params.KnownShare {
		return ClassNovelImage
	}
	if !o.evader {
		return ClassKnownImage
	}
	if g.r.Float64() < g.cfg.EvasiveShare {
		return ClassEvasiveImage
	}
	return ClassTransformedImage
}

// pickTarget returns a minor aged within ages who is not connected to i: a
// friend of a friend when near (falling back to a random minor), else a
// random one; −1 when a few tries find none.
func (p *Population) pickTarget(r *rand.Rand, i int, near bool, ages IntRange) int {
	for try := range 16 {
		c := -1
		if near && try < 8 {
			c = p.friendOfFriendMinor(r, i)
		} else {
			c = p.stranger(r, i, p.minors)
		}
		if c >= 0 && p.Users[c].Age >= ages.Lo && p.Users[c].Age <= ages.Hi {
			return c
		}
	}
	return -1
}
