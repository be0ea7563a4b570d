package report

import (
	"slices"

	"scanlab/schema"
)

// Findings over load/*.csv and faults/*.csv: pure functions of the typed
// rows.

// loadRun is one design's run of the load experiment: its counts and, if
// the timings file has the same key, its timings.
type loadRun struct {
	schema.LoadRow
	t     schema.LoadTimingRow
	timed bool
}

// loadRunsOf joins the two load files by key, in the counts file's order.
func loadRunsOf(counts []schema.LoadRow, times []schema.LoadTimingRow) []loadRun {
	out := make([]loadRun, len(counts))
	for i, c := range counts {
		out[i] = loadRun{LoadRow: c}
		for _, t := range times {
			if t.Mode == c.Mode && t.Devices == c.Devices && t.Rate == c.Rate && t.Window == c.Window {
				out[i].t, out[i].timed = t, true
			}
		}
	}
	return out
}

// way is how the devices of a run sent: closed loop with a window of
// outstanding sends, or open loop at a rate.
type way struct {
	rate   float64
	window int
}

func (r loadRun) way() way { return way{r.Rate, r.Window} }

// ways lists the ways of sending in the runs, in order of appearance.
func ways(runs []loadRun) []way { return distinct(mapSlice(runs, loadRun.way)) }

// tally is what became of the messages of several runs or scenarios.
type tally struct {
	runs                                                   int
	sent, acknowledged, delivered, lost, duplicates, wrong int
	quarantined                                            int
	// short holds the indexes of the rows that delivered fewer messages
	// than were acknowledged (beyond those set aside on purpose), and
	// unrecovered those of the fault scenarios the relay did not recover
	// from.
	short, unrecovered []int
}

// clean says nothing was lost, duplicated, altered or left undelivered.
func (t tally) clean() bool {
	return t.lost == 0 && t.duplicates == 0 && t.wrong == 0 && len(t.short) == 0 && len(t.unrecovered) == 0
}

// loadTally adds up the load runs.
func loadTally(runs []loadRun) tally {
	var t tally
	for i, r := range runs {
		t.add(r.Sent, r.Acknowledged, r.Delivered, r.Lost, r.Duplicates, r.Wrong, 0)
		if r.Delivered < r.Acknowledged {
			t.short = append(t.short, i)
		}
	}
	return t
}

// faultTally adds up the fault scenarios.
func faultTally(rows []schema.FaultRow) tally {
	var t tally
	for i, r := range rows {
		t.add(r.Sent, r.Acknowledged, r.Delivered, r.Lost, r.Duplicates, r.Wrong, r.Quarantined)
		if r.Delivered+r.Quarantined < r.Acknowledged {
			t.short = append(t.short, i)
		}
		if !r.Recovered {
			t.unrecovered = append(t.unrecovered, i)
		}
	}
	return t
}

func (t *tally) add(sent, acked, delivered, lost, dups, wrong, quarantined int) {
	t.runs++
	t.sent, t.acknowledged, t.delivered = t.sent+sent, t.acknowledged+acked, t.delivered+delivered
	t.lost, t.duplicates, t.wrong, t.quarantined = t.lost+lost, t.duplicates+dups, t.wrong+wrong, t.quarantined+quarantined
}

// gain compares one design's pipelined closed-loop run with its
// one-at-a-time baseline, measured against the same relay in the same
// experiment.
type gain struct {
	mode        string
	base, piped loadRun
}

// cpuRatio is the pipelined run's CPU time per message over the
// baseline's.
func (g gain) cpuRatio() float64 { return g.piped.t.CPUPerMsg / g.base.t.CPUPerMsg }

// gains pairs, per design, the closed-loop run with one send outstanding
// and the closed-loop run with the widest window; designs lacking either,
// or their timings, are left out.
func gains(runs []loadRun) []gain {
	var out []gain
	for _, m := range distinct(mapSlice(runs, func(r loadRun) string { return r.Mode })) {
		var base, piped *loadRun
		for i, r := range runs {
			if r.Mode != m || r.Rate != 0 || !r.timed {
				continue
			}
			if r.Window == 1 {
				base = &runs[i]
			} else if piped == nil || r.Window > piped.Window {
				piped = &runs[i]
			}
		}
		if base != nil && piped != nil && base.t.CPUPerMsg > 0 {
			out = append(out, gain{m, *base, *piped})
		}
	}
	return out
}

// openLoop returns the timed open-loop runs.
func openLoop(runs []loadRun) []loadRun {
	return slices.DeleteFunc(slices.Clone(runs), func(r loadRun) bool { return r.Rate == 0 || !r.timed })
}

// loadAvgRange returns the lowest and highest load average of the timed
// runs.
func loadAvgRange(runs []loadRun) (lo, hi float64, ok bool) {
	for _, r := range runs {
		if !r.timed {
			continue
		}
		if !ok || r.t.LoadAvg < lo {
			lo = r.t.LoadAvg
		}
		hi, ok = max(hi, r.t.LoadAvg), true
	}
	return lo, hi, ok
}

// The relay's performance goal: at least goalRate messages per second in
// serverscan with at least goalDevices devices, fsync on every commit, and
// a p99 delivery latency under goalP99MS at half that rate.
const (
	goalRate    = 10_000
	goalDevices = 100
	goalP99MS   = 50
)

// goalRuns returns serverscan's fastest closed-loop run with enough
// devices, and its open-loop run at the highest rate up to half the goal
// rate (the one the latency goal is judged at, if it reaches it).
func goalRuns(runs []loadRun) (fastest, half *loadRun) {
	for i, r := range runs {
		if r.Mode != "serverscan" || !r.timed || r.Devices < goalDevices {
			continue
		}
		switch {
		case r.Rate == 0 && (fastest == nil || r.t.MsgsPerS > fastest.t.MsgsPerS):
			fastest = &runs[i]
		case r.Rate > 0 && r.Rate <= goalRate/2 && (half == nil || r.Rate > half.Rate):
			half = &runs[i]
		}
	}
	return fastest, half
}

// scenarioRows groups the fault rows by scenario, scenarios in file order.
func scenarioRows(rows []schema.FaultRow) (scenarios []string, outcomes map[string][]schema.FaultRow) {
	outcomes = map[string][]schema.FaultRow{}
	for _, r := range rows {
		if _, ok := outcomes[r.Scenario]; !ok {
			scenarios = append(scenarios, r.Scenario)
		}
		outcomes[r.Scenario] = append(outcomes[r.Scenario], r)
	}
	return scenarios, outcomes
}

// refusedTotal sums the sends refused for want of storage, by scenario.
func refusedTotal(times []schema.FaultTimingRow) (map[string]int, int) {
	by, total := map[string]int{}, 0
	for _, t := range times {
		by[t.Scenario] += t.Refused
		total += t.Refused
	}
	return by, total
}
