package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
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

func init() {
	register(command{
		name:    "version",
		summary: "print scanlab's version",
		usage:   "Usage:\n    scanlab version\n\nPrints scanlab's version, the Go version and the platform.\n",
		run: func(stdout, stderr io.Writer, args []string) error {
			if len(args) > 0 {
				return &usageError{msg: "version takes no arguments"}
			}
			fmt.Fprintf(stdout, "scanlab %s %s %s/%s\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	})
}
