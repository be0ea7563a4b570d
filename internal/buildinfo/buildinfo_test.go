package buildinfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// repo makes a git repository in a fresh directory whose go.mod declares
// module, commits it and returns its path.
func repo(t *testing.T, module string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+module+"\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "go.mod"},
		{"-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "init"},
	} {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

var fullHash = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

func TestFromGit(t *testing.T) {
	clean := repo(t, "scanlab")
	dirty := repo(t, "scanlab")
	if err := os.WriteFile(filepath.Join(dirty, "go.mod"), []byte("module scanlab\n\ngo 1.27\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	untracked := repo(t, "scanlab")
	if err := os.WriteFile(filepath.Join(untracked, "results.csv"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(clean, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		dir      string
		ok       bool
		modified string
	}{
		{"tree=clean", clean, true, "false"},
		{"tree=clean/dir=subdirectory", sub, true, "false"},
		{"tree=modified", dirty, true, "true"},
		{"tree=untracked-file", untracked, true, "false"},
		{"tree=other-module", repo(t, "example.org/other"), false, ""},
		{"tree=none", t.TempDir(), false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, ok := fromGit(tc.dir)
			if ok != tc.ok {
				t.Fatalf("fromGit(%s) ok = %v, want %v (%+v)", tc.name, ok, tc.ok, i)
			}
			if !ok {
				return
			}
			if !fullHash.MatchString(i.Revision) {
				t.Errorf("revision %q is not a full commit hash", i.Revision)
			}
			if i.Modified != tc.modified || i.Source != "git" {
				t.Errorf("got modified=%s source=%s, want modified=%s source=git", i.Modified, i.Source, tc.modified)
			}
		})
	}
}

func TestReadNeverEmpty(t *testing.T) {
	i := Read()
	if i.Revision == "" || i.Modified == "" || i.Source == "" {
		t.Fatalf("Read() = %+v, want every field set", i)
	}
	if i.Revision != Unknown && !fullHash.MatchString(i.Revision) {
		t.Errorf("revision %q is neither a commit hash nor %q", i.Revision, Unknown)
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   Info
		want string
	}{
		{Info{Revision: "abc", Modified: "false"}, "abc"},
		{Info{Revision: "abc", Modified: "true"}, "abc (modified)"},
		{Info{Revision: "abc", Modified: Unknown}, "abc (modified: unknown)"},
		{Info{Revision: Unknown, Modified: Unknown}, "unknown"},
	} {
		t.Run("modified="+tc.in.Modified+"/revision="+tc.in.Revision, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}
