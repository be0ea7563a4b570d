package stress

import (
	"fmt"
	"reflect"
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
	a, b := makePlan(7, "m", 10, 5, 20), makePlan(7, "m", 10, 5, 20)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different plans")
	}
	if c := makePlan(8, "m", 10, 5, 20); reflect.DeepEqual(a.msgs, c.msgs) {
		t.Fatal("different seeds, same plan")
	}
	for _, ms := range a.msgs {
		for _, m := range ms {
			if m.to == m.from || len(m.text) != 20 {
				t.Fatalf("bad planned message %+v", m)
			}
		}
	}
}

// TestLoadDeliversEveryMessageOnce runs a small load in every mode: every
// message sent is acknowledged and delivered once, intact.
func TestLoadDeliversEveryMessageOnce(t *testing.T) {
	rows, err := Load(LoadConfig{Seed: 1, Devices: 12, Messages: 8, Dir: t.TempDir()}, testModes())
	if err != nil {
		t.Fatal(err)
	}
	t.Log(strings.Join(LoadHeader, ","))
	for _, r := range rows {
		t.Log(strings.Join(r.Record(), ","))
	}
	for _, r := range rows {
		t.Run("mode="+r.Mode, func(t *testing.T) {
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

// BenchmarkLoad measures delivered messages per second and delivery
// latency, every message checked at its recipient, for each mode with 100
// devices: closed loop (as fast as the relay acknowledges) and open loop
// at a fixed rate, with fsync on every commit; serverscan also with fsync
// off, the fastest correct configuration, as the baseline. Run with
// -benchtime=1x: one iteration is a whole run of 100 devices × 100
// messages.
func BenchmarkLoad(b *testing.B) {
	type bench struct {
		mode   scanlab.Mode
		rate   float64
		noSync bool
	}
	var cases []bench
	for _, m := range testModes() {
		cases = append(cases, bench{m, 0, false}, bench{m, 5000, false})
	}
	cases = append(cases, bench{serverscan.New(serverscan.Options{}), 0, true})
	for _, c := range cases {
		name := fmt.Sprintf("mode=%s/devices=100/rate=%v/fsync=%v", c.mode.Name(), c.rate, !c.noSync)
		b.Run(name, func(b *testing.B) {
			var row LoadRow
			for b.Loop() {
				rows, err := Load(LoadConfig{Seed: 1, Devices: 100, Messages: 100, Rate: c.rate, NoSync: c.noSync, Dir: b.TempDir()}, []scanlab.Mode{c.mode})
				if err != nil {
					b.Fatal(err)
				}
				row = rows[0]
			}
			if row.Lost != 0 || row.Duplicates != 0 || row.Wrong != 0 || row.Delivered != 10000 {
				b.Fatalf("incorrect run: %+v", row.Counts)
			}
			b.ReportMetric(row.MsgsPerS, "msgs/s")
			b.ReportMetric(row.P50.Seconds()*1000, "p50-ms")
			b.ReportMetric(row.P99.Seconds()*1000, "p99-ms")
			b.ReportMetric(row.PeakRSSMiB, "peak-rss-MiB")
			b.ReportMetric(float64(row.CPUPerMsg.Microseconds()), "cpu-us/msg")
			b.Logf("reconnects %d, relay %+v", row.Reconnects, row.Relay)
		})
	}
}
