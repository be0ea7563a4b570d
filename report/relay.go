package report

import (
	"fmt"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab/schema"
)

// relayHeading is the section's heading.
const relayHeading = "Does the relay lose or duplicate anything under load and faults?"

// relayAssumption is what the delivery findings rest on.
const relayAssumption = "every message is checked at its recipient (opened and compared with what was sent); the relay runs on one machine over loopback TLS, its database fsynced at every commit; " +
	"a SIGKILL leaves the kernel's page cache intact, so these runs test the relay's commit and restart logic, not the disk's behaviour on power loss."

// machineAssumption is what the throughput findings rest on.
const machineAssumption = "one shared machine, the relay and every device in one process over loopback TLS; throughput and latency move with what else runs (the load average is in `load/load-timings.csv` and each manifest), CPU time per message much less."

func (r *results) writeRelay(d *doc) error {
	d.h(2, relayHeading)
	if r.load == nil && r.faults == nil {
		d.skipped(schema.Load.Path)
		d.skipped(schema.Faults.Path)
		return nil
	}
	runs := loadRunsOf(r.load, r.loadTimes)
	lt, ft := loadTally(runs), faultTally(r.faults)
	if s := deliveryFinding(r.load != nil, lt, r.faults != nil, ft, r.faults); s != "" {
		d.find(s, relayAssumption)
	}
	if r.load == nil {
		d.skipped(schema.Load.Path)
	} else {
		r.writeLoadRuns(d, runs, lt)
	}
	if r.faults == nil {
		d.skipped(schema.Faults.Path)
	} else {
		r.writeFaultRuns(d, ft)
	}
	return nil
}

// deliveryFinding sums up both experiments in one sentence, plainly
// naming what went wrong if anything did.
func deliveryFinding(haveLoad bool, lt tally, haveFaults bool, ft tally, faults []schema.FaultRow) string {
	var parts []string
	if haveLoad {
		parts = append(parts, fmt.Sprintf("%s messages in %s load runs", count(float64(lt.sent)), count(float64(lt.runs))))
	}
	if haveFaults {
		scen, _ := scenarioRows(faults)
		parts = append(parts, fmt.Sprintf("%s messages in %s runs of %s fault scenarios (%s)", count(float64(ft.sent)), count(float64(ft.runs)), count(float64(len(scen))), strings.Join(code(scen), ", ")))
	}
	lost, dups, wrong, acked := lt.lost+ft.lost, lt.duplicates+ft.duplicates, lt.wrong+ft.wrong, lt.acknowledged+ft.acknowledged
	head := fmt.Sprintf("Across %s, the relay", andList(parts))
	if lost == 0 && dups == 0 && wrong == 0 && len(lt.short)+len(ft.short)+len(ft.unrecovered) == 0 {
		s := fmt.Sprintf("%s lost none of the %s messages it acknowledged and delivered none twice or altered", head, count(float64(acked)))
		if ft.quarantined > 0 {
			s += fmt.Sprintf("; the %s it did not deliver were damaged on purpose and set aside and reported, as designed", count(float64(ft.quarantined)))
		}
		return s + "."
	}
	var bad []string
	if lost > 0 {
		bad = append(bad, fmt.Sprintf("lost %s of the %s messages it acknowledged", count(float64(lost)), count(float64(acked))))
	}
	if dups > 0 {
		bad = append(bad, fmt.Sprintf("delivered %s messages twice", count(float64(dups))))
	}
	if wrong > 0 {
		bad = append(bad, fmt.Sprintf("delivered %s messages that did not open or did not match what was sent", count(float64(wrong))))
	}
	if n := len(ft.unrecovered); n > 0 {
		bad = append(bad, fmt.Sprintf("did not recover in %s", plural(n, "fault scenario run")))
	}
	if len(bad) == 0 {
		bad = append(bad, "delivered fewer messages than it acknowledged in some runs")
	}
	return fmt.Sprintf("%s %s: it does not yet meet its own bar.", head, andList(bad))
}

// name says in words how devices sent.
func (w way) name() string {
	if w.rate > 0 {
		return fmt.Sprintf("%s messages/s offered in all, up to %d outstanding per device", count(w.rate), w.window)
	}
	if w.window <= 1 {
		return "one send at a time, as fast as acknowledged"
	}
	return fmt.Sprintf("%d sends pipelined, as fast as acknowledged", w.window)
}

// short names a way of sending for a plot's legend.
func (w way) short() string {
	if w.rate > 0 {
		return fmt.Sprintf("%s/s offered, %d pipelined", count(w.rate), w.window)
	}
	if w.window <= 1 {
		return "closed loop, 1 at a time"
	}
	return fmt.Sprintf("closed loop, %d pipelined", w.window)
}

// writeLoadRuns reports the load experiment: what became of the messages,
// then throughput, latency and cost.
func (r *results) writeLoadRuns(d *doc, runs []loadRun, t tally) {
	d.h(3, "Under load")
	d.p("%s", loadIntro(runs))
	var rows [][]string
	for _, x := range runs {
		rows = append(rows, []string{modeName(x.Mode), x.way().name(), count(float64(x.Sent)), count(float64(x.Acknowledged)),
			count(float64(x.Delivered)), count(float64(x.Lost)), count(float64(x.Duplicates)), count(float64(x.Wrong))})
	}
	d.table([]string{"design", "how devices sent", "sent", "acknowledged", "delivered", "lost", "duplicated", "altered"}, rows)
	d.p("%s", loadVerdict(runs, t))
	var trows [][]string
	for _, x := range runs {
		if !x.timed {
			continue
		}
		trows = append(trows, []string{modeName(x.Mode), x.way().name(), count(x.t.MsgsPerS), millis(x.t.P50MS), millis(x.t.P99MS),
			trimFloat(x.t.CPUPerMsg, 3) + " µs", trimFloat(x.t.PeakRSSMiB, 3) + " MiB", strconv.FormatFloat(x.t.LoadAvg, 'f', 2, 64)})
	}
	if len(trows) == 0 {
		d.skipped(schema.LoadTimings.Path)
		return
	}
	d.table([]string{"design", "how devices sent", "delivered per second", "p50 delivery", "p99 delivery", "CPU per message", "peak memory", "load average"}, trows)
	caption := []string{machineSentence(runs), "In a closed loop, latency is set by the number of messages in flight (devices × window ÷ throughput) rather than by the relay's speed; the open-loop runs measure it at a load the relay carries."}
	if g := gains(runs); len(g) > 0 {
		s := pipeliningSentence(g)
		caption = append(caption, s)
		d.find(s, machineAssumption)
	}
	if s := openLoopSentence(openLoop(runs)); s != "" {
		caption = append(caption, s)
	}
	d.figure(loadPlot(runs), "Messages delivered per second and p99 delivery latency, per design and way of sending", caption...)
	if s := goalSentence(runs); s != "" {
		d.p("%s", s)
	}
}

// millis formats milliseconds.
func millis(ms float64) string { return duration(ms * 1000) }

// loadIntro explains the load experiment from its rows.
func loadIntro(runs []loadRun) string {
	first := runs[0]
	ws := mapStrings(ways(runs), way.name)
	return fmt.Sprintf("The load experiment connects %s devices per design to the relay over TLS on loopback, its database fsynced at every commit, and has each send %s messages to its contacts in each of %s ways: %s. "+
		"A warm-up first sets up the end-to-end sessions, so the runs measure conversations already under way. "+
		"Every message is checked at its recipient: *delivered* means opened and identical to what was sent; *lost*, acknowledged by the relay and never delivered; *duplicated*, handed to the recipient's application a second time; *altered*, delivered but not opening or not matching.",
		count(float64(first.Devices)), count(float64(first.Messages)), count(float64(len(ws))), strings.Join(ws, "; "))
}

// loadVerdict says whether every run delivered everything exactly once.
func loadVerdict(runs []loadRun, t tally) string {
	if t.clean() && t.delivered == t.sent {
		return fmt.Sprintf("In all %s runs every one of the %s messages sent was acknowledged and delivered once, unaltered.", count(float64(t.runs)), count(float64(t.sent)))
	}
	if t.clean() {
		return fmt.Sprintf("In all %s runs nothing acknowledged was lost, duplicated or altered, and every acknowledged message was delivered; %s of the %s messages sent were never acknowledged (their senders saw an error).",
			count(float64(t.runs)), count(float64(t.sent-t.acknowledged)), count(float64(t.sent)))
	}
	var bad []string
	for _, i := range t.short {
		x := runs[i]
		bad = append(bad, fmt.Sprintf("%s (%s) delivered %s of %s acknowledged messages", modeName(x.Mode), x.way().name(), count(float64(x.Delivered)), count(float64(x.Acknowledged))))
	}
	s := fmt.Sprintf("Not every run was clean: %s lost, %s duplicated and %s altered in all", count(float64(t.lost)), count(float64(t.duplicates)), count(float64(t.wrong)))
	if len(bad) > 0 {
		s += "; " + strings.Join(bad, "; ")
	}
	return s + "."
}

// machineSentence gives the conditions the timings were taken under.
func machineSentence(runs []loadRun) string {
	lo, hi, ok := loadAvgRange(runs)
	if !ok {
		return ""
	}
	avg := strconv.FormatFloat(lo, 'f', 2, 64)
	if hi != lo {
		avg = "between " + avg + " and " + strconv.FormatFloat(hi, 'f', 2, 64)
	}
	return fmt.Sprintf("Throughput and latency are those of one shared machine, relay and devices in one process: the machine's one-minute load average was %s during these runs (its CPUs are in the manifest), so compare designs and ways of sending within this run, not across machines. "+
		"CPU time per message (relay and devices together) depends far less on what else runs.", avg)
}

// pipeliningSentence compares each design's pipelined run with its
// baseline, and says what the pipelined CPU cost allows on two idle
// cores.
func pipeliningSentence(gs []gain) string {
	var parts []string
	for _, g := range gs {
		parts = append(parts, fmt.Sprintf("%s from %s to %s µs (×%s, %s → %s messages/s)", modeName(g.mode), trimFloat(g.base.t.CPUPerMsg, 3), trimFloat(g.piped.t.CPUPerMsg, 3),
			strconv.FormatFloat(g.cpuRatio(), 'f', 2, 64), count(g.base.t.MsgsPerS), count(g.piped.t.MsgsPerS)))
	}
	first := gs[0]
	return fmt.Sprintf("Pipelining %d sends per device (answered in order, a run of them stored in one transaction) cut CPU time per message in %s, measured against one send at a time in the same run. "+
		"At %s µs per message, two idle cores (2,000,000 µs of CPU per second) would carry about %s messages per second in %s, devices included.",
		first.piped.Window, andList(parts), trimFloat(first.piped.t.CPUPerMsg, 3), count(2e6/first.piped.t.CPUPerMsg), modeName(first.mode))
}

// openLoopSentence gives the delivery latency at a fixed offered rate.
func openLoopSentence(runs []loadRun) string {
	if len(runs) == 0 {
		return ""
	}
	var parts []string
	for _, x := range runs {
		parts = append(parts, fmt.Sprintf("%s %s at p50 and %s at p99 (%s delivered per second)", modeName(x.Mode), millis(x.t.P50MS), millis(x.t.P99MS), count(x.t.MsgsPerS)))
	}
	rate := count(runs[0].Rate)
	for _, x := range runs[1:] {
		if x.Rate != runs[0].Rate {
			rate = "a fixed rate"
		}
	}
	return fmt.Sprintf("Offered %s messages per second, spread evenly over the devices, delivery took %s.", rate, andList(parts))
}

// goalSentence judges the relay against its performance goal, or says
// what this run cannot judge.
func goalSentence(runs []loadRun) string {
	fastest, half := goalRuns(runs)
	if fastest == nil {
		return ""
	}
	goal := fmt.Sprintf("The relay's performance goal is at least %s messages per second in serverscan with %d or more devices, fsync on every commit, and a p99 under %d ms at half that rate.",
		count(goalRate), goalDevices, goalP99MS)
	met := "meets"
	if fastest.t.MsgsPerS < goalRate {
		met = "falls short of"
	}
	s := fmt.Sprintf("%s This run's fastest serverscan run (%s devices, %s) delivered %s per second, which %s the first part on this machine at a load average of %s.",
		goal, count(float64(fastest.Devices)), fastest.way().name(), count(fastest.t.MsgsPerS), met, strconv.FormatFloat(fastest.t.LoadAvg, 'f', 2, 64))
	switch {
	case half == nil:
		return s + " No open-loop serverscan run judges the second part."
	case half.Rate < goalRate/2:
		return s + fmt.Sprintf(" Its open-loop run offered %s messages per second, below half the goal rate, so it does not judge the second part; the benchmark `go test ./stress -run '^$' -bench Load -benchtime=1x` offers %s.",
			count(half.Rate), count(goalRate/2))
	case half.t.P99MS < goalP99MS:
		return s + fmt.Sprintf(" At %s messages per second the p99 was %s, under the goal.", count(half.Rate), millis(half.t.P99MS))
	}
	return s + fmt.Sprintf(" At %s messages per second the p99 was %s, over the goal.", count(half.Rate), millis(half.t.P99MS))
}

// writeFaultRuns reports the fault experiment.
func (r *results) writeFaultRuns(d *doc, t tally) {
	d.h(3, "Under faults")
	d.p("The fault experiment runs the relay as a process of its own (`scanlab relay`, its database fsynced at every commit, its keys in a passphrase-sealed file) and, for each scenario, injects one kind of fault while devices send, restarting the relay on the same files wherever the fault stopped it. " +
		"*Set aside* counts acknowledged messages the scenario damaged on purpose, which the relay must quarantine and report rather than deliver or choke on; *recovered* means the relay ended serving every message it still held intact.")
	var rows [][]string
	for _, x := range r.faults {
		rows = append(rows, []string{"`" + x.Scenario + "`", modeName(x.Mode), count(float64(x.Sent)), count(float64(x.Acknowledged)), count(float64(x.Delivered)),
			count(float64(x.Lost)), count(float64(x.Duplicates)), count(float64(x.Quarantined)), yesNo(x.Recovered)})
	}
	d.table([]string{"scenario", "design", "sent", "acknowledged", "delivered", "lost", "duplicated", "set aside", "recovered"}, rows)
	d.p("%s", faultVerdict(r.faults, t))
	d.p("What each scenario did:")
	d.list(outcomeItems(r.faults, r.faultTimes))
}

// plural counts things: "1 run", "2 runs".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return count(float64(n)) + " " + thing + "s"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

// faultVerdict says plainly whether every scenario kept every
// acknowledged message, exactly once.
func faultVerdict(rows []schema.FaultRow, t tally) string {
	if t.clean() {
		s := fmt.Sprintf("In all %s scenario runs nothing acknowledged was lost, duplicated or altered, and the relay recovered every time", count(float64(t.runs)))
		if t.quarantined > 0 {
			s += fmt.Sprintf("; every acknowledged message was delivered but the %s damaged on purpose, which were set aside", count(float64(t.quarantined)))
		} else {
			s += "; every acknowledged message was delivered"
		}
		return s + "."
	}
	var bad []string
	for _, i := range t.short {
		x := rows[i]
		bad = append(bad, fmt.Sprintf("`%s` with %s delivered %s of %s acknowledged messages", x.Scenario, modeName(x.Mode), count(float64(x.Delivered)), count(float64(x.Acknowledged))))
	}
	for _, i := range t.unrecovered {
		bad = append(bad, fmt.Sprintf("the relay did not recover from `%s` with %s", rows[i].Scenario, modeName(rows[i].Mode)))
	}
	return fmt.Sprintf("Not every scenario was clean: %s lost, %s duplicated and %s altered in all; %s.",
		count(float64(t.lost)), count(float64(t.duplicates)), count(float64(t.wrong)), strings.Join(bad, "; "))
}

// outcomeItems gives each scenario's outcome (per design where they
// differ) and the sends refused for want of storage.
func outcomeItems(rows []schema.FaultRow, times []schema.FaultTimingRow) []string {
	scen, by := scenarioRows(rows)
	refused, _ := refusedTotal(times)
	var items []string
	for _, sc := range scen {
		rs := by[sc]
		texts := distinct(mapSlice(rs, func(r schema.FaultRow) string { return r.Outcome }))
		s := "`" + sc + "`: " + texts[0]
		if len(texts) > 1 {
			s = "`" + sc + "`: " + strings.Join(mapStrings(rs, func(r schema.FaultRow) string { return modeName(r.Mode) + ", " + r.Outcome }), "; ")
		}
		if n := refused[sc]; n > 0 {
			s += fmt.Sprintf(" (%s sends refused in all, each retried until stored)", count(float64(n)))
		}
		items = append(items, s+".")
	}
	return items
}

// loadPlot shows, per design, messages delivered per second and the p99
// delivery latency of each way of sending, side by side.
func loadPlot(runs []loadRun) figure {
	title := "How many messages per second does the relay deliver, and how long do the slowest 1% take?"
	ws := ways(runs)
	designs := distinct(mapSlice(runs, func(r loadRun) string { return r.Mode }))
	panels := []struct {
		name, unit string
		get        func(schema.LoadTimingRow) float64
		goal       float64 // the relay's performance goal on this measure, dotted
	}{
		{fmt.Sprintf("Messages delivered per second (dotted: the goal, %s)", count(goalRate)), "messages per second",
			func(t schema.LoadTimingRow) float64 { return t.MsgsPerS }, goalRate},
		{fmt.Sprintf("p99 delivery latency (dotted: the goal at %s/s offered, %d ms)", count(goalRate/2), goalP99MS), "p99 delivery latency (ms)",
			func(t schema.LoadTimingRow) float64 { return t.P99MS }, goalP99MS},
	}
	return figure{name: "load-throughput", title: title, w: 11 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		c = drawTitle(c, title)
		var plots []*plot.Plot
		for _, pn := range panels {
			p := newPlot(pn.name, "", pn.unit)
			p.Title.TextStyle.Font.Size = vg.Points(11)
			addGrid(p, false)
			w := 0.8 / float64(len(ws))
			for si, wy := range ws {
				b := &bars{width: w, colour: seriesColour(si)}
				for i, m := range designs {
					for _, x := range runs {
						if x.Mode == m && x.way() == wy && x.timed {
							b.xs = append(b.xs, float64(i)+(float64(si)-float64(len(ws)-1)/2)*w)
							b.ys = append(b.ys, pn.get(x.t))
						}
					}
				}
				p.Add(b)
				p.Legend.Add(wy.short(), b)
			}
			addHLine(p, pn.goal, "", targetLine)
			p.NominalX(mapStrings(designs, func(m string) string { return strings.Replace(modeName(m), " ", "\n", 1) })...)
			p.X.Min, p.X.Max = -0.5, float64(len(designs))-0.5
			p.Y.Min = 0
			p.Y.Max = max(p.Y.Max, pn.goal) * 1.08
			p.Y.Tick.Marker = niceTicks{}
			plots = append(plots, p)
		}
		drawPanels(plots, c)
	}}
}
