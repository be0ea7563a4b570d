package experiments

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCoverageShardsMerge runs a small coverage sweep whole and in three
// slices, merges the slices, and requires byte-identical files; a missing or
// duplicated slice is refused.
func TestCoverageShardsMerge(t *testing.T) {
	tinyCoverage = true
	defer func() { tinyCoverage = false }()
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	if err := Run([]string{"coverage"}, Options{Seed: 3, Out: whole, Quick: true}); err != nil {
		t.Fatal(err)
	}
	var slices []string
	for i := range 3 {
		out := filepath.Join(dir, "shard", string(rune('0'+i)))
		if err := Run([]string{"coverage"}, Options{Seed: 3, Out: out, Quick: true, Shard: Shard{I: i, N: 3}}); err != nil {
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
	for f := range coverageHeaders {
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
	if n := len(rows) - 1; n != len(Modes(ModeConfig{}))*len(coverageClasses)*7 {
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
