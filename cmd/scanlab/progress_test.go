package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestLineProgress checks that progress without a terminal is timestamped
// lines, that advances are rate-limited and carry an estimate of the time
// left, and that "done in" lines are kept.
func TestLineProgress(t *testing.T) {
	var b bytes.Buffer
	clock := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	p := &lineProgress{w: &b, now: func() time.Time { return clock }, every: 10 * time.Second}
	p.Event("[1/2] coverage: running (0s elapsed)")
	for i := 1; i <= 10; i++ {
		clock = clock.Add(3 * time.Second)
		p.Advance(i, 10)
	}
	p.Event("[1/2] coverage: done in 30s, results in out/coverage")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) < 4 || len(lines) > 6 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "12:0") {
			t.Errorf("line without a timestamp: %q", l)
		}
	}
	if !strings.Contains(b.String(), "about ") || !strings.Contains(lines[len(lines)-1], "done in 30s") {
		t.Errorf("no estimate or no done line:\n%s", b.String())
	}
}
