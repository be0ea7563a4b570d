package serverscan

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"scanlab"
	"scanlab/internal/testimg"
	"scanlab/perceptual"
	"scanlab/relay"
)

// TestThroughRelay sends texts through a real TLS relay running the mode's
// server logic and checks delivery, detections and report verification.
func TestThroughRelay(t *testing.T) {
	m := New(Options{})
	r, err := relay.Start(relay.Config{DBPath: filepath.Join(t.TempDir(), "relay.db"), Logic: m.NewServer})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ca, cb := dial(t, r, "alice"), dial(t, r, "bob")
	da, _ := m.NewDevice("alice", ca.Directory())
	db, _ := m.NewDevice("bob", cb.Directory())
	msgs := []struct {
		id, text string
		harmful  bool
	}{
		{"m-benign", "see you at practice tomorrow", false},
		{"m-confuser", "this workout will kill me", false},
		{"m-harmful", "you should just kill yourself", true},
		{"m-obfuscated", "y0u sh0uld just k i l l y0urself", true},
	}
	for _, c := range msgs {
		env, err := da.Seal(scanlab.Message{ID: c.id, From: "alice", To: "bob", Sent: time.Now(), Content: scanlab.Content{Kind: scanlab.Text, Text: c.text}})
		if err != nil {
			t.Fatal(err)
		}
		before := len(r.Detections())
		if _, err := ca.Send(env); err != nil {
			t.Fatal(err)
		}
		if got := len(r.Detections()) - before; (got == 1) != c.harmful {
			t.Errorf("%s: %d detections, harmful %v", c.id, got, c.harmful)
		}
	}
	flagged := map[string]scanlab.Pathway{}
	for _, d := range r.Detections() {
		flagged[d.MessageID] = d.Pathway
	}
	if flagged["m-harmful"] != scanlab.ServerText || flagged["m-obfuscated"] != scanlab.ServerText || len(flagged) != 2 {
		t.Fatalf("detections: %v", flagged)
	}
	ds, err := cb.Fetch(10)
	if err != nil || len(ds) != len(msgs) {
		t.Fatalf("fetched %d, %v", len(ds), err)
	}
	got, err := db.Open(ds[2].Envelope)
	if err != nil || got.Content.Text != msgs[2].text {
		t.Fatalf("open: %+v %v", got, err)
	}
	// A true report is verified; an altered one is refused.
	rep, _ := db.Report(got)
	if n, err := cb.Report(rep); err != nil || n != 1 {
		t.Fatalf("true report: %d %v", n, err)
	}
	forged := rep
	forged.Evidence = append([]byte(nil), rep.Evidence...)
	forged.Evidence[len(forged.Evidence)-1] ^= 1
	if _, err := cb.Report(forged); err == nil {
		t.Fatal("altered report verified")
	}
	framed := rep
	framed.Accused = "carol"
	if _, err := cb.Report(framed); err == nil {
		t.Fatal("report against someone who did not send the message verified")
	}
}

func dial(t *testing.T, r *relay.Relay, u scanlab.UserID) *relay.Client {
	c, err := relay.Dial(r.Addr(), r.CA().Pool(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestContentEncoding(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		ok   bool
	}{
		{"text", []byte{1, 'h', 'i'}, true},
		{"image", []byte{2, 0x89, 'P', 'N', 'G'}, true},
		{"empty", nil, false},
		{"unknown-kind", []byte{7, 'x'}, false},
		{"invalid-utf8", []byte{1, 0xff, 0xfe}, false},
	}
	for _, c := range cases {
		t.Run("body="+c.name, func(t *testing.T) {
			got, err := DecodeContent(c.body)
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrBody) {
				t.Fatalf("error does not wrap ErrBody: %v", err)
			}
			if c.ok {
				re, _ := EncodeContent(got)
				if string(re) != string(c.body) {
					t.Fatalf("round trip %x → %x", c.body, re)
				}
			}
		})
	}
}

func FuzzDecodeContent(f *testing.F) {
	f.Add([]byte{1, 'h', 'i'})
	f.Add([]byte{2, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeContent(b)
		if err != nil {
			return
		}
		re, err := EncodeContent(c)
		if err != nil || string(re) != string(b) {
			t.Fatalf("round trip differs")
		}
	})
}

// TestImageMatching checks the PDQ scanner: a listed image and a slightly
// re-encoded copy match, an unrelated image does not, and a non-image is an
// error that does not block delivery.
func TestImageMatching(t *testing.T) {
	listed := testImage(1, 0)
	nearCopy := testImage(1, 6) // the same picture with mild noise
	other := testImage(2, 0)
	img, err := perceptual.DecodeImage(listed, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, q := perceptual.PDQ(img)
	if q < perceptual.MinQuality {
		t.Fatalf("test image quality %d is below the gate", q)
	}
	s := NewPDQScanner([]perceptual.Hash{h}, []string{"known-1"})
	cases := []struct {
		name string
		data []byte
		hit  bool
		err  bool
	}{
		{"listed", listed, true, false},
		{"near-copy", nearCopy, true, false},
		{"other", other, false, false},
		{"not-an-image", []byte("hello"), false, true},
	}
	for _, c := range cases {
		t.Run("image="+c.name, func(t *testing.T) {
			v, err := s.ScanImage(c.data)
			if (err != nil) != c.err || v.Hit != c.hit {
				t.Fatalf("verdict %+v err %v; want hit=%v err=%v", v, err, c.hit, c.err)
			}
			if v.Hit && (v.Rule != "known-1" || v.Distance > perceptual.MatchThreshold) {
				t.Fatalf("match %+v", v)
			}
		})
	}
	if !strings.Contains(string(s.List()), h.String()) {
		t.Fatal("List does not hold the hash")
	}
	// Through the mode's server logic, the detection is a server-hash one
	// with its distance recorded.
	var logged []string
	srv, err := New(Options{Image: s}).NewServer(scanlab.ServerEnv{Now: time.Now, Secret: testSecret,
		Record: func(route string, _ []byte, _ map[string]string) { logged = append(logged, route) }})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := EncodeContent(scanlab.Content{Kind: scanlab.Image, Image: nearCopy})
	dets, err := srv.Accept(&scanlab.Envelope{ID: "i1", From: "a", To: "b", Body: body})
	if err != nil || len(dets) != 1 || dets[0].Pathway != scanlab.ServerHash || dets[0].Distance < 0 {
		t.Fatalf("detections %+v %v", dets, err)
	}
	body, _ = EncodeContent(scanlab.Content{Kind: scanlab.Image, Image: []byte("junk")})
	if dets, err := srv.Accept(&scanlab.Envelope{ID: "i2", From: "a", To: "b", Body: body}); err != nil || len(dets) != 0 {
		t.Fatalf("undecodable image: %v %v", dets, err)
	}
	if len(logged) < 2 || logged[0] != "hash list loaded by the server's scanner" {
		t.Fatalf("provider's view: %v", logged)
	}
}

// testImage draws a deterministic test picture; noise > 0 alters it slightly.
func testImage(seed, noise int) []byte { return testimg.Rectangles(seed, noise, 128) }
