// Package audit measures visibility end to end: it plants canaries — unique
// tokens in texts, unique images, random account IDs, unique timestamps, a
// secret hash-list entry — in messages sent through one mode over the real
// TLS relay (package harness), then gives each party only what it really
// held and the keys it really has (package observe), and reports, party by
// party and item by item, what was recovered and by which route. The
// visibility experiment and the educator's demo both run it.
//
// # Who sees what
//
// This package decides nothing about who sees what. Views are built from
// real bytes: the relay's memory after TLS termination and the server
// logic's records (the provider), copies of the database file (the thief;
// with the key manager's keys, the employee and the full breach), the
// lawful-access export (law enforcement), the raw TCP bytes (the
// eavesdropper), the devices' own messages (sender, recipient) and the list
// the curator supplies.
package audit

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"time"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/harness"
	"scanlab/kms"
	"scanlab/observe"
	"scanlab/perceptual"
	"scanlab/relay"
	"scanlab/relay/tap"
	"scanlab/relay/wire"
)

// HarmfulTexts carry a phrase a text scanner should flag, so the
// match-verdict item has something to find. The canary token is appended.
var HarmfulTexts = []string{
	"this is our secret, don't tell your parents about us and delete our chats",
	"you should just kill yourself, nobody would miss you",
	"send me more pics or I will share your photos with everyone at school",
}

// BenignTexts are everyday messages.
var BenignTexts = []string{
	"are we still on for football practice tomorrow at five",
	"mum says dinner is at seven, bring the salad",
	"this workout is going to kill me, see you at the gym",
	"can you send me the notes from today's chemistry class",
}

// Plan is what one audit sends: Pairs × PerPair planted messages (in each
// pair the first a flaggable text its recipient reports, the second an
// image, the rest everyday texts, every text with a random token), the
// Listed images the first pair's sender also sends, and Texts given by the
// caller, each its own canary (the demo plants what the audience typed).
type Plan struct {
	Pairs, PerPair int
	// Curated is the hash list as the curator supplies it; PlantedHash an
	// entry of it that nobody else should know.
	Curated     observe.Evidence
	PlantedHash perceptual.Hash
	Listed      [][]byte
	Texts       []string
}

// Result is what an audit found.
type Result struct {
	// Cells has one cell per party and item: the fraction of that item's
	// canaries the party recovered, and the routes that recovered them.
	Cells []observe.Cell
	// Tokens are the planted text tokens, in the order they were sent.
	Tokens []string
	// Delivered counts the planted messages their recipients opened.
	Delivered int
}

// planted is one planted message and what the auditor knows of it.
type planted struct {
	msg      scanlab.Message
	token    string
	harmful  bool      // a flaggable text, reported by its recipient
	listed   bool      // an image on the curator's list
	bodySize int       // length of the sealed envelope body
	envSize  int       // length of the whole envelope as encoded on the wire
	wall     time.Time // when the sender handed it to the relay
	addr     string    // the sender's connection address
}

// run is the material one audit reads.
type run struct {
	planted   []planted
	pairs     [][2]scanlab.UserID
	hashList  perceptual.Hash
	views     []observe.View
	delivered int
}

// tokens returns the planted text tokens, in the order they were sent.
func (r *run) tokens() []string {
	var out []string
	for _, c := range r.planted {
		if c.token != "" {
			out = append(out, c.token)
		}
	}
	return out
}

// world is one mode's relay with everything the audit will read.
type world struct {
	*harness.World
	run                     *run
	rng                     *rand.Rand
	state                   string
	recorder                *tap.Recorder
	providerLog             *observe.Log
	senderLog, recipientLog *observe.Log
}

// Run plants plan's canaries in mode m over a real relay whose database and
// wire capture live in stateDir, gives each party the view it really held,
// and audits every view with only that party's keys. User IDs, tokens,
// canary images and timestamps come from rng, so the same stream plants the
// same canaries in every mode.
func Run(m scanlab.Mode, plan Plan, rng *rand.Rand, stateDir string) (Result, error) {
	if plan.Pairs < 1 {
		return Result{}, errors.New("audit: a plan needs at least one pair")
	}
	run, err := plantAndView(m, plan, rng, stateDir)
	if err != nil {
		return Result{}, fmt.Errorf("audit: %s: %w", m.Name(), err)
	}
	cells, err := observe.Audit(run.views, run.canaries())
	if err != nil {
		return Result{}, fmt.Errorf("audit: %s: %w", m.Name(), err)
	}
	return Result{Cells: cells, Tokens: run.tokens(), Delivered: run.delivered}, nil
}

// plantAndView runs the plan and builds the views.
func plantAndView(m scanlab.Mode, plan Plan, rng *rand.Rand, stateDir string) (*run, error) {
	cw, err := newWorld(m, rng, stateDir)
	if err != nil {
		return nil, err
	}
	cw.run.hashList = plan.PlantedHash
	at, err := cw.exercise(plan)
	if err != nil {
		cw.recorder.Close()
		return nil, err
	}
	// The wire capture is complete once the relay has stopped.
	if err := cw.recorder.Close(); err != nil {
		return nil, err
	}
	if err := cw.buildViews(m, plan.Curated, at); err != nil {
		return nil, err
	}
	return cw.run, nil
}

// rest is where the provider's data ended up: its key manager, its
// database, the thief's copy and the lawful-access export.
type rest struct {
	keys                       *kms.Manager
	dbPath, stolen, exportPath string
}

// exercise sends the plan, lets the thief copy the database and the
// provider answer a lawful request while messages await delivery, then
// delivers and reports, and stops the relay.
func (cw *world) exercise(plan Plan) (rest, error) {
	defer cw.Close()
	at := rest{keys: cw.Keys(), dbPath: cw.DBPath()}
	if err := cw.plant(plan); err != nil {
		return at, err
	}
	var err error
	if at.stolen, at.exportPath, err = cw.breach(); err != nil {
		return at, err
	}
	return at, cw.deliverAll()
}

// newWorld starts a relay for m with a wire tap and the provider's log.
func newWorld(m scanlab.Mode, rng *rand.Rand, state string) (*world, error) {
	return newWorldWith(m, rng, state, nil)
}

// newWorldWith is newWorld with the provider's directory service dir
// around its key store (nil: none).
func newWorldWith(m scanlab.Mode, rng *rand.Rand, state string, dir relay.KeyService) (*world, error) {
	cw := &world{run: &run{}, rng: rng, state: state,
		providerLog: &observe.Log{}, senderLog: &observe.Log{}, recipientLog: &observe.Log{}}
	var err error
	if cw.recorder, err = tap.New(state); err != nil {
		return nil, err
	}
	// The relay accepts envelopes without a sender, so that modes with
	// sealed sender can be audited; other modes always name the sender.
	cw.World, err = harness.New(harness.Options{Mode: m, Transport: harness.Relay, StateDir: state,
		Tap: cw.recorder, Observe: cw.providerLog.Record, NoSync: true, AllowSealedSender: true, Directory: dir})
	if err != nil {
		cw.recorder.Close()
		return nil, err
	}
	return cw, nil
}

// plant connects the pairs' devices and sends every planted message.
func (cw *world) plant(plan Plan) error {
	if err := cw.makePairs(plan.Pairs); err != nil {
		return err
	}
	return cw.plantMessages(plan)
}

// makePairs draws the pairs' account IDs and connects their devices.
func (cw *world) makePairs(n int) error {
	for range n {
		p := [2]scanlab.UserID{scanlab.UserID("u-" + RandomHex(cw.rng, 6)), scanlab.UserID("u-" + RandomHex(cw.rng, 6))}
		cw.run.pairs = append(cw.run.pairs, p)
		for _, u := range p {
			if _, err := cw.Device(u); err != nil {
				return err
			}
		}
	}
	return nil
}

// plantMessages sends the planted messages of the pairs made.
func (cw *world) plantMessages(plan Plan) error {
	rng := cw.rng
	if err := cw.plantPairs(plan.PerPair); err != nil {
		return err
	}
	// The first pair's sender also sends the listed images (harmful, known
	// to the curator); nobody reports them. Then the caller's texts.
	p0 := cw.run.pairs[0]
	for _, img := range plan.Listed {
		msg := scanlab.Message{ID: "msg-" + RandomHex(rng, 8), From: p0[0], To: p0[1], Sent: cw.sentTime(), Content: scanlab.Content{Kind: scanlab.Image, Image: img}}
		if err := cw.send(planted{msg: msg, listed: true}); err != nil {
			return err
		}
	}
	for _, text := range plan.Texts {
		msg := scanlab.Message{ID: "msg-" + RandomHex(rng, 8), From: p0[0], To: p0[1], Sent: cw.sentTime(), Content: scanlab.Content{Kind: scanlab.Text, Text: text}}
		if err := cw.send(planted{msg: msg, token: text}); err != nil {
			return err
		}
	}
	return nil
}

// plantPairs sends perPair messages in each pair: the first carries a
// flaggable phrase (and its recipient reports it), the second is an image,
// the rest are everyday texts; every text carries a random token.
func (cw *world) plantPairs(perPair int) error {
	rng := cw.rng
	for i, p := range cw.run.pairs {
		for j := range perPair {
			harmful := j == 0
			c := planted{harmful: harmful}
			content := scanlab.Content{Kind: scanlab.Text}
			switch {
			case harmful:
				content.Text = HarmfulTexts[(i+j)%len(HarmfulTexts)]
			case j == 1:
				content = scanlab.Content{Kind: scanlab.Image, Image: Image(rng, 96)}
			default:
				content.Text = BenignTexts[(i+j)%len(BenignTexts)]
			}
			if content.Kind == scanlab.Text {
				c.token = "tok-" + RandomHex(rng, 10)
				content.Text += " " + c.token
			}
			sent := cw.sentTime()
			c.msg = scanlab.Message{ID: "msg-" + RandomHex(rng, 8), From: p[0], To: p[1], Sent: sent, Content: content}
			if err := cw.send(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// sentTime is now with a random sub-second offset, so that every
// timestamp is unique.
func (cw *world) sentTime() time.Time {
	return time.Now().UTC().Truncate(time.Second).Add(time.Duration(cw.rng.Int64N(int64(time.Second))))
}

// send seals and sends one planted message and records what the sender
// and the auditor know of it.
func (cw *world) send(c planted) error {
	wall := time.Now()
	s, err := cw.Send(c.msg)
	if err != nil {
		return err
	}
	cw.senderLog.Record("sender's own device", contentBytes(c.msg.Content), messageFields(c.msg, len(s.Envelope.Body)))
	c.bodySize, c.envSize, c.wall, c.addr = len(s.Envelope.Body), s.EnvelopeBytes, wall, cw.LocalAddr(c.msg.From)
	cw.run.planted = append(cw.run.planted, c)
	return nil
}

// breach copies the database (the thief's copy) and has the provider
// answer a lawful request, while the messages are at rest awaiting
// delivery.
func (cw *world) breach() (stolen, exportPath string, err error) {
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
func (cw *world) deliverAll() error {
	for _, p := range cw.run.pairs {
		b, err := cw.Deliver(p[1], 100)
		if err != nil {
			return err
		}
		for _, d := range b.Messages {
			msg := d.Message
			cw.recipientLog.Record("recipient's device after decryption", contentBytes(msg.Content), messageFields(msg, len(d.Envelope.Body)))
			cw.run.delivered++
			if isHarmful(cw.run.planted, msg.ID) {
				if _, err := cw.Report(p[1], msg); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// buildViews gives each party the sources it really held.
func (cw *world) buildViews(m scanlab.Mode, curated observe.Evidence, at rest) error {
	keySet, err := kms.FromKeys(at.keys.Export())
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
		{Party: observe.Provider, Sources: []observe.Source{cw.providerLog, relay.DatabaseSource(at.dbPath, keySet)}},
		{Party: observe.Employee, Sources: []observe.Source{relay.DatabaseSource(at.stolen, keySet)}},
		{Party: observe.LawEnforcement, Sources: []observe.Source{relay.ExportSource(at.exportPath)}},
		{Party: observe.Eavesdropper, Sources: []observe.Source{cw.recorder.Source()}},
		{Party: observe.DBThief, Sources: []observe.Source{observe.File(at.stolen, relay.RouteRawDB)}},
		{Party: observe.DBThiefKMS, Sources: []observe.Source{relay.DatabaseSource(at.stolen, keySet)}},
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

func isHarmful(cs []planted, id string) bool {
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

// canaries turns the planted messages into canaries, one per item each
// message can reveal.
func (run *run) canaries() []observe.Canary {
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
	for _, c := range run.planted {
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
func trafficMatch(c planted, size bool) func(observe.Evidence) bool {
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

// RandomHex returns n random bytes from r in hexadecimal.
func RandomHex(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(b)
}
