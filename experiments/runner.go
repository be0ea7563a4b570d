// Package experiments runs scanlab's study: each experiment drives the modes
// through the real relay with a seeded workload and writes CSV results plus a
// manifest into its own directory under the output directory.
//
// Determinism: every random choice of a workload comes from the seed
// (math/rand/v2 PCG streams); cryptographic keys do not (Go's key generation
// ignores seeded readers), so results record verdicts, counts and sizes —
// never ciphertext bytes — and the same seed gives byte-identical CSV files.
// Timings live in files or columns of their own.
//
// # Who sees what
//
// The experiments hold the ground truth (which message is harmful, which
// canary was planted where). It never enters a message, an envelope or a
// party's view.
package experiments

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// Options are the settings every experiment takes.
type Options struct {
	Seed      uint64
	Out       string // results directory; each experiment writes Out/NAME/
	Quick     bool   // a small, fast version
	KeepState string // if set, keep databases and wire captures here
	Progress  io.Writer
	// Params are extra parameters recorded in the manifest (flag values).
	Params map[string]string
	// Shard runs a slice of each sweep (see [Merge]).
	Shard Shard
	// Sweep, if set, replaces the coverage sweep's defaults (a sweep file).
	Sweep *SweepSpec
}

// Experiment is one named study.
type Experiment struct {
	Name    string
	Summary string
	Run     func(o Options, dir string) (map[string]any, error)
	// sweep, for experiments made of independent cells, names the cells and
	// output files so that shards can be merged.
	sweep func(o Options) sweepOutput
}

var registry []Experiment

func register(e Experiment) { registry = append(registry, e) }

// All returns every experiment in the order `scanlab run` runs them.
func All() []Experiment {
	out := slices.Clone(registry)
	slices.SortStableFunc(out, func(a, b Experiment) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Lookup finds an experiment by name.
func Lookup(name string) (Experiment, bool) {
	for _, e := range registry {
		if e.Name == name {
			return e, true
		}
	}
	return Experiment{}, false
}

// Names returns the experiment names, sorted.
func Names() []string {
	var n []string
	for _, e := range All() {
		n = append(n, e.Name)
	}
	return n
}

// Run runs the named experiments (all when names is empty).
func Run(names []string, o Options) error {
	var todo []Experiment
	if len(names) == 0 {
		todo = All()
	}
	for _, n := range names {
		e, ok := Lookup(n)
		if !ok {
			return fmt.Errorf("unknown experiment %q (have: %s)", n, strings.Join(Names(), ", "))
		}
		todo = append(todo, e)
	}
	for _, e := range todo {
		dir := filepath.Join(o.Out, e.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		start := time.Now()
		o.progress("%s: running", e.Name)
		extra, err := e.Run(o, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		if err := writeManifest(filepath.Join(dir, "manifest.json"), e.Name, o, start, extra); err != nil {
			return err
		}
		o.progress("%s: done in %s, results in %s", e.Name, time.Since(start).Round(time.Millisecond), dir)
	}
	return nil
}

func (o Options) progress(format string, a ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "scanlab: "+format+"\n", a...)
	}
}

// rng returns the random stream for one purpose of one experiment: the same
// seed and stream name always give the same numbers.
func (o Options) rng(stream string) *rand.Rand {
	var h uint64 = 14695981039346656037 // FNV-1a of the stream name
	for i := 0; i < len(stream); i++ {
		h ^= uint64(stream[i])
		h *= 1099511628211
	}
	return rand.New(rand.NewPCG(o.Seed, h))
}

// Manifest describes one experiment run.
type Manifest struct {
	Experiment string            `json:"experiment"`
	Seed       uint64            `json:"seed"`
	Quick      bool              `json:"quick"`
	Params     map[string]string `json:"params,omitempty"`
	Results    map[string]any    `json:"results,omitempty"`
	GoVersion  string            `json:"go_version"`
	OS         string            `json:"os"`
	Arch       string            `json:"arch"`
	CPUs       int               `json:"cpus"`
	GOMAXPROCS int               `json:"gomaxprocs"`
	CPUModel   string            `json:"cpu_model"`
	Deps       map[string]string `json:"dependencies"`
	Shard      string            `json:"shard,omitempty"`
	Start      time.Time         `json:"start"`
	Duration   string            `json:"duration"`
}

func writeManifest(path, name string, o Options, start time.Time, extra map[string]any) error {
	if o.Sweep != nil {
		if o.Params == nil {
			o.Params = map[string]string{}
		}
		o.Params["sweep"] = o.Sweep.encode()
	}
	m := Manifest{
		Experiment: name, Seed: o.Seed, Quick: o.Quick, Params: o.Params, Results: extra,
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPUModel: cpuModel(),
		Deps: map[string]string{}, Start: start.UTC(), Shard: o.Shard.String(), Duration: time.Since(start).Round(time.Millisecond).String(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			m.Deps[d.Path] = d.Version
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// writeCSV writes a header and rows to path.
func writeCSV(path string, header []string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(header)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
