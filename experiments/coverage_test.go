package experiments

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"scanlab/behavior"
	"scanlab/coverage"
	"scanlab/modes"
	"scanlab/schema"
)

// tinyCoverage is a coverage workload and sweep small enough for tests:
// one point of each sweep.
var tinyCoverage = CoverageOptions{Users: 150, Days: 3, Images: 4, Attacks: 1,
	Stealth: []float64{1}, DetectorThresholds: []float64{5}, ReportRates: []float64{0.2}, DMPolicies: []string{"friends"},
	ModifiedClientShares: []float64{1}, Thresholds: []int{2}, PSIMatch: []string{"chunks=4"},
	DurationDays: []int{2}, DurationThresholds: []int{2}}

// TestCoverageShardsMerge runs a small coverage sweep whole and in three
// slices, merges the slices, and requires byte-identical files; a missing or
// duplicated slice is refused.
func TestCoverageShardsMerge(t *testing.T) {
	if testing.Short() {
		t.Skip("study-sized: runs without -short")
	}
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	if err := Run([]string{"coverage"}, Options{Seed: 3, Out: whole, Scale: Quick, Coverage: tinyCoverage}); err != nil {
		t.Fatal(err)
	}
	var slices []string
	for i := range 3 {
		out := filepath.Join(dir, "shard", string(rune('0'+i)))
		if err := Run([]string{"coverage"}, Options{Seed: 3, Out: out, Scale: Quick, Coverage: tinyCoverage, Shard: Shard{I: i, N: 3}}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(out, "coverage", "coverage.csv")); err == nil {
			t.Fatalf("slice %d assembled the whole result on its own", i)
		}
		slices = append(slices, filepath.Join(out, "coverage"))
	}
	merged := filepath.Join(dir, "merged")
	if err := Merge("coverage", merged, slices); err != nil {
		t.Fatal(err)
	}
	for _, file := range coverageFiles {
		f := file.Base()
		a, err := os.ReadFile(filepath.Join(whole, "coverage", f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(merged, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: merged slices differ from the whole run", f)
		}
	}
	if err := Merge("coverage", filepath.Join(dir, "m2"), slices[:2]); err == nil || !strings.Contains(err.Error(), "cells") {
		t.Errorf("merge with a slice missing: %v", err)
	}
	if err := Merge("coverage", filepath.Join(dir, "m3"), append(slices, slices[0])); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("merge with a slice twice: %v", err)
	}

	// The whole run has the required columns and every class × pathway row.
	f, _ := os.Open(filepath.Join(whole, "coverage", "coverage.csv"))
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0][:6], ","); got != "mode,class,pathway,items,detected,recall" {
		t.Fatalf("header %q", got)
	}
	classes := len(coverage.HarmfulClasses) + len(coverage.BenignClasses)
	if n := len(rows) - 1; n != len(modes.Names)*classes*len(schema.Pathways) {
		t.Fatalf("%d rows", n)
	}
	// serverscan catches every delivered known image with server-hash; e2ee
	// never uses a scanning pathway.
	for _, r := range rows[1:] {
		if r[0] == "serverscan" && r[1] == "known-image" && r[2] == "server-hash" && r[3] != "0" && r[5] != "1.0000" {
			t.Errorf("serverscan known-image recall %s", r[5])
		}
		if r[0] == "e2ee" && (r[2] == "server-hash" || r[2] == "server-text" || r[2] == "device-hash") && r[4] != "0" {
			t.Errorf("e2ee detected %s via %s", r[4], r[2])
		}
	}
}

// TestMergeRefusesMixedSlices checks that slices of different runs are
// refused, naming what differs, and that a failed merge leaves nothing.
func TestMergeRefusesMixedSlices(t *testing.T) {
	if testing.Short() {
		t.Skip("study-sized: runs without -short")
	}
	dir := t.TempDir()
	var slices []string
	for i, seed := range []uint64{3, 4} {
		out := filepath.Join(dir, "shard", string(rune('0'+i)))
		o := Options{Seed: seed, Out: out, Scale: Quick, Coverage: tinyCoverage, Shard: Shard{I: i, N: 2}}
		o.Coverage.ReportRates, o.Coverage.DMPolicies, o.Coverage.ModifiedClientShares, o.Coverage.Thresholds, o.Coverage.PSIMatch = []float64{0.5}, []string{}, []float64{}, []int{}, []string{}
		o.Coverage.Stealth, o.Coverage.DurationDays = []float64{}, []int{}
		if err := Run([]string{"coverage"}, o); err != nil {
			t.Fatal(err)
		}
		slices = append(slices, filepath.Join(out, "coverage"))
	}
	merged := filepath.Join(dir, "merged")
	err := Merge("coverage", merged, slices)
	if err == nil || !strings.Contains(err.Error(), "seed differs: 3 vs 4") {
		t.Fatalf("merge of seed-3 and seed-4 slices: %v", err)
	}
	if _, err := os.Stat(merged); !os.IsNotExist(err) {
		t.Fatalf("a failed merge left %s behind (%v)", merged, err)
	}
}

func TestSelectRefusesShardingWhatDoesNotShard(t *testing.T) {
	for _, tc := range []struct {
		names []string
		shard Shard
		ok    bool
	}{
		{[]string{"coverage"}, Shard{0, 2}, true},
		{[]string{"latency"}, Shard{0, 2}, false},
		{nil, Shard{1, 2}, false},
		{nil, Shard{}, true},
		{[]string{"nope"}, Shard{}, false},
	} {
		_, err := Select(tc.names, tc.shard)
		if (err == nil) != tc.ok {
			t.Errorf("Select(%v, %v) = %v", tc.names, tc.shard, err)
		}
	}
	if _, err := ShardFromEnv(3); err == nil && os.Getenv("SLURM_ARRAY_TASK_ID") == "" && os.Getenv("JOB_COMPLETION_INDEX") == "" {
		t.Error("--shards without a scheduler index ran the whole sweep")
	}
}

// TestStudyApartFromCalibration fails if any cell of the coverage study, at
// any scale, evaluates the metadata detector on the seeds or generator
// settings it was calibrated on — and checks that the check would catch a
// study run with a calibration seed.
func TestStudyApartFromCalibration(t *testing.T) {
	for _, scale := range []Scale{Quick, Default, Full} {
		for _, seed := range []uint64{1, 2, 3} {
			o := Options{Seed: seed, Scale: scale}
			for _, cell := range coverageCells(o) {
				cfg := coverageBase(o)
				if cell.apply != nil {
					cell.apply(&cfg)
				}
				if err := behavior.CheckApart(cfg.Population, cfg.Conversation); err != nil {
					t.Errorf("scale %s, seed %d, cell %s=%s: %v", scale, seed, cell.Sweep, cell.Value, err)
				}
			}
		}
	}
	o := Options{Seed: behavior.CalibrationSeeds[0], Scale: Quick, Out: t.TempDir(), Coverage: tinyCoverage}
	if err := Run([]string{"coverage"}, o); err == nil || !strings.Contains(err.Error(), "calibration") {
		t.Fatalf("a study on a calibration seed ran: %v", err)
	}
}
