// Package stress drives the relay the way its users and its failures do:
// many concurrent devices of a mode sending and receiving over loopback TLS
// ([Load]), and the relay run as its own process while it is killed,
// starved of disk, cut off and corrupted ([Faults]). Every message is
// checked at its recipient, so the rows count what was sent, acknowledged,
// delivered, lost and duplicated, not what the relay claims.
//
// Everything a run decides (which device sends what to whom, when a fault
// strikes, which byte is flipped) comes from its seed (math/rand/v2), so two
// runs with the same seed send the same messages and inject the same faults;
// only timings (throughput, latency, memory) differ between runs.
//
// # Who sees what
//
// Nothing here adds a party: the devices and the relay are the ones the
// study measures, and the content is synthetic text. Logs and rows hold
// counts and timings only.
package stress

import (
	"crypto/x509"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/relay"
)

// planned is one message a device will send.
type planned struct {
	id   string
	from int
	to   int
	text string
}

// plan is the seeded workload: msgs[i] are device i's messages in order.
type plan struct {
	users []scanlab.UserID
	msgs  [][]planned
	byID  map[string]planned
}

// filler is the alphabet of synthetic message text.
const filler = "abcdefghijklmnopqrstuvwxyz      "

// users names n devices of a workload: "NAME-user-00042".
func users(name string, n int) []scanlab.UserID {
	us := make([]scanlab.UserID, n)
	for i := range us {
		us[i] = scanlab.UserID(fmt.Sprintf("%s-user-%05d", name, i))
	}
	return us
}

// Contacts is how many people each device writes to: conversations, not
// strangers, so that end-to-end sessions are set up once per pair (at
// warm-up, see [Load]) and the runs measure messages in sessions already
// running, as most of a service's traffic is.
const Contacts = 5

// contacts draws each of len(us) devices' Contacts contacts (all the
// others if there are fewer) from seed and name.
func contacts(seed uint64, name string, n int) [][]int {
	r := rand.New(rand.NewPCG(seed, streamKey(name+"/contacts")))
	out := make([][]int, n)
	for i := range out {
		others := make([]int, 0, n-1)
		for j := range n {
			if j != i {
				others = append(others, j)
			}
		}
		r.Shuffle(len(others), func(a, b int) { others[a], others[b] = others[b], others[a] })
		out[i] = others[:min(Contacts, len(others))]
	}
	return out
}

func streamKey(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// makePlan draws the workload of users sending messages messages each to
// their contacts (chosen uniformly), of bodySize bytes, from seed and the
// stream's name, which also prefixes the message IDs (so that two streams
// for the same users never share an ID).
func makePlan(seed uint64, us []scanlab.UserID, cs [][]int, stream string, messages, bodySize int) plan {
	r := rand.New(rand.NewPCG(seed, streamKey(stream)))
	p := plan{users: us, msgs: make([][]planned, len(us)), byID: map[string]planned{}}
	for i := range us {
		for j := range messages {
			p.add(i, cs[i][r.IntN(len(cs[i]))], stream, j, randomText(r, bodySize))
		}
	}
	return p
}

// warmPlan has every device send one message to each of its contacts.
func warmPlan(us []scanlab.UserID, cs [][]int, stream string) plan {
	p := plan{users: us, msgs: make([][]planned, len(us)), byID: map[string]planned{}}
	for i := range us {
		for j, to := range cs[i] {
			p.add(i, to, stream, j, "hello")
		}
	}
	return p
}

// add plans the j-th message of device from to device to.
func (p *plan) add(from, to int, stream string, j int, text string) {
	m := planned{id: fmt.Sprintf("%s-m-%05d-%06d", stream, from, j), from: from, to: to, text: text}
	p.msgs[from] = append(p.msgs[from], m)
	p.byID[m.id] = m
}

func randomText(r *rand.Rand, n int) string {
	text := make([]byte, n)
	for k := range text {
		text[k] = filler[r.IntN(len(filler))]
	}
	return string(text)
}

// ledger is the run's account of every message.
type ledger struct {
	mu         sync.Mutex
	sentAt     map[string]time.Time
	acked      map[string]bool
	delivered  map[string]int
	wrong      int // delivered messages that did not open or did not match the plan
	latencies  []time.Duration
	first      time.Time
	last       time.Time
	ackedTo    []int // acknowledged messages per recipient
	receivedBy []int // distinct messages delivered per recipient
	excused    []int // messages per recipient damaged on purpose, not awaited
}

func newLedger(devices int) *ledger {
	return &ledger{sentAt: map[string]time.Time{}, acked: map[string]bool{}, delivered: map[string]int{}, ackedTo: make([]int, devices), receivedBy: make([]int, devices), excused: make([]int, devices)}
}

// excuse stops waiting for m: a scenario damaged it on purpose, and the
// relay is expected to set it aside rather than deliver it.
func (l *ledger) excuse(m planned) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.excused[m.to]++
}

func (l *ledger) sending(id string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.sentAt[id]; !ok {
		l.sentAt[id] = at
	}
	if l.first.IsZero() || at.Before(l.first) {
		l.first = at
	}
}

func (l *ledger) ack(m planned) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.acked[m.id] {
		l.acked[m.id] = true
		l.ackedTo[m.to]++
	}
}

// deliver records a message handed to its recipient's application.
func (l *ledger) deliver(m planned, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.delivered[m.id]++
	if l.delivered[m.id] > 1 {
		return
	}
	l.receivedBy[m.to]++
	l.latencies = append(l.latencies, at.Sub(l.sentAt[m.id]))
	if at.After(l.last) {
		l.last = at
	}
}

func (l *ledger) mismatch() {
	l.mu.Lock()
	l.wrong++
	l.mu.Unlock()
}

// complete says whether every device received every message acknowledged
// to it so far, but for those excused.
func (l *ledger) complete() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, n := range l.ackedTo {
		if l.receivedBy[i]+l.excused[i] < n {
			return false
		}
	}
	return true
}

// Counts is what a run's ledger says about its messages. Lost counts
// acknowledged messages never delivered; Duplicates counts deliveries to
// the application beyond the first of a message; Wrong counts deliveries
// that did not open or did not match what was sent.
type Counts struct {
	Sent, Acknowledged, Delivered, Lost, Duplicates, Wrong int
}

func (l *ledger) counts() Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := Counts{Sent: len(l.sentAt), Acknowledged: len(l.acked), Delivered: len(l.delivered), Wrong: l.wrong}
	for id := range l.acked {
		if l.delivered[id] == 0 {
			c.Lost++
		}
	}
	for _, n := range l.delivered {
		c.Duplicates += n - 1
	}
	return c
}

// quantiles returns the 50th and 99th percentile delivery latencies
// (nearest rank).
func (l *ledger) quantiles() (p50, p99 time.Duration) {
	l.mu.Lock()
	lat := slices.Clone(l.latencies)
	l.mu.Unlock()
	if len(lat) == 0 {
		return 0, 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rank := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	return rank(0.50), rank(0.99)
}

// device is one user of a mode with two connections: one sends, one waits
// for mail (a request on a connection blocks it).
type device struct {
	user scanlab.UserID
	mu   sync.Mutex // a mode's device is not safe for concurrent Seal and Open
	dev  scanlab.Device
	send *relay.Client
	recv *relay.Client
}

func (d *device) close() {
	if d.send != nil {
		d.send.Close()
	}
	if d.recv != nil {
		d.recv.Close()
	}
}

// fleet is every device of a run.
type fleet struct {
	devices []*device
}

func (f *fleet) close() {
	for _, d := range f.devices {
		d.close()
	}
}

// reconnects counts the reconnections of every device's connections.
func (f *fleet) reconnects() int {
	n := 0
	for _, d := range f.devices {
		n += d.send.Reconnects() + d.recv.Reconnects()
	}
	return n
}

// dialFleet connects every user to the relay at addr and makes its mode
// device, 32 at a time.
func dialFleet(addr string, roots *x509.CertPool, mode scanlab.Mode, us []scanlab.UserID, opts relay.ClientOptions) (*fleet, error) {
	f := &fleet{devices: make([]*device, len(us))}
	errs := make([]error, len(us))
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i, u := range us {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			f.devices[i], errs[i] = dialDevice(addr, roots, mode, u, opts)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

func dialDevice(addr string, roots *x509.CertPool, mode scanlab.Mode, u scanlab.UserID, opts relay.ClientOptions) (*device, error) {
	d := &device{user: u}
	if opts.Cert == nil {
		cert, err := pki.DeviceCert(string(u))
		if err != nil {
			return nil, err
		}
		opts.Cert = &cert
	}
	var err error
	if d.send, err = relay.DialWith(addr, roots, u, opts); err != nil {
		return nil, fmt.Errorf("stress: %s: %w", u, err)
	}
	if d.recv, err = relay.DialWith(addr, roots, u, opts); err != nil {
		d.close()
		return nil, fmt.Errorf("stress: %s: %w", u, err)
	}
	if d.dev, err = mode.NewDevice(u, d.send.Directory()); err != nil {
		d.close()
		return nil, fmt.Errorf("stress: %s: %w", u, err)
	}
	return d, nil
}

// pace is how a device sends: the j-th message not before start + offset
// + j·interval (as soon as the window allows if interval is 0), with up to
// window sends outstanding, until done closes. Devices' offsets spread
// them over one interval, so that together they send at an even rate
// rather than in bursts.
type pace struct {
	start    time.Time
	offset   time.Duration
	interval time.Duration
	window   int
	done     <-chan struct{}
}

// at is when message j is due.
func (pc pace) at(j int) time.Time {
	return pc.start.Add(pc.offset + time.Duration(j)*pc.interval)
}

// due waits until message j may go; false if done closed first.
func (pc pace) due(j int) bool {
	if pc.interval > 0 {
		if wait := time.Until(pc.at(j)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-pc.done:
				return false
			}
		}
	}
	select {
	case <-pc.done:
		return false
	default:
		return true
	}
}

// isDue says whether message j may go now.
func (pc pace) isDue(j int) bool {
	return pc.interval == 0 || !time.Now().Before(pc.at(j))
}

// inflight is a message sent and not yet acknowledged.
type inflight struct {
	m  planned
	ps *relay.PendingSend
}

// sender sends device i's planned messages in order at pace pc: each time
// the window has room it seals every message that is due (as many as the
// room allows) and writes them at once (relay.Client.SendAsync); another
// goroutine waits for the receipts in order. A message whose send fails is
// not repeated beyond the client's own retries: the row counts it sent
// and not acknowledged.
func sender(f *fleet, p plan, i int, l *ledger, pc pace) {
	d := f.devices[i]
	window := max(pc.window, 1)
	slots := make(chan struct{}, window)
	sent := make(chan inflight, window)
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		for in := range sent {
			if _, err := in.ps.Wait(); err == nil {
				l.ack(in.m)
			}
			<-slots
		}
	}()
	defer func() { close(sent); <-acked }()
	msgs := p.msgs[i]
	for j := 0; j < len(msgs); {
		if !pc.due(j) {
			return
		}
		slots <- struct{}{}
		batch := []planned{msgs[j]}
		for j+len(batch) < len(msgs) && pc.isDue(j+len(batch)) && tryTake(slots) {
			batch = append(batch, msgs[j+len(batch)])
		}
		j += len(batch)
		ins := d.post(p, l, batch)
		for range len(batch) - len(ins) {
			<-slots // messages that did not seal
		}
		for _, in := range ins {
			sent <- in
		}
	}
}

// tryTake takes a slot if one is free.
func tryTake(slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// post seals ms and writes them to the relay at once. A message that does
// not seal is counted sent and never acknowledged, and left out.
func (d *device) post(p plan, l *ledger, ms []planned) []inflight {
	var es []scanlab.Envelope
	var ok []planned
	for _, m := range ms {
		now := time.Now()
		l.sending(m.id, now)
		d.mu.Lock()
		e, err := d.dev.Seal(scanlab.Message{ID: m.id, From: d.user, To: p.users[m.to], Sent: now, Content: scanlab.Content{Kind: scanlab.Text, Text: m.text}})
		d.mu.Unlock()
		if err != nil {
			continue
		}
		es, ok = append(es, e), append(ok, m)
	}
	if len(es) == 0 {
		return nil
	}
	pss := d.send.SendAsync(es...)
	out := make([]inflight, len(pss))
	for k, ps := range pss {
		out[k] = inflight{ok[k], ps}
	}
	return out
}

// receiver hands device i's mail to its application until stop closes:
// every message is opened and compared with the plan, then acknowledged.
func receiver(f *fleet, p plan, i int, l *ledger, stop <-chan struct{}) {
	d := f.devices[i]
	for {
		select {
		case <-stop:
			return
		default:
		}
		ds, err := d.recv.Receive(256, 200*time.Millisecond)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		seqs := make([]uint64, 0, len(ds))
		for _, dl := range ds {
			d.mu.Lock()
			msg, err := d.dev.Open(dl.Envelope)
			d.mu.Unlock()
			at := time.Now()
			m, planned := p.byID[dl.Envelope.ID]
			switch {
			case err != nil || !planned || m.to != i || msg.Content.Text != m.text || (msg.From != "" && msg.From != p.users[m.from]):
				l.mismatch()
			default:
				l.deliver(m, at)
			}
			seqs = append(seqs, dl.Seq)
		}
		d.recv.AckNext(seqs...)
	}
}

// traffic runs every sender and receiver of a fleet: senders to the end
// of the plan at pace pc (its start is set here), then receivers until
// every acknowledged message arrived or drain passes.
func traffic(f *fleet, p plan, l *ledger, pc pace, drain time.Duration) {
	stop := make(chan struct{})
	var recv, send sync.WaitGroup
	for i := range f.devices {
		recv.Go(func() { receiver(f, p, i, l, stop) })
	}
	pc.start = time.Now()
	for i := range f.devices {
		dpc := pc
		dpc.offset = pc.interval * time.Duration(i) / time.Duration(len(f.devices))
		send.Go(func() { sender(f, p, i, l, dpc) })
	}
	send.Wait()
	deadline := time.Now().Add(drain)
	for !l.complete() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	recv.Wait()
	for _, d := range f.devices {
		d.recv.FlushAcks()
	}
}

// keyName makes a name safe for files from a mode name.
func keyName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, strings.ToLower(s))
}
