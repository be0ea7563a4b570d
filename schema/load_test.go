package schema

import (
	"strings"
	"testing"
)

func loadRows() []LoadRow {
	return []LoadRow{
		{Mode: "serverscan", Devices: 300, Messages: 20, Rate: 0, Window: 1, Sent: 6000, Acknowledged: 6000, Delivered: 6000},
		{Mode: "clientscan", Devices: 300, Messages: 20, Rate: 2500.5, Window: 16, Sent: 6000, Acknowledged: 5990, Delivered: 5989, Lost: 1, Duplicates: 2, Wrong: 3},
	}
}

func faultRows() []FaultRow {
	return []FaultRow{
		{Scenario: "kill-during-rotation", Mode: "e2ee", Sent: 960, Acknowledged: 960, Delivered: 960, Recovered: true,
			Outcome: "one rotation run to the end, then 3 rotating starts SIGKILLed at seeded moments; every restart passed the checks"},
		{Scenario: "corrupt-record", Mode: "serverscan", Sent: 960, Acknowledged: 960, Delivered: 959, Quarantined: 1, Recovered: false,
			Outcome: "one stored message's ciphertext flipped: refused to start, \"damaged\""},
	}
}

// TestLoadAndFaultsRefused: rows whose counts contradict each other, or
// whose values are out of range, are refused naming the line.
func TestLoadAndFaultsRefused(t *testing.T) {
	for _, c := range []struct {
		name, want string
		read       func() error
	}{
		{"load-acked-exceeds-sent", "acknowledged (7) exceeds sent (6)", func() error {
			return readLine(Load, "serverscan,2,0,1,3,6,7,6,0,0,0")
		}},
		{"load-lost-exceeds-acked", "lost (7) exceeds acknowledged (6)", func() error {
			return readLine(Load, "serverscan,2,0,1,3,6,6,6,7,0,0")
		}},
		{"load-negative-rate", "column rate: -5 is outside", func() error {
			return readLine(Load, "serverscan,2,-5,1,3,6,6,6,0,0,0")
		}},
		{"timings-p99-below-p50", "p99_ms (1) below p50_ms (2)", func() error {
			return readLine(LoadTimings, "serverscan,2,0,1,100,2,1,50,70,1.5,0")
		}},
		{"faults-recovered-not-bool", `column recovered: "yes" is neither true nor false`, func() error {
			return readLine(Faults, "kill-mid-traffic,e2ee,6,6,6,0,0,0,0,yes,ok")
		}},
		{"faults-quarantined-exceeds-acked", "lost (1) and quarantined (6) exceed acknowledged (6)", func() error {
			return readLine(Faults, "corrupt-record,e2ee,6,6,0,1,0,0,6,false,bad")
		}},
	} {
		t.Run("case="+c.name, func(t *testing.T) {
			err := c.read()
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), ":2:") {
				t.Fatalf("error = %v, want one at line 2 containing %q", err, c.want)
			}
		})
	}
}

// readLine reads one data line of a file.
func readLine[R any](f *File[R], line string) error {
	_, err := f.Read(strings.NewReader(strings.Join(f.Header(), ",")+"\n"+line+"\n"), f.Base())
	return err
}
