package main

import (
	"strings"
	"testing"

	"scanlab/demo"
	"scanlab/modes"
)

// TestDemoTerminal narrates listed-image non-interactively: the output
// names all three modes, every party and the threshold crossing, in plain
// text (stdout is not a terminal).
func TestDemoTerminal(t *testing.T) {
	o, e, code := runCLI("demo", "--terminal", "--scenario", "listed-image")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	want := append([]string{"Threshold crossed", "t = 2"}, modes.Names...)
	for _, p := range demo.PartyGlossary {
		want = append(want, p.Title)
	}
	for _, w := range want {
		if !strings.Contains(o, w) {
			t.Errorf("the narration does not say %q", w)
		}
	}
	if strings.Contains(o, "\x1b[") {
		t.Error("colour codes on a writer that is not a terminal")
	}
}

// TestDemoStep waits for Enter between steps, and ends cleanly when the
// input ends.
func TestDemoStep(t *testing.T) {
	old := demoStdin
	defer func() { demoStdin = old }()
	demoStdin = strings.NewReader("\n\n")
	o, e, code := runCLI("demo", "--terminal", "--scenario", "court-order", "--step", "--text", "meet me by the old oak tree at noon")
	if code != 0 || strings.Count(o, "[press Enter to go on]") < 3 || !strings.Contains(o, "meet me by the old oak tree") {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, e, o)
	}
}

func TestDemoUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"demo", "--listen", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"demo", "--terminal", "--scenario", "nope"}, `unknown scenario "nope"`},
		{[]string{"demo", "--terminal", "--text", "short"}, "has 5 characters"},
		{[]string{"demo", "--scenario", "grooming"}, "go with --terminal"},
		{[]string{"demo", "extra"}, "no arguments"},
	} {
		t.Run("args="+strings.Join(c.args, "_"), func(t *testing.T) {
			_, e, code := runCLI(c.args...)
			if code != 2 || !strings.Contains(e, c.err) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, e, c.err)
			}
		})
	}
	if err := checkLoopback("[::1]:8080", false); err != nil {
		t.Errorf("::1: %v", err)
	}
	if err := checkLoopback("0.0.0.0:8080", true); err != nil {
		t.Errorf("--public: %v", err)
	}
}
