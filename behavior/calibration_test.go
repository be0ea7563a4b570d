package behavior_test

import (
	"flag"
	"fmt"
	"testing"

	"scanlab/behavior"
	"scanlab/corpus"
)

// The calibration tests run the detector on default synthetic populations
// (5000 users, two weeks) and hold its figures to bounds. Measured on seeds
// 1–8 with
//
//	go test ./behavior -run 'Calibration|NoOffenders' -v -args -calibration.seeds=8
//
// (without -args, seed 1 only):
//
//	rules, threshold 5:  recall 0.84–0.97, precision 0.94–1, false-flag rate
//	                     0–0.0005, look-alike false-flag rate 0–0.017
//	rules, threshold 4:  recall 0.89–1, precision 0.55–0.74, false-flag rate
//	                     0.0035–0.0081, look-alike false-flag rate 0.007–0.051
//	rules, threshold 3:  recall 0.92–1, precision 0.32–0.44, false-flag rate
//	                     0.013–0.021, look-alike false-flag rate 0.04–0.13
//	model (test split):  recall 1, precision 0.46–0.86, false-flag rate
//	                     0.0016–0.012, look-alike false-flag rate 0–0.085
//	no offenders, rules: 0–2 flags among 3750 adults
//
// The bounds below leave a margin around those ranges.
var calibrationSeeds = flag.Int("calibration.seeds", 1, "run the calibration tests on seeds 1..`n`")

type bounds struct {
	minRecall, minPrecision    float64
	maxFalseFlag, maxLookAlike float64
}

func (b bounds) check(t *testing.T, ev behavior.Evaluation) {
	t.Helper()
	t.Logf("%v", ev)
	t.Logf("by group: %v", ev.Groups)
	if !(ev.Recall >= b.minRecall) || !(ev.Precision >= b.minPrecision) ||
		!(ev.FalseFlagRate <= b.maxFalseFlag) || !(ev.LookAlikeFalseFlagRate <= b.maxLookAlike) {
		t.Errorf("outside bounds %+v", b)
	}
}

func TestCalibration(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*calibrationSeeds); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			pc := corpus.DefaultPopulationConfig()
			pc.Seed = seed
			w := newWorld(t, pc, corpus.DefaultConversationConfig())

			d := run(behavior.DefaultConfig(), w.events)
			strict := behavior.Evaluate(d.Flagged(), w.truth)
			t.Run("rules/threshold=5", func(t *testing.T) {
				bounds{minRecall: 0.75, minPrecision: 0.8, maxFalseFlag: 0.002, maxLookAlike: 0.05}.check(t, strict)
			})
			t.Run("rules/threshold=4", func(t *testing.T) {
				ev := behavior.Evaluate(run(behavior.Config{Threshold: 4}, w.events).Flagged(), w.truth)
				bounds{minRecall: 0.8, minPrecision: 0.4, maxFalseFlag: 0.015, maxLookAlike: 0.1}.check(t, ev)
			})
			t.Run("rules/threshold=3", func(t *testing.T) {
				loose := behavior.Evaluate(run(behavior.Config{Threshold: 3}, w.events).Flagged(), w.truth)
				bounds{minRecall: 0.85, minPrecision: 0.2, maxFalseFlag: 0.035, maxLookAlike: 0.25}.check(t, loose)
				// A lower threshold buys recall with false flags, and the
				// population holds benign adults the lenient rules flag.
				if loose.Recall < strict.Recall || loose.FalseFlagRate <= strict.FalseFlagRate || loose.LookAlikesFlagged == 0 {
					t.Errorf("threshold 3: recall %.3f, false flags %.4f; threshold 5: %.3f, %.4f",
						loose.Recall, loose.FalseFlagRate, strict.Recall, strict.FalseFlagRate)
				}
			})

			t.Run("model", func(t *testing.T) {
				train, test := behavior.Split(w.truth, 0.5, seed)
				m, err := behavior.Train(d.Examples(train), behavior.TrainConfig{})
				if err != nil {
					t.Fatal(err)
				}
				cfg := behavior.DefaultConfig()
				cfg.Model = m
				t.Logf("weights %v on %v", m.Weights, behavior.InputNames)
				bounds{minRecall: 0.85, minPrecision: 0.3, maxFalseFlag: 0.02, maxLookAlike: 0.15}.
					check(t, behavior.Evaluate(run(cfg, w.events).Flagged(), test))
			})
		})
	}
}

func TestNoOffendersFewFlags(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*calibrationSeeds); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			pc := corpus.DefaultPopulationConfig()
			pc.Seed = seed
			pc.OffenderShare = 0
			w := newWorld(t, pc, corpus.DefaultConversationConfig())
			ev := behavior.Evaluate(run(behavior.DefaultConfig(), w.events).Flagged(), w.truth)
			t.Logf("%v", ev)
			if ev.Offenders != 0 {
				t.Fatalf("%d offenders in an offender-free population", ev.Offenders)
			}
			// Measured on seeds 1–8: at most 2 flags among 3750 adults.
			if limit := ev.Benign / 500; ev.BenignFlagged > limit {
				t.Errorf("%d of %d benign adults flagged, want at most %d", ev.BenignFlagged, ev.Benign, limit)
			}
		})
	}
}
