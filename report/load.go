package report

import (
	"bytes"
	_ "embed"
	"errors"
	"io/fs"

	"scanlab/schema"
)

// results is everything read from one results directory. A nil slice means
// the file was absent.
type results struct {
	manifests   []schema.Manifest // sorted by experiment directory
	vis         []schema.VisibilityRow
	active      []schema.ActiveRow
	cov         []schema.CoverageRow
	sweeps      []schema.CoverageSweepRow
	accounts    []schema.AccountsRow
	prevention  []schema.PreventionRow
	sens        []schema.SensitivityRow
	pooled      []schema.PooledRow
	texts       []schema.TextsRow
	eva         []schema.EvasionRow
	thornMetric []schema.ThornMetricRow
	lat         []schema.LatencyRow
	samples     []schema.LatencySampleRow
	bytes       []schema.BytesRow
	scaling     []schema.ScalingRow
	privacy     []schema.BelowThresholdRow
	platforms   []schema.PlatformRow
	platTiming  []schema.PlatformTimingRow
	fm          falseMatch // the falsematch files (find_falsematch.go)
	load        []schema.LoadRow
	loadTimes   []schema.LoadTimingRow
	faults      []schema.FaultRow
	faultTimes  []schema.FaultTimingRow
	thorn       []thornRow // Thorn's published benchmark, embedded

	included, skipped []string
}

// input reads one result file into dst, noting whether it was present.
func input[R any](r *results, dir string, f *schema.File[R], dst *[]R) error {
	rows, err := f.ReadFile(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.skipped = append(r.skipped, f.Path)
		return nil
	case err != nil:
		return err
	}
	*dst = rows
	r.included = append(r.included, f.Path)
	return nil
}

// load reads every result file that exists in dir.
func load(dir string) (*results, error) {
	r := &results{}
	var err error
	if r.thorn, err = thornPublished.Read(bytes.NewReader(thornCSV), thornFile); err != nil {
		return nil, err
	}
	for _, read := range []func() error{
		func() error { return input(r, dir, schema.Visibility, &r.vis) },
		func() error { return input(r, dir, schema.Active, &r.active) },
		func() error { return input(r, dir, schema.Coverage, &r.cov) },
		func() error { return input(r, dir, schema.CoverageSweeps, &r.sweeps) },
		func() error { return input(r, dir, schema.Accounts, &r.accounts) },
		func() error { return input(r, dir, schema.Prevention, &r.prevention) },
		func() error { return input(r, dir, schema.Sensitivity, &r.sens) },
		func() error { return input(r, dir, schema.Pooled, &r.pooled) },
		func() error { return input(r, dir, schema.Texts, &r.texts) },
		func() error { return input(r, dir, schema.Evasion, &r.eva) },
		func() error { return input(r, dir, schema.ThornMetric, &r.thornMetric) },
		func() error { return input(r, dir, schema.Latency, &r.lat) },
		func() error { return input(r, dir, schema.LatencySamples, &r.samples) },
		func() error { return input(r, dir, schema.Bytes, &r.bytes) },
		func() error { return input(r, dir, schema.Scaling, &r.scaling) },
		func() error { return input(r, dir, schema.BelowThreshold, &r.privacy) },
		func() error { return input(r, dir, schema.Platforms, &r.platforms) },
		func() error { return input(r, dir, schema.PlatformTimings, &r.platTiming) },
		func() error { return r.loadFalseMatch(dir) },
		func() error { return input(r, dir, schema.Load, &r.load) },
		func() error { return input(r, dir, schema.LoadTimings, &r.loadTimes) },
		func() error { return input(r, dir, schema.Faults, &r.faults) },
		func() error { return input(r, dir, schema.FaultTimings, &r.faultTimes) },
	} {
		if err := read(); err != nil {
			return nil, err
		}
	}
	if r.manifests, err = schema.ReadManifests(dir); err != nil {
		return nil, err
	}
	return r, nil
}

// thornRow is one published result of Thorn's perceptual benchmark.
type thornRow struct {
	Transform, Hasher string
	Threshold         float64 // normalised Hamming distance
	Recall            float64 // percent
	Precision         string  // percent, "nan" where Thorn printed none
	N                 int
}

// thornFile names the embedded copy of Thorn's published table in errors.
const thornFile = "thorn_benchmark_v0_recall.csv"

// thornCSV is Thorn's published recall per transform and hasher
// (thorn-perceptual-benchmark-v0), copied from the project's reference
// notes; lines starting with # are the notes' provenance and are removed
// by stripComments before reading.
//
//go:embed thorn_benchmark_v0_recall.csv
var thornCSVRaw []byte

var thornCSV = stripComments(thornCSVRaw)

// stripComments drops lines starting with '#'.
func stripComments(b []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("#")) {
			out = append(out, line...)
		}
	}
	return out
}

// thornPublished reads the embedded table with the same machinery as every
// result file.
var thornPublished = &schema.File[thornRow]{
	Path: thornFile,
	Doc:  "Thorn's published recall at 99.99% precision for one transform and hasher",
	Columns: []schema.Column[thornRow]{
		schema.Text("transform", func(r *thornRow) *string { return &r.Transform }),
		schema.Text("hasher", func(r *thornRow) *string { return &r.Hasher }),
		schema.Number("threshold", schema.ShortestG, func(r *thornRow) *float64 { return &r.Threshold }),
		schema.Percent("recall_pct", schema.ShortestG, func(r *thornRow) *float64 { return &r.Recall }),
		schema.OptText("precision_pct", func(r *thornRow) *string { return &r.Precision }),
		schema.Count("n_exemplars", func(r *thornRow) *int { return &r.N }),
	},
}
