package experiments

import (
	"testing"

	"scanlab/modes"
	"scanlab/schema"
)

// TestLoadExperiment runs a tiny load study: every mode and run has a row
// in both files, with the same key in the same order, every message sent
// was delivered once, and the manifest records the sizes asked for.
func TestLoadExperiment(t *testing.T) {
	out := t.TempDir()
	o := Options{Seed: 2, Out: out, Scale: Quick, Load: LoadOptions{Devices: 6, Messages: 4}}
	if err := Run([]string{"load"}, o); err != nil {
		t.Fatal(err)
	}
	counts, err := schema.Load.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	times, err := schema.LoadTimings.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	runs := loadConfig(o).Runs
	if len(counts) != len(modes.Names)*len(runs) || len(times) != len(counts) {
		t.Fatalf("%d count rows and %d timing rows, want %d each", len(counts), len(times), len(modes.Names)*len(runs))
	}
	for i, c := range counts {
		t.Run("mode="+c.Mode+"/run="+runs[i%len(runs)].Name(), func(t *testing.T) {
			tm := times[i]
			if c.Mode != modes.Names[i/len(runs)] || tm.Mode != c.Mode || tm.Rate != c.Rate || tm.Window != c.Window || tm.Devices != 6 {
				t.Fatalf("rows %+v and %+v, want mode %s", c, tm, modes.Names[i/len(runs)])
			}
			if c.Sent != 24 || c.Acknowledged != 24 || c.Delivered != 24 || c.Lost+c.Duplicates+c.Wrong != 0 {
				t.Fatalf("counts %+v, want 24 sent, acknowledged and delivered, none lost, duplicated or wrong", c)
			}
			if tm.MsgsPerS <= 0 || tm.P50MS <= 0 || tm.CPUPerMsg <= 0 {
				t.Fatalf("timings %+v", tm)
			}
		})
	}
	ms, err := schema.ReadManifests(out)
	if err != nil || len(ms) != 1 || string(ms[0].Options) == "" {
		t.Fatalf("manifests %+v, %v", ms, err)
	}
	if spec := loadSpecOf(loadConfig(o)); spec.Devices != 6 || spec.Messages != 4 || len(spec.Runs) != 3 {
		t.Fatalf("spec %+v", spec)
	}
}
