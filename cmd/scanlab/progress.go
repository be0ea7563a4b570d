package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"scanlab/experiments"
)

// progressOutput returns where experiments report progress: a bar with an
// ETA when stderr is a terminal, timestamped lines otherwise (logs of batch
// jobs then show where a run is and how fast it goes).
func progressOutput(stderr io.Writer) (experiments.Progress, func()) {
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p := &barProgress{w: f}
		return p, p.finish
	}
	return &lineProgress{w: stderr, now: time.Now, every: 15 * time.Second}, func() {}
}

// lineProgress writes each event as a timestamped line, and a line on
// advance at most every `every`, with the share done and an estimate of the
// time left.
type lineProgress struct {
	w     io.Writer
	now   func() time.Time
	every time.Duration

	mu    sync.Mutex
	start time.Time // when the current experiment's work began
	last  time.Time // when a progress line was last written
	step  string    // the last event, naming the current step
}

func (p *lineProgress) Event(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if strings.Contains(msg, ": running") {
		p.start, p.last = now, now
	}
	p.step = msg
	fmt.Fprintf(p.w, "%s scanlab: %s\n", now.Format("15:04:05"), msg)
}

func (p *lineProgress) Advance(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if total <= 0 || done <= 0 || now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	fmt.Fprintf(p.w, "%s scanlab: %d%% of this step (%d/%d), %s elapsed%s\n", now.Format("15:04:05"),
		100*done/total, done, total, elapsed.Round(time.Second), eta(elapsed, done, total))
}

// eta estimates the time left from the rate so far.
func eta(elapsed time.Duration, done, total int) string {
	if done <= 0 || done >= total {
		return ""
	}
	left := time.Duration(float64(elapsed) / float64(done) * float64(total-done))
	return fmt.Sprintf(", about %s left", left.Round(time.Second))
}

// barProgress shows a bar with an ETA for the current experiment's work and
// prints each event on a line of its own above it, so that "done in" lines
// stay on screen.
type barProgress struct {
	w io.Writer

	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	total int
	desc  string
}

func (p *barProgress) Event(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintf(p.w, "scanlab: %s\n", msg)
	if strings.Contains(msg, ": done in") {
		p.bar, p.total = nil, 0
		return
	}
	p.desc = msg
	if p.bar != nil {
		p.bar.Describe(p.desc)
		p.bar.RenderBlank()
	}
}

func (p *barProgress) Advance(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if total <= 0 {
		return
	}
	if p.bar == nil || total != p.total {
		p.total = total
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionSetWidth(20),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.bar.Set(done)
}

func (p *barProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Clear()
	}
}
