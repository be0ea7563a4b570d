package main

import (
	"bytes"
	"io"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressOutput returns where experiments report progress: a live spinner
// with the current step when stderr is a terminal, plain lines otherwise
// (logs of batch jobs then show where a run stopped).
func progressOutput(stderr io.Writer) (io.Writer, func()) {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return stderr, func() {}
	}
	bar := progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetWidth(20),
	)
	w := &barWriter{bar: bar}
	return w, func() { bar.Finish(); io.WriteString(f, "\n") }
}

// barWriter shows each line written to it as the spinner's description.
type barWriter struct {
	bar *progressbar.ProgressBar
	buf bytes.Buffer
}

func (w *barWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			break
		}
		w.bar.Describe(strings.TrimPrefix(strings.TrimSpace(line), "scanlab: "))
		w.bar.Add(1)
	}
	return len(p), nil
}
