package e2ee

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"

	"scanlab"
)

// reportFixture returns a world where bob received five messages from
// alice, all relayed, and a valid report of the third.
func reportFixture(t *testing.T, opts Options) (*world, []scanlab.Message, scanlab.Report) {
	t.Helper()
	w := newWorld(t, opts, "alice", "bob")
	var got []scanlab.Message
	for i := range 5 {
		got = append(got, w.send("alice", "bob", fmt.Sprint("message ", i)))
		if i == 1 {
			w.send("bob", "alice", "reply")
		}
	}
	r, err := w.devs["bob"].Report(got[2])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.Verify(r); err != nil {
		t.Fatalf("genuine report rejected: %v", err)
	}
	return w, got, r
}

func mutateEvidence(t *testing.T, ev []byte, f func(items []evidenceItem) []evidenceItem) []byte {
	t.Helper()
	items, err := decodeEvidence(ev)
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		it := &items[i]
		it.c, it.kf, it.tag, it.m = slices.Clone(it.c), slices.Clone(it.kf), slices.Clone(it.tag), slices.Clone(it.m)
	}
	return encodeEvidence(f(items))
}

// TestReportRejectsAlteredFields alters every field of a genuine report in
// turn; each alteration must be rejected.
func TestReportRejectsAlteredFields(t *testing.T) {
	w, got, good := reportFixture(t, Options{})
	one := func(f func(it *evidenceItem)) func(scanlab.Report) scanlab.Report {
		return func(r scanlab.Report) scanlab.Report {
			r.Evidence = mutateEvidence(t, r.Evidence, func(items []evidenceItem) []evidenceItem {
				f(&items[0])
				return items
			})
			return r
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(scanlab.Report) scanlab.Report
	}{
		{"message-id", one(func(it *evidenceItem) { it.id = got[3].ID })},
		{"from", one(func(it *evidenceItem) { it.from = "carol" })},
		{"to", one(func(it *evidenceItem) { it.to = "carol" })},
		{"sealed-flag", one(func(it *evidenceItem) { it.sealed = true })},
		{"commitment", one(func(it *evidenceItem) { it.c[5] ^= 1 })},
		{"franking-key", one(func(it *evidenceItem) { it.kf[0] ^= 1 })},
		{"relay-time", one(func(it *evidenceItem) { it.tag[7] ^= 1 })},
		{"relay-tag", one(func(it *evidenceItem) { it.tag[20] ^= 1 })},
		{"text", one(func(it *evidenceItem) { it.m[len(it.m)-1] ^= 1 })},
		{"seq", one(func(it *evidenceItem) { it.m[8] ^= 1 })},
		{"kind", one(func(it *evidenceItem) { it.m[contentHdrLen-1] = byte(scanlab.Image) })},
		{"text-appended", one(func(it *evidenceItem) { it.m = append(it.m, '!') })},
		{"report-message-id", func(r scanlab.Report) scanlab.Report { r.MessageID = got[1].ID; return r }},
		{"reporter", func(r scanlab.Report) scanlab.Report { r.Reporter = "carol"; return r }},
		{"accused", func(r scanlab.Report) scanlab.Report { r.Accused = "carol"; return r }},
		{"version", func(r scanlab.Report) scanlab.Report { r.Evidence[0] = 2; return r }},
		{"count-zero", func(r scanlab.Report) scanlab.Report { r.Evidence[1] = 0; return r }},
		{"count-high", func(r scanlab.Report) scanlab.Report { r.Evidence[1] = 2; return r }},
		{"trailing", func(r scanlab.Report) scanlab.Report { r.Evidence = append(r.Evidence, 0); return r }},
		{"truncated", func(r scanlab.Report) scanlab.Report { r.Evidence = r.Evidence[:len(r.Evidence)-1]; return r }},
		{"empty", func(r scanlab.Report) scanlab.Report { r.Evidence = nil; return r }},
	} {
		t.Run("field="+tc.name, func(t *testing.T) {
			r := good
			r.Evidence = slices.Clone(good.Evidence)
			r = tc.mutate(r)
			if ds, err := w.srv.Verify(r); !errors.Is(err, ErrBadReport) || ds != nil {
				t.Fatalf("Verify = %v, %v; want ErrBadReport", ds, err)
			}
		})
	}
	t.Run("field=server-key", func(t *testing.T) {
		key := make([]byte, 32)
		rand.Read(key)
		other, err := NewServer(testEnv(key))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Verify(good); !errors.Is(err, ErrBadReport) {
			t.Fatalf("another provider's key verified the report: %v", err)
		}
	})
}

// TestReportLast reports the last three messages with chained commitments;
// leaving one out or reordering them is detected.
func TestReportLast(t *testing.T) {
	w, got, _ := reportFixture(t, Options{})
	r, err := w.devs["bob"].ReportLast("alice", 3)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := w.srv.Open(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("reported %d messages, want 3", len(msgs))
	}
	for i, m := range msgs {
		if want := got[2+i]; m.ID != want.ID || m.Content.Text != want.Content.Text || m.From != "alice" || m.Seq != uint64(2+i) {
			t.Errorf("message %d = %+v, want %s", i, m, want.ID)
		}
	}
	// The fixture already reported got[2]: only the two newer messages
	// raise detections.
	ds, err := w.srv.Verify(r)
	if err != nil || len(ds) != 2 || ds[0].MessageID != got[3].ID || ds[1].MessageID != got[4].ID {
		t.Fatalf("Verify = %v, %v; want detections for %s and %s", ds, err, got[3].ID, got[4].ID)
	}
	for _, tc := range []struct {
		name string
		f    func([]evidenceItem) []evidenceItem
	}{
		{"omit-middle", func(it []evidenceItem) []evidenceItem { return slices.Delete(it, 1, 2) }},
		{"swap", func(it []evidenceItem) []evidenceItem { it[0], it[1] = it[1], it[0]; return it }},
		{"duplicate", func(it []evidenceItem) []evidenceItem { it[0] = it[1]; return it }},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			bad := r
			bad.Evidence = mutateEvidence(t, r.Evidence, tc.f)
			if _, err := w.srv.Verify(bad); !errors.Is(err, ErrBadReport) {
				t.Fatalf("err = %v, want ErrBadReport", err)
			}
		})
	}
	// Dropping the oldest messages keeps a valid, shorter window.
	short := r
	short.Evidence = mutateEvidence(t, r.Evidence, func(it []evidenceItem) []evidenceItem { return it[1:] })
	if msgs, err := w.srv.Open(short); err != nil || len(msgs) != 2 {
		t.Fatalf("suffix window: %v, %v", msgs, err)
	}
	// Every message in it has been reported: verifying it again is a replay.
	if _, err := w.srv.Verify(short); !errors.Is(err, ErrReplayedReport) {
		t.Fatalf("suffix window verified again: %v", err)
	}
}

// TestReportOutOfOrderWindow: messages that arrive out of order are still
// reported in the sender's order.
func TestReportOutOfOrderWindow(t *testing.T) {
	w := newWorld(t, Options{}, "alice", "bob")
	w.send("alice", "bob", "first")
	var es []scanlab.Envelope
	for i := range 4 {
		es = append(es, w.seal(w.msg("alice", "bob", fmt.Sprint(i))))
	}
	for _, i := range []int{2, 0, 3, 1} {
		w.open(es[i])
	}
	r, err := w.devs["bob"].ReportLast("alice", 10)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := w.srv.Open(r)
	if err != nil || len(msgs) != 5 || msgs[4].ID != es[3].ID {
		t.Fatalf("Open = %+v, %v", msgs, err)
	}
}

func TestReportNotReportable(t *testing.T) {
	w := newWorld(t, Options{ReportWindow: 2}, "alice", "bob")
	old := w.send("alice", "bob", "old")
	w.send("alice", "bob", "1")
	w.send("alice", "bob", "2")
	if _, err := w.devs["bob"].Report(old); !errors.Is(err, ErrNotReportable) {
		t.Fatalf("evicted: err = %v", err)
	}
	// Delivered without the relay: no tag, nothing to report.
	e, err := w.devs["alice"].Seal(w.msg("alice", "bob", "direct"))
	if err != nil {
		t.Fatal(err)
	}
	m := w.open(e)
	if _, err := w.devs["bob"].Report(m); !errors.Is(err, ErrNotReportable) {
		t.Fatalf("untagged: err = %v", err)
	}
	if _, err := w.devs["bob"].ReportLast("carol", 3); !errors.Is(err, ErrNotReportable) {
		t.Fatalf("unknown peer: err = %v", err)
	}
}

// TestReportLastNothingReceived: a device that has written to a peer but
// never heard back has nothing to report (this used to panic).
func TestReportLastNothingReceived(t *testing.T) {
	w := newWorld(t, Options{}, "alice", "bob")
	w.send("alice", "bob", "hello")
	for _, n := range []int{1, 5} {
		if _, err := w.devs["alice"].ReportLast("bob", n); !errors.Is(err, ErrNotReportable) {
			t.Fatalf("n=%d: err = %v, want ErrNotReportable", n, err)
		}
	}
}

// TestReportReplay: a verified report is refused when submitted again,
// whole or as part of a window; a window with new messages raises
// detections for those only.
func TestReportReplay(t *testing.T) {
	w, got, r := reportFixture(t, Options{})
	if _, err := w.srv.Verify(r); !errors.Is(err, ErrReplayedReport) {
		t.Fatalf("replayed report: err = %v, want ErrReplayedReport", err)
	}
	r1, err := w.devs["bob"].Report(got[4])
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := w.srv.Verify(r1); err != nil || len(ds) != 1 {
		t.Fatalf("new report: %v, %v", ds, err)
	}
	if _, err := w.srv.Verify(r1); !errors.Is(err, ErrReplayedReport) {
		t.Fatalf("second replay: err = %v", err)
	}
}
