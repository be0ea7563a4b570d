package report

import (
	"math"
	"slices"

	"scanlab/schema"
)

// Findings over the evasion files: pure functions of the typed rows.

// metaThreshold is the PDQ match threshold Meta recommends (31 bits of
// 256), which the study uses for both hashes.
const metaThreshold = 31

// hashBits is the length of both hashes compared with Thorn.
const hashBits = 256

// thornCompare is one transform of one hash compared with Thorn, like for
// like: our recall at Thorn's threshold for that transform, at 31 bits,
// and under Thorn's own metric.
type thornCompare struct {
	algo, transform string
	thornThreshold  int     // Thorn's threshold for this transform, bits
	thornRecall     float64 // Thorn's published recall, fraction
	atThorn         rate    // ours at thornThreshold; no data when the file has no row there
	at31            rate    // ours at 31 bits
	metric          float64 // ours under Thorn's metric, fraction; NaN if not measured
	metricThreshold int     // the threshold our data chose under that metric, bits; −1 if none
}

// thornPublishedFor returns Thorn's published row for a hash and transform.
func thornPublishedFor(thorn []thornRow, algo, transform string) (thornRow, bool) {
	i := slices.IndexFunc(thorn, func(t thornRow) bool { return t.Hasher == algo && t.Transform == transform })
	if i < 0 {
		return thornRow{}, false
	}
	return thorn[i], true
}

func bits(normalised float64) int { return int(math.Round(normalised * hashBits)) }

// evasionAt returns our row for a hash and transform at a threshold.
func evasionAt(rows []schema.EvasionRow, algo, transform string, threshold int) (schema.EvasionRow, bool) {
	i := slices.IndexFunc(rows, func(e schema.EvasionRow) bool {
		return e.Algo == algo && e.Transform == transform && e.Threshold == threshold
	})
	if i < 0 {
		return schema.EvasionRow{}, false
	}
	return rows[i], true
}

// thornComparisons pairs every transform Thorn published with our rows
// for each hash both measured: ours at 31 bits, at Thorn's own threshold
// for that transform and hash (no data when the file has no row there),
// and under Thorn's metric.
func thornComparisons(eva []schema.EvasionRow, metric []schema.ThornMetricRow, thorn []thornRow) []thornCompare {
	var out []thornCompare
	for _, algo := range distinct(mapSlice(eva, func(e schema.EvasionRow) string { return e.Algo })) {
		for _, t := range thorn {
			if t.Hasher != algo || t.Transform == "ALL" || t.Transform == "noop" {
				continue
			}
			e31, ok := evasionAt(eva, algo, t.Transform, metaThreshold)
			if !ok {
				continue
			}
			c := thornCompare{algo: algo, transform: t.Transform, thornThreshold: bits(t.Threshold), thornRecall: t.Recall / 100,
				at31: exactRate(e31.Matched, e31.Items), metric: math.NaN(), metricThreshold: -1}
			if e, ok := evasionAt(eva, algo, t.Transform, c.thornThreshold); ok {
				c.atThorn = exactRate(e.Matched, e.Items)
			}
			if i := slices.IndexFunc(metric, func(m schema.ThornMetricRow) bool { return m.Algo == algo && m.Transform == t.Transform }); i >= 0 {
				c.metric = metric[i].Recall / 100
				if metric[i].Threshold.Valid {
					c.metricThreshold = metric[i].Threshold.V
				}
			}
			out = append(out, c)
		}
	}
	return out
}

// gap summarises |ours − Thorn| over the comparisons of one hash.
type gap struct {
	n                   int
	mean                float64 // percentage points
	worst               string  // the transform with the largest gap
	worstOurs, worstThm float64
}

// thornGap computes the mean and largest gap between ours (as get reads
// it) and Thorn's published recall, over comparisons where ours is
// measured.
func thornGap(cs []thornCompare, algo string, get func(thornCompare) (float64, bool)) gap {
	var g gap
	maxGap := -1.0
	for _, c := range cs {
		ours, ok := get(c)
		if c.algo != algo || !ok {
			continue
		}
		d := math.Abs(ours - c.thornRecall)
		g.n++
		g.mean += d
		if d > maxGap {
			maxGap, g.worst, g.worstOurs, g.worstThm = d, c.transform, ours, c.thornRecall
		}
	}
	if g.n > 0 {
		g.mean = g.mean / float64(g.n) * 100
	}
	return g
}

// Readers of a comparison for thornGap.
var (
	ours31      = func(c thornCompare) (float64, bool) { return c.at31.p(), c.at31.n > 0 }
	oursAtThorn = func(c thornCompare) (float64, bool) { return c.atThorn.p(), c.atThorn.n > 0 }
	oursMetric  = func(c thornCompare) (float64, bool) { return c.metric, !math.IsNaN(c.metric) }
)

// thresholdGain is what moving from 31 bits to Thorn's thresholds buys on
// our images for one hash: the mean rise in recall (percentage points)
// over the transforms measured at both, and the transform where it rises
// most.
type thresholdGain struct {
	n              int
	mean           float64
	most           string
	from, to       rate
	mostRisePoints float64
}

func gainToThorn(cs []thornCompare, algo string) thresholdGain {
	var g thresholdGain
	for _, c := range cs {
		if c.algo != algo || c.at31.n == 0 || c.atThorn.n == 0 {
			continue
		}
		d := (c.atThorn.p() - c.at31.p()) * 100
		g.n++
		g.mean += d
		if g.most == "" || d > g.mostRisePoints {
			g.most, g.from, g.to, g.mostRisePoints = c.transform, c.at31, c.atThorn, d
		}
	}
	if g.n > 0 {
		g.mean /= float64(g.n)
	}
	return g
}
