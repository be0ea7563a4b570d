package modes_test

import (
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"scanlab"
	"scanlab/e2ee"
	"scanlab/hybrid"
	"scanlab/internal/testimg"
	"scanlab/modes"
	"scanlab/perceptual"
)

// TestHybridIsNotCompared: the hybrid constructor leaves the three modes
// every experiment compares as they were.
func TestHybridIsNotCompared(t *testing.T) {
	if want := []string{"serverscan", "e2ee", "clientscan"}; !slices.Equal(modes.Names, want) {
		t.Fatalf("Names = %v, want %v", modes.Names, want)
	}
	if _, err := modes.New(hybrid.Name, modes.Config{}); err == nil {
		t.Error("modes.New builds the hybrid mode by name, so it would join the comparisons")
	}
}

// TestHybridScansWithTheList: a listed image in a clear conversation of
// the hybrid mode is caught by the list in the configuration; in an
// encrypted one it is not.
func TestHybridScansWithTheList(t *testing.T) {
	img := testimg.Rectangles(3, 0, 64)
	s, err := perceptual.ScanImage(img)
	if err != nil {
		t.Fatal(err)
	}
	cfg := modes.Config{List: []perceptual.Hash{s.Hash}, Labels: []string{"listed"}}
	for _, encrypted := range []bool{false, true} {
		m := modes.Hybrid(cfg, func(scanlab.UserID, scanlab.UserID) bool { return encrypted }, false)
		srv, err := m.NewServer(scanlab.ServerEnv{Now: time.Now, Secret: func(string) ([]byte, error) {
			k := make([]byte, 32)
			rand.Read(k)
			return k, nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		dir := e2ee.NewMemoryDirectory()
		dev, err := m.NewDevice("alice", dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.NewDevice("bob", dir); err != nil {
			t.Fatal(err)
		}
		e, err := dev.Seal(scanlab.Message{ID: "1", From: "alice", To: "bob", Content: scanlab.Content{Kind: scanlab.Image, Image: img}})
		if err != nil {
			t.Fatal(err)
		}
		ds, err := srv.Accept(&e)
		if err != nil {
			t.Fatal(err)
		}
		if hit := len(ds) == 1 && ds[0].Pathway == scanlab.ServerHash && ds[0].Rule == "listed"; hit == encrypted {
			t.Errorf("encrypted=%v: detections %+v", encrypted, ds)
		}
	}
}
