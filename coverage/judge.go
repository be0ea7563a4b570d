package coverage

import (
	"fmt"
	"time"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/corpus"
	"scanlab/e2ee"
	"scanlab/harness"
	"scanlab/modes"
	"scanlab/perceptual"
	"scanlab/serverscan"
)

// Judgment is what one mode's content pathways judged: detections by
// message, the first automated and the first report-based detection of
// every account, and benign items flagged.
type Judgment struct {
	Mode string
	// harmful holds, per harmful message ID, the content pathways (user
	// reports included) that judged it and when each first did.
	harmful map[string]map[scanlab.Pathway]time.Time
	// benignFlagged holds the benign messages of benign senders a content
	// pathway (or a mistaken report) flagged, and which.
	benignFlagged map[string]*benignHit
	// firstContent and firstReport are each account's first automated
	// content detection and first verified report.
	firstContent, firstReport map[scanlab.UserID]time.Time
	// postFlag holds the benign messages a benign sender sent at or after
	// its first metadata flag at the operating point: ID → class.
	postFlag map[string]benignItem
	// Real counts the messages sent through the mode's real devices and
	// server logic; the rest were judged from a verdict on identical
	// content (serverscan) or could not change any detection.
	Real int
	// readable reports whether the provider can read a conversation's
	// messages (nil: none): what a metadata flag leads to.
	readable func(from, to scanlab.UserID) bool
}

type benignItem struct {
	from  scanlab.UserID
	class corpus.ContentClass
}

// benignHit is a benign item some pathways flagged.
type benignHit struct {
	benignItem
	pathways map[scanlab.Pathway]bool
}

// Judge runs one mode's content pass over the workload. With full false,
// only the messages a content pathway of the mode can act on go through the
// mode's real devices and server logic, in time order (package harness, in
// process):
//
//   - reported messages, in every mode (the report must be verified);
//   - in clientscan, every image of an account that sends at least one
//     image which could match the list (clientscan.Mode.MayMatch): an
//     account's voucher state and synthetic schedule are its own, so the
//     images of other accounts, none of which can match, change nothing;
//   - in serverscan, scanning is a function of content alone, so each
//     distinct item is scanned once by the real server logic and its verdict
//     applied to every message carrying it;
//   - in a [Split] mode (package hybrid, a platform's mode), the same holds
//     for the clear conversations, whose server logic is serverscan's; an
//     encrypted conversation's server logic raises no detection on accepting
//     a message, so only its reported messages can change one.
//
// A mode the cheap path knows nothing of (built by [ModeSpec.Build], of
// none of these kinds) has every message sent through it. With full true
// every admitted message goes through the mode: the reference the cheap path
// is tested against.
func Judge(meta *Meta, name string, c modes.Clientscan, full bool) (*Judgment, error) {
	js, err := JudgeAll(meta, []ModeSpec{{Name: name, Clientscan: c}}, PassOptions{Full: full})
	if err != nil {
		return nil, err
	}
	return js[0], nil
}

// ModeSpec names a mode to judge with, and clientscan's settings.
type ModeSpec struct {
	// Name names the judgment; without Build it is the registry's name of
	// the mode (modes.New).
	Name       string
	Clientscan modes.Clientscan
	// Build, if set, builds the mode instead of the registry: a mode
	// outside it, such as a platform's, from the workload's mode
	// configuration and its population (the ground truth a per-conversation
	// choice is drawn from; it must not reach the provider).
	Build func(cfg modes.Config, pop *corpus.Population) (scanlab.Mode, error)
}

// Split is a mode that carries each conversation either in the clear to a
// scanning server or end to end encrypted, as package hybrid's does. The
// cheap path of [Judge] relies on two facts of such a mode: a clear
// conversation's server logic is Clear's (serverscan's, a function of
// content alone), and an encrypted conversation's raises no detection when
// it accepts a message (e2ee's franking tags only).
type Split interface {
	scanlab.Mode
	// Encrypted reports whether the conversation between a and b is end
	// to end encrypted.
	Encrypted(a, b scanlab.UserID) bool
	// Clear returns the mode of the clear conversations, nil when there
	// are none.
	Clear() *serverscan.Mode
}

// build builds the spec's mode for workload w.
func (sp ModeSpec) build(w *Workload) (scanlab.Mode, error) {
	cfg := w.ModeConfig(sp.Clientscan)
	if sp.Build != nil {
		return sp.Build(cfg, w.pop)
	}
	return modes.New(sp.Name, cfg)
}

// PassOptions say how a content pass runs; they change no result.
type PassOptions struct {
	// Full sends every admitted message through the real modes (see
	// [Judge]).
	Full bool
	// Progress, if set, is told now and then how many of the workload's
	// messages the pass has taken, of how many: a full-scale pass runs for
	// many minutes.
	Progress func(done, total int)
}

// JudgeAll runs [Judge] for several modes in one pass over the workload's
// messages.
func JudgeAll(meta *Meta, specs []ModeSpec, o PassOptions) ([]*Judgment, error) {
	passes := make([]*pass, len(specs))
	for i, sp := range specs {
		p, err := newPass(meta, sp, o.Full)
		if err != nil {
			return nil, err
		}
		defer p.close()
		passes[i] = p
	}
	events, err := meta.w.events()
	if err != nil {
		return nil, err
	}
	g := meta.w.gate()
	done := 0
	for ev := range events {
		if done++; o.Progress != nil && done%progressEvery == 0 {
			o.Progress(done, meta.events)
		}
		if !g.admits(&ev) {
			continue
		}
		for _, p := range passes {
			if err := p.handle(&ev); err != nil {
				return nil, fmt.Errorf("coverage: %s, %s: %w", p.j.Mode, ev.ID, err)
			}
		}
	}
	out := make([]*Judgment, len(passes))
	for i, p := range passes {
		out[i] = p.j
	}
	return out, nil
}

// progressEvery is how many messages the passes take between calls of
// PassOptions.Progress (a variable so that a test can see calls on a small
// workload).
var progressEvery = 1 << 18

// newPass starts one mode's content pass.
func newPass(meta *Meta, sp ModeSpec, full bool) (*pass, error) {
	j := &Judgment{Mode: sp.Name, harmful: map[string]map[scanlab.Pathway]time.Time{}, benignFlagged: map[string]*benignHit{},
		firstContent: map[scanlab.UserID]time.Time{}, firstReport: map[scanlab.UserID]time.Time{}, postFlag: map[string]benignItem{}}
	m, err := sp.build(meta.w)
	if err != nil {
		return nil, err
	}
	p := &pass{meta: meta, j: j, full: full, sent: map[string]sentItem{}}
	if err := p.prepare(m); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *pass) close() {
	p.world.Close()
	if p.probe != nil {
		p.probe.Close()
	}
}

// pass is one content pass in progress.
type pass struct {
	meta  *Meta
	j     *Judgment
	full  bool
	world *harness.World
	clock time.Time
	// scanned caches serverscan's verdict on each distinct item.
	scanned map[item][]scanlab.Detection
	probe   *harness.World
	// matchers are the accounts whose every image goes through the mode
	// (clientscan).
	matchers map[scanlab.UserID]bool
	// split is the mode when it is a [Split] one.
	split Split
	// sent maps the messages that went through the mode to their class, to
	// credit detections that name earlier messages (a clientscan reveal).
	sent map[string]sentItem
}

// sentItem is what the pass knows of a message sent through the mode: its
// class and its real sender (a report of a sealed-sender message names
// none).
type sentItem struct {
	class corpus.ContentClass
	from  scanlab.UserID
}

// prepare starts the world and decides which messages need the real mode.
func (p *pass) prepare(m scanlab.Mode) error {
	w := p.meta.w
	var err error
	// The pass applies the contact gate itself, message by message (it
	// needs to know which conversations have begun), and sends only
	// admitted messages into the world. The provider accepts sealed-sender
	// envelopes (a platform's mode may send them); a mode that does not
	// seal never sends one.
	p.world, err = harness.New(harness.Options{Mode: m, Transport: harness.InProcess,
		Now: func() time.Time { return p.clock }, AllowSealedSender: true})
	if err != nil {
		return err
	}
	switch mode := m.(type) {
	case *serverscan.Mode:
		p.j.readable = func(scanlab.UserID, scanlab.UserID) bool { return true }
		return p.startProbe(mode)
	case Split:
		p.split = mode
		p.j.readable = func(a, b scanlab.UserID) bool { return !mode.Encrypted(a, b) }
		if c := mode.Clear(); c != nil {
			return p.startProbe(c)
		}
	case *clientscan.Mode:
		p.matchers = p.meta.imageSenders(func(it item) bool {
			s, err := perceptual.ScanImage(w.pools.content(it).Image)
			return err != nil || mode.MayMatch(s.Hash)
		})
	case *e2ee.Mode:
	default:
		p.full = true
	}
	return nil
}

// startProbe starts the probe: a second provider of the mode that scans
// clear messages. Scanning is stateless, so its verdicts are the mode's.
func (p *pass) startProbe(m *serverscan.Mode) error {
	p.scanned = map[item][]scanlab.Detection{}
	var err error
	p.probe, err = harness.New(harness.Options{Mode: m, Transport: harness.InProcess})
	return err
}

// handle takes one admitted message through the pass.
func (p *pass) handle(ev *corpus.MessageEvent) error {
	w := p.meta.w
	p.countPostFlag(ev)
	real := p.full || ev.Reported || (ev.Class.Image() && p.matchers[ev.From])
	if !real {
		if p.scanned == nil || (p.split != nil && p.split.Encrypted(ev.From, ev.To)) {
			return nil
		}
		dets, err := p.verdict(w.pools.pick(w.cfg.Seed, ev))
		if err != nil {
			return err
		}
		for _, d := range dets {
			d.MessageID, d.Account, d.At = ev.ID, ev.From, ev.At
			p.record(d, sentItem{ev.Class, ev.From})
		}
		return nil
	}
	return p.send(ev)
}

// send takes one message through the mode: sealed, accepted, delivered,
// opened, and reported if its recipient reports it.
func (p *pass) send(ev *corpus.MessageEvent) error {
	w := p.meta.w
	p.j.Real++
	p.clock = ev.At
	p.sent[ev.ID] = sentItem{ev.Class, ev.From}
	msg := scanlab.Message{ID: ev.ID, From: ev.From, To: ev.To, Sent: ev.At, Content: w.pools.content(w.pools.pick(w.cfg.Seed, ev))}
	s, err := p.world.Send(msg)
	p.recordAll(s.Detections)
	if err != nil {
		return err
	}
	b, err := p.world.Deliver(ev.To, 1)
	if err != nil {
		return err
	}
	if len(b.Messages) != 1 || b.Messages[0].Message.ID != ev.ID {
		return fmt.Errorf("not delivered")
	}
	if !ev.Reported {
		return nil
	}
	dets, err := p.world.Report(ev.To, b.Messages[0].Message)
	p.recordAll(dets)
	return err
}

// verdict returns serverscan's verdict on one distinct item, scanning it
// once through the real server logic.
func (p *pass) verdict(it item) ([]scanlab.Detection, error) {
	if dets, ok := p.scanned[it]; ok {
		return dets, nil
	}
	msg := scanlab.Message{ID: fmt.Sprintf("probe-%d", len(p.scanned)), From: "probe-sender", To: "probe-recipient",
		Content: p.meta.w.pools.content(it)}
	s, err := p.probe.Send(msg)
	if err != nil {
		return nil, err
	}
	p.scanned[it] = s.Detections
	return s.Detections, nil
}

// recordAll records detections that name messages sent through the mode.
func (p *pass) recordAll(dets []scanlab.Detection) {
	for _, d := range dets {
		p.record(d, p.sent[d.MessageID])
	}
}

// record credits one detection: to its message if harmful, to the benign
// items flagged if its sender is benign, and to its account. A detection
// that names no account (the report of a sealed-sender message) flags no
// account; its message's real sender decides whether it is benign.
func (p *pass) record(d scanlab.Detection, it sentItem) {
	j := p.j
	first := j.firstContent
	if !automated(d.Pathway) {
		first = j.firstReport
	}
	if t, ok := first[d.Account]; d.Account != "" && (!ok || d.At.Before(t)) {
		first[d.Account] = d.At
	}
	if d.MessageID == "" {
		return
	}
	if it.from == "" {
		it.from = d.Account
	}
	switch {
	case it.class.Harmful():
		ps := j.harmful[d.MessageID]
		if ps == nil {
			ps = map[scanlab.Pathway]time.Time{}
			j.harmful[d.MessageID] = ps
		}
		if t, ok := ps[d.Pathway]; !ok || d.At.Before(t) {
			ps[d.Pathway] = d.At
		}
	case !p.meta.w.pop.User(it.from).Offender:
		h := j.benignFlagged[d.MessageID]
		if h == nil {
			h = &benignHit{benignItem{it.from, it.class}, map[scanlab.Pathway]bool{}}
			j.benignFlagged[d.MessageID] = h
		}
		h.pathways[d.Pathway] = true
	}
}

// countPostFlag notes a benign sender's message sent at or after its first
// metadata flag at the operating point: what a flag exposes (serverscan) or
// restricts (the others) of an innocent.
func (p *pass) countPostFlag(ev *corpus.MessageEvent) {
	if ev.Harmful {
		return
	}
	u := p.meta.w.pop.User(ev.From)
	if u.Offender {
		return
	}
	if t, ok := p.meta.flagAt(0, ev.From); ok && !ev.At.Before(t) {
		p.j.postFlag[ev.ID] = benignItem{ev.From, ev.Class}
	}
}

// imageSenders returns the accounts that sent at least one image for which
// matters says true.
func (m *Meta) imageSenders(matters func(item) bool) map[scanlab.UserID]bool {
	verdict := map[item]bool{}
	out := map[scanlab.UserID]bool{}
	for u, set := range m.images {
		for it := range set {
			v, ok := verdict[it]
			if !ok {
				v = matters(it)
				verdict[it] = v
			}
			if v {
				out[u] = true
				break
			}
		}
	}
	return out
}
