package serverscan

import (
	"bytes"
	"errors"
	"flag"
	"slices"
	"testing"
	"time"

	"scanlab"
	"scanlab/internal/fuzzcorpus"
	"scanlab/modetest"
)

var testKey = bytes.Repeat([]byte{7}, 32)

func testSecret(string) ([]byte, error) { return testKey, nil }

// TestConformance runs the mode conformance suite. serverscan has no
// end-to-end integrity and shows the provider everything, so the suite
// checks that reports of altered messages are refused and that its planted
// tokens are in the provider's view.
func TestConformance(t *testing.T) {
	modetest.Run(t, func(*testing.T) scanlab.Mode { return New(Options{}) },
		modetest.Capabilities{EndToEnd: false, HidesContent: false})
}

// relayed is a message relayed through a server with the fixed test key
// and received by bob's device.
type relayed struct {
	srv scanlab.ServerLogic
	bob scanlab.Device
	got scanlab.Message
}

func relayOne(t testing.TB, mode *Mode, clock time.Time) relayed {
	t.Helper()
	srv, err := mode.NewServer(scanlab.ServerEnv{Now: func() time.Time { return clock }, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := mode.NewDevice("alice", nil)
	bob, _ := mode.NewDevice("bob", nil)
	e, err := alice.Seal(scanlab.Message{ID: "m1", From: "alice", To: "bob", Content: scanlab.Content{Kind: scanlab.Text, Text: "report me"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Accept(&e); err != nil {
		t.Fatal(err)
	}
	got, err := bob.Open(e)
	if err != nil {
		t.Fatal(err)
	}
	return relayed{srv, bob, got}
}

// TestReportVerification: the server keeps no per-message state, so a
// report verifies on another instance with the same key (a restart), and a
// replay to the same instance is refused.
func TestReportVerification(t *testing.T) {
	mode := New(Options{})
	rl := relayOne(t, mode, time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	r, err := rl.bob.Report(rl.got)
	if err != nil {
		t.Fatal(err)
	}
	restarted, err := mode.NewServer(scanlab.ServerEnv{Now: time.Now, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		srv     scanlab.ServerLogic
		mutate  func(*scanlab.Report)
		wantErr bool
	}{
		{"case=genuine", rl.srv, func(*scanlab.Report) {}, false},
		{"case=replay", rl.srv, func(*scanlab.Report) {}, true},
		{"case=after-restart", restarted, func(*scanlab.Report) {}, false},
		{"case=other-key", mustServer(t, mode, bytes.Repeat([]byte{8}, 32)), func(*scanlab.Report) {}, true},
		{"case=accused", restarted, func(r *scanlab.Report) { r.Accused = "carol" }, true},
		{"case=reporter", restarted, func(r *scanlab.Report) { r.Reporter = "carol" }, true},
		{"case=message-id", restarted, func(r *scanlab.Report) { r.MessageID = "m2" }, true},
		{"case=text", restarted, func(r *scanlab.Report) { r.Evidence[len(r.Evidence)-1] ^= 1 }, true},
		{"case=time", restarted, func(r *scanlab.Report) { r.Evidence[8] ^= 1 }, true},
		{"case=tag", restarted, func(r *scanlab.Report) { r.Evidence[20] ^= 1 }, true},
		{"case=version", restarted, func(r *scanlab.Report) { r.Evidence[0] = 2 }, true},
		{"case=no-body", restarted, func(r *scanlab.Report) { r.Evidence = r.Evidence[:1+ReportTagSize] }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := r
			bad.Evidence = slices.Clone(r.Evidence)
			tc.mutate(&bad)
			ds, err := tc.srv.Verify(bad)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Verify = %+v, %v; want error %t", ds, err, tc.wantErr)
			}
			if err == nil && (len(ds) != 1 || ds[0].Account != "alice" || ds[0].MessageID != "m1" || ds[0].Pathway != scanlab.UserReport) {
				t.Fatalf("detections %+v", ds)
			}
		})
	}
}

func mustServer(t testing.TB, m *Mode, key []byte) scanlab.ServerLogic {
	t.Helper()
	srv, err := m.NewServer(scanlab.ServerEnv{Now: time.Now, Secret: func(string) ([]byte, error) { return key, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestReportWindow: a device reports only messages it received through
// the provider, among its last ReportWindow ones.
func TestReportWindow(t *testing.T) {
	mode := New(Options{ReportWindow: 2})
	srv := mustServer(t, mode, testKey)
	alice, _ := mode.NewDevice("alice", nil)
	bob, _ := mode.NewDevice("bob", nil)
	var got []scanlab.Message
	for i, id := range []string{"m1", "m2", "m3"} {
		e, _ := alice.Seal(scanlab.Message{ID: id, From: "alice", To: "bob", Content: scanlab.Content{Kind: scanlab.Text, Text: id}})
		if i > 0 {
			srv.Accept(&e)
		}
		m, err := bob.Open(e)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if _, err := bob.Report(got[0]); !errors.Is(err, ErrNotReportable) {
		t.Fatalf("untagged: err = %v", err)
	}
	e, _ := alice.Seal(scanlab.Message{ID: "m4", From: "alice", To: "bob", Content: scanlab.Content{Kind: scanlab.Text, Text: "m4"}})
	srv.Accept(&e)
	bob.Open(e)
	if _, err := bob.Report(got[1]); !errors.Is(err, ErrNotReportable) {
		t.Fatalf("evicted: err = %v", err)
	}
	if _, err := bob.Report(got[2]); err != nil {
		t.Fatal(err)
	}
}

// fuzzClock is the relay time of the fuzz seeds, fixed so that the stored
// genuine evidence verifies in every run.
var fuzzClock = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "write the fuzz seed corpora under testdata/fuzz")

// TestWriteFuzzSeeds regenerates testdata/fuzz when run with
// -write-fuzz-seeds: the genuine evidence, a truncated copy and one with
// an unknown version.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to regenerate")
	}
	rl := relayOne(t, New(Options{}), fuzzClock)
	r, err := rl.bob.Report(rl.got)
	if err != nil {
		t.Fatal(err)
	}
	fuzzcorpus.Write(t, "FuzzDecodeEvidence", r.Evidence)
	fuzzcorpus.Write(t, "FuzzDecodeEvidence", r.Evidence[:1+ReportTagSize])
	fuzzcorpus.Write(t, "FuzzDecodeEvidence", append([]byte{2}, r.Evidence[1:]...))
}

// FuzzDecodeEvidence feeds arbitrary evidence to the verifier (seeded from
// testdata/fuzz): no panic, and only the genuine evidence verifies.
func FuzzDecodeEvidence(f *testing.F) {
	mode := New(Options{})
	rl := relayOne(f, mode, fuzzClock)
	genuine, err := rl.bob.Report(rl.got)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ev []byte) {
		r := genuine
		r.Evidence = ev
		ds, err := mustServer(t, mode, testKey).Verify(r)
		if err != nil {
			if !errors.Is(err, ErrReport) {
				t.Fatalf("error %v is not ErrReport", err)
			}
			return
		}
		if !bytes.Equal(ev, genuine.Evidence) || len(ds) != 1 {
			t.Fatalf("evidence %x verified: %+v", ev, ds)
		}
	})
}
