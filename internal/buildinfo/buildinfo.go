// Package buildinfo says which code a scanlab binary was built from: the
// version control revision of the scanlab source and whether the working
// tree held changes not yet committed. Manifests record it so that a result
// can be traced to the code that produced it.
//
// Go stamps vcs.revision and vcs.modified into a binary's build information
// only when it builds with -buildvcs (the default for `go build` in a git
// checkout, never for `go run`, and off wherever GOFLAGS holds
// -buildvcs=false). When the stamp is absent, [Read] asks git at run time,
// in the checkout the scanlab source was compiled from (or, failing that,
// the current directory, provided it is a scanlab checkout). Outside any
// checkout the revision is "unknown", never empty.
//
// # Who sees what
//
// A revision and a modified flag reveal nothing about messages; they do
// reveal which code a run used, which is the point.
package buildinfo

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Unknown is the value of a field that could not be determined.
const Unknown = "unknown"

// Info identifies the code a binary was built from.
type Info struct {
	// Revision is the full commit hash of the scanlab source, or
	// [Unknown].
	Revision string `json:"revision"`
	// Modified is "true" when tracked files differed from Revision, "false"
	// when they did not, and [Unknown] when that could not be told.
	Modified string `json:"modified"`
	// Source says where the two fields came from: "build" (stamped by the
	// Go toolchain), "git" (asked at run time) or "none".
	Source string `json:"source"`
}

// String formats i for one line of output: "897313b… (modified)",
// "897313b…", or "unknown".
func (i Info) String() string {
	s := i.Revision
	switch i.Modified {
	case "true":
		s += " (modified)"
	case Unknown:
		if i.Revision != Unknown {
			s += " (modified: unknown)"
		}
	}
	return s
}

var (
	once   sync.Once
	cached Info
)

// Read returns the build's version control information. It is computed on
// the first call and cached, so call it once early (before a run writes
// files into the checkout) to record the state the code was in when the
// program started.
func Read() Info {
	once.Do(func() { cached = read() })
	return cached
}

func read() Info {
	if i, ok := stamped(); ok {
		return i
	}
	for _, dir := range candidateDirs() {
		if i, ok := fromGit(dir); ok {
			return i
		}
	}
	return Info{Revision: Unknown, Modified: Unknown, Source: "none"}
}

// stamped returns the toolchain's vcs.revision and vcs.modified, if any.
func stamped() (Info, bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{}, false
	}
	i := Info{Modified: Unknown, Source: "build"}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.modified":
			i.Modified = s.Value
		}
	}
	return i, i.Revision != ""
}

// candidateDirs lists the directories to ask git in: where this file was
// compiled from (absent from binaries built with -trimpath), then the
// current directory.
func candidateDirs() []string {
	var dirs []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dirs = append(dirs, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	return dirs
}

// gitTimeout bounds each git command, so that a hung git never hangs a run.
const gitTimeout = 10 * time.Second

// fromGit asks git for the revision of the checkout holding dir, provided
// that checkout is scanlab's (its go.mod declares module scanlab).
func fromGit(dir string) (Info, bool) {
	top, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil || !isScanlab(top) {
		return Info{}, false
	}
	rev, err := git(top, "rev-parse", "HEAD")
	if err != nil {
		return Info{}, false
	}
	i := Info{Revision: rev, Modified: Unknown, Source: "git"}
	if st, err := git(top, "status", "--porcelain", "--untracked-files=no"); err == nil {
		i.Modified = "false"
		if st != "" {
			i.Modified = "true"
		}
	}
	return i, true
}

// isScanlab reports whether dir is the root of the scanlab module.
func isScanlab(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	return strings.TrimSpace(string(first)) == "module scanlab"
}

// git runs git in dir and returns its trimmed standard output.
func git(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}
