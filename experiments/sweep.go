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
// with n slices. It returns the whole sweep when neither is set.
func ShardFromEnv(n int) (Shard, error) {
	for _, v := range []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"} {
		if s := os.Getenv(v); s != "" {
			return ParseShard(s + "/" + strconv.Itoa(n))
		}
	}
	return Shard{0, 1}, nil
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
	for range min(runtime.GOMAXPROCS(0), len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				errs[k] = runCell(o, cells, out, k, run)
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
// output directory, e.g. shard0/coverage) into out, refusing a cell that
// appears twice or is missing, then assembles the output files.
func Merge(experiment, out string, dirs []string) error {
	e, ok := Lookup(experiment)
	if !ok || e.sweep == nil {
		return fmt.Errorf("experiment %q has no sweep to merge", experiment)
	}
	if err := os.MkdirAll(filepath.Join(out, "cells"), 0o755); err != nil {
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
			if err := os.WriteFile(filepath.Join(out, "cells", base), b, 0o644); err != nil {
				return err
			}
		}
	}
	var params map[string]string
	var quick bool
	var seed uint64
	if b, err := os.ReadFile(filepath.Join(dirs[0], "manifest.json")); err == nil {
		var m Manifest
		if json.Unmarshal(b, &m) == nil {
			params, quick, seed = m.Params, m.Quick, m.Seed
		}
	}
	sw, err := decodeSweep(params)
	if err != nil {
		return err
	}
	o := Options{Seed: seed, Quick: quick, Params: params, Sweep: sw}
	spec := e.sweep(o)
	if len(seen) != len(spec.names) {
		return fmt.Errorf("merged %d cells, the sweep has %d", len(seen), len(spec.names))
	}
	if err := assemble(out, spec); err != nil {
		return err
	}
	return writeManifest(filepath.Join(out, "manifest.json"), experiment, o, time.Now(), map[string]any{"merged_from": dirs})
}
