package report

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// table is one CSV file: a header row naming the columns, then records.
type table struct {
	name   string         // path as shown in messages, relative to the results directory
	cols   map[string]int // column name → index
	header []string
	rows   []record
}

// record is one data row and the line it started on.
type record struct {
	t      *table
	line   int
	fields []string
}

// readTable reads DIR/rel. A missing file gives an error wrapping
// fs.ErrNotExist; a header that lacks one of the required columns, or rows
// of the wrong width, give an error naming the file and line. Extra columns
// are allowed so that producers can add columns without breaking the report.
func readTable(dir, rel string, required ...string) (*table, error) {
	f, err := os.Open(filepath.Join(dir, rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseTable(f, rel, required...)
}

func parseTable(r io.Reader, name string, required ...string) (*table, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, want a header with columns %s", name, strings.Join(required, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	t := &table{name: name, cols: map[string]int{}, header: header}
	for i, h := range header {
		t.cols[strings.TrimSpace(h)] = i
	}
	var missing []string
	for _, c := range required {
		if _, ok := t.cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		line, _ := cr.FieldPos(0)
		return nil, fmt.Errorf("%s:%d: header lacks column %s (have %s, want %s)", name, line,
			strings.Join(missing, ", "), strings.Join(header, ","), strings.Join(required, ","))
	}
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: %w", name, pe.StartLine, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		t.rows = append(t.rows, record{t: t, line: line, fields: fields})
	}
	return t, nil
}

// has reports whether the table has the named column.
func (t *table) has(col string) bool { _, ok := t.cols[col]; return ok }

// str returns the named column, trimmed; "" if the table lacks it.
func (r record) str(col string) string {
	i, ok := r.t.cols[col]
	if !ok {
		return ""
	}
	return strings.TrimSpace(r.fields[i])
}

// errorf returns an error naming the file and line of r.
func (r record) errorf(format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s", r.t.name, r.line, fmt.Sprintf(format, a...))
}

// float parses the named column as a finite number.
func (r record) float(col string) (float64, error) {
	s := r.str(col)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, r.errorf("column %s: %q is not a number", col, s)
	}
	return v, nil
}

// optFloat parses the named column as a number, giving NaN when the column
// is absent, empty or not finite (e.g. "inf" for a PSNR of identical images).
func (r record) optFloat(col string) float64 {
	v, err := strconv.ParseFloat(r.str(col), 64)
	if err != nil || math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

// fraction parses the named column as a number in [0, 1].
func (r record) fraction(col string) (float64, error) {
	v, err := r.float(col)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > 1 {
		return 0, r.errorf("column %s: %v is not a fraction between 0 and 1", col, v)
	}
	return v, nil
}

// count parses the named column as a non-negative integer.
func (r record) count(col string) (int, error) {
	s := r.str(col)
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, r.errorf("column %s: %q is not a count", col, s)
	}
	return v, nil
}

// nonEmpty returns the named column, or an error if it is empty.
func (r record) nonEmpty(col string) (string, error) {
	s := r.str(col)
	if s == "" {
		return "", r.errorf("column %s is empty", col)
	}
	return s, nil
}

// Rows of the experiment files. Field comments give the column each comes from.

type visCell struct {
	Mode, Party, Item string
	Recovered         float64 // recovered: fraction of canaries
	Route             string
}

type latencyRow struct {
	Mode, Kind, Stage string
	Messages          int
	P50, P95, P99     float64 // µs
}

type latencySample struct {
	Mode, Kind, Stage string
	NS                float64
}

type bytesRow struct {
	Mode, Kind        string
	Messages          int
	Body, Send, Fetch float64 // bytes, medians
}

type coverageRow struct {
	Mode, Class, Pathway string
	Items, Detected      int
	Recall               float64
}

type evasionRow struct {
	Algo, Transform, Strength, Threshold string
	Items, Matched                       int
	Recall                               float64
	PSNR                                 float64 // dB; NaN when absent
}

// scalingPoint is one measurement of the scaling experiment: What at
// Key=X costs Value Unit.
type scalingPoint struct {
	What, Key, Unit string
	X, Value        float64
}

type falseFlagRow struct {
	T, Library, Images, PImage, PAccount float64
	// Bound is true when p(image) is an upper bound (no benign image
	// matched), from the optional p_image_basis column.
	Bound bool
}

// thornRow is one published result of Thorn's perceptual benchmark.
type thornRow struct {
	Transform, Hasher string
	Threshold         float64 // normalised Hamming distance
	Recall            float64 // fraction
	N                 int
}

// Manifest is the part of an experiment's manifest.json the report uses.
type manifest struct {
	Experiment string            `json:"experiment"`
	Seed       uint64            `json:"seed"`
	Quick      bool              `json:"quick"`
	Params     map[string]string `json:"params"`
	GoVersion  string            `json:"go_version"`
	OS         string            `json:"os"`
	Arch       string            `json:"arch"`
	CPUs       int               `json:"cpus"`
	CPUModel   string            `json:"cpu_model"`
	Results    map[string]any    `json:"results"`
	Start      string            `json:"start"`
	Duration   string            `json:"duration"`
}

func readManifest(dir, rel string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return &m, nil
}

// visibilityColumns are the columns visibility.csv must have.
var visibilityColumns = []string{"mode", "party", "item", "recovered", "route"}

func readVisibility(dir string) ([]visCell, error) {
	t, err := readTable(dir, visibilityFile, visibilityColumns...)
	if err != nil {
		return nil, err
	}
	return visibilityRows(t)
}

func visibilityRows(t *table) ([]visCell, error) {
	var err error
	out := []visCell{}
	for _, r := range t.rows {
		var c visCell
		if c.Mode, err = r.nonEmpty("mode"); err != nil {
			return nil, err
		}
		if c.Party, err = r.nonEmpty("party"); err != nil {
			return nil, err
		}
		if c.Item, err = r.nonEmpty("item"); err != nil {
			return nil, err
		}
		if c.Recovered, err = r.fraction("recovered"); err != nil {
			return nil, err
		}
		c.Route = r.str("route")
		out = append(out, c)
	}
	return out, nil
}

func readLatency(dir string) ([]latencyRow, error) {
	t, err := readTable(dir, "latency/latency.csv", "mode", "kind", "stage", "messages", "p50_us", "p95_us", "p99_us")
	if err != nil {
		return nil, err
	}
	out := []latencyRow{}
	for _, r := range t.rows {
		l := latencyRow{Mode: r.str("mode"), Kind: r.str("kind"), Stage: r.str("stage")}
		if l.Messages, err = r.count("messages"); err != nil {
			return nil, err
		}
		for _, f := range []struct {
			col string
			v   *float64
		}{{"p50_us", &l.P50}, {"p95_us", &l.P95}, {"p99_us", &l.P99}} {
			if *f.v, err = r.float(f.col); err != nil {
				return nil, err
			}
		}
		out = append(out, l)
	}
	return out, nil
}

func readSamples(dir string) ([]latencySample, error) {
	t, err := readTable(dir, "latency/latency-samples.csv", "mode", "kind", "stage", "ns")
	if err != nil {
		return nil, err
	}
	out := []latencySample{}
	for _, r := range t.rows {
		s := latencySample{Mode: r.str("mode"), Kind: r.str("kind"), Stage: r.str("stage")}
		if s.NS, err = r.float("ns"); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func readBytes(dir string) ([]bytesRow, error) {
	t, err := readTable(dir, "latency/bytes.csv", "mode", "kind", "messages", "body_bytes_p50", "wire_bytes_send_p50", "wire_bytes_fetch_p50")
	if err != nil {
		return nil, err
	}
	out := []bytesRow{}
	for _, r := range t.rows {
		b := bytesRow{Mode: r.str("mode"), Kind: r.str("kind")}
		if b.Messages, err = r.count("messages"); err != nil {
			return nil, err
		}
		if b.Body, err = r.float("body_bytes_p50"); err != nil {
			return nil, err
		}
		if b.Send, err = r.float("wire_bytes_send_p50"); err != nil {
			return nil, err
		}
		if b.Fetch, err = r.float("wire_bytes_fetch_p50"); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func readCoverage(dir string) ([]coverageRow, error) {
	t, err := readTable(dir, "coverage/coverage.csv", "mode", "class", "pathway", "items", "detected", "recall")
	if err != nil {
		return nil, err
	}
	out := []coverageRow{}
	for _, r := range t.rows {
		c := coverageRow{Mode: r.str("mode"), Class: r.str("class"), Pathway: r.str("pathway")}
		if c.Items, err = r.count("items"); err != nil {
			return nil, err
		}
		if c.Detected, err = r.count("detected"); err != nil {
			return nil, err
		}
		if c.Recall, err = r.fraction("recall"); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func readEvasion(dir string) ([]evasionRow, error) {
	t, err := readTable(dir, "evasion/evasion.csv", "algo", "transform", "strength", "threshold", "items", "matched", "recall", "psnr")
	if err != nil {
		return nil, err
	}
	out := []evasionRow{}
	for _, r := range t.rows {
		e := evasionRow{Algo: r.str("algo"), Transform: r.str("transform"), Strength: r.str("strength"), Threshold: r.str("threshold")}
		if e.Items, err = r.count("items"); err != nil {
			return nil, err
		}
		if e.Matched, err = r.count("matched"); err != nil {
			return nil, err
		}
		if e.Recall, err = r.fraction("recall"); err != nil {
			return nil, err
		}
		e.PSNR = r.optFloat("psnr")
		out = append(out, e)
	}
	return out, nil
}

// readScaling reads scaling.csv in long format (what,param,value,unit, with
// param like "list_size=1000000") or, failing that, in wide format: the
// first column is the swept parameter and every other numeric column a
// measurement, its unit taken from a "_ms"-style suffix of the column name.
func readScaling(dir string) ([]scalingPoint, error) {
	const rel = "scaling/scaling.csv"
	t, err := readTable(dir, rel)
	if err != nil {
		return nil, err
	}
	out := []scalingPoint{}
	if t.has("what") && t.has("param") && t.has("value") {
		for _, r := range t.rows {
			p := scalingPoint{What: r.str("what"), Unit: r.str("unit")}
			if p.Key, p.X, err = parseParam(r.str("param")); err != nil {
				return nil, r.errorf("column param: %v", err)
			}
			if p.Value, err = r.float("value"); err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	}
	if len(t.header) < 2 {
		return nil, fmt.Errorf("%s:1: want columns what,param,value,unit or a parameter column followed by measurements (have %s)", rel, strings.Join(t.header, ","))
	}
	key := t.header[0]
	for _, r := range t.rows {
		x, err := r.float(key)
		if err != nil {
			return nil, err
		}
		for _, col := range t.header[1:] {
			v := r.optFloat(col)
			if math.IsNaN(v) {
				continue
			}
			what, unit := col, ""
			if i := strings.LastIndexByte(col, '_'); i > 0 {
				what, unit = col[:i], col[i+1:]
			}
			out = append(out, scalingPoint{What: what, Key: key, Unit: unit, X: x, Value: v})
		}
	}
	return out, nil
}

// parseParam splits "key=value" with a numeric value; with several pairs
// (separated by ';' or spaces) the first is the swept one.
func parseParam(s string) (string, float64, error) {
	first, _, _ := strings.Cut(strings.ReplaceAll(s, " ", ";"), ";")
	k, v, ok := strings.Cut(first, "=")
	if !ok {
		return "", 0, fmt.Errorf("%q is not key=value", s)
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return "", 0, fmt.Errorf("%q: value is not a number", s)
	}
	return strings.TrimSpace(k), x, nil
}

func readFalseFlag(dir string) ([]falseFlagRow, error) {
	t, err := readTable(dir, "coverage/falseflag.csv", "t", "library", "images", "p_image", "p_account")
	if err != nil {
		return nil, err
	}
	out := []falseFlagRow{}
	for _, r := range t.rows {
		var f falseFlagRow
		for _, c := range []struct {
			col string
			v   *float64
		}{{"t", &f.T}, {"library", &f.Library}, {"images", &f.Images}} {
			if *c.v, err = r.float(c.col); err != nil {
				return nil, err
			}
		}
		if f.PImage, err = r.fraction("p_image"); err != nil {
			return nil, err
		}
		if f.PAccount, err = r.fraction("p_account"); err != nil {
			return nil, err
		}
		f.Bound = strings.Contains(r.str("p_image_basis"), "bound")
		out = append(out, f)
	}
	return out, nil
}

func parseThorn(b []byte) ([]thornRow, error) {
	t, err := parseTable(strings.NewReader(string(b)), thornFile, "transform", "hasher", "threshold", "recall_pct", "n_exemplars")
	if err != nil {
		return nil, err
	}
	out := []thornRow{}
	for _, r := range t.rows {
		th := thornRow{Transform: r.str("transform"), Hasher: r.str("hasher")}
		if th.Threshold, err = r.float("threshold"); err != nil {
			return nil, err
		}
		if th.Recall, err = r.float("recall_pct"); err != nil {
			return nil, err
		}
		th.Recall /= 100
		if th.N, err = r.count("n_exemplars"); err != nil {
			return nil, err
		}
		out = append(out, th)
	}
	return out, nil
}

// order returns the distinct values of key over rows: first those listed in
// known (in that order), then the rest in order of first appearance.
func order[T any](rows []T, key func(T) string, known ...string) []string {
	seen := map[string]bool{}
	var extra []string
	for _, r := range rows {
		k := key(r)
		if !seen[k] {
			seen[k] = true
			if !slices.Contains(known, k) {
				extra = append(extra, k)
			}
		}
	}
	var out []string
	for _, k := range known {
		if seen[k] {
			out = append(out, k)
		}
	}
	return append(out, extra...)
}

// isNotExist reports whether err means an input file is absent.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
