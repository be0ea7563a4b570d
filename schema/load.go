package schema

import "fmt"

// LoadRow is one row of load/load.csv: what became of the messages of one
// load run — Devices devices of one mode sending Messages messages each
// over the relay's TLS listener, at a target Rate (0: closed loop, each
// device sending as fast as its Window of outstanding sends allows) — as
// counted at the recipients. Lost counts acknowledged messages never
// delivered, Duplicates deliveries beyond a message's first, Wrong
// deliveries that did not open or did not match what was sent. A healthy
// relay has Lost = Duplicates = Wrong = 0 and Delivered = Acknowledged =
// Sent.
type LoadRow struct {
	Mode     string
	Devices  int
	Messages int     // per device
	Rate     float64 // target messages per second; 0 for closed loop
	Window   int     // sends each device keeps outstanding

	Sent, Acknowledged, Delivered, Lost, Duplicates, Wrong int
}

// Load is load/load.csv: the counts of each run, the same for a seed.
var Load = &File[LoadRow]{
	Path: "load/load.csv",
	Doc:  "one mode and way of sending: messages sent, acknowledged by the relay, delivered, lost and duplicated, counted at the recipients",
	Columns: append(loadKey(func(r *LoadRow) *loadKeyFields {
		return &loadKeyFields{&r.Mode, &r.Devices, &r.Rate, &r.Window}
	}),
		Count("messages", func(r *LoadRow) *int { return &r.Messages }),
		Count("sent", func(r *LoadRow) *int { return &r.Sent }),
		Count("acknowledged", func(r *LoadRow) *int { return &r.Acknowledged }),
		Count("delivered", func(r *LoadRow) *int { return &r.Delivered }),
		Count("lost", func(r *LoadRow) *int { return &r.Lost }),
		Count("duplicates", func(r *LoadRow) *int { return &r.Duplicates }),
		Count("wrong", func(r *LoadRow) *int { return &r.Wrong }),
	),
	Check: func(r *LoadRow) error { return checkDelivery(r.Sent, r.Acknowledged, r.Delivered, r.Lost) },
}

// LoadTimingRow is one row of load/load-timings.csv: how fast and at what
// cost the run of the same key in load/load.csv went. Throughput is
// delivered messages per second from the first send to the last delivery;
// latency runs from the start of a send (sealing included) to the
// recipient's application opening the message. PeakRSSMiB and CPUPerMsg
// cover the whole process, relay and devices together. LoadAvg is the
// machine's one-minute load average at the end of the run: what else was
// running.
type LoadTimingRow struct {
	Mode       string
	Devices    int
	Rate       float64
	Window     int
	MsgsPerS   float64
	P50MS      float64
	P99MS      float64
	PeakRSSMiB float64
	CPUPerMsg  float64 // µs of process CPU time per delivered message
	LoadAvg    float64
	Reconnects int // the devices' reconnections during the run
}

// LoadTimings is load/load-timings.csv.
var LoadTimings = &File[LoadTimingRow]{
	Path: "load/load-timings.csv",
	Doc:  "one mode and way of sending: delivered messages per second, delivery latency, peak memory and CPU time per message, with the machine's load average",
	Columns: append(loadKey(func(r *LoadTimingRow) *loadKeyFields {
		return &loadKeyFields{&r.Mode, &r.Devices, &r.Rate, &r.Window}
	}),
		NonNegative("msgs_per_s", Fixed(0), func(r *LoadTimingRow) *float64 { return &r.MsgsPerS }),
		NonNegative("p50_ms", Fixed(2), func(r *LoadTimingRow) *float64 { return &r.P50MS }),
		NonNegative("p99_ms", Fixed(2), func(r *LoadTimingRow) *float64 { return &r.P99MS }),
		NonNegative("peak_rss_mib", Fixed(1), func(r *LoadTimingRow) *float64 { return &r.PeakRSSMiB }),
		NonNegative("cpu_us_per_msg", Fixed(1), func(r *LoadTimingRow) *float64 { return &r.CPUPerMsg }),
		NonNegative("load_avg", Fixed(2), func(r *LoadTimingRow) *float64 { return &r.LoadAvg }),
		Count("reconnects", func(r *LoadTimingRow) *int { return &r.Reconnects }),
	),
	Check: func(r *LoadTimingRow) error {
		if r.P99MS < r.P50MS {
			return fmt.Errorf("p99_ms (%v) below p50_ms (%v)", r.P99MS, r.P50MS)
		}
		return nil
	},
}

// loadKeyFields points at the fields that name a load run in both files.
type loadKeyFields struct {
	mode    *string
	devices *int
	rate    *float64
	window  *int
}

// loadKey is the columns naming a run: mode, devices, rate, window.
func loadKey[R any](key func(*R) *loadKeyFields) []Column[R] {
	return []Column[R]{
		Text("mode", func(r *R) *string { return key(r).mode }),
		Count("devices", func(r *R) *int { return key(r).devices }),
		NonNegative("rate", Shortest, func(r *R) *float64 { return key(r).rate }),
		Count("window", func(r *R) *int { return key(r).window }),
	}
}

// checkDelivery refuses counts that contradict each other: more
// acknowledged or delivered than sent, more lost than acknowledged.
func checkDelivery(sent, acked, delivered, lost int) error {
	switch {
	case acked > sent:
		return fmt.Errorf("acknowledged (%d) exceeds sent (%d)", acked, sent)
	case delivered > sent:
		return fmt.Errorf("delivered (%d) exceeds sent (%d)", delivered, sent)
	case lost > acked:
		return fmt.Errorf("lost (%d) exceeds acknowledged (%d)", lost, acked)
	}
	return nil
}
