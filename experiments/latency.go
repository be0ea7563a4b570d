package experiments

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"scanlab"
	"scanlab/audit"
	"scanlab/harness"
	"scanlab/internal/pki"
	"scanlab/modes"
	"scanlab/schema"
)

func init() {
	register(Experiment{
		Name:    "latency",
		Summary: "per-stage time and bytes on the wire of each message, per mode, through the real TLS relay",
		Run:     runLatency,
		spec:    func(o Options) any { return o.Latency },
	})
}

// Stages of one message's trip, in order.
var latencyStages = schema.Stages

// latencySample is one message's measurements.
type latencySample struct {
	mode, kind string
	ns         map[string]int64
	body       int   // sealed body bytes
	wireUp     int64 // bytes the sender's TCP connection carried for the send (both directions)
	wireDown   int64 // bytes the recipient's TCP connection carried for fetch and ack
}

// LatencyOptions configure the latency experiment.
type LatencyOptions struct {
	// Messages per mode and kind (0: the scale's default).
	Messages int `json:"messages,omitempty"`
	// Relay, if set, is a relay started elsewhere with "scanlab relay";
	// RelayCA is its CA certificate file and RelayMode the mode its server
	// logic runs. Only that mode is measured.
	Relay     string `json:"relay,omitempty"`
	RelayCA   string `json:"relay_ca,omitempty"`
	RelayMode string `json:"relay_mode,omitempty"`
}

func runLatency(o Options, dir string) (map[string]any, error) {
	n := o.Latency.Messages
	if n == 0 {
		n = 200
		if o.Scale == Quick {
			n = 30
		}
	}
	ext, err := o.Latency.external()
	if err != nil {
		return nil, err
	}
	// A list of a realistic order of magnitude for the scanners.
	cfg := modes.Config{Clientscan: modes.Clientscan{Seed: o.Seed}}
	lr := o.rng("latency-list")
	for range 10_000 {
		cfg.List = append(cfg.List, randomHash(lr))
	}
	var samples []latencySample
	for _, name := range modes.Names {
		if ext != nil && name != o.Latency.RelayMode {
			// An outside relay runs one mode's logic (and clientscan's
			// devices would need that relay's own blinded table).
			continue
		}
		for _, kind := range []scanlab.Kind{scanlab.Text, scanlab.Image} {
			o.progress("latency: mode %s, %s messages", name, kind)
			o.advance(len(samples), 2*n*len(modes.Names))
			m, err := modes.New(name, cfg)
			if err != nil {
				return nil, err
			}
			s, err := latencyRun(o, m, kind, n, ext)
			if err != nil {
				return nil, fmt.Errorf("mode %s: %w", name, err)
			}
			samples = append(samples, s...)
		}
	}
	if err := writeLatency(o.Out, samples); err != nil {
		return nil, err
	}
	where := "loopback"
	if ext != nil {
		where = o.Latency.Relay
	}
	return map[string]any{"messages_per_mode_and_kind": n, "relay": where}, nil
}

// external returns the outside relay to measure against, or nil.
func (lo LatencyOptions) external() (*harness.External, error) {
	if lo.Relay == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(lo.RelayCA)
	if err != nil {
		return nil, fmt.Errorf("--relay needs the relay's CA certificate (--relay-ca): %w", err)
	}
	pool, err := pki.ParsePEM(pem)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(modes.Names, lo.RelayMode) {
		return nil, fmt.Errorf("--relay-mode %q: want one of %s", lo.RelayMode, strings.Join(modes.Names, ", "))
	}
	return &harness.External{Addr: lo.Relay, Roots: pool}, nil
}

// writeLatency writes the sizes (deterministic), the per-stage quantiles and
// the raw samples (timings).
func writeLatency(out string, samples []latencySample) error {
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
	var sizes []schema.BytesRow
	var times []schema.LatencyRow
	var raw []schema.LatencySampleRow
	for _, k := range order {
		g := groups[k]
		var body, up, down []int64
		for _, s := range g {
			body = append(body, int64(s.body))
			up = append(up, s.wireUp)
			down = append(down, s.wireDown)
		}
		sizes = append(sizes, schema.BytesRow{Mode: k.mode, Kind: k.kind, Messages: len(g),
			Body: int(median(body)), WireSend: int(median(up)), WireFetch: int(median(down))})
		for _, st := range latencyStages {
			var v []int64
			for _, s := range g {
				v = append(v, s.ns[st])
			}
			times = append(times, schema.LatencyRow{Mode: k.mode, Kind: k.kind, Stage: st, Messages: len(v),
				P50: micros(quantile(v, 0.5)), P95: micros(quantile(v, 0.95)), P99: micros(quantile(v, 0.99))})
		}
	}
	for i, s := range samples {
		for _, st := range latencyStages {
			raw = append(raw, schema.LatencySampleRow{Mode: s.mode, Kind: s.kind, Message: i, Stage: st, NS: s.ns[st]})
		}
	}
	return errors.Join(schema.Bytes.WriteFile(out, sizes), schema.Latency.WriteFile(out, times), schema.LatencySamples.WriteFile(out, raw))
}

// micros converts nanoseconds to microseconds.
func micros(ns int64) float64 { return float64(ns) / 1e3 }

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

// latencyRun sends n messages of one kind from one device to another
// through a fresh relay (or the external one) and times each stage.
func latencyRun(o Options, m scanlab.Mode, kind scanlab.Kind, n int, ext *harness.External) ([]latencySample, error) {
	rng := o.rng("latency-" + kind.String())
	state, cleanup, err := stateDir(o, "latency-"+m.Name()+"-"+kind.String())
	if err != nil {
		return nil, err
	}
	defer cleanup()
	alice, bob := scanlab.UserID("alice"), scanlab.UserID("bob")
	if ext != nil {
		// The outside relay binds names to device keys on first use.
		suffix := fmt.Sprintf("-%d", time.Now().UnixNano())
		alice, bob = alice+scanlab.UserID(suffix), bob+scanlab.UserID(suffix)
	}
	w, err := harness.New(harness.Options{Mode: m, Transport: harness.Relay, StateDir: state, External: ext})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	var out []latencySample
	for i := range n {
		c := scanlab.Content{Kind: kind}
		if kind == scanlab.Text {
			c.Text = audit.BenignTexts[i%len(audit.BenignTexts)] + " " + audit.RandomHex(rng, 8)
		} else {
			c.Image = audit.Image(rng, 256)
		}
		msg := scanlab.Message{ID: fmt.Sprintf("m-%d", i), From: alice, To: bob, Sent: time.Now().UTC(), Content: c}
		s, err := latencyOne(w, msg)
		if err != nil {
			return nil, err
		}
		s.mode, s.kind = m.Name(), kind.String()
		out = append(out, s)
	}
	return out, nil
}

// latencyOne sends one message, delivers it and records each stage.
func latencyOne(w *harness.World, msg scanlab.Message) (latencySample, error) {
	s := latencySample{ns: map[string]int64{}}
	sent, err := w.Send(msg)
	if err != nil {
		return s, err
	}
	s.body, s.wireUp = len(sent.Envelope.Body), sent.WireBytes
	s.ns["device-seal"] = sent.Seal.Nanoseconds()
	s.ns["relay-logic"] = sent.Logic.Nanoseconds()
	s.ns["relay-store"] = sent.Store.Nanoseconds()
	s.ns["wire"] = max(0, (sent.RoundTrip - sent.Logic - sent.Store).Nanoseconds())
	b, err := w.Deliver(msg.To, 1)
	if err != nil {
		return s, err
	}
	if len(b.Messages) != 1 || b.Messages[0].Message.ID != msg.ID {
		return s, fmt.Errorf("sent %s, delivered %d other messages", msg.ID, len(b.Messages))
	}
	s.ns["fetch"] = b.Fetch.Nanoseconds()
	s.ns["device-open"] = b.Messages[0].Open.Nanoseconds()
	s.wireDown = b.WireBytes
	s.ns["total"] = s.ns["device-seal"] + sent.RoundTrip.Nanoseconds() + s.ns["fetch"] + s.ns["device-open"]
	return s, nil
}
