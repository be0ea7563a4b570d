package falsematch

import (
	"math"

	"scanlab/perceptual"
)

// The distance sets a [Result] reports, as [DistanceRow].Set values.
const (
	SetNearestGenerated         = "nearest/generated"          // each generated image to its nearest list entry
	SetNearestGeneratedDihedral = "nearest-dihedral/generated" // the same over the image's eight rotations and mirror images
	SetPairsGenerated           = "pairs/generated"            // every (generated image, list entry) pair
	SetNearestReal              = "nearest/real"               // each listed photograph to its nearest entry of another scene
	SetPairsReal                = "pairs/real"                 // every pair of listed photographs (different scenes)
	SetSameScene                = "same-scene/real"            // each other file of a scene to the scene's listed file: true matches
)

// Sets lists the distance sets in the order a [Result] reports them.
var Sets = []string{SetNearestGenerated, SetNearestGeneratedDihedral, SetPairsGenerated, SetNearestReal, SetPairsReal, SetSameScene}

// histogram counts distances 0..256.
type histogram [perceptual.Bits + 1]int64

func (h *histogram) n() int64 {
	var s int64
	for _, c := range h {
		s += c
	}
	return s
}

// atMost returns how many distances are ≤ d.
func (h *histogram) atMost(d int) int64 {
	var s int64
	for i := 0; i <= d && i < len(h); i++ {
		s += h[i]
	}
	return s
}

// moments returns the mean and the sample standard deviation.
func (h *histogram) moments() (mean, sd float64) {
	n := float64(h.n())
	if n < 2 {
		return 0, 0
	}
	for d, c := range h {
		mean += float64(d) * float64(c)
	}
	mean /= n
	for d, c := range h {
		sd += float64(c) * (float64(d) - mean) * (float64(d) - mean)
	}
	return mean, math.Sqrt(sd / (n - 1))
}

// quantile returns the smallest distance d with P[D ≤ d] ≥ q.
func (h *histogram) quantile(q float64) int {
	n, s := float64(h.n()), int64(0)
	for d, c := range h {
		s += c
		if float64(s) >= q*n && s > 0 {
			return d
		}
	}
	return perceptual.Bits
}

func (h *histogram) min() int { return h.quantile(0) }

// DistanceRow is one bar of a distance histogram.
type DistanceRow struct {
	Set      string // one of the Set… constants
	Distance int    // Hamming distance, bits of 256
	Count    int64  // how many distances in the set equal Distance
}

// DistanceSummary describes one distance set.
type DistanceSummary struct {
	Set       string
	N         int64   // distances in the set
	Min       int     // smallest distance, bits
	P01, P50  int     // 1st and 50th percentiles, bits
	Mean, SD  float64 // bits
	AtMost31  int64   // distances ≤ 31, the PDQ match threshold
	Threshold int     // the threshold AtMost31 used: perceptual.MatchThreshold
}

func summarise(set string, h *histogram) DistanceSummary {
	mean, sd := h.moments()
	return DistanceSummary{Set: set, N: h.n(), Min: h.min(), P01: h.quantile(0.01), P50: h.quantile(0.5),
		Mean: mean, SD: sd, AtMost31: h.atMost(perceptual.MatchThreshold), Threshold: perceptual.MatchThreshold}
}

func rows(set string, h *histogram) []DistanceRow {
	out := make([]DistanceRow, len(h))
	for d, c := range h {
		out[d] = DistanceRow{Set: set, Distance: d, Count: c}
	}
	return out
}

// listEntry is one photograph on the list: the first usable file of its
// scene.
type listEntry struct {
	Photo
	others []Photo // the scene's other usable files
}

// buildList keeps, for each scene, its first usable photograph (in file
// order) as the list entry, and the scene's other usable files beside it.
func buildList(photos []Photo) []listEntry {
	idx := map[string]int{}
	var list []listEntry
	for _, p := range photos {
		if !p.Usable() {
			continue
		}
		if i, ok := idx[p.Scene]; ok {
			list[i].others = append(list[i].others, p)
			continue
		}
		idx[p.Scene] = len(list)
		list = append(list, listEntry{Photo: p})
	}
	return list
}

// realDistances compares the listed photographs with each other, leaving
// out their own scene, and the scenes' other files with their entry.
func realDistances(list []listEntry) (nearest, pairs, same *histogram) {
	nearest, pairs, same = new(histogram), new(histogram), new(histogram)
	for i, a := range list {
		best := perceptual.Bits
		for j, b := range list {
			if i == j {
				continue
			}
			d := perceptual.Distance(a.Hash, b.Hash)
			best = min(best, d)
			if j > i {
				pairs[d]++
			}
		}
		nearest[best]++
		for _, o := range a.others {
			same[perceptual.Distance(a.Hash, o.Hash)]++
		}
	}
	return nearest, pairs, same
}
