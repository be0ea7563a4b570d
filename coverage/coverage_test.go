package coverage

import (
	"maps"
	"reflect"
	"testing"

	"scanlab"
	"scanlab/behavior"
	"scanlab/corpus"
	"scanlab/modes"
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

// TestCheapPathAgrees runs the content pass both ways on a small
// population — every admitted message through the real mode, or only those
// a content pathway can act on — and requires the same judgments: the same
// harmful messages caught by the same pathways at the same times, the same
// benign messages flagged, the same accounts flagged when.
func TestCheapPathAgrees(t *testing.T) {
	w, err := NewWorkload(smallConfig(11))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := w.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mode string
		c    modes.Clientscan
	}{
		{"serverscan", modes.Clientscan{}},
		{"e2ee", modes.Clientscan{}},
		{"clientscan", modes.Clientscan{Threshold: 2}},
		{"clientscan", modes.Clientscan{Threshold: 2, Match: "chunks=4"}},
	} {
		t.Run("mode="+tc.mode+"/match="+tc.c.Match, func(t *testing.T) {
			cheap, err := Judge(meta, tc.mode, tc.c, false)
			if err != nil {
				t.Fatal(err)
			}
			full, err := Judge(meta, tc.mode, tc.c, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(full.harmful) == 0 {
				t.Fatal("the full path caught nothing: the workload does not exercise the mode")
			}
			if want := map[string]scanlab.Pathway{"serverscan": scanlab.ServerHash, "e2ee": scanlab.UserReport, "clientscan": scanlab.DeviceHash}[tc.mode]; !caughtBy(full, want) {
				t.Fatalf("the full path caught nothing by %s: the workload does not exercise the mode's own pathway", want)
			}
			if cheap.Real >= full.Real {
				t.Errorf("the cheap path sent %d messages through the mode, the full path %d", cheap.Real, full.Real)
			}
			t.Logf("%d of %d messages through the mode; %d harmful caught", cheap.Real, full.Real, len(full.harmful))
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
	w, err := NewWorkload(cfg)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := w.Metadata()
	if err != nil {
		t.Fatal(err)
	}
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
