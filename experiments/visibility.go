package experiments

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/harness"
	"scanlab/kms"
	"scanlab/modes"
	"scanlab/observe"
	"scanlab/perceptual"
	"scanlab/relay"
	"scanlab/relay/tap"
	"scanlab/relay/wire"
)

func init() {
	register(Experiment{
		Name:    "visibility",
		Summary: "who recovers what: plant canaries, then search every party's real view with only its keys",
		Run:     runVisibility,
	})
}

// visibilityThreshold is clientscan's t in this experiment: small, so that one
// account crosses it with t+1 listed images.
const visibilityThreshold = 2

// harmfulCanaryTexts carry a phrase a text scanner should flag, so the
// match-verdict item has something to find. The canary token is appended.
var harmfulCanaryTexts = []string{
	"this is our secret, don't tell your parents about us and delete our chats",
	"you should just kill yourself, nobody would miss you",
	"send me more pics or I will share your photos with everyone at school",
}

// benignCanaryTexts are everyday messages.
var benignCanaryTexts = []string{
	"are we still on for football practice tomorrow at five",
	"mum says dinner is at seven, bring the salad",
	"this workout is going to kill me, see you at the gym",
	"can you send me the notes from today's chemistry class",
}

// canaryMessage is one planted message and what the auditor knows of it.
type canaryMessage struct {
	msg      scanlab.Message
	token    string
	harmful  bool      // a flaggable text, reported by its recipient
	listed   bool      // an image on the curator's list
	bodySize int       // length of the sealed envelope body
	envSize  int       // length of the whole envelope as encoded on the wire
	wall     time.Time // when the sender handed it to the relay
	addr     string    // the sender's connection address
}

// visibilityRun is one mode's run, the material its audit reads.
type visibilityRun struct {
	mode      string
	canaries  []canaryMessage
	pairs     [][2]scanlab.UserID
	hashList  perceptual.Hash // the planted hash-list entry
	views     []observe.View
	cleanup   func()
	delivered int
}

func runVisibility(o Options, dir string) (map[string]any, error) {
	plan := canaryPlan{pairs: 6, perPair: 4}
	if o.Scale == Quick {
		plan.pairs, plan.perPair = 3, 3
	}
	cfg, planted, err := visibilityList(o, &plan)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	var tokens []string
	results := map[string]any{"pairs": plan.pairs, "messages_per_pair": plan.perPair, "clientscan_threshold": visibilityThreshold}
	for _, name := range modes.Names {
		o.progress("visibility: mode %s", name)
		m, err := modes.New(name, cfg)
		if err != nil {
			return nil, err
		}
		cells, run, err := auditMode(o, m, plan, planted)
		if err != nil {
			return nil, fmt.Errorf("mode %s: %w", name, err)
		}
		for _, c := range cells {
			rows = append(rows, []string{name, string(c.Party), string(c.Item), formatFraction(c.Fraction()), c.Route()})
		}
		if tokens == nil {
			tokens = run.tokens()
		}
		results[name+"_delivered"] = run.delivered
	}
	if err := writeCSV(filepath.Join(dir, "visibility.csv"), []string{"mode", "party", "item", "recovered", "route"}, rows); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "canaries.txt"), []byte(strings.Join(tokens, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	return results, nil
}

// visibilityList makes the curator's list: a planted entry nobody else
// should know, and the hashes of listed images that the first pair's sender
// will send — one more than the threshold, so that in clientscan that
// account crosses it. It adds those images to plan.
func visibilityList(o Options, plan *canaryPlan) (modes.Config, perceptual.Hash, error) {
	lr := o.rng("visibility-list")
	planted := randomHash(lr)
	// A roomy cuckoo table: with a handful of entries the default load
	// drops one now and then (the protocol's false negatives), which would
	// make this experiment's result depend on the draw.
	cfg := modes.Config{List: []perceptual.Hash{planted}, Labels: []string{"planted"},
		Clientscan: modes.Clientscan{Threshold: visibilityThreshold, Seed: o.Seed, TableFactor: 16}}
	curatedText := planted.String() + ",planted\n"
	for i := range visibilityThreshold + 1 {
		img := canaryImage(lr, 96)
		s, err := perceptual.ScanImage(img)
		if err != nil {
			return cfg, planted, err
		}
		plan.listed = append(plan.listed, img)
		cfg.List = append(cfg.List, s.Hash)
		cfg.Labels = append(cfg.Labels, fmt.Sprintf("listed-%d", i))
		curatedText += s.Hash.String() + fmt.Sprintf(",listed-%d\n", i)
	}
	plan.curated = observe.Evidence{Route: "hash list the curator supplies", Data: []byte(curatedText)}
	return cfg, planted, nil
}

// auditMode runs plan through m and audits every party's view.
func auditMode(o Options, m scanlab.Mode, plan canaryPlan, planted perceptual.Hash) ([]observe.Cell, *visibilityRun, error) {
	run, err := visibilityMode(o, m, plan)
	if err != nil {
		return nil, nil, err
	}
	defer run.cleanup()
	run.hashList = planted
	cells, err := observe.Audit(run.views, run.auditCanaries())
	return cells, run, err
}

// tokens returns the planted text tokens, in the order they were sent.
func (run *visibilityRun) tokens() []string {
	var out []string
	for _, c := range run.canaries {
		if c.token != "" {
			out = append(out, c.token)
		}
	}
	return out
}

func formatFraction(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func randomHex(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(b)
}

// canaryPlan is what one canary run sends: pairs × perPair planted
// messages (see plantPairs), the listed images the first pair's sender also
// sends, and texts given by the caller (the demo), each its own canary.
type canaryPlan struct {
	pairs, perPair int
	curated        observe.Evidence // the hash list as the curator supplies it
	listed         [][]byte
	extraTexts     []string
}

// canaryWorld is one mode's relay with everything the audit will read.
type canaryWorld struct {
	*harness.World
	run                     *visibilityRun
	rng                     *rand.Rand
	state                   string
	recorder                *tap.Recorder
	providerLog             *observe.Log
	senderLog, recipientLog *observe.Log
}

// visibilityMode runs a canary plan through one mode over a real relay and
// builds every party's view.
func visibilityMode(o Options, m scanlab.Mode, plan canaryPlan) (*visibilityRun, error) {
	cw, err := newCanaryWorld(o, m)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			cw.run.cleanup()
		}
	}()
	if err := cw.plant(plan); err != nil {
		cw.Close()
		return nil, err
	}
	stolen, exportPath, err := cw.breach()
	if err != nil {
		cw.Close()
		return nil, err
	}
	if err := cw.deliverAll(); err != nil {
		cw.Close()
		return nil, err
	}
	keys, dbPath := cw.Keys(), cw.DBPath()
	cw.Close()
	cw.recorder.Close()
	if err := cw.buildViews(m, plan.curated, keys, dbPath, stolen, exportPath); err != nil {
		return nil, err
	}
	ok = true
	return cw.run, nil
}

// newCanaryWorld starts a relay for m with a wire tap and the provider's
// log. Every mode gets the same workload from the same seed, so the canary
// tokens are identical across modes.
func newCanaryWorld(o Options, m scanlab.Mode) (*canaryWorld, error) {
	state, cleanup, err := stateDir(o, "visibility-"+m.Name())
	if err != nil {
		return nil, err
	}
	cw := &canaryWorld{run: &visibilityRun{mode: m.Name(), cleanup: cleanup}, rng: o.rng("visibility"), state: state,
		providerLog: &observe.Log{}, senderLog: &observe.Log{}, recipientLog: &observe.Log{}}
	if cw.recorder, err = tap.New(state); err != nil {
		cleanup()
		return nil, err
	}
	cw.World, err = harness.New(harness.Options{Mode: m, Transport: harness.Relay, StateDir: state,
		Tap: cw.recorder, Observe: cw.providerLog.Record, NoSync: true})
	if err != nil {
		cw.recorder.Close()
		cleanup()
		return nil, err
	}
	return cw, nil
}

// plant connects the pairs' devices and sends every planted message.
func (cw *canaryWorld) plant(plan canaryPlan) error {
	rng := cw.rng
	for range plan.pairs {
		p := [2]scanlab.UserID{scanlab.UserID("u-" + randomHex(rng, 6)), scanlab.UserID("u-" + randomHex(rng, 6))}
		cw.run.pairs = append(cw.run.pairs, p)
		for _, u := range p {
			if _, err := cw.Device(u); err != nil {
				return err
			}
		}
	}
	if err := cw.plantPairs(plan.perPair); err != nil {
		return err
	}
	// The first pair's sender also sends the listed images (harmful, known
	// to the curator); nobody reports them. Then the caller's texts.
	p0 := cw.run.pairs[0]
	for _, img := range plan.listed {
		msg := scanlab.Message{ID: "msg-" + randomHex(rng, 8), From: p0[0], To: p0[1], Sent: cw.sentTime(), Content: scanlab.Content{Kind: scanlab.Image, Image: img}}
		if err := cw.send(canaryMessage{msg: msg, listed: true}); err != nil {
			return err
		}
	}
	for _, text := range plan.extraTexts {
		msg := scanlab.Message{ID: "msg-" + randomHex(rng, 8), From: p0[0], To: p0[1], Sent: cw.sentTime(), Content: scanlab.Content{Kind: scanlab.Text, Text: text}}
		if err := cw.send(canaryMessage{msg: msg, token: text}); err != nil {
			return err
		}
	}
	return nil
}

// plantPairs sends perPair messages in each pair: the first carries a
// flaggable phrase (and its recipient reports it), the second is an image,
// the rest are everyday texts; every text carries a random token.
func (cw *canaryWorld) plantPairs(perPair int) error {
	rng := cw.rng
	for i, p := range cw.run.pairs {
		for j := range perPair {
			harmful := j == 0
			c := canaryMessage{harmful: harmful}
			content := scanlab.Content{Kind: scanlab.Text}
			switch {
			case harmful:
				content.Text = harmfulCanaryTexts[(i+j)%len(harmfulCanaryTexts)]
			case j == 1:
				content = scanlab.Content{Kind: scanlab.Image, Image: canaryImage(rng, 96)}
			default:
				content.Text = benignCanaryTexts[(i+j)%len(benignCanaryTexts)]
			}
			if content.Kind == scanlab.Text {
				c.token = "tok-" + randomHex(rng, 10)
				content.Text += " " + c.token
			}
			sent := cw.sentTime()
			c.msg = scanlab.Message{ID: "msg-" + randomHex(rng, 8), From: p[0], To: p[1], Sent: sent, Content: content}
			if err := cw.send(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// sentTime is now with a random sub-second offset, so that every
// timestamp is unique.
func (cw *canaryWorld) sentTime() time.Time {
	return time.Now().UTC().Truncate(time.Second).Add(time.Duration(cw.rng.Int64N(int64(time.Second))))
}

// send seals and sends one planted message and records what the sender
// and the auditor know of it.
func (cw *canaryWorld) send(c canaryMessage) error {
	wall := time.Now()
	s, err := cw.Send(c.msg)
	if err != nil {
		return err
	}
	cw.senderLog.Record("sender's own device", contentBytes(c.msg.Content), messageFields(c.msg, len(s.Envelope.Body)))
	c.bodySize, c.envSize, c.wall, c.addr = len(s.Envelope.Body), s.EnvelopeBytes, wall, cw.LocalAddr(c.msg.From)
	cw.run.canaries = append(cw.run.canaries, c)
	return nil
}

// breach copies the database (the thief's copy) and has the provider
// answer a lawful request, while the messages are at rest awaiting
// delivery.
func (cw *canaryWorld) breach() (stolen, exportPath string, err error) {
	stolen = filepath.Join(cw.state, "relay-stolen.db")
	if err := cw.Relay().Store().CopyTo(stolen); err != nil {
		return "", "", err
	}
	export, err := cw.Relay().Export()
	if err != nil {
		return "", "", err
	}
	exportPath = filepath.Join(cw.state, "lawful-export.json")
	return stolen, exportPath, relay.WriteExport(export, exportPath)
}

// deliverAll has every recipient fetch, open and acknowledge, and report
// what is harmful.
func (cw *canaryWorld) deliverAll() error {
	for _, p := range cw.run.pairs {
		b, err := cw.Deliver(p[1], 100)
		if err != nil {
			return err
		}
		for _, d := range b.Messages {
			msg := d.Message
			cw.recipientLog.Record("recipient's device after decryption", contentBytes(msg.Content), messageFields(msg, len(d.Envelope.Body)))
			cw.run.delivered++
			if isHarmful(cw.run.canaries, msg.ID) {
				if _, err := cw.Report(p[1], msg); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// buildViews gives each party the sources it really held.
func (cw *canaryWorld) buildViews(m scanlab.Mode, curated observe.Evidence, keys *kms.Manager, dbPath, stolen, exportPath string) error {
	keySet, err := kms.FromKeys(keys.Export())
	if err != nil {
		return err
	}
	senderSrc, recipientSrc := []observe.Source{cw.senderLog}, []observe.Source{cw.recipientLog}
	if h, ok := m.(interface{ DeviceHoldings() []byte }); ok {
		// What the app ships to every device: a blinded table, or a list.
		held := observe.Static(observe.Evidence{Route: "matching data shipped to the device", Data: h.DeviceHoldings()})
		senderSrc, recipientSrc = append(senderSrc, held), append(recipientSrc, held)
	}
	cw.run.views = []observe.View{
		{Party: observe.Sender, Sources: senderSrc},
		{Party: observe.Recipient, Sources: recipientSrc},
		{Party: observe.Provider, Sources: []observe.Source{cw.providerLog, relay.DatabaseSource(dbPath, keySet)}},
		{Party: observe.Employee, Sources: []observe.Source{relay.DatabaseSource(stolen, keySet)}},
		{Party: observe.LawEnforcement, Sources: []observe.Source{relay.ExportSource(exportPath)}},
		{Party: observe.Eavesdropper, Sources: []observe.Source{cw.recorder.Source()}},
		{Party: observe.DBThief, Sources: []observe.Source{observe.File(stolen, relay.RouteRawDB)}},
		{Party: observe.DBThiefKMS, Sources: []observe.Source{relay.DatabaseSource(stolen, keySet)}},
		{Party: observe.HashCurator, Sources: []observe.Source{observe.Static(curated)}},
	}
	return nil
}

func contentBytes(c scanlab.Content) []byte {
	if c.Kind == scanlab.Image {
		return c.Image
	}
	return []byte(c.Text)
}

func isHarmful(cs []canaryMessage, id string) bool {
	for _, c := range cs {
		if c.msg.ID == id {
			return c.harmful
		}
	}
	return false
}

func messageFields(m scanlab.Message, size int) map[string]string {
	return map[string]string{
		"message": m.ID, "from": string(m.From), "to": string(m.To),
		"sent": strconv.FormatInt(m.Sent.UnixNano(), 10), "size": strconv.Itoa(size),
	}
}

// trafficWindow is how close in time a TLS burst must be to a send for the
// eavesdropper to tie it to that message. A burst's inner length is the
// frame header plus the encoded envelope, so an eavesdropper who knows the
// protocol reads the envelope's exact size off it.
const trafficWindow = 2 * time.Second

// auditCanaries turns the planted messages into canaries, one per item each
// message can reveal.
func (run *visibilityRun) auditCanaries() []observe.Canary {
	var cs []observe.Canary
	for _, p := range run.pairs {
		from, to := string(p[0]), string(p[1])
		cs = append(cs,
			observe.Canary{Item: observe.SenderID, Name: from, Match: observe.Any(observe.Field("from", from), observe.Contains([]byte(from)))},
			observe.Canary{Item: observe.RecipientID, Name: to, Match: observe.Any(observe.Field("to", to), observe.Contains([]byte(to)))},
			observe.Canary{Item: observe.ContactGraph, Name: from + "→" + to, Match: observe.Any(
				observe.All(observe.Field("from", from), observe.Field("to", to)),
				observe.All(observe.Contains([]byte(from)), observe.Contains([]byte(to))))},
		)
	}
	for _, c := range run.canaries {
		c := c
		nanos := c.msg.Sent.UnixNano()
		be := binary.BigEndian.AppendUint64(nil, uint64(nanos))
		dec := strconv.FormatInt(nanos, 10)
		switch {
		case c.msg.Content.Kind == scanlab.Image:
			item := observe.Image
			if c.listed {
				item = observe.ListedImage
				cs = append(cs, observe.Canary{Item: observe.MatchVerdict, Name: c.msg.ID, Match: observe.Field("verdict-message", c.msg.ID)})
			}
			// An image is recovered as its bytes or as the low-resolution
			// visual derivative a safety voucher carries.
			patterns := [][]byte{c.msg.Content.Image}
			if img, err := perceptual.DecodeImage(c.msg.Content.Image, 0); err == nil {
				patterns = append(patterns, clientscan.VisualDerivative(img))
				if !c.listed {
					h, _ := perceptual.PDQ(img)
					cs = append(cs, observe.Canary{Item: observe.ImageHash, Name: c.msg.ID, Match: observe.Contains([]byte(h.String()), h[:])})
				}
			}
			cs = append(cs, observe.Canary{Item: item, Name: c.msg.ID, Match: observe.Contains(patterns...)})
		case c.harmful: // harmful texts are reported by their recipient
			cs = append(cs, observe.Canary{Item: observe.ReportedText, Name: c.token, Match: observe.Contains([]byte(c.token))})
		default:
			cs = append(cs, observe.Canary{Item: observe.Text, Name: c.token, Match: observe.Contains([]byte(c.token))})
		}
		cs = append(cs,
			observe.Canary{Item: observe.Timestamp, Name: c.msg.ID, Match: observe.Any(
				observe.Field("sent", dec), observe.Contains(be, []byte(c.msg.Sent.Format(time.RFC3339Nano))),
				trafficMatch(c, false))},
			observe.Canary{Item: observe.Size, Name: c.msg.ID, Match: observe.Any(
				observe.All(observe.Field("message", c.msg.ID), observe.Field("size", strconv.Itoa(c.bodySize))),
				trafficMatch(c, true))},
		)
		if c.harmful {
			cs = append(cs, observe.Canary{Item: observe.MatchVerdict, Name: c.msg.ID, Match: observe.Field("verdict-message", c.msg.ID)})
		}
	}
	cs = append(cs, observe.Canary{Item: observe.HashList, Name: "planted list entry", Match: observe.Contains([]byte(run.hashList.String()), run.hashList[:])})
	return cs
}

// trafficMatch is the eavesdropper's traffic analysis: a TLS burst on the
// sender's connection when the message was sent. With size it must also be
// as long as the body plus at most trafficSlack bytes.
func trafficMatch(c canaryMessage, size bool) func(observe.Evidence) bool {
	return func(e observe.Evidence) bool {
		if e.Route != tap.RouteTraffic || e.Fields["remote"] != c.addr {
			return false
		}
		at, err := strconv.ParseInt(e.Fields["at"], 10, 64)
		if err != nil {
			return false
		}
		d := time.Unix(0, at).Sub(c.wall)
		if d < -trafficWindow || d > trafficWindow {
			return false
		}
		if !size {
			return true
		}
		n, err := strconv.Atoi(e.Fields["length"])
		return err == nil && n == c.envSize+wire.HeaderSize
	}
}

// stateDir returns where a run keeps its database and wire capture: under
// KeepState if set (kept), else a temporary directory removed by cleanup.
func stateDir(o Options, name string) (string, func(), error) {
	if o.KeepState != "" {
		d := filepath.Join(o.KeepState, name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", nil, err
		}
		return d, func() {}, nil
	}
	d, err := os.MkdirTemp("", "scanlab-"+name+"-")
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}
