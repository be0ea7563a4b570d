package experiments

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"scanlab/internal/buildinfo"
	"scanlab/schema"
)

// Shard selects a disjoint slice of a sweep: cell k runs in shard k mod N.
// The zero value (and 0/1) runs everything.
type Shard struct{ I, N int }

// ParseShard parses "i/n".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 0 ≤ i < n", s)
	}
	return Shard{i, n}, nil
}

// ShardFromEnv builds a shard from a batch scheduler's array index: Slurm's
// SLURM_ARRAY_TASK_ID or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX,
// with n slices. Neither being set is an error: running the whole sweep in
// every job of an array would silently repeat it n times.
func ShardFromEnv(n int) (Shard, error) {
	for _, v := range []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"} {
		if s := os.Getenv(v); s != "" {
			return ParseShard(s + "/" + strconv.Itoa(n))
		}
	}
	return Shard{}, errors.New("--shards needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX in the environment")
}

// String returns "i/n", or "" for the whole sweep.
func (s Shard) String() string {
	if s.all() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

func (s Shard) all() bool { return s.N <= 1 }

func (s Shard) has(k int) bool { return s.all() || k%s.N == s.I }

// cellResult is what one cell of a sweep produced: rows for each output file.
type cellResult struct {
	Cell  int                   `json:"cell"`
	Name  string                `json:"name"`
	Files map[string][][]string `json:"files"`
}

// sweepOutput describes a sweep's output files and their headers.
type sweepOutput struct {
	names   []string // cell names, in order
	headers map[string][]string
}

// runSweep runs the cells of a sweep that belong to the shard, keeps each
// cell's rows in DIR/cells/, and assembles the output files when every cell
// is present (always, unless sharded). It returns whether it assembled.
func runSweep(o Options, dir string, out sweepOutput, run func(k int) (map[string][][]string, error)) (bool, error) {
	cells := filepath.Join(dir, "cells")
	if err := os.MkdirAll(cells, 0o755); err != nil {
		return false, err
	}
	// Cells are independent: run them in parallel, up to GOMAXPROCS.
	var todo []int
	for k := range out.names {
		if o.Shard.has(k) {
			todo = append(todo, k)
		}
	}
	jobs := make(chan int)
	errs := make([]error, len(out.names))
	var wg sync.WaitGroup
	var mu sync.Mutex
	finished := 0
	o.advance(0, len(todo))
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				errs[k] = runCell(o, cells, out, k, run)
				mu.Lock()
				finished++
				o.advance(finished, len(todo))
				mu.Unlock()
			}
		}()
	}
	for _, k := range todo {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return false, err
	}
	if !o.Shard.all() {
		return false, nil
	}
	return true, assemble(dir, out)
}

func runCell(o Options, cells string, out sweepOutput, k int, run func(k int) (map[string][][]string, error)) error {
	name := out.names[k]
	o.progress("%s: cell %d/%d (%s)", filepath.Base(filepath.Dir(cells)), k+1, len(out.names), name)
	files, err := run(k)
	if err != nil {
		return fmt.Errorf("cell %s: %w", name, err)
	}
	b, err := json.Marshal(cellResult{Cell: k, Name: name, Files: files})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cells, cellFile(k)), append(b, '\n'), 0o644)
}

func cellFile(k int) string { return fmt.Sprintf("cell-%04d.json", k) }

// assemble writes the output files from the cells in DIR/cells, in cell
// order, refusing a missing cell or one that does not belong.
func assemble(dir string, out sweepOutput) error {
	rows := map[string][][]string{}
	for k, name := range out.names {
		b, err := os.ReadFile(filepath.Join(dir, "cells", cellFile(k)))
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cell %d (%s) is missing", k, name)
		}
		if err != nil {
			return err
		}
		var c cellResult
		if err := json.Unmarshal(b, &c); err != nil {
			return fmt.Errorf("cell %d: %w", k, err)
		}
		if c.Cell != k || c.Name != name {
			return fmt.Errorf("cell file %s holds cell %d (%s), want %d (%s)", cellFile(k), c.Cell, c.Name, k, name)
		}
		for f, r := range c.Files {
			if _, ok := out.headers[f]; !ok {
				return fmt.Errorf("cell %d writes unknown file %s", k, f)
			}
			rows[f] = append(rows[f], r...)
		}
	}
	files := make([]string, 0, len(out.headers))
	for f := range out.headers {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		if err := writeCSV(filepath.Join(dir, f), out.headers[f], rows[f]); err != nil {
			return err
		}
	}
	return nil
}

// Merge combines the cell files of sharded runs (each DIR an experiment's
// output directory, e.g. shard0/coverage) into out, refusing slices whose
// manifests disagree (another seed, scale, configuration or code revision),
// a cell that appears twice or is missing; then it assembles the output
// files. A failed merge leaves nothing at out.
func Merge(experiment, out string, dirs []string) error {
	e, ok := Lookup(experiment)
	if !ok || e.sweep == nil {
		return fmt.Errorf("experiment %q has no sweep to merge", experiment)
	}
	if len(dirs) == 0 {
		return errors.New("no slices to merge")
	}
	o, err := sliceOptions(e, dirs)
	if err != nil {
		return err
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s exists and is not empty", out)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(out)), ".merge-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := mergeInto(e, o, tmp, dirs); err != nil {
		return err
	}
	os.Remove(out) // an empty directory, if any
	return os.Rename(tmp, out)
}

// sliceOptions reads every slice's manifest, requires them to agree on
// what ran, and rebuilds the run's options.
func sliceOptions(e Experiment, dirs []string) (Options, error) {
	var first schema.Manifest
	for i, d := range dirs {
		m, err := schema.ReadManifest(filepath.Join(d, schema.ManifestName), filepath.Join(d, schema.ManifestName))
		if err != nil {
			return Options{}, fmt.Errorf("slice %s: %w", d, err)
		}
		if m.Experiment != e.Name {
			return Options{}, fmt.Errorf("slice %s is of experiment %q, not %q", d, m.Experiment, e.Name)
		}
		if i == 0 {
			first = m
			continue
		}
		if err := sameRun(first, m); err != nil {
			return Options{}, fmt.Errorf("slices %s and %s: %w", dirs[0], d, err)
		}
	}
	scale, err := ParseScale(first.Scale)
	if err != nil {
		return Options{}, fmt.Errorf("%s: %w", dirs[0], err)
	}
	o := Options{Seed: first.Seed, Scale: scale, Revision: buildinfo.Info{Revision: first.Revision, Modified: first.Modified}}
	if e.setSpec != nil && len(first.Options) > 0 {
		if err := e.setSpec(first.Options, &o); err != nil {
			return Options{}, fmt.Errorf("%s: options: %w", dirs[0], err)
		}
	}
	return o, nil
}

// sameRun reports the first field on which two slices' manifests differ.
func sameRun(a, b schema.Manifest) error {
	fields := []struct {
		name string
		x, y string
	}{
		{"seed", fmt.Sprint(a.Seed), fmt.Sprint(b.Seed)},
		{"scale", a.Scale, b.Scale},
		{"options", string(a.Options), string(b.Options)},
		{"revision", a.Revision, b.Revision},
		{"modified", a.Modified, b.Modified},
	}
	for _, f := range fields {
		if f.x != f.y {
			return fmt.Errorf("%s differs: %s vs %s", f.name, f.x, f.y)
		}
	}
	return nil
}

// mergeInto copies every slice's cells into dir, checks that the sweep is
// complete and writes the files and a manifest.
func mergeInto(e Experiment, o Options, dir string, dirs []string) error {
	if err := os.MkdirAll(filepath.Join(dir, "cells"), 0o755); err != nil {
		return err
	}
	seen := map[string]string{}
	for _, d := range dirs {
		matches, err := filepath.Glob(filepath.Join(d, "cells", "cell-*.json"))
		if err != nil {
			return err
		}
		if len(matches) == 0 {
			return fmt.Errorf("%s holds no cells of a sweep", d)
		}
		for _, m := range matches {
			base := filepath.Base(m)
			if prev, dup := seen[base]; dup {
				return fmt.Errorf("%s appears in both %s and %s", base, prev, d)
			}
			seen[base] = d
			b, err := os.ReadFile(m)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, "cells", base), b, 0o644); err != nil {
				return err
			}
		}
	}
	spec := e.sweep(o)
	if len(seen) != len(spec.names) {
		return fmt.Errorf("merged %d cells, the sweep has %d", len(seen), len(spec.names))
	}
	if err := assemble(dir, spec); err != nil {
		return err
	}
	return writeManifest(dir, e, o, time.Now(), map[string]any{"merged_from": dirs})
}
