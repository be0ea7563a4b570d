package perceptual

import "image"

// Hit is the list entry nearest to a query: its position in the list, its
// hash and label, and its Hamming distance from the query.
type Hit struct {
	Entry    int
	Hash     Hash
	Label    string // "" when the list has none for the entry
	Distance int
	// Transform is which of the query hashes gave the hit, for queries made
	// of several hashes (the eight dihedral hashes of [PDQDihedral]);
	// Original for a single query hash.
	Transform Transform
}

// Name returns the hit's label, or its hash in hexadecimal when it has none:
// what a detection should name.
func (h Hit) Name() string {
	if h.Label != "" {
		return h.Label
	}
	return h.Hash.String()
}

// Matcher matches hashes against one labelled hash list through an [Index].
// It is the one way scanlab looks hashes up: the server-side scanner, the
// on-device scanner and its provider, and "scanlab hash --match" all use
// it. It is safe for concurrent use.
type Matcher struct {
	list  List
	index *Index
}

// NewMatcher indexes a list. The matcher keeps its own copy of the entries;
// missing labels count as "".
func NewMatcher(l *List) *Matcher {
	m := &Matcher{}
	if l != nil {
		m.list.Hashes = append([]Hash(nil), l.Hashes...)
		m.list.Labels = make([]string, len(l.Hashes))
		copy(m.list.Labels, l.Labels)
		m.list.Qualities = make([]int, len(l.Hashes))
		for i := range m.list.Qualities {
			m.list.Qualities[i] = -1
		}
		copy(m.list.Qualities, l.Qualities)
	}
	m.index = NewIndex(m.list.Hashes)
	return m
}

// NewMatcherOf indexes hashes with labels; labels[i], if present, names
// entry i.
func NewMatcherOf(hashes []Hash, labels []string) *Matcher {
	l := &List{Hashes: hashes, Labels: labels}
	return NewMatcher(l)
}

// Len returns the number of list entries.
func (m *Matcher) Len() int { return len(m.list.Hashes) }

// List returns the list the matcher holds. It must not be modified.
func (m *Matcher) List() *List { return &m.list }

// Nearest returns the entry nearest to any of the query hashes at distance
// ≤ threshold: the smallest distance, then the lowest entry, then the first
// query. ok is false when no entry is that close.
func (m *Matcher) Nearest(threshold int, queries ...Hash) (hit Hit, ok bool) {
	var buf [8]Match
	for t, q := range queries {
		ms := m.index.AppendMatches(buf[:0], q, threshold)
		if len(ms) == 0 {
			continue
		}
		// Matches come ordered by distance, then entry: the first is this
		// query's nearest.
		if mt := ms[0]; !ok || mt.Distance < hit.Distance || mt.Distance == hit.Distance && mt.Entry < hit.Entry {
			hit, ok = m.hit(mt, Transform(t)), true
		}
	}
	return hit, ok
}

// All returns every entry within threshold of q, nearest first (ties by
// entry).
func (m *Matcher) All(q Hash, threshold int) []Hit {
	ms := m.index.Match(q, threshold)
	out := make([]Hit, len(ms))
	for i, mt := range ms {
		out[i] = m.hit(mt, Original)
	}
	return out
}

func (m *Matcher) hit(mt Match, t Transform) Hit {
	return Hit{Entry: mt.Entry, Hash: m.list.Hashes[mt.Entry], Label: m.list.Labels[mt.Entry], Distance: mt.Distance, Transform: t}
}

// Scan is what scanning one encoded image gives: its PDQ hash and quality,
// the decoded image (for callers that derive more from it, such as a visual
// derivative), and whether it may be matched at all.
type Scan struct {
	Hash    Hash
	Quality int
	Image   image.Image
}

// Usable reports whether the hash is good enough to match: quality at
// least [MinQuality], Meta's advice.
func (s Scan) Usable() bool { return s.Quality >= MinQuality }

// ScanImage decodes untrusted image bytes with the pixel limit every
// scanner of scanlab applies ([DefaultMaxPixels]) and hashes them with
// [PDQ]. Server and device scanners both call it, so an image one of them
// can scan the other can too.
func ScanImage(data []byte) (Scan, error) {
	img, err := DecodeImage(data, DefaultMaxPixels)
	if err != nil {
		return Scan{}, err
	}
	h, q := PDQ(img)
	return Scan{Hash: h, Quality: q, Image: img}, nil
}
