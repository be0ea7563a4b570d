package corpus

import (
	"math"
	"math/rand/v2"
	"slices"
)

// assignArchetypes gives each offender an archetype, exactly its share of
// the offenders (largest remainders first, ties in table order), and a
// stealth drawn from the configured range.
func (b *popBuilder) assignArchetypes(r *rand.Rand) {
	table := b.cfg.archetypes()
	counts := apportion(len(b.offenders), table)
	order := slices.Clone(b.offenders)
	r.Shuffle(len(order), func(x, y int) { order[x], order[y] = order[y], order[x] })
	k := 0
	for a, n := range counts {
		for range n {
			u := &b.users[order[k]]
			u.Archetype = table[a].Archetype
			u.Stealth = b.cfg.Stealth.draw(r)
			k++
		}
	}
}

// apportion splits n among the rows of table in proportion to their
// shares: floors first, then one more to the largest remainders.
func apportion(n int, table []ArchetypeParams) []int {
	counts := make([]int, len(table))
	rem := make([]float64, len(table))
	left := n
	for a, p := range table {
		x := p.Share * float64(n)
		counts[a] = int(math.Floor(x))
		rem[a] = x - float64(counts[a])
		left -= counts[a]
	}
	idx := make([]int, len(table))
	for a := range idx {
		idx[a] = a
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		switch {
		case rem[x] > rem[y]:
			return -1
		case rem[x] < rem[y]:
			return 1
		}
		return 0
	})
	for k := 0; left > 0; k = (k + 1) % len(idx) {
		counts[idx[k]]++
		left--
	}
	return counts
}

// linkRings connects the offenders of the ring archetype in rings of the
// archetype's RingSize (the last ring may be smaller; a lone member stays
// alone).
func (b *popBuilder) linkRings(r *rand.Rand) {
	var ring []int
	var size IntRange
	for _, p := range b.cfg.archetypes() {
		if p.Archetype == ArchetypeRing {
			size = p.RingSize
		}
	}
	for _, o := range b.offenders {
		if b.users[o].Archetype == ArchetypeRing {
			ring = append(ring, o)
		}
	}
	r.Shuffle(len(ring), func(x, y int) { ring[x], ring[y] = ring[y], ring[x] })
	for from := 0; from < len(ring); {
		k := min(size.draw(r), len(ring)-from)
		b.clique(r, ring[from:from+k], 1)
		from += k
	}
}

// assignContentRoles marks evaders and modified clients among offenders,
// exactly their shares, independently of each other.
func (b *popBuilder) assignContentRoles(r *rand.Rand) {
	n := len(b.offenders)
	for _, k := range r.Perm(n)[:int(math.Round(b.cfg.EvaderShare*float64(n)))] {
		b.users[b.offenders[k]].Evader = true
	}
	for _, k := range r.Perm(n)[:int(math.Round(b.cfg.ModifiedClientShare*float64(n)))] {
		b.users[b.offenders[k]].ModifiedClient = true
	}
}

// assignAccounts draws every account's age, direct-message policy, report
// probability and library size.
func (b *popBuilder) assignAccounts(r *rand.Rand) {
	params := map[Archetype]ArchetypeParams{}
	for _, p := range b.cfg.archetypes() {
		params[p.Archetype] = p
	}
	for i := range b.users {
		u := &b.users[i]
		newShare := b.cfg.NewAccountShare
		// A stealthy offender's account age is a benign one with
		// probability Stealth (drawn even at stealth 0, to keep the
		// stream aligned).
		if stealthy := r.Float64() < u.Stealth; u.Offender && !stealthy {
			newShare = params[u.Archetype].NewAccountShare
		}
		maxAge := 3650
		if u.Minor() {
			maxAge = min(maxAge, (u.Age-9)*365)
		}
		if r.Float64() < newShare {
			u.AccountAge = r.IntN(30)
		} else {
			// Log-uniform between 30 days and maxAge.
			u.AccountAge = int(30 * math.Exp(r.Float64()*math.Log(float64(maxAge)/30)))
		}
		if u.Minor() {
			u.Policy = b.cfg.MinorPolicy.draw(r)
		} else {
			u.Policy = b.cfg.AdultPolicy.draw(r)
		}
		u.ReportProb = b.cfg.ReportProb
		if u.Offender {
			u.ReportProb = 0 // a ring member does not report its ring
		}
		u.Library = max(1, int(b.cfg.LibraryMedian*math.Exp(b.cfg.LibrarySigma*r.NormFloat64())))
		u.Created = b.cfg.Start.AddDate(0, 0, -u.AccountAge)
	}
}
