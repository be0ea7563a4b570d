package stress

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
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
	// Messages is the number each device sends in each run; default 50.
	Messages int
	// Runs are the ways the devices send, measured one after another
	// against the same relay and devices; default one closed-loop run,
	// one send outstanding per device.
	Runs []LoadRun
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

// LoadRun is one way of sending.
type LoadRun struct {
	// Rate is the target total send rate, in messages per second, spread
	// evenly over the devices (open loop). Zero: closed loop, each device
	// sending as fast as its window allows.
	Rate float64
	// Window is how many sends each device keeps outstanding on its
	// connection (pipelining, relay.ClientOptions.Window); default 1.
	Window int
}

// Name names the run: "closed-w1", "rate-2000-w16".
func (r LoadRun) Name() string {
	w := "w" + strconv.Itoa(max(r.Window, 1))
	if r.Rate <= 0 {
		return "closed-" + w
	}
	return "rate-" + strconv.FormatFloat(r.Rate, 'f', -1, 64) + "-" + w
}

func (c LoadConfig) withDefaults() LoadConfig {
	if c.Devices <= 1 {
		c.Devices = 200
	}
	if c.Messages <= 0 {
		c.Messages = 50
	}
	if len(c.Runs) == 0 {
		c.Runs = []LoadRun{{}}
	}
	if c.BodySize <= 0 {
		c.BodySize = 100
	}
	if c.Drain <= 0 {
		c.Drain = 60 * time.Second
	}
	return c
}

// LoadRow is one mode's result under one run. The counts are
// deterministic for a seed when nothing fails; MsgsPerS (delivered
// messages per second, from the first send to the last delivery), the
// latencies (from the start of a send to its recipient's application
// opening it), PeakRSSMiB (the peak resident set of the whole process:
// relay and devices together), CPUPerMsg and LoadAvg are timings and vary.
type LoadRow struct {
	Mode    string
	Devices int
	LoadRun
	Counts
	MsgsPerS   float64
	P50, P99   time.Duration
	PeakRSSMiB float64
	// CPUPerMsg is the process's CPU time (relay and devices, user and
	// system) per delivered message: what the throughput costs whatever
	// else runs on the machine.
	CPUPerMsg time.Duration
	// LoadAvg is the machine's load average over the last minute, read at
	// the end of the run (0 where /proc/loadavg is not there): how much
	// else was running.
	LoadAvg float64
	// Reconnects counts the devices' reconnections in the run; Relay is
	// what the relay counted since it started (timeouts, rate limits,
	// refusals). Both should be zero in a healthy run.
	Reconnects int
	Relay      relay.Stats
}

// LoadHeader names the columns of [LoadRow.Record].
var LoadHeader = []string{"mode", "devices", "rate", "window", "sent", "acknowledged", "delivered", "lost", "duplicates", "wrong",
	"msgs_per_s", "p50_ms", "p99_ms", "peak_rss_mib", "cpu_us_per_msg", "load_avg"}

// Record returns the row as CSV fields in [LoadHeader] order (for logs and
// benchmarks; the load experiment writes its files through package schema).
func (r LoadRow) Record() []string {
	ms := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds()*1000, 'f', 2, 64) }
	return []string{r.Mode, strconv.Itoa(r.Devices), strconv.FormatFloat(r.Rate, 'f', -1, 64), strconv.Itoa(max(r.Window, 1)),
		strconv.Itoa(r.Sent), strconv.Itoa(r.Acknowledged), strconv.Itoa(r.Delivered), strconv.Itoa(r.Lost), strconv.Itoa(r.Duplicates), strconv.Itoa(r.Wrong),
		strconv.FormatFloat(r.MsgsPerS, 'f', 0, 64), ms(r.P50), ms(r.P99), strconv.FormatFloat(r.PeakRSSMiB, 'f', 1, 64),
		strconv.FormatFloat(float64(r.CPUPerMsg.Microseconds()), 'f', 0, 64), strconv.FormatFloat(r.LoadAvg, 'f', 2, 64)}
}

// Load runs cfg's workload per mode, each mode against a fresh relay (TLS
// on loopback, its database fsynced on every commit unless cfg.NoSync)
// with one set of devices for all of cfg.Runs, and checks every message
// at its recipient. Each device writes to its [Contacts]; before the runs,
// a warm-up (not measured) has it write to each once. It returns one row
// per mode and run, in that order.
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
		got, err := loadMode(cfg, m, filepath.Join(dir, keyName(m.Name())+".db"))
		rows = append(rows, got...)
		if err != nil {
			return rows, fmt.Errorf("stress: load %s: %w", m.Name(), err)
		}
	}
	return rows, nil
}

// loadMode starts a relay for m, connects the devices and measures each
// run in turn.
func loadMode(cfg LoadConfig, m scanlab.Mode, db string) ([]LoadRow, error) {
	os.Remove(db)
	r, err := relay.Start(relay.Config{DBPath: db, Logic: m.NewServer, NoSync: cfg.NoSync, MaxConns: 2*cfg.Devices + 64})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	us := users(m.Name(), cfg.Devices)
	window := 1
	for _, run := range cfg.Runs {
		window = max(window, run.Window)
	}
	// One more than the widest window: a device's key lookups (e2ee)
	// share the connection with its sends.
	f, err := dialFleet(r.Addr(), r.CA().Pool(), m, us, relay.ClientOptions{Window: window + 1})
	if err != nil {
		return nil, err
	}
	defer f.close()
	cs := contacts(cfg.Seed, m.Name(), cfg.Devices)
	if err := warmUp(cfg, f, warmPlan(us, cs, m.Name()+"/warm-up")); err != nil {
		return nil, err
	}
	var rows []LoadRow
	for i, run := range cfg.Runs {
		// Each run sends messages of its own: the relay would take a
		// message ID seen before for a resend.
		p := makePlan(cfg.Seed, us, cs, fmt.Sprintf("%s/%d-%s", m.Name(), i, run.Name()), cfg.Messages, cfg.BodySize)
		rows = append(rows, measure(cfg, r, f, p, m.Name(), run))
	}
	return rows, nil
}

// warmUp has every device write to each of its contacts once, setting up
// the end-to-end sessions the runs then use; every message must arrive.
func warmUp(cfg LoadConfig, f *fleet, p plan) error {
	l := newLedger(cfg.Devices)
	traffic(f, p, l, pace{window: Contacts}, cfg.Drain)
	if c := l.counts(); c.Delivered != c.Sent || c.Duplicates+c.Wrong > 0 {
		return fmt.Errorf("warm-up: %+v", c)
	}
	return nil
}

// measure runs one plan through the fleet and returns its row.
func measure(cfg LoadConfig, r *relay.Relay, f *fleet, p plan, mode string, run LoadRun) LoadRow {
	pc := pace{window: max(run.Window, 1)}
	if run.Rate > 0 {
		pc.interval = time.Duration(float64(cfg.Devices) / run.Rate * float64(time.Second))
	}
	reconnects := f.reconnects()
	debug.FreeOSMemory() // so the peak is this run's, not an earlier run's garbage
	resetPeakRSS()
	cpu0 := cpuTime()
	l := newLedger(cfg.Devices)
	traffic(f, p, l, pc, cfg.Drain)
	cpu := cpuTime() - cpu0
	row := LoadRow{Mode: mode, Devices: cfg.Devices, LoadRun: run, Counts: l.counts(), PeakRSSMiB: peakRSSMiB(),
		LoadAvg: loadAverage(), Reconnects: f.reconnects() - reconnects, Relay: r.Stats()}
	row.Window = pc.window
	if row.Delivered > 0 {
		row.CPUPerMsg = cpu / time.Duration(row.Delivered)
	}
	row.P50, row.P99 = l.quantiles()
	if span := l.last.Sub(l.first); span > 0 {
		row.MsgsPerS = float64(row.Delivered) / span.Seconds()
	}
	return row
}

// loadAverage reads the machine's one-minute load average.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
