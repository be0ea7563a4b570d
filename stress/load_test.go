package stress

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/e2ee"
	"scanlab/serverscan"
)

// testModes are the three architectures with default options.
func testModes() []scanlab.Mode {
	return []scanlab.Mode{serverscan.New(serverscan.Options{}), e2ee.New(e2ee.Options{}), clientscan.New(clientscan.Options{})}
}

func TestPlanIsSeeded(t *testing.T) {
	us := users("m", 10)
	cs := contacts(7, "m", 10)
	if !reflect.DeepEqual(cs, contacts(7, "m", 10)) || reflect.DeepEqual(cs, contacts(8, "m", 10)) {
		t.Fatal("contacts do not follow the seed")
	}
	a, b := makePlan(7, us, cs, "s", 5, 20), makePlan(7, us, cs, "s", 5, 20)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different plans")
	}
	if c := makePlan(8, us, cs, "s", 5, 20); reflect.DeepEqual(a.msgs, c.msgs) {
		t.Fatal("different seeds, same plan")
	}
	if c := makePlan(7, us, cs, "t", 5, 20); reflect.DeepEqual(a.msgs, c.msgs) || c.msgs[0][0].id == a.msgs[0][0].id {
		t.Fatal("different streams, same messages")
	}
	for i, ms := range a.msgs {
		if len(cs[i]) != Contacts {
			t.Fatalf("device %d has %d contacts, want %d", i, len(cs[i]), Contacts)
		}
		for _, m := range ms {
			if m.to == m.from || !slices.Contains(cs[i], m.to) || len(m.text) != 20 {
				t.Fatalf("bad planned message %+v (contacts %v)", m, cs[i])
			}
		}
	}
}

// TestLoadDeliversEveryMessageOnce runs a small load in every mode, one
// send outstanding per device, pipelined, and at a fixed rate: every
// message sent is acknowledged and delivered once, intact.
func TestLoadDeliversEveryMessageOnce(t *testing.T) {
	runs := []LoadRun{{}, {Window: 4}, {Rate: 400, Window: 4}}
	rows, err := Load(LoadConfig{Seed: 1, Devices: 12, Messages: 8, Runs: runs, Dir: t.TempDir()}, testModes())
	if err != nil {
		t.Fatal(err)
	}
	t.Log(strings.Join(LoadHeader, ","))
	for _, r := range rows {
		t.Log(strings.Join(r.Record(), ","))
	}
	if len(rows) != 3*len(runs) {
		t.Fatalf("%d rows, want one per mode and run", len(rows))
	}
	for _, r := range rows {
		t.Run("mode="+r.Mode+"/run="+r.Name(), func(t *testing.T) {
			want := Counts{Sent: 96, Acknowledged: 96, Delivered: 96}
			if r.Counts != want {
				t.Fatalf("counts %+v, want %+v", r.Counts, want)
			}
			if r.P50 <= 0 || r.P99 < r.P50 || r.MsgsPerS <= 0 || len(r.Record()) != len(LoadHeader) {
				t.Fatalf("row %+v", r)
			}
		})
	}
}

// BenchmarkLoad measures delivered messages per second, delivery latency
// and CPU time per message, every message checked at its recipient, for
// each mode with 100 devices sending 100 messages each, fsync on every
// commit, against one relay: closed loop with one send outstanding per
// device (the baseline), closed loop pipelined (16 outstanding), and open
// loop at 5,000 messages/s (pipelined); serverscan also with fsync off.
// Metrics are suffixed with the run's name, and cpu-ratio is the
// pipelined run's CPU per message over the baseline's, measured in the
// same run. Run with -benchtime=1x:
//
//	go test ./stress -run '^$' -bench Load -benchtime=1x
func BenchmarkLoad(b *testing.B) {
	runs := []LoadRun{{Window: 1}, {Window: 16}, {Rate: 5000, Window: 16}}
	type bench struct {
		mode   scanlab.Mode
		noSync bool
	}
	var cases []bench
	for _, m := range testModes() {
		cases = append(cases, bench{m, false})
	}
	cases = append(cases, bench{serverscan.New(serverscan.Options{}), true})
	for _, c := range cases {
		b.Run(fmt.Sprintf("mode=%s/devices=100/fsync=%v", c.mode.Name(), !c.noSync), func(b *testing.B) {
			var rows []LoadRow
			for b.Loop() {
				var err error
				rows, err = Load(LoadConfig{Seed: 1, Devices: 100, Messages: 100, Runs: runs, NoSync: c.noSync, Dir: b.TempDir()}, []scanlab.Mode{c.mode})
				if err != nil {
					b.Fatal(err)
				}
			}
			for _, row := range rows {
				if row.Lost != 0 || row.Duplicates != 0 || row.Wrong != 0 || row.Delivered != 10000 {
					b.Fatalf("incorrect run %s: %+v", row.Name(), row.Counts)
				}
				reportLoad(b, row)
			}
			if base := rows[0].CPUPerMsg; base > 0 {
				b.ReportMetric(float64(rows[1].CPUPerMsg)/float64(base), "cpu-ratio-w16/w1")
			}
		})
	}
}

// reportLoad reports a row's figures as benchmark metrics named after its
// run.
func reportLoad(b *testing.B, row LoadRow) {
	n := row.Name() + "-"
	b.ReportMetric(row.MsgsPerS, n+"msgs/s")
	b.ReportMetric(row.P50.Seconds()*1000, n+"p50-ms")
	b.ReportMetric(row.P99.Seconds()*1000, n+"p99-ms")
	b.ReportMetric(float64(row.CPUPerMsg.Microseconds()), n+"cpu-us/msg")
	b.ReportMetric(row.PeakRSSMiB, n+"peak-rss-MiB")
	b.ReportMetric(row.LoadAvg, n+"load-avg")
	b.Logf("%s: reconnects %d, relay %+v", row.Name(), row.Reconnects, row.Relay)
}
