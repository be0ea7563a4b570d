package report

import (
	"fmt"
	"strconv"

	"scanlab/schema"
)

func (r *results) writeRuns(d *doc) error {
	d.h(2, "What was run")
	if len(r.manifests) == 0 {
		d.p("*No `manifest.json` was found next to the results, so the settings of the run are unknown.*")
		return nil
	}
	seeds := distinct(mapSlice(r.manifests, func(m schema.Manifest) uint64 { return m.Seed }))
	quick := 0
	var rows [][]string
	for _, m := range r.manifests {
		scale := m.Scale
		if scale == schema.ScaleQuick {
			quick++
		}
		rows = append(rows, []string{m.Experiment, strconv.FormatUint(m.Seed, 10), scale, revision(m), m.GoVersion,
			m.OS + "/" + m.Arch, strconv.Itoa(m.CPUs), m.CPUModel, m.Start.UTC().Format("2006-01-02 15:04:05 UTC"), m.Duration})
	}
	var s string
	switch n := len(r.manifests); {
	case len(seeds) == 1 && n == 1:
		s = fmt.Sprintf("The %s experiment ran with seed %d", r.manifests[0].Experiment, seeds[0])
	case len(seeds) == 1:
		s = fmt.Sprintf("All %d experiments ran with seed %d", n, seeds[0])
	default:
		s = fmt.Sprintf("The %d experiments ran with %d different seeds", n, len(seeds))
	}
	switch quick {
	case len(r.manifests):
		s += ", in quick mode (small workloads; numbers are indicative, not final)."
	case 0:
		s += ", at the default size."
	default:
		s += fmt.Sprintf("; %d of them in quick mode (small workloads).", quick)
	}
	d.p("%s The same seed gives the same workload and byte-identical CSV files except for timing columns. "+
		"The revision is the scanlab source commit that produced each result (\"modified\" when tracked files had uncommitted changes).", s)
	d.table([]string{"experiment", "seed", "size", "revision", "Go", "OS/arch", "CPUs", "CPU", "started", "duration"}, rows)
	return nil
}

// revision formats a manifest's source revision for a table.
func revision(m schema.Manifest) string {
	switch {
	case m.Revision == "":
		return "not recorded"
	case len(m.Revision) > 12:
		s := m.Revision[:12]
		if m.Modified == "true" {
			s += " (modified)"
		}
		return s
	}
	return m.Revision
}

// remoteRelay returns the relay the latency experiment measured against,
// "" when it ran its own on loopback.
func (r *results) remoteRelay() string {
	for _, m := range r.manifests {
		if m.Experiment == "latency" {
			return m.RemoteRelay()
		}
	}
	return ""
}
