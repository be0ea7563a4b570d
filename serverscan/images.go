package serverscan

import (
	"fmt"
	"strings"

	"scanlab/perceptual"
)

// Defaults of server-side image matching, after Meta's PDQ guidance
// ("The PDQ and TMK+PDQF hashing algorithms", facebook/ThreatExchange
// hashing.pdf): a match is a Hamming distance ≤ 31 of 256 bits, and hashes
// of quality below 50 are too featureless to match on.
const (
	DefaultThreshold  = 31
	DefaultMinQuality = 50
)

// PDQScanner is the provider's image matcher: it hashes every image with
// PDQ and looks the hash up in its list through a multi-index.
type PDQScanner struct {
	list   []perceptual.Hash
	labels []string
	index  *perceptual.Index
	// Threshold is the largest Hamming distance that counts as a match.
	Threshold int
	// MinQuality discards images whose PDQ quality is below it.
	MinQuality int
	// Dihedral also matches the 8 rotations and mirror images.
	Dihedral bool
	// MaxPixels refuses larger images (decompression bombs); 0 means
	// perceptual.DefaultMaxPixels.
	MaxPixels int
}

// NewPDQScanner returns a scanner for list; labels[i], if present, names
// entry i in detections.
func NewPDQScanner(list []perceptual.Hash, labels []string) *PDQScanner {
	return &PDQScanner{list: list, labels: labels, index: perceptual.NewIndex(list), Threshold: DefaultThreshold, MinQuality: DefaultMinQuality}
}

// List returns the list as the provider holds it: one hex hash per line.
func (s *PDQScanner) List() []byte {
	var b strings.Builder
	for _, h := range s.list {
		b.WriteString(h.String())
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// ScanImage decodes and hashes one image and matches it against the list.
// The verdict's Logged field is the hash and quality, as a provider's scan
// log would keep them.
func (s *PDQScanner) ScanImage(data []byte) (ImageVerdict, error) {
	img, err := perceptual.DecodeImage(data, s.MaxPixels)
	if err != nil {
		return ImageVerdict{}, err
	}
	var cands []perceptual.Hash
	var q int
	if s.Dihedral {
		d, quality := perceptual.PDQDihedral(img)
		cands, q = d[:], quality
	} else {
		h, quality := perceptual.PDQ(img)
		cands, q = []perceptual.Hash{h}, quality
	}
	v := ImageVerdict{Logged: fmt.Appendf(nil, "%s,%d", cands[0], q), Distance: -1}
	if q < s.MinQuality {
		return v, nil
	}
	for _, h := range cands {
		for _, m := range s.index.Match(h, s.Threshold) {
			if !v.Hit || m.Distance < v.Distance {
				v.Hit, v.Distance = true, m.Distance
				v.Rule = s.list[m.Entry].String()
				if m.Entry < len(s.labels) && s.labels[m.Entry] != "" {
					v.Rule = s.labels[m.Entry]
				}
			}
		}
	}
	return v, nil
}
