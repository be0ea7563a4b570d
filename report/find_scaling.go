package report

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot/plotter"

	"scanlab/schema"
)

// Findings over scaling.csv: pure functions of the typed rows.

// scalingGroup is the measurements sharing a swept parameter and a unit:
// one plot.
type scalingGroup struct {
	key, unit string
	whats     []string
	pts       map[string]plotter.XYs // by what, sorted by X
}

// scalingGroups groups the rows by parameter and unit, leaving out
// derived speed-ups (unit "x"), which speedups recomputes.
func scalingGroups(rows []schema.ScalingRow) []scalingGroup {
	type gk struct{ key, unit string }
	var keys []gk
	groups := map[gk]*scalingGroup{}
	for _, p := range rows {
		if p.What == schema.ScaleIndexSpeedup || p.Unit == "x" {
			continue
		}
		k := gk{p.Key, p.Unit}
		g, ok := groups[k]
		if !ok {
			g = &scalingGroup{key: p.Key, unit: p.Unit, pts: map[string]plotter.XYs{}}
			groups[k] = g
			keys = append(keys, k)
		}
		if _, ok := g.pts[p.What]; !ok {
			g.whats = append(g.whats, p.What)
		}
		g.pts[p.What] = append(g.pts[p.What], plotter.XY{X: p.X, Y: p.Value})
	}
	var out []scalingGroup
	for _, k := range keys {
		g := groups[k]
		for _, w := range g.whats {
			slices.SortStableFunc(g.pts[w], func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		}
		out = append(out, *g)
	}
	return out
}

// slope fits log(y) = a + b·log(x) by least squares over positive points.
func slope(pts plotter.XYs) (float64, bool) {
	var n, sx, sy, sxx, sxy float64
	for _, p := range pts {
		if p.X <= 0 || p.Y <= 0 {
			continue
		}
		x, y := math.Log(p.X), math.Log(p.Y)
		n++
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	den := n*sxx - sx*sx
	if n < 2 || den == 0 {
		return 0, false
	}
	return (n*sxy - sx*sy) / den, true
}

// speedup is the index's advantage over the fastest exact baseline
// measured at one list size.
type speedup struct {
	x              float64 // list size
	index          float64 // µs per query
	baseline       string  // the baseline's code, from schema.Baselines
	baselineTime   float64 // µs per query
	factor         float64 // baselineTime / index
	packedMeasured bool    // whether the packed scan (the fastest in the code) was measured
}

// speedups compares the index with the fastest baseline present at each
// list size, in order of size.
func speedups(rows []schema.ScalingRow) []speedup {
	at := func(what string, x float64) (float64, bool) {
		i := slices.IndexFunc(rows, func(r schema.ScalingRow) bool { return r.What == what && r.X == x })
		if i < 0 {
			return 0, false
		}
		return rows[i].Value, true
	}
	var out []speedup
	for _, r := range rows {
		if r.What != schema.ScaleMatchIndex || r.Value <= 0 {
			continue
		}
		s := speedup{x: r.X, index: r.Value, baselineTime: math.Inf(1)}
		for _, b := range schema.Baselines {
			if v, ok := at(b.What, r.X); ok && v > 0 && v < s.baselineTime {
				s.baseline, s.baselineTime = b.Code, v
			}
			if _, ok := at(b.What, r.X); ok && b.What == schema.ScaleMatchPacked {
				s.packedMeasured = true
			}
		}
		if s.baseline != "" {
			s.factor = s.baselineTime / s.index
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b speedup) int { return cmp.Compare(a.x, b.x) })
	return out
}

// Plain names of the scaling measurements and units.
var (
	measureNames = map[string]string{
		schema.ScaleMatchIndex:     "multi-index lookup",
		schema.ScaleMatchReference: "reference linear scan",
		schema.ScaleMatchPacked:    "packed linear scan",
		"index-build":              "building the index",
		"match-hits":               "matches per query",
		"psi-table-bytes":          "PSI table",
		"psi-table-dropped":        "entries dropped from the PSI table",
		"psi-setup":                "building the PSI table",
		"psi-voucher-device":       "making a voucher (phone)",
		"psi-voucher-server":       "checking a voucher (server)",
		"psi-voucher-bytes":        "one voucher",
		"relay-throughput":         "relay throughput",
		"relay-send-p50":           "send time, median",
		"relay-send-p99":           "send time, 99th percentile",
		"relay-messages":           "messages sent",
		"relay-lost-or-duplicated": "messages lost or duplicated",
	}
	unitNames = map[string]string{
		"us/query":      "µs per query",
		"us/voucher":    "µs per voucher",
		"us":            "µs",
		"ms":            "ms",
		"s":             "s",
		"bytes":         "bytes",
		"entries":       "list entries",
		"messages/s":    "messages/s",
		"messages":      "messages",
		"matches/query": "matches per query",
	}
	keyNames = map[string]string{
		"list_size": "hash-list entries",
		"users":     "number of users",
	}
)

// measureName is the plain name of a measurement; "-fsync-off" marks runs
// without a disk flush per commit.
func measureName(what string) string {
	base, off := strings.CutSuffix(what, "-fsync-off")
	name, ok := measureNames[base]
	if !ok {
		name = strings.ReplaceAll(base, "-", " ")
	}
	if off {
		name += " (no fsync)"
	}
	return name
}

func unitName(u string) string {
	if n, ok := unitNames[u]; ok {
		return n
	}
	return strings.ReplaceAll(strings.ReplaceAll(u, "us", "µs"), "/", " per ")
}

// atKey phrases one value of the swept parameter: "with 100 users", "at
// 1,000,000 hashes".
func atKey(k string, x float64) string {
	switch k {
	case "users":
		return "with " + measure(x) + " users"
	case "list_size":
		return "at " + measure(x) + " hashes"
	}
	return "at " + keyName(k) + " " + measure(x)
}

// quantities name what a unit measures, for plot titles.
var quantities = map[string]string{
	"us/query": "the time per lookup", "us/voucher": "the time per voucher", "s": "the set-up time", "bytes": "the size",
	"messages/s": "throughput", "us": "the send time", "messages": "the number of messages", "entries": "the number of dropped entries",
	"matches/query": "the number of matches per lookup",
}

// axisLabel is the value axis's label for a unit.
func axisLabel(u string) string {
	if n := unitName(u); n != u || strings.ContainsAny(u, "/ ") {
		return n
	}
	return "number of " + u
}

func keyName(k string) string {
	if n, ok := keyNames[k]; ok {
		return n
	}
	return strings.ReplaceAll(k, "_", " ")
}
