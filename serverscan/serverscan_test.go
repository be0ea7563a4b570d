package serverscan

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"scanlab"
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
		rc, err := ca.Send(env)
		if err != nil {
			t.Fatal(err)
		}
		if got := rc.Detections == 1; got != c.harmful {
			t.Errorf("%s: detections %d, harmful %v", c.id, rc.Detections, c.harmful)
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
