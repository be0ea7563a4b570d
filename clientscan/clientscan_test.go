package clientscan

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"scanlab"
	"scanlab/internal/testimg"
	"scanlab/observe"
	"scanlab/perceptual"
	"scanlab/relay"
)

// testImage draws a deterministic test picture; noise > 0 alters it slightly.
func testImage(seed, noise int) []byte { return testimg.Rectangles(seed, noise, 96) }

// fixture holds decoded test images: their bytes, PDQ hashes and visual
// derivatives.
type fixture struct {
	data       [][]byte
	hashes     []perceptual.Hash
	derivative [][]byte
}

func newFixture(t testing.TB, seeds ...int) fixture {
	t.Helper()
	var f fixture
	for _, s := range seeds {
		b := testImage(s, 0)
		img, err := perceptual.DecodeImage(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		h, q := perceptual.PDQ(img)
		if q < perceptual.MinQuality {
			t.Fatalf("test image %d has quality %d", s, q)
		}
		f.data = append(f.data, b)
		f.hashes = append(f.hashes, h)
		f.derivative = append(f.derivative, VisualDerivative(img))
	}
	return f
}

func seeds(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

// providerView collects what the relay and the server logic record.
type providerView struct{ observe.Log }

func (v *providerView) holds(t *testing.T, pattern []byte) []observe.Evidence {
	t.Helper()
	ev, err := v.Open()
	if err != nil {
		t.Fatal(err)
	}
	var out []observe.Evidence
	for _, e := range ev {
		if bytes.Contains(e.Data, pattern) {
			out = append(out, e)
		}
	}
	return out
}

func (v *providerView) routes(t *testing.T, route string) []observe.Evidence {
	t.Helper()
	ev, err := v.Open()
	if err != nil {
		t.Fatal(err)
	}
	var out []observe.Evidence
	for _, e := range ev {
		if e.Route == route {
			out = append(out, e)
		}
	}
	return out
}

// world is a relay running the mode with two connected devices.
type world struct {
	m          *Mode
	r          *relay.Relay
	view       *providerView
	srv        *Server
	ca, cb     *relay.Client
	alice, bob *Device
	n          int
}

func newWorld(t *testing.T, m *Mode) *world {
	t.Helper()
	w := &world{m: m, view: &providerView{}}
	var once sync.Mutex
	r, err := relay.Start(relay.Config{DBPath: filepath.Join(t.TempDir(), "relay.db"), NoSync: true,
		Observe: w.view.Record,
		Logic: func(env scanlab.ServerEnv) (scanlab.ServerLogic, error) {
			l, err := m.NewServer(env)
			if err != nil {
				return nil, err
			}
			once.Lock()
			w.srv = l.(*Server)
			once.Unlock()
			return l, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	w.r = r
	w.ca, w.cb = dial(t, r, "alice"), dial(t, r, "bob")
	w.alice, w.bob = deviceOf(t, m, "alice", w.ca.Directory()), deviceOf(t, m, "bob", w.cb.Directory())
	return w
}

// deviceOf makes a device of the mode for user.
func deviceOf(t testing.TB, m *Mode, user scanlab.UserID, dir scanlab.Directory) *Device {
	t.Helper()
	d, err := m.NewDevice(user, dir)
	if err != nil {
		t.Fatal(err)
	}
	return d.(*Device)
}

func dial(t *testing.T, r *relay.Relay, u scanlab.UserID) *relay.Client {
	t.Helper()
	c, err := relay.Dial(r.Addr(), r.CA().Pool(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// send seals and sends one message from alice to bob and returns its ID.
func (w *world) send(t *testing.T, c scanlab.Content) string {
	t.Helper()
	w.n++
	id := fmt.Sprintf("m-%03d", w.n)
	env, err := w.alice.Seal(scanlab.Message{ID: id, From: "alice", To: "bob", Sent: time.Now(), Content: c})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ca.Send(env); err != nil {
		t.Fatalf("send %s: %v", id, err)
	}
	return id
}

func img(b []byte) scanlab.Content { return scanlab.Content{Kind: scanlab.Image, Image: b} }
func txt(s string) scanlab.Content { return scanlab.Content{Kind: scanlab.Text, Text: s} }

func hashDetections(r *relay.Relay) map[string]scanlab.Detection {
	out := map[string]scanlab.Detection{}
	for _, d := range r.Detections() {
		if d.Pathway == scanlab.DeviceHash {
			out[d.MessageID] = d
		}
	}
	return out
}

// TestThresholdThroughRelay sends images through a real TLS relay: t
// matching images raise nothing and leave no visual derivative in the
// provider's view; the (t+1)-th raises device-hash detections for exactly
// the matching messages and puts their derivatives, and nothing of the
// benign images, into the view. Recipients decrypt everything; the
// provider reads no content.
func TestThresholdThroughRelay(t *testing.T) {
	const th = 3
	listed := newFixture(t, seeds(1, th+2)...)
	benign := newFixture(t, seeds(100, 3)...)
	labels := []string{"k1", "k2", "k3", "k4", "k5"}
	m := fullMode(t, Options{List: listed.hashes, Labels: labels, Threshold: th, SyntheticRate: -1})
	w := newWorld(t, m)

	token := "tok-5f1c0a9e77"
	sent := map[string]scanlab.Content{}
	var matching, benignIDs []string
	sendImg := func(b []byte, match bool) {
		id := w.send(t, img(b))
		sent[id] = img(b)
		if match {
			matching = append(matching, id)
		} else {
			benignIDs = append(benignIDs, id)
		}
	}
	id := w.send(t, txt("see you at practice "+token))
	sent[id] = txt("see you at practice " + token)
	for i := range th {
		sendImg(listed.data[i], true)
		sendImg(benign.data[i%len(benign.data)], false)
	}
	if d := hashDetections(w.r); len(d) != 0 {
		t.Fatalf("detections at t=%d matches: %v", th, d)
	}
	for i := range th {
		if ev := w.view.holds(t, listed.derivative[i]); len(ev) != 0 {
			t.Fatalf("derivative of matching image %d in the provider's view below the threshold: %s", i, ev[0].Route)
		}
	}
	if v := w.srv.Account("alice"); v.Matches != th || v.Revealed || v.Real != 0 {
		t.Fatalf("account view below threshold: %+v", v)
	}
	if got := len(w.view.routes(t, RouteVouchers)); got != 2*th {
		t.Fatalf("%d voucher records, want %d", got, 2*th)
	}

	// The (t+1)-th match crosses the threshold.
	sendImg(listed.data[th], true)
	dets := hashDetections(w.r)
	if len(dets) != th+1 {
		t.Fatalf("%d detections after t+1 matches, want %d: %v", len(dets), th+1, dets)
	}
	for i, id := range matching {
		d, ok := dets[id]
		if !ok || d.Account != "alice" || d.Distance != 0 || d.Rule != labels[i] {
			t.Fatalf("detection of %s: %+v (present %v)", id, d, ok)
		}
		ev := w.view.holds(t, listed.derivative[i])
		if len(ev) != 1 || ev[0].Route != RouteOpened || ev[0].Fields["verdict-message"] != id || ev[0].Fields["message"] != id {
			t.Fatalf("derivative of %s in the view: %+v", id, ev)
		}
		if len(w.view.holds(t, listed.hashes[i][:])) != 1 {
			t.Fatalf("hash of %s not opened exactly once", id)
		}
	}
	// A match after the reveal is opened as it arrives.
	sendImg(listed.data[th+1], true)
	if d := hashDetections(w.r); len(d) != th+2 {
		t.Fatalf("%d detections after a post-reveal match", len(d))
	}
	// Benign images never open.
	for i := range benign.data {
		if ev := w.view.holds(t, benign.derivative[i]); len(ev) != 0 {
			t.Fatalf("benign derivative %d in the provider's view: %s", i, ev[0].Route)
		}
		if ev := w.view.holds(t, benign.hashes[i][:]); len(ev) != 0 {
			t.Fatalf("benign hash %d in the provider's view: %s", i, ev[0].Route)
		}
	}
	for _, id := range benignIDs {
		if _, ok := dets[id]; ok {
			t.Fatalf("benign %s detected", id)
		}
	}
	if v := w.srv.Account("alice"); !v.Revealed || v.Real != th+2 || v.Vouchers != 2*th+2 {
		t.Fatalf("account view after reveal: %+v", v)
	}
	if st := w.srv.Stats(); st.FalseCandidates != 0 || st.Malformed != 0 || st.Detections != th+2 {
		t.Fatalf("server stats: %+v", st)
	}

	// E2EE holds: the recipient decrypts everything, receives no voucher,
	// and the provider's view holds no text and no image.
	ds, err := w.cb.Fetch(100)
	if err != nil || len(ds) != len(sent) {
		t.Fatalf("fetched %d of %d: %v", len(ds), len(sent), err)
	}
	for _, d := range ds {
		if _, ok := d.Envelope.Attach[AttachVoucher]; ok {
			t.Fatalf("%s delivered with its voucher", d.Envelope.ID)
		}
		msg, err := w.bob.Open(d.Envelope)
		if err != nil {
			t.Fatalf("open %s: %v", d.Envelope.ID, err)
		}
		if want := sent[msg.ID]; msg.Content.Kind != want.Kind || msg.Content.Text != want.Text || !bytes.Equal(msg.Content.Image, want.Image) {
			t.Fatalf("%s decrypted to different content", msg.ID)
		}
	}
	if ev := w.view.holds(t, []byte(token)); len(ev) != 0 {
		t.Fatalf("text token in the provider's view: %s", ev[0].Route)
	}
	for _, b := range slices.Concat(listed.data, benign.data) {
		if ev := w.view.holds(t, b[len(b)/2:len(b)/2+64]); len(ev) != 0 {
			t.Fatalf("image bytes in the provider's view: %s", ev[0].Route)
		}
	}
	if ev := w.view.routes(t, RouteList); len(ev) != 1 || !bytes.Contains(ev[0].Data, []byte(listed.hashes[0].String())) {
		t.Fatalf("the provider's list is not in its view: %d records", len(ev))
	}
}

// fullMode builds the mode and, like a provider re-drawing its nonces,
// rebuilds it until no list entry was dropped from the cuckoo table (about
// 1 in 50 small tables drops one), so that tests do not depend on the
// paper's δ false negatives. Unless the options say otherwise, the human
// reviewer never errs, so that tests can count detections exactly
// (TestReview covers the reviewer's errors).
func fullMode(t testing.TB, o Options) *Mode {
	t.Helper()
	if o.Review.ErrorRate == 0 {
		o.Review.ErrorRate = -1
	}
	for range 20 {
		m := New(o)
		if _, err := m.Published(); err != nil {
			t.Fatal(err)
		}
		if m.Dropped() == 0 {
			return m
		}
	}
	t.Fatal("every table dropped an entry")
	return nil
}

// TestPerAccountThreshold: two accounts send t matching images each,
// concurrently: 2t matches in all, but no account passes its threshold, so
// nothing is raised or opened; one more match from one account reveals that
// account only.
func TestPerAccountThreshold(t *testing.T) {
	const th = 3
	listed := newFixture(t, seeds(1, th+1)...)
	m := fullMode(t, Options{List: listed.hashes, Threshold: th, SyntheticRate: -1})
	w := newWorld(t, m)
	cc := dial(t, w.r, "carol")
	carol := deviceOf(t, m, "carol", cc.Directory())
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, s := range []struct {
		d *Device
		c *relay.Client
	}{{w.alice, w.ca}, {carol, cc}} {
		wg.Go(func() {
			for i := range th {
				env, err := s.d.Seal(scanlab.Message{ID: fmt.Sprintf("%s-%d", s.d.User(), i), From: s.d.User(), To: "bob", Sent: time.Now(), Content: img(listed.data[i])})
				if err == nil {
					_, err = s.c.Send(env)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if d := hashDetections(w.r); len(d) != 0 {
		t.Fatalf("detections with t matches per account: %v", d)
	}
	if ev := w.view.routes(t, RouteOpened); len(ev) != 0 {
		t.Fatalf("%d vouchers opened", len(ev))
	}
	env, err := carol.Seal(scanlab.Message{ID: "carol-last", From: "carol", To: "bob", Sent: time.Now(), Content: img(listed.data[th])})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Send(env); err != nil {
		t.Fatal(err)
	}
	dets := hashDetections(w.r)
	if len(dets) != th+1 {
		t.Fatalf("%d detections, want carol's %d", len(dets), th+1)
	}
	for _, d := range dets {
		if d.Account != "carol" {
			t.Fatalf("detection of %s's message %s", d.Account, d.MessageID)
		}
	}
	if v := w.srv.Account("alice"); v.Revealed || v.Matches != th {
		t.Fatalf("alice's view %+v", v)
	}
}
