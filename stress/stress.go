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

// makePlan draws the workload of devices devices sending messages messages
// each, of bodySize bytes, from seed and the mode's name. Recipients are
// drawn uniformly among the other devices.
func makePlan(seed uint64, mode string, devices, messages, bodySize int) plan {
	h := fnv.New64a()
	h.Write([]byte(mode))
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	p := plan{users: make([]scanlab.UserID, devices), msgs: make([][]planned, devices), byID: map[string]planned{}}
	for i := range devices {
		p.users[i] = scanlab.UserID(fmt.Sprintf("%s-user-%05d", mode, i))
	}
	for i := range devices {
		for j := range messages {
			to := r.IntN(devices - 1)
			if to >= i {
				to++
			}
			text := make([]byte, bodySize)
			for k := range text {
				text[k] = filler[r.IntN(len(filler))]
			}
			m := planned{id: fmt.Sprintf("%s-m-%05d-%06d", mode, i, j), from: i, to: to, text: string(text)}
			p.msgs[i] = append(p.msgs[i], m)
			p.byID[m.id] = m
		}
	}
	return p
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

// dialFleet connects every planned user to the relay at addr and makes its
// mode device, 32 at a time.
func dialFleet(addr string, roots *x509.CertPool, mode scanlab.Mode, p plan, opts relay.ClientOptions) (*fleet, error) {
	f := &fleet{devices: make([]*device, len(p.users))}
	errs := make([]error, len(p.users))
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i, u := range p.users {
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

// sender sends device i's planned messages in order, the j-th not before
// start + j·interval (as fast as acknowledged if interval is 0), until done
// closes. A message whose send fails is not repeated: the row counts it
// sent and not acknowledged.
func sender(f *fleet, p plan, i int, l *ledger, start time.Time, interval time.Duration, done <-chan struct{}) {
	d := f.devices[i]
	for j, m := range p.msgs[i] {
		if interval > 0 {
			wait := time.Until(start.Add(time.Duration(j) * interval))
			if wait > 0 {
				select {
				case <-time.After(wait):
				case <-done:
					return
				}
			}
		}
		select {
		case <-done:
			return
		default:
		}
		now := time.Now()
		l.sending(m.id, now)
		d.mu.Lock()
		e, err := d.dev.Seal(scanlab.Message{ID: m.id, From: d.user, To: p.users[m.to], Sent: now, Content: scanlab.Content{Kind: scanlab.Text, Text: m.text}})
		d.mu.Unlock()
		if err != nil {
			continue
		}
		if _, err := d.send.Send(e); err == nil {
			l.ack(m)
		}
	}
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
// of the plan (or until abort closes), then receivers until every
// acknowledged message arrived or drain passes.
func traffic(f *fleet, p plan, l *ledger, interval, drain time.Duration, abort <-chan struct{}) {
	stop := make(chan struct{})
	var recv, send sync.WaitGroup
	for i := range f.devices {
		recv.Go(func() { receiver(f, p, i, l, stop) })
	}
	start := time.Now()
	for i := range f.devices {
		send.Go(func() { sender(f, p, i, l, start, interval, abort) })
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
