package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"scanlab/internal/buildinfo"
)

// Version is set at link time (-ldflags "-X main.Version=v1.2.3"); otherwise
// it comes from the build information, or "(devel)".
var Version string

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

const versionUsage = `Usage:
    scanlab version

Prints scanlab's version, the Go version and the platform, then the version
control revision of the scanlab source and whether tracked files had
uncommitted changes ("(modified)"). The revision comes from the build when
Go stamped it, otherwise from git in the checkout scanlab was built from;
outside a checkout it is "unknown".

Example:
    $ scanlab version
    scanlab (devel) go1.26.8 linux/amd64
    revision 897313b5c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5 (modified)
`

func init() {
	register(command{
		name:    "version",
		summary: "print scanlab's version and source revision",
		usage:   versionUsage,
		run: func(stdout, stderr io.Writer, args []string) error {
			if len(args) > 0 {
				return &usageError{msg: "version takes no arguments"}
			}
			fmt.Fprintf(stdout, "scanlab %s %s %s/%s\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(stdout, "revision %s\n", buildinfo.Read())
			return nil
		},
	})
}
