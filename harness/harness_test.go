package harness_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"scanlab"
	"scanlab/harness"
	"scanlab/internal/testimg"
	"scanlab/modes"
	"scanlab/perceptual"
)

// workload is a small seeded workload that exercises every pathway the
// modes have: harmful and benign texts, listed and unlisted images (one
// sender sends enough listed images to cross clientscan's threshold), and
// reports.
type workload struct {
	cfg      modes.Config
	messages []scanlab.Message
	reported map[string]bool
	start    time.Time
}

func newWorkload(t *testing.T, seed uint64) workload {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	var listed [][]byte
	var cfg modes.Config
	for i := range 4 {
		img := testimg.Rectangles(100+i, 0, 128)
		s, err := perceptual.ScanImage(img)
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, img)
		cfg.List = append(cfg.List, s.Hash)
		cfg.Labels = append(cfg.Labels, fmt.Sprintf("listed-%d", i))
	}
	cfg.Clientscan = modes.Clientscan{Threshold: 2, Seed: seed, TableFactor: 16}
	users := []scanlab.UserID{"ann", "bob", "cat", "dan", "eve"}
	texts := []string{
		"are we still on for football practice tomorrow",
		"send me more pics or I will share your photos with everyone at school",
		"mum says dinner is at seven",
		"you should just kill yourself, nobody would miss you",
	}
	w := workload{cfg: cfg, reported: map[string]bool{}, start: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	for i := range 40 {
		from := users[r.IntN(len(users))]
		to := users[r.IntN(len(users))]
		for to == from {
			to = users[r.IntN(len(users))]
		}
		c := scanlab.Content{Kind: scanlab.Text, Text: texts[r.IntN(len(texts))]}
		switch {
		case from == "eve" && i%2 == 0:
			c = scanlab.Content{Kind: scanlab.Image, Image: listed[r.IntN(len(listed))]}
		case r.IntN(4) == 0:
			c = scanlab.Content{Kind: scanlab.Image, Image: testimg.Rectangles(1000+i, 0, 96)}
		}
		id := fmt.Sprintf("m%02d", i)
		w.messages = append(w.messages, scanlab.Message{ID: id, From: from, To: to, Sent: w.start.Add(time.Duration(i) * time.Minute), Content: c})
		w.reported[id] = r.IntN(3) == 0
	}
	return w
}

// outcome is what a run produced, without timings.
type outcome struct {
	delivered  []string // "recipient:ID:content digest"
	detections []scanlab.Detection
	prevented  []string
}

// run sends the workload through mode over one transport: each message is
// sent, delivered at once and reported when the workload says so.
func (wl workload) run(t *testing.T, name string, tr harness.Transport) outcome {
	t.Helper()
	m, err := modes.New(name, wl.cfg)
	if err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64 // the workload's time in Unix nanoseconds; the relay reads it concurrently
	clock.Store(wl.start.UnixNano())
	w, err := harness.New(harness.Options{
		Mode: m, Transport: tr, StateDir: t.TempDir(), NoSync: true,
		Now:   func() time.Time { return time.Unix(0, clock.Load()).UTC() },
		Admit: func(from, to scanlab.UserID) bool { return !(from == "dan" && to == "ann") },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var out outcome
	for _, msg := range wl.messages {
		clock.Store(msg.Sent.UnixNano())
		s, err := w.Send(msg)
		if err != nil {
			t.Fatalf("send %s: %v", msg.ID, err)
		}
		if s.Prevented {
			out.prevented = append(out.prevented, msg.ID)
			continue
		}
		b, err := w.Deliver(msg.To, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range b.Messages {
			out.delivered = append(out.delivered, fmt.Sprintf("%s:%s:%x", msg.To, d.Message.ID, sha256.Sum256(append([]byte(d.Message.Content.Text), d.Message.Content.Image...))))
			if wl.reported[d.Message.ID] {
				if _, err := w.Report(msg.To, d.Message); err != nil {
					t.Fatalf("report %s: %v", d.Message.ID, err)
				}
			}
		}
	}
	out.detections = w.Detections()
	for i := range out.detections {
		out.detections[i].At = out.detections[i].At.UTC()
	}
	return out
}

// TestTransportsAgree runs one seeded workload through every mode over both
// transports and requires the same deliveries, preventions and detections.
func TestTransportsAgree(t *testing.T) {
	wl := newWorkload(t, 7)
	for _, name := range modes.Names {
		t.Run("mode="+name, func(t *testing.T) {
			mem := wl.run(t, name, harness.InProcess)
			rel := wl.run(t, name, harness.Relay)
			if len(mem.delivered) == 0 || len(mem.prevented) == 0 {
				t.Fatalf("workload too thin: %d delivered, %d prevented", len(mem.delivered), len(mem.prevented))
			}
			if !slices.Equal(mem.delivered, rel.delivered) {
				t.Errorf("deliveries differ:\nin-process %v\nrelay      %v", mem.delivered, rel.delivered)
			}
			if !slices.Equal(mem.prevented, rel.prevented) {
				t.Errorf("preventions differ: %v vs %v", mem.prevented, rel.prevented)
			}
			if !reflect.DeepEqual(mem.detections, rel.detections) {
				t.Errorf("detections differ:\nin-process %+v\nrelay      %+v", mem.detections, rel.detections)
			}
			pathways := map[scanlab.Pathway]bool{}
			for _, d := range mem.detections {
				pathways[d.Pathway] = true
			}
			t.Logf("%d delivered, %d prevented, detections by pathway %v", len(mem.delivered), len(mem.prevented), pathways)
			if !pathways[scanlab.UserReport] {
				t.Error("no verified report: the workload does not exercise reports")
			}
		})
	}
}

// TestSendAsAnotherUser checks both transports refuse a device sending in
// another user's name.
func TestSendAsAnotherUser(t *testing.T) {
	for _, tr := range []harness.Transport{harness.InProcess, harness.Relay} {
		t.Run("transport="+tr.String(), func(t *testing.T) {
			m, _ := modes.New("serverscan", modes.Config{})
			w, err := harness.New(harness.Options{Mode: m, Transport: tr, StateDir: t.TempDir(), NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			d, err := w.Device("mallory")
			if err != nil {
				t.Fatal(err)
			}
			env, err := d.Seal(scanlab.Message{ID: "x", From: "mallory", To: "bob", Content: scanlab.Content{Kind: scanlab.Text, Text: "hi"}})
			if err != nil {
				t.Fatal(err)
			}
			env.From = "alice"
			if _, err := w.Device("alice"); err != nil {
				t.Fatal(err)
			}
			// A forged envelope goes through mallory's own link.
			if _, err := harness.SendEnvelope(w, "mallory", env); err == nil {
				t.Fatal("a device sent in another user's name")
			}
		})
	}
}
