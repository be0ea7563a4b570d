package serverscan

import (
	"fmt"

	"scanlab/perceptual"
)

// PDQScanner is the provider's image matcher: it hashes every image with
// PDQ and looks the hash up in its list (perceptual.Matcher). Its operating
// point is Meta's (perceptual.MatchThreshold, perceptual.MinQuality), the
// same as the on-device scanner's.
type PDQScanner struct {
	m *perceptual.Matcher
	// Threshold is the largest Hamming distance that counts as a match;
	// perceptual.MatchThreshold by default.
	Threshold int
	// Dihedral also matches the 8 rotations and mirror images.
	Dihedral bool
}

// NewPDQScanner returns a scanner for list; labels[i], if present, names
// entry i in detections.
func NewPDQScanner(list []perceptual.Hash, labels []string) *PDQScanner {
	return &PDQScanner{m: perceptual.NewMatcherOf(list, labels), Threshold: perceptual.MatchThreshold}
}

// List returns the list as the provider holds it: one hex hash per line.
func (s *PDQScanner) List() []byte {
	var b []byte
	for _, h := range s.m.List().Hashes {
		b = append(b, h.String()...)
		b = append(b, '\n')
	}
	return b
}

// ScanImage decodes and hashes one image and matches it against the list.
// The verdict's Logged field is the hash and quality, as a provider's scan
// log would keep them.
func (s *PDQScanner) ScanImage(data []byte) (ImageVerdict, error) {
	sc, err := perceptual.ScanImage(data)
	if err != nil {
		return ImageVerdict{}, err
	}
	cands := []perceptual.Hash{sc.Hash}
	if s.Dihedral {
		d, _ := perceptual.PDQDihedral(sc.Image)
		cands = d[:]
	}
	v := ImageVerdict{Logged: fmt.Appendf(nil, "%s,%d", sc.Hash, sc.Quality), Distance: -1}
	if !sc.Usable() {
		return v, nil
	}
	if hit, ok := s.m.Nearest(s.Threshold, cands...); ok {
		v.Hit, v.Distance, v.Rule = true, hit.Distance, hit.Name()
	}
	return v, nil
}
