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
	"scanlab/kms"
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
	pairs, perPair := 6, 4
	if o.Quick {
		pairs, perPair = 3, 3
	}
	var rows [][]string
	var tokens []string
	results := map[string]any{"pairs": pairs, "messages_per_pair": perPair}
	// The curator's list holds a planted entry nobody else should know, and
	// the hashes of listed images that the first pair's sender will send:
	// one more than the threshold, so that in clientscan that account
	// crosses it.
	lr := o.rng("visibility-list")
	planted := randomHash(lr)
	listed := make([][]byte, visibilityThreshold+1)
	// A roomy cuckoo table: with a handful of entries the default load
	// drops one now and then (the protocol's false negatives), which would
	// make this experiment's result depend on the draw.
	cfg := ModeConfig{List: []perceptual.Hash{planted}, Labels: []string{"planted"}, Threshold: visibilityThreshold, Seed: o.Seed, TableFactor: 16}
	curatedText := planted.String() + ",planted\n"
	for i := range listed {
		listed[i] = canaryImage(lr, 96)
		img, err := perceptual.DecodeImage(listed[i], 0)
		if err != nil {
			return nil, err
		}
		h, _ := perceptual.PDQ(img)
		cfg.List = append(cfg.List, h)
		cfg.Labels = append(cfg.Labels, fmt.Sprintf("listed-%d", i))
		curatedText += h.String() + fmt.Sprintf(",listed-%d\n", i)
	}
	results["clientscan_threshold"] = visibilityThreshold
	for _, m := range Modes(cfg) {
		o.progress("visibility: mode %s", m.Name())
		curated := observe.Evidence{Route: "hash list the curator supplies", Data: []byte(curatedText)}
		run, err := visibilityMode(o, m, pairs, perPair, curated, listed, nil)
		if err != nil {
			return nil, fmt.Errorf("mode %s: %w", m.Name(), err)
		}
		run.hashList = planted
		cells, err := observe.Audit(run.views, run.auditCanaries())
		run.cleanup()
		if err != nil {
			return nil, fmt.Errorf("mode %s: %w", m.Name(), err)
		}
		for _, c := range cells {
			rows = append(rows, []string{m.Name(), string(c.Party), string(c.Item), formatFraction(c.Fraction()), c.Route()})
		}
		if tokens == nil {
			for _, c := range run.canaries {
				if c.token != "" {
					tokens = append(tokens, c.token)
				}
			}
		}
		results[m.Name()+"_delivered"] = run.delivered
	}
	if err := writeCSV(filepath.Join(dir, "visibility.csv"), []string{"mode", "party", "item", "recovered", "route"}, rows); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "canaries.txt"), []byte(strings.Join(tokens, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	return results, nil
}

func formatFraction(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func randomHex(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(b)
}

// visibilityMode runs the canary workload through one mode over a real relay
// and builds every party's view.
func visibilityMode(o Options, m scanlab.Mode, pairs, perPair int, curatorList observe.Evidence, listed [][]byte, extraTexts []string) (*visibilityRun, error) {
	// Every mode gets the same workload from the same seed, so the canary
	// tokens are identical across modes.
	rng := o.rng("visibility")
	state, cleanup, err := stateDir(o, "visibility-"+m.Name())
	if err != nil {
		return nil, err
	}
	run := &visibilityRun{mode: m.Name(), cleanup: cleanup}
	fail := func(err error) (*visibilityRun, error) { cleanup(); return nil, err }

	recorder, err := tap.New(state)
	if err != nil {
		return fail(err)
	}
	providerLog := &observe.Log{}
	keys, err := kms.New()
	if err != nil {
		return fail(err)
	}
	dbPath := filepath.Join(state, "relay.db")
	rl, err := relay.Start(relay.Config{DBPath: dbPath, KMS: keys, Logic: m.NewServer, Tap: recorder, Observe: providerLog.Record, NoSync: true})
	if err != nil {
		return fail(err)
	}
	closeRelay := func() { rl.Close(); recorder.Close() }

	type endpoint struct {
		client *relay.Client
		device scanlab.Device
		log    *observe.Log
	}
	eps := map[scanlab.UserID]*endpoint{}
	connect := func(u scanlab.UserID) (*endpoint, error) {
		c, err := relay.Dial(rl.Addr(), rl.CA().Pool(), u, nil)
		if err != nil {
			return nil, err
		}
		d, err := m.NewDevice(u, c.Directory())
		if err != nil {
			return nil, err
		}
		ep := &endpoint{client: c, device: d, log: &observe.Log{}}
		eps[u] = ep
		return ep, nil
	}
	for range pairs {
		p := [2]scanlab.UserID{scanlab.UserID("u-" + randomHex(rng, 6)), scanlab.UserID("u-" + randomHex(rng, 6))}
		run.pairs = append(run.pairs, p)
		for _, u := range p {
			if _, err := connect(u); err != nil {
				closeRelay()
				return fail(err)
			}
		}
	}
	senderLog, recipientLog := &observe.Log{}, &observe.Log{}
	// sendCanary seals and sends one planted message from its sender's
	// device and records what the sender and the auditor know of it.
	sendCanary := func(c canaryMessage) error {
		from := eps[c.msg.From]
		env, err := from.device.Seal(c.msg)
		if err != nil {
			return fmt.Errorf("seal %s: %w", c.msg.ID, err)
		}
		wall := time.Now()
		if _, err := from.client.Send(env); err != nil {
			return fmt.Errorf("send %s: %w", c.msg.ID, err)
		}
		senderLog.Record("sender's own device", contentBytes(c.msg.Content), messageFields(c.msg, len(env.Body)))
		c.bodySize, c.envSize, c.wall, c.addr = len(env.Body), len(wire.EncodeEnvelope(env)), wall, from.client.LocalAddr()
		run.canaries = append(run.canaries, c)
		return nil
	}
	for i, p := range run.pairs {
		for j := range perPair {
			// The first message of each pair carries a flaggable phrase (and
			// its recipient reports it), the second is an image, the rest are
			// everyday texts.
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
			now := time.Now().UTC()
			// A random sub-second offset makes every timestamp unique.
			sent := now.Truncate(time.Second).Add(time.Duration(rng.Int64N(int64(time.Second))))
			msg := scanlab.Message{ID: "msg-" + randomHex(rng, 8), From: p[0], To: p[1], Sent: sent, Content: content}
			c.msg = msg
			if err := sendCanary(c); err != nil {
				closeRelay()
				return fail(err)
			}
		}
	}

	// The first pair's sender also sends the listed images (harmful, known to
	// the curator); nobody reports them.
	p0 := run.pairs[0]
	sent := func() time.Time {
		return time.Now().UTC().Truncate(time.Second).Add(time.Duration(rng.Int64N(int64(time.Second))))
	}
	for _, img := range listed {
		msg := scanlab.Message{ID: "msg-" + randomHex(rng, 8), From: p0[0], To: p0[1], Sent: sent(), Content: scanlab.Content{Kind: scanlab.Image, Image: img}}
		if err := sendCanary(canaryMessage{msg: msg, listed: true}); err != nil {
			closeRelay()
			return fail(err)
		}
	}
	// Texts given by the caller (the demo): each is its own canary.
	for _, text := range extraTexts {
		msg := scanlab.Message{ID: "msg-" + randomHex(rng, 8), From: p0[0], To: p0[1], Sent: sent(), Content: scanlab.Content{Kind: scanlab.Text, Text: text}}
		if err := sendCanary(canaryMessage{msg: msg, token: text}); err != nil {
			closeRelay()
			return fail(err)
		}
	}

	// The thief copies the database, and the provider answers a lawful
	// request, while the messages are at rest awaiting delivery.
	stolen := filepath.Join(state, "relay-stolen.db")
	if err := rl.Store().CopyTo(stolen); err != nil {
		closeRelay()
		return fail(err)
	}
	export, err := rl.Export()
	if err != nil {
		closeRelay()
		return fail(err)
	}
	exportPath := filepath.Join(state, "lawful-export.json")
	if err := relay.WriteExport(export, exportPath); err != nil {
		closeRelay()
		return fail(err)
	}

	// Recipients fetch, open, acknowledge, and report what is harmful.
	for _, p := range run.pairs {
		to := eps[p[1]]
		ds, err := to.client.Fetch(100)
		if err != nil {
			closeRelay()
			return fail(err)
		}
		for _, d := range ds {
			msg, err := to.device.Open(d.Envelope)
			if err != nil {
				closeRelay()
				return fail(fmt.Errorf("open: %w", err))
			}
			recipientLog.Record("recipient's device after decryption", contentBytes(msg.Content), messageFields(msg, len(d.Envelope.Body)))
			if _, err := to.client.Ack(d.Seq); err != nil {
				closeRelay()
				return fail(err)
			}
			run.delivered++
			if isHarmful(run.canaries, msg.ID) {
				rep, err := to.device.Report(msg)
				if err != nil {
					closeRelay()
					return fail(fmt.Errorf("report: %w", err))
				}
				if _, err := to.client.Report(rep); err != nil {
					closeRelay()
					return fail(fmt.Errorf("report: %w", err))
				}
			}
		}
	}
	for _, ep := range eps {
		ep.client.Close()
	}
	closeRelay()

	keySet, err := kms.FromKeys(keys.Export())
	if err != nil {
		return fail(err)
	}
	senderSrc, recipientSrc := []observe.Source{senderLog}, []observe.Source{recipientLog}
	if h, ok := m.(interface{ DeviceHoldings() []byte }); ok {
		// What the app ships to every device: a blinded table, or a list.
		held := observe.Static(observe.Evidence{Route: "matching data shipped to the device", Data: h.DeviceHoldings()})
		senderSrc, recipientSrc = append(senderSrc, held), append(recipientSrc, held)
	}
	run.views = []observe.View{
		{Party: observe.Sender, Sources: senderSrc},
		{Party: observe.Recipient, Sources: recipientSrc},
		{Party: observe.Provider, Sources: []observe.Source{providerLog, relay.DatabaseSource(dbPath, keySet)}},
		{Party: observe.Employee, Sources: []observe.Source{relay.DatabaseSource(stolen, keySet)}},
		{Party: observe.LawEnforcement, Sources: []observe.Source{relay.ExportSource(exportPath)}},
		{Party: observe.Eavesdropper, Sources: []observe.Source{recorder.Source()}},
		{Party: observe.DBThief, Sources: []observe.Source{observe.File(stolen, relay.RouteRawDB)}},
		{Party: observe.DBThiefKMS, Sources: []observe.Source{relay.DatabaseSource(stolen, keySet)}},
		{Party: observe.HashCurator, Sources: []observe.Source{observe.Static(curatorList)}},
	}
	return run, nil
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
