package report

import (
	"strings"
	"testing"

	"scanlab/schema"
)

// loadFixture is one design's three runs: one send at a time, pipelined,
// and open loop at rate, with the given pipelined throughput and
// open-loop p99.
func loadFixture(mode string, devices int, rate, pipedRate, p99 float64) ([]schema.LoadRow, []schema.LoadTimingRow) {
	var counts []schema.LoadRow
	var times []schema.LoadTimingRow
	for _, w := range []struct {
		rate       float64
		window     int
		msgs, cpu  float64
		p50, p99ms float64
	}{{0, 1, 4000, 170, 80, 200}, {0, 16, pipedRate, 68, 380, 480}, {rate, 16, rate, 250, 20, p99}} {
		counts = append(counts, schema.LoadRow{Mode: mode, Devices: devices, Messages: 20, Rate: w.rate, Window: w.window, Sent: 6000, Acknowledged: 6000, Delivered: 6000})
		times = append(times, schema.LoadTimingRow{Mode: mode, Devices: devices, Rate: w.rate, Window: w.window, MsgsPerS: w.msgs, P50MS: w.p50, P99MS: w.p99ms,
			PeakRSSMiB: 180, CPUPerMsg: w.cpu, LoadAvg: 2.5})
	}
	return counts, times
}

func faultFixture() []schema.FaultRow {
	var rows []schema.FaultRow
	for _, m := range []string{"serverscan", "e2ee"} {
		rows = append(rows,
			schema.FaultRow{Scenario: "kill-mid-traffic", Mode: m, Sent: 480, Acknowledged: 480, Delivered: 480, Recovered: true, Outcome: "SIGKILLed 3 times mid-traffic"},
			schema.FaultRow{Scenario: "corrupt-record", Mode: m, Sent: 480, Acknowledged: 480, Delivered: 479, Quarantined: 1, Recovered: true, Outcome: "one record flipped: quarantined"})
	}
	return rows
}

func TestRelaySentences(t *testing.T) {
	counts, times := loadFixture("serverscan", 300, 2500, 10_215, 115)
	runs := loadRunsOf(counts, times)
	faults := faultFixture()
	lt, ft := loadTally(runs), faultTally(faults)
	for _, c := range []struct{ name, got, want string }{
		{"finding", deliveryFinding(true, lt, true, ft, faults), "Across 18,000 messages in 3 load runs and 1,920 messages in 4 runs of 2 fault scenarios (`kill-mid-traffic`, `corrupt-record`), " +
			"the relay lost none of the 19,920 messages it acknowledged and delivered none twice or altered; the 2 it did not deliver were damaged on purpose and set aside and reported, as designed."},
		{"finding-load-only", deliveryFinding(true, lt, false, tally{}, nil), "Across 18,000 messages in 3 load runs, the relay lost none of the 18,000 messages it acknowledged and delivered none twice or altered."},
		{"load-verdict", loadVerdict(runs, lt), "In all 3 runs every one of the 18,000 messages sent was acknowledged and delivered once, unaltered."},
		{"fault-verdict", faultVerdict(faults, ft), "In all 4 scenario runs nothing acknowledged was lost, duplicated or altered, and the relay recovered every time; " +
			"every acknowledged message was delivered but the 2 damaged on purpose, which were set aside."},
		{"pipelining", pipeliningSentence(gains(runs)), "Pipelining 16 sends per device (answered in order, a run of them stored in one transaction) cut CPU time per message in server-side scanning " +
			"from 170 to 68 µs (×0.40, 4,000 → 10,215 messages/s), measured against one send at a time in the same run. " +
			"At 68 µs per message, two idle cores (2,000,000 µs of CPU per second) would carry about 29,412 messages per second in server-side scanning, devices included."},
		{"open-loop", openLoopSentence(openLoop(runs)), "Offered 2,500 messages per second, spread evenly over the devices, delivery took server-side scanning 20 ms at p50 and 115 ms at p99 (2,500 delivered per second)."},
		{"machine", machineSentence(runs), "Throughput and latency are those of one shared machine, relay and devices in one process: the machine's one-minute load average was 2.50 during these runs " +
			"(its CPUs are in the manifest), so compare designs and ways of sending within this run, not across machines. CPU time per message (relay and devices together) depends far less on what else runs."},
		{"goal-below-half-rate", goalSentence(runs), "The relay's performance goal is at least 10,000 messages per second in serverscan with 100 or more devices, fsync on every commit, and a p99 under 50 ms at half that rate. " +
			"This run's fastest serverscan run (300 devices, 16 sends pipelined, as fast as acknowledged) delivered 10,215 per second, which meets the first part on this machine at a load average of 2.50. " +
			"Its open-loop run offered 2,500 messages per second, below half the goal rate, so it does not judge the second part; the benchmark `go test ./stress -run '^$' -bench Load -benchtime=1x` offers 5,000."},
	} {
		t.Run("sentence="+c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got\n  %s\nwant\n  %s", c.got, c.want)
			}
		})
	}
}

// TestRelaySentencesFollowData checks that the sentences follow the data:
// a loss, a duplicate, an unrecovered scenario and a missed goal are said
// plainly.
func TestRelaySentencesFollowData(t *testing.T) {
	counts, times := loadFixture("serverscan", 100, 5000, 8000, 75)
	counts[1].Delivered, counts[1].Lost, counts[2].Duplicates = 5990, 10, 3
	runs := loadRunsOf(counts, times)
	faults := faultFixture()
	faults[0].Lost, faults[0].Delivered, faults[3].Recovered = 2, 478, false
	lt, ft := loadTally(runs), faultTally(faults)
	for _, c := range []struct{ name, got, want string }{
		{"finding", deliveryFinding(true, lt, true, ft, faults), "the relay lost 12 of the 19,920 messages it acknowledged, delivered 3 messages twice and did not recover in 1 fault scenario run: it does not yet meet its own bar."},
		{"load-verdict", loadVerdict(runs, lt), "Not every run was clean: 10 lost, 3 duplicated and 0 altered in all; server-side scanning (16 sends pipelined, as fast as acknowledged) delivered 5,990 of 6,000 acknowledged messages."},
		{"fault-verdict", faultVerdict(faults, ft), "`kill-mid-traffic` with server-side scanning delivered 478 of 480 acknowledged messages; the relay did not recover from `corrupt-record` with end-to-end encryption."},
		{"goal", goalSentence(runs), "delivered 8,000 per second, which falls short of the first part on this machine at a load average of 2.50. At 5,000 messages per second the p99 was 75 ms, over the goal."},
	} {
		t.Run("sentence="+c.name, func(t *testing.T) {
			if !strings.Contains(c.got, c.want) {
				t.Errorf("got\n  %s\nwant it to contain\n  %s", c.got, c.want)
			}
		})
	}
	times[2].P99MS = 31
	if s := goalSentence(loadRunsOf(counts, times)); !strings.HasSuffix(s, "At 5,000 messages per second the p99 was 31 ms, under the goal.") {
		t.Errorf("goal under: %s", s)
	}
}

func TestOutcomeItems(t *testing.T) {
	faults := faultFixture()
	times := []schema.FaultTimingRow{{Scenario: "kill-mid-traffic", Mode: "serverscan", Refused: 3}, {Scenario: "kill-mid-traffic", Mode: "e2ee", Refused: 4}}
	faults[3].Outcome = "one record flipped: refused to start"
	got := outcomeItems(faults, times)
	want := []string{
		"`kill-mid-traffic`: SIGKILLed 3 times mid-traffic (7 sends refused in all, each retried until stored).",
		"`corrupt-record`: server-side scanning, one record flipped: quarantined; end-to-end encryption, one record flipped: refused to start.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestRelaySectionWithoutTimings: counts without their timings file give
// the delivery table and verdict, say the timings are missing, and draw
// no plot; with neither experiment the section says both are missing.
func TestRelaySectionWithoutTimings(t *testing.T) {
	counts, _ := loadFixture("e2ee", 50, 1000, 9000, 80)
	d := &doc{}
	if err := (&results{load: counts}).writeRelay(d); err != nil {
		t.Fatal(err)
	}
	md := markdown(d.blocks)
	for _, want := range []string{"In all 3 runs every one of the 18,000 messages", "*Not run: `load/load-timings.csv` was not found", "*Not run: `faults/faults.csv` was not found"} {
		if !strings.Contains(md, want) {
			t.Errorf("section lacks %q:\n%s", want, md)
		}
	}
	if len(d.figs) != 0 || len(d.findings) != 1 {
		t.Errorf("%d figures and %d findings, want none and the delivery finding", len(d.figs), len(d.findings))
	}
	d = &doc{}
	(&results{}).writeRelay(d)
	if md := markdown(d.blocks); strings.Count(md, "*Not run:") != 2 || len(d.findings) != 0 {
		t.Errorf("empty results gave:\n%s", md)
	}
}
