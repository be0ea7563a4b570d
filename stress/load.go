package stress

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"scanlab"
	"scanlab/relay"
)

// LoadConfig sizes a load run. Zero values mean the defaults named.
type LoadConfig struct {
	// Seed draws the workload (recipients and texts).
	Seed uint64
	// Devices is the number of devices per mode; default 200.
	Devices int
	// Messages is the number each device sends; default 50.
	Messages int
	// Rate is the target total send rate per mode, in messages per second,
	// spread evenly over the devices (open loop). Zero: closed loop, each
	// device sending its next message as soon as the last is acknowledged.
	Rate float64
	// BodySize is each text's length in bytes; default 100.
	BodySize int
	// Dir holds the relays' databases; a temporary directory if empty.
	Dir string
	// NoSync skips fsync on the relay's commits (a baseline, not the
	// configuration under test).
	NoSync bool
	// Drain bounds how long receivers wait for the last messages after the
	// senders finish; default 60 s.
	Drain time.Duration
}

func (c LoadConfig) withDefaults() LoadConfig {
	if c.Devices <= 1 {
		c.Devices = 200
	}
	if c.Messages <= 0 {
		c.Messages = 50
	}
	if c.BodySize <= 0 {
		c.BodySize = 100
	}
	if c.Drain <= 0 {
		c.Drain = 60 * time.Second
	}
	return c
}

// LoadRow is one mode's result. The counts are deterministic for a seed
// when nothing fails; MsgsPerS (delivered messages per second, from the
// first send to the last delivery), the latencies (from the start of a send
// to its recipient's application opening it) and PeakRSSMiB (the peak
// resident set of the whole process: relay and devices together) are
// timings and vary.
type LoadRow struct {
	Mode    string
	Devices int
	Rate    float64 // target rate; 0 for closed loop
	Counts
	MsgsPerS   float64
	P50, P99   time.Duration
	PeakRSSMiB float64
	// CPUPerMsg is the process's CPU time (relay and devices, user and
	// system) per delivered message: what the throughput costs whatever
	// else runs on the machine.
	CPUPerMsg time.Duration
	// Reconnects counts the devices' reconnections; Relay is what the relay
	// counted (timeouts, rate limits, refusals). Both should be zero in a
	// healthy run.
	Reconnects int
	Relay      relay.Stats
}

// LoadHeader names the columns of [LoadRow.Record].
var LoadHeader = []string{"mode", "devices", "rate", "sent", "acknowledged", "delivered", "lost", "duplicates", "wrong", "msgs_per_s", "p50_ms", "p99_ms", "peak_rss_mib", "cpu_us_per_msg"}

// Record returns the row as CSV fields in [LoadHeader] order.
func (r LoadRow) Record() []string {
	ms := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds()*1000, 'f', 2, 64) }
	return []string{r.Mode, strconv.Itoa(r.Devices), strconv.FormatFloat(r.Rate, 'f', -1, 64),
		strconv.Itoa(r.Sent), strconv.Itoa(r.Acknowledged), strconv.Itoa(r.Delivered), strconv.Itoa(r.Lost), strconv.Itoa(r.Duplicates), strconv.Itoa(r.Wrong),
		strconv.FormatFloat(r.MsgsPerS, 'f', 0, 64), ms(r.P50), ms(r.P99), strconv.FormatFloat(r.PeakRSSMiB, 'f', 1, 64),
		strconv.FormatFloat(float64(r.CPUPerMsg.Microseconds()), 'f', 0, 64)}
}

// Load runs cfg's workload once per mode, each against a fresh relay (TLS
// on loopback, its database fsynced on every commit unless cfg.NoSync),
// and checks every message at its recipient.
func Load(cfg LoadConfig, modes []scanlab.Mode) ([]LoadRow, error) {
	cfg = cfg.withDefaults()
	dir := cfg.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "scanlab-load-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	var rows []LoadRow
	for _, m := range modes {
		row, err := loadMode(cfg, m, filepath.Join(dir, keyName(m.Name())+".db"))
		if err != nil {
			return rows, fmt.Errorf("stress: load %s: %w", m.Name(), err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func loadMode(cfg LoadConfig, m scanlab.Mode, db string) (LoadRow, error) {
	os.Remove(db)
	r, err := relay.Start(relay.Config{DBPath: db, Logic: m.NewServer, NoSync: cfg.NoSync, MaxConns: 2*cfg.Devices + 64})
	if err != nil {
		return LoadRow{}, err
	}
	defer r.Close()
	p := makePlan(cfg.Seed, m.Name(), cfg.Devices, cfg.Messages, cfg.BodySize)
	f, err := dialFleet(r.Addr(), r.CA().Pool(), m, p, relay.ClientOptions{})
	if err != nil {
		return LoadRow{}, err
	}
	defer f.close()
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(cfg.Devices) / cfg.Rate * float64(time.Second))
	}
	resetPeakRSS()
	cpu0 := cpuTime()
	l := newLedger(cfg.Devices)
	traffic(f, p, l, interval, cfg.Drain, nil)
	cpu := cpuTime() - cpu0
	row := LoadRow{Mode: m.Name(), Devices: cfg.Devices, Rate: cfg.Rate, Counts: l.counts(), PeakRSSMiB: peakRSSMiB(), Relay: r.Stats()}
	for _, d := range f.devices {
		row.Reconnects += d.send.Reconnects() + d.recv.Reconnects()
	}
	if row.Delivered > 0 {
		row.CPUPerMsg = cpu / time.Duration(row.Delivered)
	}
	row.P50, row.P99 = l.quantiles()
	if span := l.last.Sub(l.first); span > 0 {
		row.MsgsPerS = float64(row.Delivered) / span.Seconds()
	}
	return row, nil
}
