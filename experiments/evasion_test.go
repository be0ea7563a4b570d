package experiments

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"scanlab/corpus"
)

func TestEvasionQuick(t *testing.T) {
	tiny := EvasionOptions{Photos: 2, Generated: 3, Attacked: 2, Collisions: 1, Budget: 30, CollisionBudget: 30}

	run := func(seed uint64) ([]byte, [][]string, [][]string) {
		dir := t.TempDir()
		o := Options{Seed: seed, Scale: Quick, Out: dir, Evasion: tiny}
		if _, err := runEvasion(o, dir); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, "evasion", "evasion.csv"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(dir, "evasion", "thorn-metric.csv"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		thorn, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return raw, rows, thorn
	}
	raw, rows, thorn := run(7)
	want := []string{"algo", "transform", "strength", "threshold", "items", "matched", "recall", "psnr"}
	if !slices.Equal(rows[0][:len(want)], want) {
		t.Fatalf("header %v, want it to start with %v", rows[0], want)
	}
	have := map[string]bool{}
	attacks := 0
	for _, r := range rows[1:] {
		have[r[0]+"/"+r[1]+"/"+r[3]] = true
		items, _ := strconv.Atoi(r[4])
		matched, _ := strconv.Atoi(r[5])
		recall, err := strconv.ParseFloat(r[6], 64)
		if err != nil || items == 0 || matched > items || recall != float64(int(10000*float64(matched)/float64(items)+0.5))/10000 {
			t.Errorf("row %v: inconsistent items, matched, recall", r)
		}
		if strings.HasPrefix(r[1], "attack") {
			attacks++
			if r[7] == "" || r[9] == "" {
				t.Errorf("attack row %v lacks psnr or queries", r)
			}
		}
	}
	for _, algo := range []string{"pdq", "phash"} {
		for _, tr := range corpus.ThornV0Names {
			if !have[algo+"/"+tr+"/31"] {
				t.Errorf("no row for %s %s at threshold 31", algo, tr)
			}
		}
		for _, tr := range corpus.ThornV0Names {
			a := slices.IndexFunc(evasionHashers, func(h corpus.Hasher) bool { return h.Name == algo })
			if th, ok := evasionThornThreshold(tr, a); ok && !have[algo+"/"+tr+"/"+strconv.Itoa(th)] {
				t.Errorf("no row for %s %s at Thorn's threshold %d", algo, tr, th)
			}
		}
		for _, a := range []string{"attack-evade", "attack-collide"} {
			if !have[algo+"/"+a+"/31"] {
				t.Errorf("no row for %s %s", algo, a)
			}
		}
	}
	if attacks != 4 {
		t.Errorf("%d attack rows, want 4", attacks)
	}
	if thorn[0][0] != "algo" || len(thorn) != 1+2*(len(corpus.ThornV0Names)+4) {
		t.Errorf("thorn-metric.csv has %d rows, header %v", len(thorn), thorn[0])
	}
	// Deterministic: the same seed gives the same bytes (the generator's
	// tests in package corpus check that other seeds give other images).
	again, _, _ := run(7)
	if !bytes.Equal(raw, again) {
		t.Error("same seed, different evasion.csv")
	}
}

// TestEvasionThornThreshold checks the conversion of Thorn's normalised
// thresholds to bits against values worked out by hand (× 256, rounded).
func TestEvasionThornThreshold(t *testing.T) {
	for _, tc := range []struct {
		transform string
		algo      int
		bits      int
		ok        bool
	}{
		{"blur2", 0, 60, true},    // 0.234375
		{"noise0.2", 0, 66, true}, // 0.257812
		{"pad0.2", 0, 72, true},   // 0.28125
		{"vignette", 1, 34, true}, // 0.132812
		{"noise0.2", 1, 70, true}, // 0.273438
		{"jpegq50", 0, 0, false},  // not one of Thorn's
	} {
		t.Run("transform="+tc.transform+"/algo="+evasionHashers[tc.algo].Name, func(t *testing.T) {
			bits, ok := evasionThornThreshold(tc.transform, tc.algo)
			if bits != tc.bits || ok != tc.ok {
				t.Errorf("got %d, %v; want %d, %v", bits, ok, tc.bits, tc.ok)
			}
		})
	}
}

func TestEvasionThornRecall(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pos, neg   []int
		thr        int
		recall     float64
		precisionN bool // precision is NaN
	}{
		{name: "separated", pos: []int{1, 2, 3}, neg: []int{50, 60, 70}, thr: 3, recall: 100},
		{name: "one-impostor-below", pos: []int{1, 2, 40, 80}, neg: []int{30, 90, 90, 90}, thr: 2, recall: 50},
		{name: "ties-count", pos: []int{5, 5, 9}, neg: []int{7, 100, 100}, thr: 5, recall: 100 * 2 / 3.0},
		{name: "none", pos: []int{50, 60}, neg: []int{10, 10}, thr: -1, recall: 0, precisionN: true},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			thr, recall, prec := evasionThornRecall(tc.pos, tc.neg, 99.99)
			if thr != tc.thr || recall != tc.recall || (prec != prec) != tc.precisionN {
				t.Fatalf("got threshold %d recall %g precision %g, want %d %g", thr, recall, prec, tc.thr, tc.recall)
			}
		})
	}
}
