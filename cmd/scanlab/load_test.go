package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadFlags: --devices and --messages size the load experiment and are
// refused for any other experiment, or with values that make no run.
func TestLoadFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		err  string
	}{
		{"other-experiment", []string{"run", "faults", "--devices", "5"}, "apply to the load experiment only"},
		{"every-experiment", []string{"run", "--messages", "3"}, "apply to the load experiment only"},
		{"load-and-another", []string{"run", "load", "latency", "--devices", "5"}, "apply to the load experiment only"},
		{"one-device", []string{"run", "load", "--devices", "1"}, "at least 2"},
		{"no-messages", []string{"run", "load", "--messages", "0"}, "at least 1"},
	} {
		t.Run("case="+c.name, func(t *testing.T) {
			_, e, code := runCLI(c.args...)
			if code != 2 || !strings.Contains(e, c.err) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, e, c.err)
			}
		})
	}
	// A tiny run, twice: the counts file is the same for the seed, and the
	// manifest records the sizes asked for.
	dir := t.TempDir()
	var counts [][]byte
	for _, out := range []string{"a", "b"} {
		out = filepath.Join(dir, out)
		if _, e, code := runCLI("run", "load", "--quick", "--devices", "4", "--messages", "3", "--out", out); code != 0 {
			t.Fatalf("run failed: %s", e)
		}
		b, err := os.ReadFile(filepath.Join(out, "load", "load.csv"))
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, b)
		m, _ := os.ReadFile(filepath.Join(out, "load", "manifest.json"))
		if !bytes.Contains(m, []byte(`"devices": 4`)) || !bytes.Contains(m, []byte(`"messages": 3`)) {
			t.Fatalf("manifest does not record the sizes:\n%s", m)
		}
	}
	if !bytes.Equal(counts[0], counts[1]) {
		t.Fatalf("load.csv differs between two runs with the same seed:\n%s\n%s", counts[0], counts[1])
	}
	if !bytes.Contains(counts[0], []byte("serverscan,4,0,1,3,12,12,12,0,0,0")) {
		t.Fatalf("load.csv:\n%s", counts[0])
	}
}
