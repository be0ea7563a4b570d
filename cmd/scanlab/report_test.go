package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestVersionRevision(t *testing.T) {
	o, e, code := runCLI("version")
	if code != 0 || e != "" {
		t.Fatalf("exit %d, stderr %q", code, e)
	}
	lines := strings.Split(strings.TrimSpace(o), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "scanlab ") {
		t.Fatalf("output %q, want the version line and the revision line", o)
	}
	// The tests run inside the scanlab checkout, so git knows the revision.
	if !regexp.MustCompile(`^revision [0-9a-f]{40}( \(modified\))?$`).MatchString(lines[1]) {
		t.Errorf("revision line %q, want a full commit hash", lines[1])
	}
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "visibility"), os.DirFS(filepath.Join("..", "..", "report", "testdata", "full", "visibility"))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"ok", []string{"report", dir}, 0, "scanlab: report in " + filepath.Join(dir, "REPORT.md")},
		{"no-dir", []string{"report"}, 2, "report needs exactly one results directory"},
		{"not-a-dir", []string{"report", filepath.Join(dir, "visibility", "visibility.csv")}, 2, "is not a directory"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			_, e, code := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(e, tc.err) {
				t.Fatalf("exit %d, stderr %q; want exit %d, stderr ∋ %q", code, e, tc.code, tc.err)
			}
		})
	}
	for _, f := range []string{"REPORT.md", "REPORT.html", "plots/visibility-e2ee.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("scanlab report did not write %s: %v", f, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "visibility", "visibility.csv"), []byte("mode,party\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, e, code := runCLI("report", dir); code != 1 || !strings.Contains(e, "visibility/visibility.csv:1:") {
		t.Errorf("malformed file: exit %d, stderr %q; want exit 1 naming the file and line", code, e)
	}
}
