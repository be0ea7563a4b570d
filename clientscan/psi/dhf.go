package psi

// The (s,t)-detectable hash function of "The Apple PSI System" (Bhowmick,
// Boneh, Myers, Talwar, Tarbe, 2021), §3. Its key is s polynomials p_1..p_s of
// degree at most t−1 over F_ℓ, and
//
//	DHF(key, x) = (x, p_1(x), …, p_s(x)).
//
// Any t outputs at distinct points are uniformly distributed, so up to t real
// vouchers look exactly like synthetic ones, whose outputs are pseudorandom.
// With t+1 or more real outputs among at most s synthetic ones, the real ones
// are the only columns that take part in a linear dependency of the vectors
// (1, x, …, x^(t−1), r_1, …, r_s): detect finds such a dependency and keeps
// every column in the span of its support.

// dhfKey holds the coefficients: key[k][j] is the coefficient of x^j in p_(k+1).
type dhfKey [][]uint64

func newDHFKey(s, t int) dhfKey {
	k := make(dhfKey, s)
	for i := range k {
		k[i] = make([]uint64, t)
		for j := range k[i] {
			k[i][j] = fRandom()
		}
	}
	return k
}

// eval returns DHF(key, x) as s+1 field elements.
func (k dhfKey) eval(x uint64) []uint64 {
	out := make([]uint64, len(k)+1)
	out[0] = x
	for i, poly := range k {
		var y uint64
		for j := len(poly) - 1; j >= 0; j-- {
			y = fAdd(fMul(y, x), poly[j])
		}
		out[i+1] = y
	}
	return out
}

// dhfColumn expands a DHF output r = (x, r_1..r_s) into the column
// (1, x, …, x^(t−1), r_1, …, r_s) of length t+s.
func dhfColumn(r []uint64, t int) []uint64 {
	col := make([]uint64, t+len(r)-1)
	p := uint64(1)
	for j := 0; j < t; j++ {
		col[j] = p
		p = fMul(p, r[0])
	}
	copy(col[t:], r[1:])
	return col
}

// basis is a reduced row-echelon set of vectors over F_ℓ: rows[i] has its
// leading non-zero entry, equal to 1, at lead[i], no other row has a non-zero
// entry there, and lead is increasing.
type basis struct {
	rows [][]uint64
	lead []int
}

// reduce subtracts basis rows from v in place; afterwards v is zero at every
// lead position.
func (b *basis) reduce(v []uint64) {
	for i, row := range b.rows {
		c := v[b.lead[i]]
		if c == 0 {
			continue
		}
		for j := b.lead[i]; j < len(v); j++ {
			v[j] = fSub(v[j], fMul(c, row[j]))
		}
	}
}

// insert adds v, already reduced and with a non-zero entry in v[:n], to the
// basis; it takes ownership of v.
func (b *basis) insert(v []uint64, n int) {
	lead := firstNonZero(v[:n])
	inv := fInv(v[lead])
	for j := lead; j < len(v); j++ {
		v[j] = fMul(v[j], inv)
	}
	for _, row := range b.rows {
		if c := row[lead]; c != 0 {
			for j := lead; j < len(row); j++ {
				row[j] = fSub(row[j], fMul(c, v[j]))
			}
		}
	}
	pos := 0
	for pos < len(b.lead) && b.lead[pos] < lead {
		pos++
	}
	b.rows = append(b.rows, nil)
	b.lead = append(b.lead, 0)
	copy(b.rows[pos+1:], b.rows[pos:])
	copy(b.lead[pos+1:], b.lead[pos:])
	b.rows[pos], b.lead[pos] = v, lead
}

// contains reports whether v lies in the span of the basis; v is not changed.
func (b *basis) contains(v []uint64) bool {
	w := append([]uint64(nil), v...)
	b.reduce(w)
	return firstNonZero(w) < 0
}

func firstNonZero(v []uint64) int {
	for i, x := range v {
		if x != 0 {
			return i
		}
	}
	return -1
}

// detect returns the indices of the columns that are real DHF outputs, and
// the basis of their span (to test later arrivals), or nil when no linear
// dependency exists (at most t real outputs). rs holds the DHF outputs.
func detect(rs [][]uint64, t int) ([]int, *basis) {
	if len(rs) <= t {
		return nil, nil
	}
	cols := make([][]uint64, len(rs))
	for i, r := range rs {
		cols[i] = dhfColumn(r, t)
	}
	// Gaussian elimination on the columns augmented with an identity part,
	// [column c | e_c]: the first column whose left part reduces to zero
	// yields, in its right part, a non-zero kernel vector of the matrix.
	n := len(cols[0])
	var b basis
	var kernel []uint64
	for c, col := range cols {
		v := make([]uint64, n+len(cols))
		copy(v, col)
		v[n+c] = 1
		b.reduce(v)
		if firstNonZero(v[:n]) < 0 {
			kernel = v[n:]
			break
		}
		b.insert(v, n)
	}
	if kernel == nil {
		return nil, nil
	}
	// The kernel vector's support consists of real columns (with at most s
	// synthetic outputs, a synthetic column takes part in no dependency
	// except with negligible probability); t+1 of them span the space of all
	// real columns, which has dimension t.
	var span basis
	for c, k := range kernel {
		if k != 0 && !span.contains(cols[c]) {
			v := append([]uint64(nil), cols[c]...)
			span.reduce(v)
			span.insert(v, n)
		}
	}
	if len(span.rows) != t {
		return nil, nil // not the shape honest real outputs have
	}
	var real []int
	for c, col := range cols {
		if span.contains(col) {
			real = append(real, c)
		}
	}
	if len(real) <= t {
		return nil, nil
	}
	return real, &span
}
