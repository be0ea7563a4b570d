package modetest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"scanlab"
)

// The users of every world.
const (
	alice   scanlab.UserID = "alice"
	bob     scanlab.UserID = "bob"
	carol   scanlab.UserID = "carol"
	mallory scanlab.UserID = "mallory"
)

func checkRoundTrip(w *world) {
	for _, c := range []struct {
		name     string
		from, to scanlab.UserID
		content  scanlab.Content
	}{
		{"text", alice, bob, text("hello bob, see you at five")},
		{"empty-text", alice, bob, text("")},
		{"png", alice, bob, pngImage(1)},
		{"jpeg", alice, bob, jpegImage(w.t, 2)},
		{"reply-text", bob, alice, text("hi alice")},
		{"reply-png", bob, alice, pngImage(3)},
		{"after-reply", alice, bob, text("good")},
		{"third-party", carol, bob, text("hello from carol")},
	} {
		w.t.Logf("kind=%s: %s → %s, %d bytes", c.name, c.from, c.to, c.content.Size())
		w.send(c.from, c.to, c.content)
	}
}

func checkProviderOnly(w *world, caps Capabilities) {
	if len(caps.ProviderOnly) == 0 {
		w.t.Log("the mode declares no provider-only attachments")
	}
	sealedSeen := map[string]bool{}
	for _, c := range []scanlab.Content{text("hello"), pngImage(4), jpegImage(w.t, 5), text("again")} {
		for _, dir := range [][2]scanlab.UserID{{alice, bob}, {bob, alice}} {
			m := w.message(dir[0], dir[1], c)
			sealed, delivered := w.deliver(m)
			for _, name := range caps.ProviderOnly {
				if _, ok := sealed.Attach[name]; ok {
					sealedSeen[name] = true
				}
				if _, ok := delivered.Attach[name]; ok {
					w.t.Errorf("provider-only attachment %q of %s reaches the recipient", name, m.ID)
				}
			}
			w.open(delivered, m)
		}
	}
	for _, name := range caps.ProviderOnly {
		if !sealedSeen[name] {
			w.t.Errorf("provider-only attachment %q is on no sealed envelope, so this check cannot fail", name)
		}
	}
}

// checkReports: on one message, forged reports first (none may verify, and
// none may use up the message's report), then the genuine one and its
// replay; on a second, re-attributed reports; on a third, relayed before
// the server logic restarts, a report after the restart.
func checkReports(w *world) {
	w.device(carol)
	w.device(mallory)
	w.send(alice, bob, text("a first message"))
	w.send(bob, alice, text("a reply"))
	opened, delivered := w.send(alice, bob, text("the message bob reports"))
	other, _ := w.send(alice, bob, text("the message someone re-attributes"))
	before, _ := w.send(alice, bob, text("relayed before the restart"))
	sealed := delivered.From == ""
	r := w.report(opened)
	checkForgedReports(w, r)
	ds, err := w.srv.Verify(r)
	if err != nil {
		w.t.Fatalf("genuine report refused: %v", err)
	}
	checkDetections(w, ds, opened.ID, alice, sealed)
	if ds, err := w.srv.Verify(r); err == nil {
		w.t.Errorf("replayed report verified again: %+v", ds)
	}
	checkReattributed(w, w.report(other))
	w.startServer()
	ds, err = w.srv.Verify(w.report(before))
	if err != nil {
		w.t.Fatalf("report of a message relayed before the server restarted refused: %v", err)
	}
	checkDetections(w, ds, before.ID, alice, sealed)
}

// report makes the recipient's report of m.
func (w *world) report(m scanlab.Message) scanlab.Report {
	w.t.Helper()
	r, err := w.device(m.To).Report(m)
	if err != nil {
		w.t.Fatalf("Report %s: %v", m.ID, err)
	}
	return r
}

func checkForgedReports(w *world, r scanlab.Report) {
	refused := 0
	for _, pos := range w.positions(len(r.Evidence), 4096) {
		bad := r
		bad.Evidence = slices.Clone(r.Evidence)
		bad.Evidence[pos] ^= 1 << (pos % 8)
		if ds, err := w.srv.Verify(bad); err == nil {
			w.t.Errorf("report with evidence byte %d of %d flipped verified: %+v", pos, len(r.Evidence), ds)
			continue
		}
		refused++
	}
	w.t.Logf("forged evidence: %d of %d flipped bits refused", refused, len(r.Evidence))
}

// checkReattributed changes who reports, which message and whom it
// accuses. An accusation the mode cannot check may verify, but must not
// name the new account.
func checkReattributed(w *world, r scanlab.Report) {
	for _, c := range []struct {
		name   string
		mutate func(*scanlab.Report)
	}{
		{"reporter", func(r *scanlab.Report) { r.Reporter = carol }},
		{"message", func(r *scanlab.Report) { r.MessageID += "x" }},
		{"accused", func(r *scanlab.Report) { r.Accused = mallory }},
	} {
		bad := r
		bad.Evidence = slices.Clone(r.Evidence)
		c.mutate(&bad)
		ds, err := w.srv.Verify(bad)
		if err != nil {
			continue
		}
		if c.name != "accused" {
			w.t.Errorf("report with another %s verified: %+v", c.name, ds)
		}
		for _, d := range ds {
			if d.Account == mallory {
				w.t.Errorf("report re-attributed to %s verified: %+v", mallory, d)
			}
		}
	}
}

// checkDetections checks that a verified report flagged message id as a
// user report naming sender (or, for a sealed-sender envelope, possibly no
// one).
func checkDetections(w *world, ds []scanlab.Detection, id string, sender scanlab.UserID, sealed bool) {
	w.t.Helper()
	for _, d := range ds {
		if d.MessageID == id && d.Pathway == scanlab.UserReport && (d.Account == sender || sealed && d.Account == "") {
			return
		}
	}
	w.t.Errorf("verified report of %s from %s raised %+v, want a %s detection of it", id, sender, ds, scanlab.UserReport)
}

// tamperTally counts how flipped bits were handled.
type tamperTally struct{ refusedByOpen, refusedAtReport, notReportable int }

func (tt tamperTally) String() string {
	return fmt.Sprintf("%d refused by Open, %d opened but their report refused, %d opened and not reportable",
		tt.refusedByOpen, tt.refusedAtReport, tt.notReportable)
}

// tamper flips one bit of part at pos in a delivered envelope and opens it.
// If Open refuses, the genuine envelope must still open; if Open accepts,
// the part must be one that is not end to end, a report of what opened must
// be refused, and the next genuine message must open.
func (w *world) tamper(tt *tamperTally, caps Capabilities, m scanlab.Message, sealed, delivered scanlab.Envelope, part string, pos int) {
	w.t.Helper()
	bad := clone(delivered)
	b := bad.Body
	if part != "body" {
		b = bad.Attach[part]
	}
	pos %= len(b)
	b[pos] ^= 1 << (pos % 8)
	got, err := w.device(m.To).Open(bad)
	if err != nil {
		tt.refusedByOpen++
		w.open(delivered, m)
		return
	}
	_, bySender := sealed.Attach[part]
	if caps.EndToEnd && (part == "body" || bySender) {
		w.t.Fatalf("%s with byte %d of %s flipped opened: the mode claims end-to-end integrity", m.ID, pos, part)
	}
	if r, err := w.device(m.To).Report(got); err != nil {
		tt.notReportable++
	} else if ds, err := w.srv.Verify(r); err == nil {
		w.t.Fatalf("%s with byte %d of %s flipped opened and its report verified: %+v", m.ID, pos, part, ds)
	} else {
		tt.refusedAtReport++
	}
	w.send(m.From, m.To, text("the next genuine message"))
}

// parts lists the body and the attachments of a delivered envelope.
func parts(e scanlab.Envelope) []string {
	ps := []string{"body"}
	for k := range e.Attach {
		ps = append(ps, k)
	}
	slices.Sort(ps[1:])
	return ps
}

// checkTamperFirst tampers with first messages, each from a new sender, so
// that a first message (with its key agreement) is tried at every sampled
// position.
func checkTamperFirst(w *world, caps Capabilities) {
	var tt tamperTally
	probe := w.message("probe", bob, text("the first message"))
	_, probeEnv := w.deliver(probe)
	w.open(probeEnv, probe)
	senders := 0
	for _, part := range parts(probeEnv) {
		n := len(probeEnv.Body)
		if part != "body" {
			n = len(probeEnv.Attach[part])
		}
		for _, pos := range w.positions(n, 6) {
			senders++
			m := w.message(scanlab.UserID(fmt.Sprint("sender-", senders)), bob, text("the first message"))
			sealed, delivered := w.deliver(m)
			w.tamper(&tt, caps, m, sealed, delivered, part, pos)
		}
	}
	w.t.Logf("first messages: %s", tt)
}

func checkTamperInSession(w *world, caps Capabilities) {
	var tt tamperTally
	w.send(alice, bob, text("hello"))
	w.send(bob, alice, text("hello back"))
	probe := w.message(alice, bob, text("a message inside the session"))
	_, probeEnv := w.deliver(probe)
	w.open(probeEnv, probe)
	for _, part := range parts(probeEnv) {
		n := len(probeEnv.Body)
		if part != "body" {
			n = len(probeEnv.Attach[part])
		}
		for _, pos := range w.positions(n, 48) {
			m := w.message(alice, bob, text("a message inside the session"))
			sealed, delivered := w.deliver(m)
			w.tamper(&tt, caps, m, sealed, delivered, part, pos)
		}
	}
	w.t.Logf("in session: %s", tt)
}

// checkProviderView plants random tokens in two texts and an image and
// searches the provider's view for them, raw and in hex and base64.
func checkProviderView(w *world, caps Capabilities) {
	token := func() []byte {
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(w.rng.Uint32())
		}
		return []byte("planted-" + hex.EncodeToString(b))
	}
	t1, t2 := token(), token()
	img := pngImage(int(w.rng.Int32N(1 << 20)))
	mid := len(img.Image) / 2
	planted := map[string][]byte{"first text": t1, "reply text": t2, "image bytes": img.Image[mid : mid+32]}
	w.send(alice, bob, text("first message, carrying "+string(t1)))
	w.send(bob, alice, text("reply, carrying "+string(t2)))
	w.send(alice, bob, img)
	found := 0
	for name, tok := range planted {
		where := w.search(tok)
		if where != "" {
			found++
		}
		if caps.HidesContent && where != "" {
			w.t.Errorf("planted %s found in the provider's view (%s)", name, where)
		}
	}
	if !caps.HidesContent && found != len(planted) {
		w.t.Errorf("the mode shows the provider content, but the suite found only %d of %d planted tokens in its view", found, len(planted))
	}
	w.t.Logf("%d of %d planted tokens in the provider's view (%d items)", found, len(planted), len(w.view))
}

// search returns how the provider's view holds tok ("" if it does not):
// raw, in hex, or in base64 at any of the three byte alignments (the first
// and last four characters, which depend on the neighbouring bytes, are
// left out of the base64 forms).
func (w *world) search(tok []byte) string {
	forms := map[string][]byte{
		"raw": tok,
		"hex": []byte(hex.EncodeToString(tok)),
		"HEX": []byte(strings.ToUpper(hex.EncodeToString(tok))),
	}
	for k := range 3 {
		shifted := append(make([]byte, k), tok...)
		for name, enc := range map[string]*base64.Encoding{"base64": base64.StdEncoding, "base64url": base64.URLEncoding} {
			s := enc.EncodeToString(shifted)
			forms[fmt.Sprintf("%s/shift=%d", name, k)] = []byte(s[4 : len(s)-4])
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for name, f := range forms {
		for _, v := range w.view {
			if bytes.Contains(v, f) {
				return name
			}
		}
	}
	return ""
}
