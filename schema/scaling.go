package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ScalingRow is one row of scaling/scaling.csv: one measurement What, at
// the swept parameter Key = X, of Value in Unit.
type ScalingRow struct {
	What string // see the Scale… constants
	// Key is the swept parameter ("list_size", "users") and X its value;
	// the file writes them as "list_size=1000000".
	Key   string
	X     float64
	Value float64
	Unit  string // "us/query", "bytes", "messages/s", ...
}

// Names of scaling measurements. Times are means over the run's queries
// or vouchers; the report computes speed-ups from them, against the
// fastest correct baseline present.
const (
	// ScaleMatchIndex is one query against the multi-index
	// (perceptual.Index.Match), µs.
	ScaleMatchIndex = "match-index"
	// ScaleMatchPacked is one query by the packed linear scan
	// (perceptual.Index.MatchLinear), the fastest exact baseline, µs.
	ScaleMatchPacked = "match-linear-packed"
	// ScaleMatchReference is one query by the reference linear scan
	// (perceptual.Linear), µs: a correct but slower baseline.
	ScaleMatchReference = "match-linear"
	// ScaleIndexSpeedup is match-linear ÷ match-index as older runs wrote
	// it; the report ignores it and computes speed-ups itself.
	ScaleIndexSpeedup = "index-speedup"
)

// Baselines lists the exact alternatives to the index, each with the code
// it measures; the report compares against the fastest one present.
var Baselines = []struct{ What, Code string }{
	{ScaleMatchPacked, "the packed linear scan `perceptual.Index.MatchLinear`"},
	{ScaleMatchReference, "the reference linear scan `perceptual.Linear`"},
}

// Scaling is scaling/scaling.csv.
var Scaling = &File[ScalingRow]{
	Path: "scaling/scaling.csv",
	Doc:  "one measurement at one value of the swept parameter",
	Columns: []Column[ScalingRow]{
		Text("what", func(r *ScalingRow) *string { return &r.What }),
		{
			Name: "param",
			get:  func(r *ScalingRow) string { return r.Key + "=" + strconv.FormatFloat(r.X, 'f', -1, 64) },
			set:  func(r *ScalingRow, s string) (err error) { r.Key, r.X, err = parseParam(s); return err },
		},
		Number("value", General6, func(r *ScalingRow) *float64 { return &r.Value }),
		Text("unit", func(r *ScalingRow) *string { return &r.Unit }),
	},
}

// parseParam splits "key=value" with a finite numeric value.
func parseParam(s string) (string, float64, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", 0, fmt.Errorf("%q is not key=value", s)
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return "", 0, fmt.Errorf("%q: the value is not a number", s)
	}
	return k, x, nil
}
