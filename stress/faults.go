package stress

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/relay"
)

// FaultConfig sizes a fault run. Zero values mean the defaults named.
type FaultConfig struct {
	// Seed draws the workload and every fault's moment and target.
	Seed uint64
	// Devices per scenario; default 16.
	Devices int
	// Messages each device sends per scenario; default 60.
	Messages int
	// Interval between one device's sends; default 10 ms.
	Interval time.Duration
	// Dir holds each scenario's relay files; a temporary directory if empty.
	Dir string
	// Launch starts the relay process (required): Executable(path of a
	// scanlab binary).
	Launch Launcher
	// Scenarios names the scenarios to run, in order; default all
	// ([Scenarios]).
	Scenarios []string
	// Kills is how many times kill-mid-traffic and kill-during-rotation
	// kill the relay; default 3.
	Kills int
}

func (c FaultConfig) withDefaults() FaultConfig {
	if c.Devices <= 1 {
		c.Devices = 16
	}
	if c.Messages <= 0 {
		c.Messages = 60
	}
	if c.Interval <= 0 {
		c.Interval = 10 * time.Millisecond
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = Scenarios
	}
	if c.Kills <= 0 {
		c.Kills = 3
	}
	return c
}

// Scenarios lists every fault scenario, in the order [Faults] runs them.
var Scenarios = []string{
	"kill-mid-traffic", "kill-during-rotation", "client-cut-mid-frame", "stalled-client",
	"full-disk", "read-only-database", "corrupt-record", "corrupt-page",
}

// FaultRow is one scenario's result. Lost counts acknowledged messages
// neither delivered nor reported damaged; Quarantined counts acknowledged
// messages the relay set aside as damaged and reported (kept, not
// delivered). Recovered says the relay ended serving every acknowledged
// message it still held intact. Outcome says what happened in words
// (deterministic for a seed; timings stay out of it).
type FaultRow struct {
	Scenario string
	Mode     string
	Counts
	Quarantined int
	Recovered   bool
	Outcome     string
	// Refused counts sends the relay refused for want of storage during a
	// storage fault (each retried by its device). It depends on timing, so
	// [FaultRow.Record] leaves it out.
	Refused int
	// Elapsed is the scenario's wall time, from the first start of the
	// relay to the last message drained (a timing).
	Elapsed time.Duration
}

// FaultHeader names the columns of [FaultRow.Record].
var FaultHeader = []string{"scenario", "mode", "sent", "acknowledged", "delivered", "lost", "duplicates", "wrong", "quarantined", "recovered", "outcome"}

// Record returns the row as CSV fields in [FaultHeader] order.
func (r FaultRow) Record() []string {
	return []string{r.Scenario, r.Mode, strconv.Itoa(r.Sent), strconv.Itoa(r.Acknowledged), strconv.Itoa(r.Delivered),
		strconv.Itoa(r.Lost), strconv.Itoa(r.Duplicates), strconv.Itoa(r.Wrong), strconv.Itoa(r.Quarantined), strconv.FormatBool(r.Recovered), r.Outcome}
}

// Faults runs every configured scenario for each mode against the relay as
// its own process (`scanlab relay --mode NAME`, fsync on, sealed key file,
// persistent CA) and checks every message at its recipient. The relay
// process builds its own server logic from the mode's name with default
// options; what it detects is not compared here, only what is delivered.
func Faults(cfg FaultConfig, modes []scanlab.Mode) ([]FaultRow, error) {
	cfg = cfg.withDefaults()
	if cfg.Launch == nil {
		return nil, errors.New("stress: faults need a Launcher for the relay process")
	}
	dir := cfg.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "scanlab-faults-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	var rows []FaultRow
	for _, m := range modes {
		for _, sc := range cfg.Scenarios {
			run, ok := scenarios[sc]
			if !ok {
				return rows, fmt.Errorf("stress: unknown fault scenario %q", sc)
			}
			sub := filepath.Join(dir, keyName(m.Name())+"-"+sc)
			if err := os.MkdirAll(sub, 0o700); err != nil {
				return rows, err
			}
			row, err := runScenario(cfg, m, sc, sub, run)
			if err != nil {
				return rows, fmt.Errorf("stress: %s/%s: %w", m.Name(), sc, err)
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// scenario runs one fault against a harness whose relay is listening and
// whose devices are connected, and returns the words for the outcome.
type scenario func(h *harness) (string, error)

var scenarios = map[string]scenario{
	"kill-mid-traffic":     killMidTraffic,
	"kill-during-rotation": killDuringRotation,
	"client-cut-mid-frame": clientCuts,
	"stalled-client":       stalledClients,
	"full-disk":            fullDisk,
	"read-only-database":   readOnlyDatabase,
	"corrupt-record":       corruptRecord,
	"corrupt-page":         corruptPage,
}

// faultPassphrase seals the key files of fault runs (test keys only).
const faultPassphrase = "scanlab fault-run passphrase"

// harness is one scenario's relay process, files and devices.
type harness struct {
	cfg       FaultConfig
	mode      scanlab.Mode
	dir       string
	rng       *rand.Rand
	proc      *relayProc
	addr      string
	plan      plan
	fleet     *fleet
	ledger    *ledger
	quarantID map[string]bool // messages the scenario damaged on purpose
	recovered bool
	extra     []string // flags for every start
	refused   int      // sends refused for want of storage
}

func runScenario(cfg FaultConfig, m scanlab.Mode, name, dir string, run scenario) (FaultRow, error) {
	h := fnv.New64a()
	h.Write([]byte(m.Name() + "/" + name))
	t0 := time.Now()
	hs := &harness{cfg: cfg, mode: m, dir: dir, rng: rand.New(rand.NewPCG(cfg.Seed, h.Sum64())), quarantID: map[string]bool{}, recovered: true}
	stream := m.Name() + "-" + name
	hs.plan = makePlan(cfg.Seed, users(stream, cfg.Devices), contacts(cfg.Seed, stream, cfg.Devices), stream, cfg.Messages, 100)
	hs.ledger = newLedger(cfg.Devices)
	if err := hs.start(); err != nil {
		return FaultRow{}, err
	}
	defer func() {
		if hs.proc != nil {
			hs.proc.stop()
		}
	}()
	pem, err := os.ReadFile(hs.path("ca.pem"))
	if err != nil {
		return FaultRow{}, err
	}
	pool, err := pki.ParsePEM(pem)
	if err != nil {
		return FaultRow{}, err
	}
	opts := relay.ClientOptions{RetryFor: 2 * time.Minute, MinBackoff: 10 * time.Millisecond, MaxBackoff: 250 * time.Millisecond}
	if hs.fleet, err = dialFleet(hs.addr, pool, m, hs.plan.users, opts); err != nil {
		return FaultRow{}, err
	}
	defer hs.fleet.close()
	outcome, err := run(hs)
	if err != nil {
		return FaultRow{}, err
	}
	row := hs.row(name, outcome)
	row.Elapsed = time.Since(t0)
	return row, nil
}

func (h *harness) path(name string) string { return filepath.Join(h.dir, name) }

// args are the relay's flags for this harness plus extra.
func (h *harness) args(extra ...string) []string {
	listen := h.addr
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	a := []string{"--listen", listen, "--db", h.path("relay.db"), "--kms", h.path("relay.kms"), "--ca-out", h.path("ca.pem"), "--mode", h.mode.Name()}
	return append(append(a, h.extra...), extra...)
}

// start starts the relay (again) on the harness's files and address.
func (h *harness) start(extra ...string) error {
	p, err := launch(h.cfg.Launch, faultPassphrase, h.args(extra...)...)
	if err != nil {
		return err
	}
	h.proc, h.addr = p, p.addr
	return nil
}

// traffic runs the whole plan, calling during (if set) in parallel once
// the senders have started, and drains the receivers.
func (h *harness) traffic(during func()) {
	done := make(chan struct{})
	if during != nil {
		go func() { defer close(done); during() }()
	} else {
		close(done)
	}
	traffic(h.fleet, h.plan, h.ledger, pace{interval: h.cfg.Interval, window: 1}, time.Minute)
	<-done
	// Anything acknowledged late (after a fault ended) is drained here.
	h.drain()
}

// drain receives until every acknowledged message arrived, or a minute.
func (h *harness) drain() {
	if h.ledger.complete() {
		return
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.Now().Add(time.Minute)
		for !h.ledger.complete() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		close(stop)
	}()
	var wg waitGroup
	for i := range h.fleet.devices {
		wg.Go(func() { receiver(h.fleet, h.plan, i, h.ledger, stop) })
	}
	<-done
	wg.Wait()
	for _, d := range h.fleet.devices {
		d.recv.FlushAcks()
	}
}

// sendOnly sends the whole plan with no receiver running, so every
// acknowledged message is still stored afterwards.
func (h *harness) sendOnly() {
	var wg waitGroup
	for i := range h.fleet.devices {
		wg.Go(func() { sender(h.fleet, h.plan, i, h.ledger, pace{window: 1}) })
	}
	wg.Wait()
}

// sendDuration is how long the senders take at the configured interval.
func (h *harness) sendDuration() time.Duration {
	return time.Duration(h.cfg.Messages) * h.cfg.Interval
}

// moment draws a moment in [lo, hi) from the scenario's seed.
func (h *harness) moment(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(h.rng.Int64N(int64(max(hi-lo, 1))))
}

func (h *harness) row(name, outcome string) FaultRow {
	c := h.ledger.counts()
	r := FaultRow{Scenario: name, Mode: h.mode.Name(), Counts: c, Outcome: outcome, Refused: h.refused}
	h.ledger.mu.Lock()
	for id := range h.quarantID {
		if h.ledger.acked[id] && h.ledger.delivered[id] == 0 {
			r.Quarantined++
			r.Lost--
		}
	}
	h.ledger.mu.Unlock()
	r.Recovered = h.recovered && r.Lost == 0 && r.Duplicates == 0 && r.Wrong == 0
	return r
}
