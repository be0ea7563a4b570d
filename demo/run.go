package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"scanlab/active"
	"scanlab/keylog"
	"scanlab/serverscan"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"scanlab"
	"scanlab/audit"
	"scanlab/behavior"
	"scanlab/harness"
	"scanlab/modes"
	"scanlab/observe"
	"scanlab/perceptual"
)

// Threshold is clientscan's t in every scenario: an account is revealed at
// its third matching photo. It is this low so that a handful of photos
// crosses it; Apple's was 30.
const Threshold = 2

// MinText and MaxText bound the audience's words, in characters. A shorter
// text could turn up by chance in random bytes (a ciphertext, a database
// page) and be counted as recovered.
const (
	MinText = 16
	MaxText = 500
)

// Errors a caller shows the audience as they are.
var (
	ErrScenario = errors.New("no such scenario")
	ErrText     = errors.New("the message does not fit")
)

// Input is what the audience chose.
type Input struct {
	Scenario string
	// Text is the audience's words; "" sends [DefaultText]. Scenarios that
	// take no text ignore it.
	Text string
	// Seed drives every random choice of the run that can be seeded.
	Seed uint64
}

// CheckText returns an error wrapping [ErrText] unless text is valid UTF-8
// of MinText to MaxText characters.
func CheckText(text string) error {
	if !utf8.ValidString(text) {
		return fmt.Errorf("%w: it is not valid text", ErrText)
	}
	if n := utf8.RuneCountInString(text); n < MinText || n > MaxText {
		return fmt.Errorf("%w: it has %d characters; write %d to %d", ErrText, n, MinText, MaxText)
	}
	return nil
}

// Run plays the scenario in through every mode over the real relay and
// audits who recovered what. It stops between steps once ctx is done.
func Run(ctx context.Context, in Input) (*Result, error) {
	t0 := time.Now()
	sc, ok := Lookup(in.Scenario)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrScenario, in.Scenario)
	}
	r := &Result{Scenario: sc, Seed: in.Seed, Threshold: Threshold}
	if sc.TakesText {
		r.Text = strings.TrimSpace(in.Text)
		if r.Text == "" {
			r.Text = DefaultText
		}
		if err := CheckText(r.Text); err != nil {
			return nil, err
		}
	}
	s, cfg, err := prepare(sc, r.Text, in.Seed)
	if err != nil {
		return nil, err
	}
	r.Messages = s.messages
	for _, name := range modes.Names {
		mr, err := runMode(ctx, name, cfg, s, in.Seed, sc.TakesText)
		if err != nil {
			return nil, fmt.Errorf("demo: %s in %s: %w", sc.Name, name, err)
		}
		mr.Outcome = outcome(mr, r.Messages, Threshold)
		r.Modes = append(r.Modes, mr)
	}
	r.Notes = photoNotes(r.Messages)
	r.Happened = sc.explain(r)
	r.Took = time.Since(t0)
	return r, nil
}

// prepare builds the scenario's script and the modes' configuration: the
// demo's hash list, and clientscan's low threshold.
func prepare(sc Scenario, text string, seed uint64) (script, modes.Config, error) {
	s, err := sc.script(text)
	if err != nil {
		return s, modes.Config{}, err
	}
	list, labels, planted, err := hashList(seed)
	if err != nil {
		return s, modes.Config{}, err
	}
	var curated strings.Builder
	for i, h := range list {
		fmt.Fprintf(&curated, "%s,%s\n", h, labels[i])
	}
	s.plan.PlantedHash = planted
	s.plan.Curated = observe.Evidence{Route: "hash list the curator supplies", Data: []byte(curated.String())}
	// A roomy cuckoo table, so that no list entry is dropped (the
	// protocol's rare false negatives would make the story depend on luck).
	cfg := modes.Config{List: list, Labels: labels,
		Clientscan: modes.Clientscan{Threshold: Threshold, Seed: seed, TableFactor: 16}}
	return s, cfg, nil
}

// auditStream separates the audit's random stream from other uses of the
// seed; every mode gets the same stream, so the same canaries.
const auditStream = 0x61756469740a

// runMode tells the story in one mode, then audits the same messages, each
// over a relay of its own in a temporary directory.
func runMode(ctx context.Context, name string, cfg modes.Config, s script, seed uint64, yours bool) (ModeResult, error) {
	t0 := time.Now()
	mr := ModeResult{Mode: name}
	dir, err := os.MkdirTemp("", "scanlab-demo-"+name+"-")
	if err != nil {
		return mr, err
	}
	defer os.RemoveAll(dir)
	storyDir, auditDir := filepath.Join(dir, "story"), filepath.Join(dir, "audit")
	for _, d := range []string{storyDir, auditDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return mr, err
		}
	}
	if mr.Steps, mr.Noticed, err = tell(ctx, name, cfg, s, storyDir); err != nil {
		return mr, err
	}
	if err := ctx.Err(); err != nil {
		return mr, err
	}
	m, err := modes.New(name, cfg)
	if err != nil {
		return mr, err
	}
	res, err := audit.Run(m, s.plan, rand.New(rand.NewPCG(seed, auditStream)), auditDir)
	if err != nil {
		return mr, err
	}
	if s.attack != nil {
		if res.Cells, err = auditAttack(name, cfg, s, seed, filepath.Join(dir, "attack"), res.Cells...); err != nil {
			return mr, err
		}
	}
	mr.Audit, mr.Grid, mr.Took = res.Cells, grid(res.Cells, yours), time.Since(t0)
	return mr, nil
}

// auditAttack audits the same messages with the provider acting in bad
// faith and returns passive's cells with the active provider's added.
func auditAttack(name string, cfg modes.Config, s script, seed uint64, dir string, passive ...observe.Cell) ([]observe.Cell, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	ar, err := audit.RunActive(name, cfg, setupFor(name, *s.attack), s.plan, rand.New(rand.NewPCG(seed, auditStream)), dir)
	if err != nil {
		return nil, err
	}
	for _, c := range ar.Cells {
		if c.Party == observe.ProviderActive {
			passive = append(passive, c)
		}
	}
	return passive, nil
}

// setupFor is the attack as it applies to mode name: serverscan's provider
// needs none.
func setupFor(name string, s audit.Setup) audit.Setup {
	if name == serverscan.Name {
		return audit.Setup{Attack: observe.NoAttackNeeded, Defence: observe.NoDefence}
	}
	return s
}

// story is one mode's world while the scenario plays: the relay, the
// provider's records, and the provider's metadata detector.
type story struct {
	*harness.World
	s        script
	provider *observe.Log
	detector *behavior.Detector
	// With an attack: the provider acting in bad faith, what its devices
	// decrypted, the apps' key-log clients and the attacked pairs.
	attacker  *active.Provider
	recovered *observe.Log
	clients   *keylog.Clients
	pairs     []active.Pair
}

// tell sends the scenario's messages one by one through mode name over a
// relay in dir, delivering each to its recipient before the next. With an
// attack in the script, the provider acting in bad faith first lets each
// pair exchange a greeting, then mounts it; tell also returns who noticed.
func tell(ctx context.Context, name string, cfg modes.Config, s script, dir string) ([]Step, []string, error) {
	st := &story{s: s, provider: &observe.Log{}, detector: behavior.New(behavior.Config{})}
	opts := harness.Options{Transport: harness.Relay, StateDir: dir, Observe: st.provider.Record, NoSync: true}
	m, err := st.prepareAttack(name, &cfg, &opts)
	if err != nil {
		return nil, nil, err
	}
	opts.Mode = m
	if st.World, err = harness.New(opts); err != nil {
		return nil, nil, err
	}
	defer st.Close()
	if err := st.startAttack(); err != nil {
		return nil, nil, err
	}
	var steps []Step
	for _, msg := range s.messages {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		step, err := st.play(msg)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", msg.Label, err)
		}
		steps = append(steps, step)
	}
	return steps, st.noticed(), nil
}

// play sends one message, lets the provider's detector see its metadata,
// and delivers it.
func (st *story) play(msg Message) (Step, error) {
	before, _ := st.provider.Open()
	sent, err := st.Send(scanlab.Message{ID: "msg-" + strings.ReplaceAll(msg.Label, " ", "-"), From: msg.from, To: msg.to, Sent: msg.At, Content: msg.content})
	if err != nil {
		return Step{}, err
	}
	step := Step{Seal: sent.Seal, RoundTrip: sent.RoundTrip, Logic: sent.Logic, Store: sent.Store,
		EnvelopeBytes: sent.EnvelopeBytes, SendBytes: sent.WireBytes, Detections: sent.Detections}
	for name, a := range sent.Envelope.Attach {
		step.Attachments = append(step.Attachments, Attachment{Name: name, Bytes: len(a)})
	}
	sort.Slice(step.Attachments, func(i, j int) bool { return step.Attachments[i].Name < step.Attachments[j].Name })
	after, _ := st.provider.Open()
	step.Vouchers = vouchersAfter(after[len(before):], msg.from)
	step.Vouchers.Bytes = voucherBytes(sent.Envelope)
	step.Flag = st.observe(sent.Envelope)
	b, err := st.Deliver(msg.to, 1)
	if err != nil {
		return step, err
	}
	if len(b.Messages) != 1 {
		return step, fmt.Errorf("the recipient fetched %d messages, want 1", len(b.Messages))
	}
	step.Fetch, step.FetchBytes, step.Open = b.Fetch, b.WireBytes, b.Messages[0].Open
	step.Intercepted = st.intercepted(sent.Envelope.ID)
	step.Says = says(step)
	return step, nil
}

// observe feeds the provider's metadata detector what the provider reads
// off the envelope it accepted — sender, recipient, time — and what the
// platform knows of the two accounts, and returns the flag it raised on
// this message, if any. An envelope without a sender (sealed sender)
// cannot be attributed, and is not counted.
func (st *story) observe(e scanlab.Envelope) *behavior.Flag {
	if e.From == "" {
		return nil
	}
	from, to := st.s.people[e.From], st.s.people[e.To]
	ev := behavior.Event{MessageID: e.ID, From: e.From, To: e.To, At: e.Sent, FromCreated: from.created,
		FromMinor: from.age < 18, ToMinor: to.age < 18, Connected: st.s.connected(e.From, e.To), Hops: 3}
	if ev.Connected {
		ev.Hops = 1
	}
	n := len(st.detector.Flagged())
	st.detector.Observe(ev)
	if flags := st.detector.Flagged(); len(flags) > n {
		return &flags[n]
	}
	return nil
}

// photoNotes measures how far each edited photo's fingerprint is from its
// original's.
func photoNotes(msgs []Message) []string {
	var notes []string
	for _, p := range Photos {
		if p.Original == "" || !sends(msgs, p.Name) {
			continue
		}
		a, errA := scanPhoto(p.Original)
		b, errB := scanPhoto(p.Name)
		if errA != nil || errB != nil {
			continue
		}
		notes = append(notes, fmt.Sprintf("The edited copy's fingerprint differs from the original's in %d of 256 bits. The server counts a match up to %d bits apart; clientscan's exact PSI only an identical fingerprint.",
			perceptual.Distance(a, b), perceptual.MatchThreshold))
	}
	return notes
}

func sends(msgs []Message, photo string) bool {
	for _, m := range msgs {
		if m.Photo == photo {
			return true
		}
	}
	return false
}

func scanPhoto(name string) (perceptual.Hash, error) {
	b, err := PhotoBytes(name)
	if err != nil {
		return perceptual.Hash{}, err
	}
	s, err := perceptual.ScanImage(b)
	return s.Hash, err
}
