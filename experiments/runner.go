// Package experiments runs scanlab's study: each experiment drives the modes
// through the delivery harness (package harness) with a seeded workload and
// writes CSV results plus a manifest into its own directory under the output
// directory.
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
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"scanlab/internal/buildinfo"
	"scanlab/schema"
)

// Scale is how large a run is: the same experiments at three sizes.
type Scale int

// The scales. The zero value is the default study.
const (
	Default Scale = iota // the study the README's command runs
	Quick                // a small version that finishes in a minute or two
	Full                 // the largest sizes, for sharded runs on a cluster
)

// String returns "default", "quick" or "full".
func (s Scale) String() string {
	switch s {
	case Quick:
		return "quick"
	case Full:
		return "full"
	}
	return "default"
}

// ParseScale parses the name of a scale.
func ParseScale(name string) (Scale, error) {
	for _, s := range []Scale{Default, Quick, Full} {
		if s.String() == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown scale %q (quick, default or full)", name)
}

// MarshalText implements encoding.TextMarshaler.
func (s Scale) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Scale) UnmarshalText(b []byte) (err error) {
	*s, err = ParseScale(string(b))
	return err
}

// Options are the settings of a run: what every experiment takes, and each
// experiment's own typed options (zero values keep the scale's defaults).
type Options struct {
	Seed      uint64
	Out       string // results directory; each experiment writes Out/NAME/
	Scale     Scale
	KeepState string   // if set, keep databases and wire captures here
	Progress  Progress // how the run advances; nil is silent
	// Shard runs a slice of a sweep (see [Merge]); only experiments that
	// shard accept one.
	Shard Shard
	// Revision names the code that ran: its version control revision and
	// whether the tree was modified. It is recorded in every manifest.
	Revision buildinfo.Info

	Coverage   CoverageOptions
	Evasion    EvasionOptions
	FalseMatch FalseMatchOptions
	Latency    LatencyOptions
	Platforms  PlatformsOptions
	Load       LoadOptions
	Faults     FaultsOptions
}

// Progress hears how a run advances: events worth a line in a log, and how
// much of the current experiment's work is done (for a bar with an ETA).
// Its methods may be called from several goroutines.
type Progress interface {
	// Event reports one step, e.g. "[2/5] evasion: running".
	Event(msg string)
	// Advance says done of total units of the current experiment's work
	// are finished.
	Advance(done, total int)
}

// Experiment is one named study.
type Experiment struct {
	Name    string
	Summary string
	Run     func(o Options, dir string) (map[string]any, error)
	// spec returns the experiment's own options as recorded in its
	// manifest (nil when it has none beyond the seed and scale).
	spec func(o Options) any
	// setSpec restores those options from a manifest (for merging).
	setSpec func(raw json.RawMessage, o *Options) error
	// sweep, for experiments made of independent cells, names the cells and
	// output files so that shards can be merged; nil means the experiment
	// does not shard.
	sweep func(o Options) sweepOutput
}

// Shards reports whether the experiment can run in slices.
func (e Experiment) Shards() bool { return e.sweep != nil }

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

// Select resolves experiment names (all when names is empty) and checks
// that a sharded run names only experiments that shard.
func Select(names []string, shard Shard) ([]Experiment, error) {
	if len(names) == 0 {
		if !shard.all() {
			return nil, fmt.Errorf("--shard needs the experiments to slice named (sharding ones: %s)", strings.Join(shardingNames(), ", "))
		}
		return All(), nil
	}
	var todo []Experiment
	for _, n := range names {
		e, ok := Lookup(n)
		if !ok {
			return nil, fmt.Errorf("unknown experiment %q (have: %s)", n, strings.Join(Names(), ", "))
		}
		if !shard.all() && !e.Shards() {
			return nil, fmt.Errorf("experiment %q does not shard (sharding ones: %s)", n, strings.Join(shardingNames(), ", "))
		}
		todo = append(todo, e)
	}
	return todo, nil
}

func shardingNames() []string {
	var n []string
	for _, e := range All() {
		if e.Shards() {
			n = append(n, e.Name)
		}
	}
	return n
}

// Run runs the named experiments (all when names is empty).
func Run(names []string, o Options) error {
	todo, err := Select(names, o.Shard)
	if err != nil {
		return err
	}
	begin := time.Now()
	for i, e := range todo {
		dir := filepath.Join(o.Out, e.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		start := time.Now()
		o.progress("[%d/%d] %s: running (%s elapsed)", i+1, len(todo), e.Name, time.Since(begin).Round(time.Second))
		extra, err := e.Run(o, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		if err := writeManifest(dir, e, o, start, extra); err != nil {
			return err
		}
		o.progress("[%d/%d] %s: done in %s, results in %s", i+1, len(todo), e.Name, time.Since(start).Round(time.Millisecond), dir)
	}
	return nil
}

func (o Options) progress(format string, a ...any) {
	if o.Progress != nil {
		o.Progress.Event(fmt.Sprintf(format, a...))
	}
}

func (o Options) advance(done, total int) {
	if o.Progress != nil {
		o.Progress.Advance(done, total)
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

func newManifest(e Experiment, o Options, start time.Time, extra map[string]any) (schema.Manifest, error) {
	m := schema.Manifest{
		Experiment: e.Name, Seed: o.Seed, Scale: o.Scale.String(), Results: extra,
		Revision: o.Revision.Revision, Modified: o.Revision.Modified,
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPUModel: cpuModel(),
		Deps: map[string]string{}, Start: start.UTC(), Shard: o.Shard.String(), Duration: time.Since(start).Round(time.Millisecond).String(),
	}
	if m.Revision == "" {
		m.Revision, m.Modified = "unknown", "unknown"
	}
	if e.spec != nil {
		b, err := json.Marshal(e.spec(o))
		if err != nil {
			return m, err
		}
		m.Options = b
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			m.Deps[d.Path] = d.Version
		}
	}
	return m, nil
}

func writeManifest(dir string, e Experiment, o Options, start time.Time, extra map[string]any) error {
	m, err := newManifest(e, o, start, extra)
	if err != nil {
		return err
	}
	return schema.WriteManifest(dir, m)
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
