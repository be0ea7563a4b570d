package coverage

import (
	"fmt"
	"iter"
	"time"

	"scanlab"
	"scanlab/behavior"
	"scanlab/corpus"
	"scanlab/e2ee"
	"scanlab/modes"
)

// Workload is one configuration's population and content pools. Its
// traffic is not held: each pass regenerates the same stream of messages
// from the seed (corpus.Population.Events), so a population of 100,000
// accounts over 90 days fits in memory.
type Workload struct {
	cfg   Config
	pop   *corpus.Population
	pools *Pools
	// defaults holds the accounts that keep a platform's default setting
	// (Config.DMDefaults), and that setting.
	defaults map[scanlab.UserID]corpus.DMPolicy
}

// NewWorkload generates the population and builds (or reuses) the pools.
func NewWorkload(cfg Config) (*Workload, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	pop, err := corpus.GeneratePopulation(cfg.Population)
	if err != nil {
		return nil, err
	}
	if len(pop.Users) == 0 {
		return nil, ErrNoWorkload
	}
	pools, err := NewPools(cfg.Seed, cfg.Content)
	if err != nil {
		return nil, err
	}
	return &Workload{cfg: cfg, pop: pop, pools: pools, defaults: cfg.DMDefaults.apply(cfg.Seed, pop)}, nil
}

// Population returns the workload's population.
func (w *Workload) Population() *corpus.Population { return w.pop }

// Pools returns the content pools.
func (w *Workload) Pools() *Pools { return w.pools }

// Config returns the configuration the workload was made from.
func (w *Workload) Config() Config { return w.cfg }

// events returns a fresh stream of the workload's messages, in time order.
func (w *Workload) events() (iter.Seq[corpus.MessageEvent], error) {
	return w.pop.Events(w.cfg.Conversation)
}

// policy is a recipient's direct-message setting.
func (w *Workload) policy(to scanlab.UserID) corpus.DMPolicy {
	if w.cfg.DMPolicy != "" {
		return w.cfg.DMPolicy
	}
	if p, ok := w.defaults[to]; ok {
		return p
	}
	return w.pop.User(to).Policy
}

// gate is the provider's contact gate over one pass: each recipient's
// setting decides whether a message may reach it, before any scanner, in
// every mode. Passes go through the messages in the same order, so every
// pass's gate admits the same ones.
type gate struct {
	w *Workload
	g *corpus.Gate
}

func (w *Workload) gate() gate { return gate{w, corpus.NewGate()} }

func (g gate) admits(ev *corpus.MessageEvent) bool { return g.g.Admit(g.w.policy(ev.To), ev) }

// ModeConfig returns the configuration of the modes for this workload: the
// curator's list (known images and filler), its labels and second hashes,
// and the clients the population says are modified. clientscan's knobs
// (threshold, matching) come from c.
func (w *Workload) ModeConfig(c modes.Clientscan) modes.Config {
	c.Seed = w.cfg.Seed
	c.Modified = map[scanlab.UserID]bool{}
	for i := range w.pop.Users {
		if u := &w.pop.Users[i]; u.ModifiedClient {
			c.Modified[u.ID] = true
		}
	}
	// A content pass reports a message right after delivering it, so a
	// device needs the opening of only the last message from each peer: a
	// report window of one keeps a full-scale pass's memory to what it
	// judges (with the default 32, devices held 32 images per peer).
	return modes.Config{List: w.pools.List, Labels: w.pools.Labels, Second: w.pools.Second, Clientscan: c,
		E2EE: e2ee.Options{ReportWindow: 1}}
}

// Attempt is one harmful message an offender tried to send, with what the
// scoring needs of it.
type Attempt struct {
	ID        string
	From, To  scanlab.UserID
	At        time.Time
	Class     corpus.ContentClass
	Archetype corpus.Archetype
	// ToMinor is true when the recipient is a declared minor.
	ToMinor bool
	// Admitted is false when the recipient's DM setting refused it.
	Admitted bool
	item     item
}

// Meta is what the metadata pass found: the detector's flags at every
// threshold, every harmful attempt, and the benign traffic counted per
// sender and class.
type Meta struct {
	w          *Workload
	thresholds []float64
	// flags[k] holds each flagged account's first flag at thresholds[k].
	flags    []map[scanlab.UserID]time.Time
	attempts []Attempt
	// benign[u][c] counts the admitted messages of class c a benign
	// sender u sent.
	benign map[scanlab.UserID]map[corpus.ContentClass]int
	// images[u] is the set of distinct pooled images u sent (admitted).
	images map[scanlab.UserID]map[item]bool
	// Prevention by the recipients' settings.
	benignAttempts, benignPrevented int
	events                          int
}

// Metadata runs the metadata pass: the contact gate and the detector over
// every message, the same in every mode (verified reports feed the
// detector; honest reports verify in every mode).
func (w *Workload) Metadata() (*Meta, error) { return w.MetadataSealed(nil) }

// MetadataSealed runs the metadata pass of a provider that cannot attribute
// the messages sealed says are sent under sealed sender: the detector
// observes such a message only when its recipient reports it (the
// reporter's app names the sender), and neither the unreported message nor
// a refused attempt. The detector works from what the provider keeps, and
// under sealed sender the stored envelope names no sender (the visibility
// audit finds none in the database or the lawful export); a relay that
// logged each authenticated connection would know more. sealed is ground
// truth (a platform's choice of encrypted conversations); nil seals
// nothing.
func (w *Workload) MetadataSealed(sealed func(from, to scanlab.UserID) bool) (*Meta, error) {
	events, err := w.events()
	if err != nil {
		return nil, err
	}
	m := &Meta{w: w, thresholds: w.cfg.thresholds(), benign: map[scanlab.UserID]map[corpus.ContentClass]int{},
		images: map[scanlab.UserID]map[item]bool{}}
	det := behavior.New(w.cfg.Detector)
	g := w.gate()
	for ev := range events {
		m.events++
		admitted := g.admits(&ev)
		// The provider enforces the setting, so it sees the attempt too,
		// unless the message is sealed and unreported.
		reported := admitted && ev.Reported
		if sealed == nil || reported || !sealed(ev.From, ev.To) {
			det.Observe(behavior.Observed(w.pop, &ev, reported))
		}
		m.count(&ev, admitted)
	}
	for _, t := range m.thresholds {
		flags, err := det.FlagsAt(t)
		if err != nil {
			return nil, fmt.Errorf("coverage: %w", err)
		}
		first := make(map[scanlab.UserID]time.Time, len(flags))
		for _, f := range flags {
			first[f.Account] = f.At
		}
		m.flags = append(m.flags, first)
	}
	return m, nil
}

// count records one message in the tallies.
func (m *Meta) count(ev *corpus.MessageEvent, admitted bool) {
	var it item
	if ev.Harmful || ev.Class.Image() {
		it = m.w.pools.pick(m.w.cfg.Seed, ev)
	}
	if admitted && ev.Class.Image() {
		set := m.images[ev.From]
		if set == nil {
			set = map[item]bool{}
			m.images[ev.From] = set
		}
		set[it] = true
	}
	if ev.Harmful {
		m.attempts = append(m.attempts, Attempt{ID: ev.ID, From: ev.From, To: ev.To, At: ev.At, Class: ev.Class,
			Archetype: ev.Archetype, ToMinor: m.w.pop.User(ev.To).Minor(), Admitted: admitted, item: it})
		return
	}
	if m.w.pop.User(ev.From).Offender {
		return // an offender's small talk is neither harmful nor an innocent's
	}
	m.benignAttempts++
	if !admitted {
		m.benignPrevented++
		return
	}
	c := m.benign[ev.From]
	if c == nil {
		c = map[corpus.ContentClass]int{}
		m.benign[ev.From] = c
	}
	c[ev.Class]++
}

// Thresholds returns the detector thresholds credited, the operating point
// first.
func (m *Meta) Thresholds() []float64 { return m.thresholds }

// flagAt returns an account's first metadata flag at threshold k.
func (m *Meta) flagAt(k int, u scanlab.UserID) (time.Time, bool) {
	t, ok := m.flags[k][u]
	return t, ok
}
