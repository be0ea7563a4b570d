package experiments

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/kms"
	"scanlab/relay"
)

func init() {
	register(Experiment{
		Name:    "latency",
		Summary: "per-stage time and bytes on the wire of each message, per mode, through the real TLS relay",
		Run:     runLatency,
	})
}

// Stages of one message's trip, in order.
var latencyStages = []string{"device-seal", "wire", "relay-logic", "relay-store", "fetch", "device-open", "total"}

// latencySample is one message's measurements.
type latencySample struct {
	mode, kind string
	ns         map[string]int64
	body       int   // sealed body bytes
	wireUp     int64 // bytes the sender's TCP connection carried for the send (both directions)
	wireDown   int64 // bytes the recipient's TCP connection carried for fetch and ack
}

func runLatency(o Options, dir string) (map[string]any, error) {
	n := 200
	if o.Quick {
		n = 30
	}
	// A list of a realistic order of magnitude for the scanners.
	cfg := ModeConfig{Seed: o.Seed}
	lr := o.rng("latency-list")
	for range 10_000 {
		cfg.List = append(cfg.List, randomHash(lr))
	}
	var samples []latencySample
	for _, m := range Modes(cfg) {
		if o.Params["relay"] != "" && m.Name() != o.Params["relay-mode"] {
			// An outside relay runs one mode's logic (and clientscan's
			// devices would need that relay's own blinded table).
			continue
		}
		for _, kind := range []scanlab.Kind{scanlab.Text, scanlab.Image} {
			o.progress("latency: mode %s, %s messages", m.Name(), kind)
			s, err := latencyRun(o, m, kind, n)
			if err != nil {
				return nil, fmt.Errorf("mode %s: %w", m.Name(), err)
			}
			samples = append(samples, s...)
		}
	}
	// Deterministic file: sizes only.
	type key struct{ mode, kind string }
	var order []key
	groups := map[key][]latencySample{}
	for _, s := range samples {
		k := key{s.mode, s.kind}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s)
	}
	var sizeRows, timeRows, rawRows [][]string
	for _, k := range order {
		g := groups[k]
		var body, up, down []int64
		for _, s := range g {
			body = append(body, int64(s.body))
			up = append(up, s.wireUp)
			down = append(down, s.wireDown)
		}
		sizeRows = append(sizeRows, []string{k.mode, k.kind, strconv.Itoa(len(g)),
			strconv.FormatInt(median(body), 10), strconv.FormatInt(median(up), 10), strconv.FormatInt(median(down), 10)})
		for _, st := range latencyStages {
			var v []int64
			for _, s := range g {
				v = append(v, s.ns[st])
			}
			timeRows = append(timeRows, []string{k.mode, k.kind, st, strconv.Itoa(len(v)),
				us(quantile(v, 0.5)), us(quantile(v, 0.95)), us(quantile(v, 0.99))})
		}
	}
	for i, s := range samples {
		for _, st := range latencyStages {
			rawRows = append(rawRows, []string{s.mode, s.kind, strconv.Itoa(i), st, strconv.FormatInt(s.ns[st], 10)})
		}
	}
	if err := writeCSV(filepath.Join(dir, "bytes.csv"), []string{"mode", "kind", "messages", "body_bytes_p50", "wire_bytes_send_p50", "wire_bytes_fetch_p50"}, sizeRows); err != nil {
		return nil, err
	}
	if err := writeCSV(filepath.Join(dir, "latency.csv"), []string{"mode", "kind", "stage", "messages", "p50_us", "p95_us", "p99_us"}, timeRows); err != nil {
		return nil, err
	}
	if err := writeCSV(filepath.Join(dir, "latency-samples.csv"), []string{"mode", "kind", "message", "stage", "ns"}, rawRows); err != nil {
		return nil, err
	}
	return map[string]any{"messages_per_mode_and_kind": n}, nil
}

func us(ns int64) string { return strconv.FormatFloat(float64(ns)/1e3, 'f', 1, 64) }

func median(v []int64) int64 { return quantile(v, 0.5) }

// quantile returns the q-quantile of v (nearest rank).
func quantile(v []int64, q float64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(len(s)-1, i))]
}

// latencyRun sends n messages of one kind from one device to another through
// a fresh relay and times each stage.
func latencyRun(o Options, m scanlab.Mode, kind scanlab.Kind, n int) ([]latencySample, error) {
	rng := o.rng("latency-" + kind.String())
	state, cleanup, err := stateDir(o, "latency-"+m.Name()+"-"+kind.String())
	if err != nil {
		return nil, err
	}
	defer cleanup()
	addr, pool, alice, bob := "", (*x509.CertPool)(nil), scanlab.UserID("alice"), scanlab.UserID("bob")
	if ext := o.Params["relay"]; ext != "" {
		// A relay started elsewhere with `scanlab relay`: trust its CA file,
		// and use fresh names (it binds names to device keys on first use).
		pem, err := os.ReadFile(o.Params["relay-ca"])
		if err != nil {
			return nil, fmt.Errorf("--relay needs the relay's CA certificate (--relay-ca): %w", err)
		}
		if pool, err = pki.ParsePEM(pem); err != nil {
			return nil, err
		}
		addr = ext
		suffix := fmt.Sprintf("-%d", time.Now().UnixNano())
		alice, bob = alice+scanlab.UserID(suffix), bob+scanlab.UserID(suffix)
	} else {
		keys, err := kms.New()
		if err != nil {
			return nil, err
		}
		rl, err := relay.Start(relay.Config{DBPath: filepath.Join(state, "relay.db"), KMS: keys, Logic: m.NewServer})
		if err != nil {
			return nil, err
		}
		defer rl.Close()
		addr, pool = rl.Addr(), rl.CA().Pool()
	}
	ca, err := relay.Dial(addr, pool, alice, nil)
	if err != nil {
		return nil, err
	}
	defer ca.Close()
	cb, err := relay.Dial(addr, pool, bob, nil)
	if err != nil {
		return nil, err
	}
	defer cb.Close()
	da, err := m.NewDevice(alice, ca.Directory())
	if err != nil {
		return nil, err
	}
	db, err := m.NewDevice(bob, cb.Directory())
	if err != nil {
		return nil, err
	}
	var out []latencySample
	for i := range n {
		c := scanlab.Content{Kind: kind}
		if kind == scanlab.Text {
			c.Text = benignCanaryTexts[i%len(benignCanaryTexts)] + " " + randomHex(rng, 8)
		} else {
			c.Image = canaryImage(rng, 256)
		}
		msg := scanlab.Message{ID: fmt.Sprintf("m-%d", i), From: alice, To: bob, Sent: time.Now().UTC(), Content: c}
		s := latencySample{mode: m.Name(), kind: kind.String(), ns: map[string]int64{}}
		t := time.Now()
		env, err := da.Seal(msg)
		if err != nil {
			return nil, err
		}
		s.ns["device-seal"] = time.Since(t).Nanoseconds()
		s.body = len(env.Body)
		up0, dn0 := ca.Bytes()
		t0 := time.Now()
		rc, err := ca.Send(env)
		if err != nil {
			return nil, err
		}
		rtt := time.Since(t0)
		up1, dn1 := ca.Bytes()
		s.wireUp = (up1 - up0) + (dn1 - dn0)
		s.ns["relay-logic"] = rc.Logic.Nanoseconds()
		s.ns["relay-store"] = rc.Store.Nanoseconds()
		s.ns["wire"] = max(0, (rtt - rc.Logic - rc.Store).Nanoseconds())
		bu0, bd0 := cb.Bytes()
		t1 := time.Now()
		ds, err := cb.Fetch(1)
		if err != nil || len(ds) != 1 {
			return nil, fmt.Errorf("fetch: %d envelopes, %v", len(ds), err)
		}
		s.ns["fetch"] = time.Since(t1).Nanoseconds()
		t2 := time.Now()
		got, err := db.Open(ds[0].Envelope)
		if err != nil {
			return nil, err
		}
		s.ns["device-open"] = time.Since(t2).Nanoseconds()
		if got.ID != msg.ID {
			return nil, fmt.Errorf("opened %s, sent %s", got.ID, msg.ID)
		}
		if _, err := cb.Ack(ds[0].Seq); err != nil {
			return nil, err
		}
		bu1, bd1 := cb.Bytes()
		s.wireDown = (bu1 - bu0) + (bd1 - bd0)
		s.ns["total"] = s.ns["device-seal"] + rtt.Nanoseconds() + s.ns["fetch"] + s.ns["device-open"]
		out = append(out, s)
	}
	return out, nil
}
