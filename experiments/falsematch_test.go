package experiments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"scanlab/falsematch"
	"scanlab/schema"
)

// falseMatchFiles are the files the experiment writes.
var falseMatchFiles = []schema.Spec{schema.ImageRate, schema.Distances, schema.DistanceSummary, schema.TailFits, schema.TailChecks, schema.Curve, schema.SafeRates}

// TestFalseMatchSmall runs the falsematch experiment through Run on 40
// images (registration, files, manifest): the same seed gives the same
// bytes in every file, another seed other distances; the files read back
// through the schema, the measured bound is the one marked on the curve,
// and the manifest records the images the bound rests on.
func TestFalseMatchSmall(t *testing.T) {
	const images = 40
	run := func(seed uint64) (string, map[string][]byte) {
		dir := t.TempDir()
		o := Options{Seed: seed, Scale: Quick, Out: dir, FalseMatch: FalseMatchOptions{Images: images}}
		if err := Run([]string{"falsematch"}, o); err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, f := range falseMatchFiles {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Name())))
			if err != nil {
				t.Fatal(err)
			}
			files[f.Name()] = b
		}
		return dir, files
	}
	dir, first := run(7)
	_, again := run(7)
	for name, b := range first {
		if !bytes.Equal(b, again[name]) {
			t.Errorf("%s: the same seed gave different bytes", name)
		}
	}
	if _, other := run(8); bytes.Equal(first[schema.Distances.Path], other[schema.Distances.Path]) {
		t.Error("another seed gave the same distances: the images ignore the seed")
	}
	checkFalseMatchFiles(t, dir, images)
	ms, err := schema.ReadManifests(dir)
	if err != nil || len(ms) != 1 || ms[0].Experiment != "falsematch" || ms[0].Scale != "quick" {
		t.Fatalf("manifests %+v, %v: want the falsematch run's", ms, err)
	}
	var spec falseMatchSpec
	if err := json.Unmarshal(ms[0].Options, &spec); err != nil || spec.Images != images || spec.Threshold != 31 || spec.MaxT != falsematch.CurveMaxT {
		t.Fatalf("manifest options %s (%v), want %d images at threshold 31", ms[0].Options, err, images)
	}
}

// checkFalseMatchFiles reads the files of a run on n images and checks
// how they fit together.
func checkFalseMatchFiles(t *testing.T, dir string, n int) {
	t.Helper()
	rates, err := schema.ImageRate.ReadFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rates) != 3 || rates[0].Benign != falsematch.BenignGenerated || rates[0].Hash != falsematch.HashPDQ || rates[0].Drawn != n || rates[0].Images == 0 {
		t.Fatalf("image rates %+v, want three with the generated PDQ rate first, %d drawn", rates, n)
	}
	curve, err := schema.Curve.ReadFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, c := range curve {
		if c.Basis == falsematch.BasisMeasuredUpper {
			marked++
			if c.PImage != rates[0].Upper95 {
				t.Fatalf("curve marks %v as the measured bound, the rate file says %v", c.PImage, rates[0].Upper95)
			}
		}
	}
	if want := len(falsematch.CurveLibraries) * falsematch.CurveMaxT; marked != want {
		t.Errorf("the measured bound is marked %d times, want once per library and t (%d)", marked, want)
	}
	dist, err := schema.Distances.ReadFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	var nearest int64
	for _, d := range dist {
		if d.Set == falsematch.SetNearestGenerated {
			nearest += d.Count
		}
		if d.Count == 0 {
			t.Fatalf("a bar with no distance was written: %+v", d)
		}
	}
	if nearest != int64(rates[0].Images) {
		t.Errorf("nearest distances count %d images, the rate %d", nearest, rates[0].Images)
	}
	for _, f := range []func() error{
		func() error { _, err := schema.DistanceSummary.ReadFile(dir); return err },
		func() error { _, err := schema.TailFits.ReadFile(dir); return err },
		func() error { _, err := schema.TailChecks.ReadFile(dir); return err },
		func() error { _, err := schema.SafeRates.ReadFile(dir); return err },
	} {
		if err := f(); err != nil {
			t.Error(err)
		}
	}
}

func TestFalseMatchOptions(t *testing.T) {
	for _, c := range []struct {
		scale  Scale
		images int
		want   int
	}{{Quick, 0, falsematch.QuickImages}, {Default, 0, falsematch.DefaultImages}, {Full, 0, falsematch.FullImages}, {Full, 12, 12}} {
		t.Run(fmt.Sprintf("scale=%s/images=%d", c.scale, c.images), func(t *testing.T) {
			if got := falseMatchSpecOf(Options{Scale: c.scale, FalseMatch: FalseMatchOptions{Images: c.images}}).Images; got != c.want {
				t.Fatalf("%d images, want %d", got, c.want)
			}
		})
	}
	err := Run([]string{"falsematch"}, Options{Out: t.TempDir(), FalseMatch: FalseMatchOptions{Images: -1}})
	if err == nil || !strings.Contains(err.Error(), "images") {
		t.Fatalf("negative image count: %v, want an error naming images", err)
	}
}
