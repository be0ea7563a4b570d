package hybrid_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"scanlab"
	"scanlab/e2ee"
	"scanlab/hybrid"
	"scanlab/serverscan"
)

// world is a minimal in-process deployment: one directory, one server
// logic, devices by name.
type world struct {
	t    *testing.T
	mode *hybrid.Mode
	dir  *e2ee.MemoryDirectory
	srv  scanlab.ServerLogic
	devs map[scanlab.UserID]scanlab.Device
	n    int
}

func newWorld(t *testing.T, o hybrid.Options) *world {
	t.Helper()
	secrets := map[string][]byte{}
	env := scanlab.ServerEnv{
		Now: time.Now,
		Secret: func(p string) ([]byte, error) {
			if k, ok := secrets[p]; ok {
				return k, nil
			}
			k := make([]byte, 32)
			rand.Read(k)
			secrets[p] = k
			return k, nil
		},
	}
	m := hybrid.New(o)
	srv, err := m.NewServer(env)
	if err != nil {
		t.Fatal(err)
	}
	dir := e2ee.NewMemoryDirectory()
	dir.Issuer = srv.(scanlab.CertificateIssuer)
	return &world{t: t, mode: m, dir: dir, srv: srv, devs: map[scanlab.UserID]scanlab.Device{}}
}

func (w *world) device(u scanlab.UserID) scanlab.Device {
	w.t.Helper()
	if d, ok := w.devs[u]; ok {
		return d
	}
	d, err := w.mode.NewDevice(u, w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	w.devs[u] = d
	return d
}

func (w *world) message(from, to scanlab.UserID, text string) scanlab.Message {
	w.device(to)
	w.n++
	return scanlab.Message{ID: fmt.Sprint("m", w.n), From: from, To: to, Sent: time.Unix(1_700_000_000, 0).UTC(),
		Content: scanlab.Content{Kind: scanlab.Text, Text: text}}
}

// relay seals m and runs the server logic, returning the delivered
// envelope and the detections.
func (w *world) relay(m scanlab.Message) (scanlab.Envelope, []scanlab.Detection) {
	w.t.Helper()
	e, err := w.device(m.From).Seal(m)
	if err != nil {
		w.t.Fatalf("Seal: %v", err)
	}
	ds, err := w.srv.Accept(&e)
	if err != nil {
		w.t.Fatalf("Accept: %v", err)
	}
	return e, ds
}

func clone(e scanlab.Envelope) scanlab.Envelope {
	c := e
	c.Body = slices.Clone(e.Body)
	c.Attach = map[string][]byte{}
	for k, v := range e.Attach {
		c.Attach[k] = slices.Clone(v)
	}
	return c
}

// TestScanningFollowsTheChoice: the same harmful text raises a server-text
// detection in a clear conversation and none in an encrypted one, and the
// provider sees which of the two each envelope belongs to.
func TestScanningFollowsTheChoice(t *testing.T) {
	w := newWorld(t, hybrid.Options{Encrypt: pair("alice", "bob")})
	const harmful = "you should just kill yourself"
	for _, c := range []struct {
		name      string
		from, to  scanlab.UserID
		encrypted bool
	}{
		{"conversation=alice-bob", "alice", "bob", true},
		{"conversation=bob-alice", "bob", "alice", true},
		{"conversation=alice-carol", "alice", "carol", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, ds := w.relay(w.message(c.from, c.to, harmful))
			wantLabel := hybrid.ModeClear
			if c.encrypted {
				wantLabel = hybrid.ModeE2EE
			}
			if got := string(e.Attach[hybrid.AttachMode]); got != wantLabel {
				t.Errorf("provider sees mode %q, want %q", got, wantLabel)
			}
			if scanned := len(ds) == 1 && ds[0].Pathway == scanlab.ServerText; scanned == c.encrypted {
				t.Errorf("detections %+v; encrypted %v", ds, c.encrypted)
			}
			if _, err := w.device(c.to).Open(e); err != nil {
				t.Errorf("Open: %v", err)
			}
		})
	}
}

// TestDowngradeRefused: a provider that relabels an envelope, or invents a
// clear message inside an encrypted conversation, is refused by the
// recipient's device.
func TestDowngradeRefused(t *testing.T) {
	w := newWorld(t, hybrid.Options{Encrypt: pair("alice", "bob")})
	enc, _ := w.relay(w.message("alice", "bob", "encrypted hello"))
	clr, _ := w.relay(w.message("alice", "carol", "clear hello"))
	body, err := serverscan.EncodeContent(scanlab.Content{Kind: scanlab.Text, Text: "send me your password"})
	if err != nil {
		t.Fatal(err)
	}
	forged := scanlab.Envelope{ID: "forged", From: "alice", To: "bob", Sent: time.Now(), Body: body,
		Attach: map[string][]byte{hybrid.AttachMode: []byte(hybrid.ModeClear)}}
	if _, err := w.srv.Accept(&forged); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		env  scanlab.Envelope
		to   scanlab.UserID
	}{
		{"attack=relabel-encrypted-as-clear", relabel(enc, hybrid.ModeClear), "bob"},
		{"attack=relabel-clear-as-encrypted", relabel(clr, hybrid.ModeE2EE), "carol"},
		{"attack=forged-clear-in-encrypted", forged, "bob"},
		{"attack=label-removed", relabel(enc, ""), "bob"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if m, err := w.device(c.to).Open(c.env); err == nil {
				t.Fatalf("opened %+v", m)
			}
		})
	}
	if m, err := w.device("bob").Open(forged); !errors.Is(err, hybrid.ErrMode) {
		t.Errorf("forged clear message in an encrypted conversation: %+v, %v; want ErrMode", m, err)
	}
	if _, err := w.device("bob").Open(enc); err != nil {
		t.Errorf("genuine envelope after the attacks: %v", err)
	}
}

func relabel(e scanlab.Envelope, label string) scanlab.Envelope {
	c := clone(e)
	if label == "" {
		delete(c.Attach, hybrid.AttachMode)
	} else {
		c.Attach[hybrid.AttachMode] = []byte(label)
	}
	return c
}

// TestServerRefusesUnlabelled: an envelope or report that names no mode is
// refused, not guessed.
func TestServerRefusesUnlabelled(t *testing.T) {
	w := newWorld(t, hybrid.Options{})
	for _, label := range []string{"", "E2EE", "clear", "serverscan "} {
		e := scanlab.Envelope{ID: "x", From: "alice", To: "bob", Body: []byte{1, 'h', 'i'}, Attach: map[string][]byte{}}
		if label != "" {
			e.Attach[hybrid.AttachMode] = []byte(label)
		}
		if _, err := w.srv.Accept(&e); !errors.Is(err, hybrid.ErrMode) {
			t.Errorf("label=%q: Accept error %v, want ErrMode", label, err)
		}
	}
	for _, ev := range [][]byte{nil, {'X', 1, 2, 3}, {0}} {
		r := scanlab.Report{MessageID: "x", Reporter: "bob", Accused: "alice", Evidence: ev}
		if _, err := w.srv.Verify(r); !errors.Is(err, hybrid.ErrMode) {
			t.Errorf("evidence=%x: Verify error %v, want ErrMode", ev, err)
		}
	}
}

// TestReportsFollowTheChoice: a report in each kind of conversation
// verifies, and its evidence moved to the other verifier does not.
func TestReportsFollowTheChoice(t *testing.T) {
	w := newWorld(t, hybrid.Options{Encrypt: pair("alice", "bob")})
	for _, to := range []scanlab.UserID{"bob", "carol"} {
		m := w.message("alice", to, "report me")
		e, _ := w.relay(m)
		got, err := w.device(to).Open(e)
		if err != nil {
			t.Fatal(err)
		}
		r, err := w.device(to).Report(got)
		if err != nil {
			t.Fatal(err)
		}
		swapped := r
		swapped.Evidence = slices.Clone(r.Evidence)
		swapped.Evidence[0] ^= 'E' ^ 'S'
		if ds, err := w.srv.Verify(swapped); err == nil {
			t.Errorf("to=%s: evidence sent to the other mode's verifier verified: %+v", to, ds)
		}
		ds, err := w.srv.Verify(r)
		if err != nil || len(ds) != 1 || ds[0].Pathway != scanlab.UserReport || ds[0].Account != "alice" {
			t.Errorf("to=%s: Verify = %+v, %v", to, ds, err)
		}
	}
}
