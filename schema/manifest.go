package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// ManifestName is the name of the manifest each experiment writes beside
// its result files: DIR/EXPERIMENT/manifest.json.
const ManifestName = "manifest.json"

// maxManifestBytes bounds a manifest: 1 MiB, hundreds of times the size of
// one with every parameter and dependency.
const maxManifestBytes = 1 << 20

// Manifest describes one experiment's run: what was asked for, on what
// machine, by which code.
type Manifest struct {
	Experiment string `json:"experiment"`
	Seed       uint64 `json:"seed"`
	// Scale is the run's size: ScaleQuick, ScaleDefault or ScaleFull.
	Scale string `json:"scale"`
	// Options are the experiment's own typed options, as it records them
	// (a sweep file's table, sizes, the relay it measured against). Merging
	// slices of a sweep requires them to be equal.
	Options json.RawMessage `json:"options,omitempty"`
	// Results are the experiment's own summary figures.
	Results map[string]any `json:"results,omitempty"`
	// Revision is the version control revision of the scanlab source and
	// Modified whether tracked files differed from it ("true", "false" or
	// "unknown"), as package internal/buildinfo reads them.
	Revision   string            `json:"revision,omitempty"`
	Modified   string            `json:"modified,omitempty"`
	GoVersion  string            `json:"go_version"`
	OS         string            `json:"os"`
	Arch       string            `json:"arch"`
	CPUs       int               `json:"cpus"`
	GOMAXPROCS int               `json:"gomaxprocs"`
	CPUModel   string            `json:"cpu_model"`
	Deps       map[string]string `json:"dependencies"`
	// Shard is "i/n" for one slice of a sweep, empty for a whole run.
	Shard    string    `json:"shard,omitempty"`
	Start    time.Time `json:"start"`
	Duration string    `json:"duration"`
}

// The scales of a run.
const (
	ScaleQuick   = "quick"
	ScaleDefault = "default"
	ScaleFull    = "full"
)

// RemoteRelay returns the address of the relay the run measured against
// (the "relay" option of the latency experiment), or "" when it ran its own
// relay on loopback.
func (m Manifest) RemoteRelay() string {
	var o struct {
		Relay string `json:"relay"`
	}
	if len(m.Options) == 0 || json.Unmarshal(m.Options, &o) != nil {
		return ""
	}
	return o.Relay
}

// WriteManifest writes m to DIR/manifest.json, DIR being the experiment's
// directory.
func WriteManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", ManifestName, err)
	}
	return writeFile(dir, ManifestName, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// ReadManifest reads the manifest at path; name is the file's name in
// errors. Unknown fields are an error, as in every result file.
func ReadManifest(path, name string) (Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > maxManifestBytes {
		return Manifest{}, fmt.Errorf("%s: longer than %d bytes, the most a manifest may hold", name, maxManifestBytes)
	}
	return parseManifest(b, name)
}

func parseManifest(b []byte, name string) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%s:%d: %w", name, jsonLine(b, dec.InputOffset(), err), err)
	}
	if dec.More() {
		return Manifest{}, fmt.Errorf("%s:%d: data after the manifest", name, jsonLine(b, dec.InputOffset(), nil))
	}
	if m.Experiment == "" {
		return Manifest{}, fmt.Errorf("%s:1: no experiment named", name)
	}
	return m, nil
}

// jsonLine returns the line of the offset an error points at.
func jsonLine(b []byte, off int64, err error) int {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	off = min(max(off, 0), int64(len(b)))
	return 1 + bytes.Count(b[:off], []byte("\n"))
}

// ReadManifests reads DIR/*/manifest.json, sorted by experiment directory.
func ReadManifests(dir string) ([]Manifest, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", ManifestName))
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	out := []Manifest{}
	for _, p := range paths {
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return nil, err
		}
		m, err := ReadManifest(p, filepath.ToSlash(rel))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// manifestSpec describes manifest.json among [Files].
type manifestSpec struct{}

func (manifestSpec) Name() string          { return "EXPERIMENT/" + ManifestName }
func (manifestSpec) ColumnNames() []string { return nil }
func (manifestSpec) Description() string {
	return "one experiment's settings, machine, Go version, dependencies and source revision (JSON)"
}
