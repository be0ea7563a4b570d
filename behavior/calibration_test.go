package behavior_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"scanlab/behavior"
	"scanlab/corpus"
	"scanlab/internal/golden"
)

// TestCalibrationReproduces reruns the calibration procedure and requires
// the committed threshold and table: the threshold is a result of the
// procedure on its seeds, not a number chosen by hand. It takes about ten
// seconds of CPU; -short skips it.
func TestCalibrationReproduces(t *testing.T) {
	if testing.Short() {
		t.Skip("calibration takes about ten seconds of CPU")
	}
	c, err := behavior.Calibrate()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	t.Logf("calibration:\n%s", buf.String())
	golden.Check(t, filepath.Join("testdata", "calibration.golden"), buf.Bytes())
	if c.Threshold != behavior.CalibratedThreshold || behavior.DefaultConfig().Threshold != behavior.CalibratedThreshold {
		t.Errorf("calibration gives threshold %v; CalibratedThreshold is %v, the default %v",
			c.Threshold, behavior.CalibratedThreshold, behavior.DefaultConfig().Threshold)
	}
}

// studySeeds are the seeds this package evaluates the detector on: the
// default study's seed and its neighbours, never the calibration's.
func studySeeds(n int) []uint64 {
	var s []uint64
	for k := range n {
		s = append(s, uint64(k+1))
	}
	return s
}

// TestCalibrationApart fails if the calibration's seeds or generator
// settings overlap the default study's or those this package evaluates on,
// and checks that CheckApart catches each kind of overlap.
func TestCalibrationApart(t *testing.T) {
	pc, cc := corpus.DefaultPopulationConfig(), corpus.DefaultConversationConfig()
	for _, s := range append(studySeeds(*evalSeeds), pc.Seed, cc.Seed) {
		if slices.Contains(behavior.CalibrationSeeds, s) {
			t.Errorf("seed %d is both a study and a calibration seed", s)
		}
	}
	for _, s := range studySeeds(*evalSeeds) {
		study, traffic := archetypeStudy(s, 0.5)
		if err := behavior.CheckApart(study, traffic); err != nil {
			t.Errorf("study seed %d: %v", s, err)
		}
	}
	if err := behavior.CheckApart(pc, cc); err != nil {
		t.Errorf("default study: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*corpus.PopulationConfig, *corpus.ConversationConfig)
	}{
		{"population-seed", func(p *corpus.PopulationConfig, _ *corpus.ConversationConfig) {
			p.Seed = behavior.CalibrationSeeds[1]
		}},
		{"traffic-seed", func(_ *corpus.PopulationConfig, c *corpus.ConversationConfig) {
			c.Seed = behavior.CalibrationSeeds[2]
		}},
		{"archetype-mix", func(p *corpus.PopulationConfig, _ *corpus.ConversationConfig) {
			p.Archetypes = behavior.CalibrationPopulation(behavior.CalibrationSeeds[0]).Archetypes
		}},
		{"stealth", func(p *corpus.PopulationConfig, _ *corpus.ConversationConfig) {
			p.Stealth = behavior.CalibrationStealth
		}},
	} {
		t.Run("overlap="+tc.name, func(t *testing.T) {
			p, c := corpus.DefaultPopulationConfig(), corpus.DefaultConversationConfig()
			tc.mod(&p, &c)
			if err := behavior.CheckApart(p, c); err == nil {
				t.Error("overlap not caught")
			}
		})
	}
	cal := behavior.CalibrationPopulation(behavior.CalibrationSeeds[0])
	if err := behavior.CheckApart(cal, behavior.CalibrationConversations(behavior.CalibrationSeeds[0])); err == nil {
		t.Error("the calibration itself passes CheckApart")
	}
}
