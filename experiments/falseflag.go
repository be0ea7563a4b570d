package experiments

import (
	"strconv"

	"scanlab/clientscan"
	"scanlab/corpus"
	"scanlab/perceptual"
)

// falseFlagRows measures the per-image false-match rate p of PDQ against the
// study's hash list (library = its size) on fresh benign images, then applies
// Apple's threshold arithmetic: the chance that an innocent account with n
// images (images) has more than t false matches, P[Binomial(n, p) > t]. When
// no benign image matched, p is the 95% upper bound 3/N (the "rule of
// three") and the basis column says so.
func falseFlagRows(o Options, w *workload) [][]string {
	n := 1000
	if o.Scale == Quick {
		n = 200
	}
	r := o.rng("coverage-falseflag")
	m := perceptual.NewMatcherOf(w.content.list, nil)
	hits := 0
	for range n {
		img := corpus.GenerateImage(r, 128, 256)
		h, q := perceptual.PDQ(img)
		if _, ok := m.Nearest(perceptual.MatchThreshold, h); ok && q >= perceptual.MinQuality {
			hits++
		}
	}
	p, basis := float64(hits)/float64(n), "measured"
	if hits == 0 {
		p, basis = 3/float64(n), "upper-95%-bound"
	}
	var rows [][]string
	for _, t := range []int{1, 5, 10, 30} {
		for _, lib := range []int{100, 1000, 10000, 100000} {
			rows = append(rows, []string{strconv.Itoa(t), strconv.Itoa(len(w.content.list)), strconv.Itoa(lib),
				strconv.FormatFloat(p, 'g', 6, 64), strconv.FormatFloat(clientscan.AccountFalseFlag(lib, p, t), 'g', 6, 64), basis, strconv.Itoa(n)})
		}
	}
	return rows
}
