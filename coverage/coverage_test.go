package coverage

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"testing"

	"scanlab"
	"scanlab/behavior"
	"scanlab/corpus"
	"scanlab/modes"
	"scanlab/platform"
)

// smallConfig is a workload small enough to send every message through
// every mode, with offenders over-sampled and reports frequent so that
// every pathway has work.
func smallConfig(seed uint64) Config {
	pop := corpus.DefaultPopulationConfig()
	pop.Seed, pop.Users, pop.OffenderShare, pop.ReportProb = seed, 160, 0.15, 0.3
	conv := corpus.DefaultConversationConfig()
	conv.Seed, conv.Days, conv.MessagesPerDay = seed, 5, 2
	return Config{Seed: seed, Population: pop, Conversation: conv, Detector: behavior.DefaultConfig(),
		Content: ContentConfig{Images: 6, Attacks: 2, ListExtra: 10, Texts: 60}}
}

// metadata builds cfg's workload and runs its metadata pass.
func metadata(t *testing.T, cfg Config) *Meta {
	t.Helper()
	w, err := NewWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := w.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return meta
}

// TestCheapPathAgrees runs the content pass both ways on a small
// population — every admitted message through the real mode, or only those
// a content pathway can act on — and requires the same judgments: the same
// harmful messages caught by the same pathways at the same times, the same
// benign messages flagged, the same accounts flagged when. The platform
// modes run on a workload whose recipients also report 2% of benign
// messages by mistake, so that reports of every kind, in clear and in
// encrypted conversations, go through the real mode.
func TestCheapPathAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("study-sized: runs without -short")
	}
	metas := map[bool]*Meta{}
	for _, reports := range []bool{false, true} {
		cfg := smallConfig(11)
		if reports {
			cfg.Conversation.MistakenReportProb = 0.02
		}
		w, err := NewWorkload(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if metas[reports], err = w.Metadata(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		spec ModeSpec
		// own is the mode's own pathway, which the workload must exercise.
		own scanlab.Pathway
	}{
		{"serverscan", ModeSpec{Name: "serverscan"}, scanlab.ServerHash},
		{"e2ee", ModeSpec{Name: "e2ee"}, scanlab.UserReport},
		{"clientscan", ModeSpec{Name: "clientscan", Clientscan: modes.Clientscan{Threshold: 2}}, scanlab.DeviceHash},
		{"clientscan/match=chunks=4", ModeSpec{Name: "clientscan", Clientscan: modes.Clientscan{Threshold: 2, Match: "chunks=4"}}, scanlab.DeviceHash},
		// A hybrid mode is a Split one: its clear conversations are
		// serverscan's (probed), its encrypted ones raise detections only
		// through reports, which go through the real mode. Offenders opt
		// in at three times the benign rate; under sealed sender a
		// franked report names no account.
		{"hybrid", ModeSpec{Name: "hybrid", Build: hybridBuild(platform.Run{Platform: "test", Mode: "hybrid", EncryptedShare: 0.25,
			OptIn: platform.OptInAll, SealedSender: true, Scan: platform.Scan{Hash: true, Text: true},
			Reports: platform.Reports{Clear: platform.ReportProviderCopy, Encrypted: platform.ReportFranked}})}, scanlab.ServerHash},
		// A platform's mode with sealed sender, text scanning off and
		// reports that are not the modes' own is a Split one too.
		{"platform", ModeSpec{Name: "platform", Build: hybridBuild(platform.Run{Platform: "test", Mode: "hybrid", EncryptedShare: 0.25,
			OptIn: platform.OptInAdults, SealedSender: true, Scan: platform.Scan{Hash: true},
			Reports: platform.Reports{Clear: platform.ReportForwarded, Encrypted: platform.ReportMetadataOnly}})}, scanlab.ServerHash},
	} {
		t.Run("mode="+tc.name, func(t *testing.T) {
			meta := metas[tc.spec.Build != nil]
			cheap, err := judgeOne(meta, tc.spec, false)
			if err != nil {
				t.Fatal(err)
			}
			full, err := judgeOne(meta, tc.spec, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(full.harmful) == 0 {
				t.Fatal("the full path caught nothing: the workload does not exercise the mode")
			}
			if !caughtBy(full, tc.own) {
				t.Fatalf("the full path caught nothing by %s: the workload does not exercise the mode's own pathway", tc.own)
			}
			if cheap.Real >= full.Real {
				t.Errorf("the cheap path sent %d messages through the mode, the full path %d", cheap.Real, full.Real)
			}
			t.Logf("%d of %d messages through the mode; %d harmful caught", cheap.Real, full.Real, len(full.harmful))
			if tc.spec.Build != nil && cheap.Real < 20 {
				t.Errorf("only %d reported messages: the reports of a platform's mode are not exercised", cheap.Real)
			}
			if !reflect.DeepEqual(cheap.harmful, full.harmful) {
				t.Errorf("harmful judgments differ:\ncheap %v\nfull  %v", cheap.harmful, full.harmful)
			}
			if !reflect.DeepEqual(hits(cheap), hits(full)) {
				t.Errorf("benign items flagged differ:\ncheap %v\nfull  %v", hits(cheap), hits(full))
			}
			if !maps.Equal(cheap.firstContent, full.firstContent) || !maps.Equal(cheap.firstReport, full.firstReport) {
				t.Errorf("account flags differ:\ncheap %v %v\nfull  %v %v", cheap.firstContent, cheap.firstReport, full.firstContent, full.firstReport)
			}
		})
	}
}

func judgeOne(meta *Meta, sp ModeSpec, full bool) (*Judgment, error) {
	js, err := JudgeAll(meta, []ModeSpec{sp}, PassOptions{Full: full})
	if err != nil {
		return nil, err
	}
	return js[0], nil
}

// hybridBuild builds a platform run's mode, its opt-in drawn from the
// population's ground truth.
func hybridBuild(r platform.Run) func(modes.Config, *corpus.Population) (scanlab.Mode, error) {
	return func(cfg modes.Config, pop *corpus.Population) (scanlab.Mode, error) {
		return r.NewMode(cfg, platform.Truth{Offender: func(u scanlab.UserID) bool { return pop.User(u).Offender },
			Minor: func(u scanlab.UserID) bool { return pop.User(u).Minor() }, OffenderFactor: 3, Seed: 5})
	}
}

func caughtBy(j *Judgment, p scanlab.Pathway) bool {
	for _, ps := range j.harmful {
		if _, ok := ps[p]; ok {
			return true
		}
	}
	return false
}

func hits(j *Judgment) map[string]map[scanlab.Pathway]bool {
	out := map[string]map[scanlab.Pathway]bool{}
	for id, h := range j.benignFlagged {
		out[id] = h.pathways
	}
	return out
}

// TestMetadataCreditsOnlyAfterTheFlag fails if any harmful item delivered
// before its sender's first metadata flag is credited to server-metadata,
// at any threshold and in any mode.
func TestMetadataCreditsOnlyAfterTheFlag(t *testing.T) {
	cfg := smallConfig(12)
	cfg.Thresholds = []float64{3, 4, 5}
	meta := metadata(t, cfg)
	for _, mode := range modes.Names {
		j, err := Judge(meta, mode, modes.Clientscan{Threshold: 2}, false)
		if err != nil {
			t.Fatal(err)
		}
		before, after := 0, 0
		for k := range meta.Thresholds() {
			for _, o := range Outcomes(meta, j, k) {
				flagAt, flagged := meta.flagAt(k, o.From)
				switch {
				case o.By(scanlab.ServerMetadata) && (!flagged || o.At.Before(flagAt)):
					t.Fatalf("%s, threshold %v: %s sent at %v credited to server-metadata; flag at %v (%v)",
						mode, meta.Thresholds()[k], o.ID, o.At, flagAt, flagged)
				case flagged && o.At.Before(flagAt):
					before++
				case o.By(scanlab.ServerMetadata):
					after++
				}
			}
		}
		if before == 0 || after == 0 {
			t.Fatalf("%s: %d items before a flag, %d credited after: the test does not exercise crediting", mode, before, after)
		}
	}
}

// TestDMDefaults: with every account keeping a platform's "no-one"
// defaults, every message is refused; with none keeping them, the gate is
// the population's own; with half, about half of the rest.
func TestDMDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("study-sized: runs without -short")
	}
	refused := func(d *DMDefaults) (prevented, attempts int) {
		cfg := smallConfig(13)
		cfg.DMDefaults = d
		meta := metadata(t, cfg)
		attempts, prevented = meta.BenignPrevention()
		return prevented, attempts
	}
	own, n := refused(nil)
	if own == 0 || own == n {
		t.Fatalf("the population's own settings refuse %d of %d messages: the test needs some of each", own, n)
	}
	for _, c := range []struct {
		keep float64
		ok   func(prevented int) bool
	}{
		{0, func(p int) bool { return p == own }},
		{0.5, func(p int) bool { return p > own && p < n && math.Abs(float64(p-own)/float64(n-own)-0.5) < 0.15 }},
		{1, func(p int) bool { return p == n }},
	} {
		t.Run(fmt.Sprintf("keep=%v", c.keep), func(t *testing.T) {
			got, _ := refused(&DMDefaults{Adults: corpus.DMNoOne, Minors: corpus.DMNoOne, Keep: c.keep})
			if !c.ok(got) {
				t.Errorf("%d of %d messages refused; the population's own settings refuse %d", got, n, own)
			}
		})
	}
	if err := (Config{DMDefaults: &DMDefaults{Adults: "followers", Minors: corpus.DMNoOne}}).DMDefaults.check(); err == nil {
		t.Error("an unknown default policy was accepted")
	}
}

// TestMetadataSealed: when every message is sealed and nobody reports, the
// metadata detector flags no one; without sealing it flags some; sealing
// nothing is the plain metadata pass.
func TestMetadataSealed(t *testing.T) {
	if testing.Short() {
		t.Skip("study-sized: runs without -short")
	}
	cfg := smallConfig(14)
	cfg.Population.ReportProb, cfg.Conversation.MistakenReportProb = 0, 0
	// Large and long enough for the detector to flag someone unreported.
	cfg.Population.Users, cfg.Conversation.Days = 300, 7
	w, err := NewWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	all := func(scanlab.UserID, scanlab.UserID) bool { return true }
	nothing := func(scanlab.UserID, scanlab.UserID) bool { return false }
	flagged := map[string]int{}
	for name, sealed := range map[string]func(a, b scanlab.UserID) bool{"plain": nil, "nothing": nothing, "all": all} {
		meta, err := w.MetadataSealed(sealed)
		if err != nil {
			t.Fatal(err)
		}
		flagged[name] = len(meta.flags[0])
	}
	if flagged["plain"] == 0 || flagged["nothing"] != flagged["plain"] || flagged["all"] != 0 {
		t.Errorf("accounts flagged: %v; want some without sealing, the same when nothing is sealed, none when all is", flagged)
	}
}

// TestAttemptRates: the shares of harmful attempts refused and stopped
// agree with the prevention table's counts, stopped is never below
// refused, and a setting that refuses everyone refuses every attempt.
func TestAttemptRates(t *testing.T) {
	if testing.Short() {
		t.Skip("study-sized: runs without -short")
	}
	for _, policy := range []corpus.DMPolicy{"", corpus.DMEveryone, corpus.DMNoOne} {
		t.Run("dm="+string(policy), func(t *testing.T) {
			cfg := smallConfig(15)
			cfg.DMPolicy = policy
			meta := metadata(t, cfg)
			j, err := Judge(meta, "serverscan", modes.Clientscan{}, false)
			if err != nil {
				t.Fatal(err)
			}
			res := Result{Meta: meta, Judgment: j, Key: "test"}
			refused, rlo, rhi, n, err := res.Refusal()
			if err != nil {
				t.Fatal(err)
			}
			stopped, slo, shi, n2, err := res.Stopped()
			if err != nil {
				t.Fatal(err)
			}
			p, err := res.Prevention()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case n != p.HarmfulAttempts || n2 != n:
				t.Errorf("attempts %d and %d, prevention table %d", n, n2, p.HarmfulAttempts)
			case math.Abs(refused*float64(n)-float64(p.HarmfulPrevented)) > 1e-6:
				t.Errorf("refused %v of %d, prevention table %d", refused, n, p.HarmfulPrevented)
			case math.Abs(stopped*float64(n)-float64(p.HarmfulPrevented+p.HarmfulDetected)) > 1e-6:
				t.Errorf("stopped %v of %d, prevention table %d refused + %d caught", stopped, n, p.HarmfulPrevented, p.HarmfulDetected)
			case stopped < refused || !(rlo <= refused && refused <= rhi) || !(slo <= stopped && stopped <= shi):
				t.Errorf("refused %v [%v, %v], stopped %v [%v, %v]", refused, rlo, rhi, stopped, slo, shi)
			case policy == corpus.DMNoOne && (refused != 1 || rlo >= 1):
				t.Errorf("no-one refused %v [%v, %v], want 1 with a lower bound below it", refused, rlo, rhi)
			case policy == corpus.DMEveryone && refused != 0:
				t.Errorf("everyone refused %v, want 0", refused)
			}
		})
	}
}

// TestProgressCounts: the content passes report how many of the
// metadata pass's messages they have taken, rising, never past the total.
func TestProgressCounts(t *testing.T) {
	defer func(n int) { progressEvery = n }(progressEvery)
	progressEvery = 50
	var calls [][2]int
	meta := metadata(t, smallConfig(16))
	progress := func(done, total int) { calls = append(calls, [2]int{done, total}) }
	if _, err := JudgeAll(meta, []ModeSpec{{Name: "e2ee"}}, PassOptions{Progress: progress}); err != nil {
		t.Fatal(err)
	}
	if want := meta.Events() / progressEvery; len(calls) != want || want == 0 {
		t.Fatalf("%d calls for %d messages, want %d", len(calls), meta.Events(), want)
	}
	for i, c := range calls {
		if c[0] != (i+1)*progressEvery || c[1] != meta.Events() {
			t.Errorf("call %d: (%d, %d), want (%d, %d)", i, c[0], c[1], (i+1)*progressEvery, meta.Events())
		}
	}
}
