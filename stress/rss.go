package stress

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// resetPeakRSS resets the kernel's peak resident set (VmHWM) of this
// process, where Linux allows it (/proc/self/clear_refs, value 5).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMiB returns the peak resident set of this process in MiB since the
// last reset (0 where /proc is not there).
func peakRSSMiB() float64 { return statusMiB("VmHWM:") }

// statusMiB reads one kB field of /proc/self/status as MiB.
func statusMiB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuTime returns the CPU time (user and system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
