package platform_test

import (
	"os"
	"path/filepath"
	"testing"

	"scanlab/platform"
	"scanlab/presets"
)

// FuzzParse feeds the parser arbitrary bytes, seeded with the built-in
// presets and every bad preset in testdata/bad: it must never panic, and a
// preset it accepts must have every field in a valid state and run its
// whole one-at-a-time sweep.
func FuzzParse(f *testing.F) {
	for _, s := range platform.Slugs {
		data, err := presets.FS.ReadFile(s + ".toml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	bad, _ := filepath.Glob("testdata/bad/*.toml")
	for _, path := range bad {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := platform.Parse("fuzz", data)
		if err != nil {
			return
		}
		for _, fd := range p.Fields() {
			switch fd.State {
			case platform.Documented:
				if fd.Source == nil || fd.Value == nil {
					t.Fatalf("%s: documented without value or source", fd.Key)
				}
			case platform.Undocumented, platform.NotApplicable:
			default:
				t.Fatalf("%s: state %v", fd.Key, fd.State)
			}
		}
		if _, err := p.Variants(); err != nil {
			t.Fatalf("accepted preset cannot run its sweep: %v", err)
		}
	})
}
