package demo

import (
	"fmt"
	"io"
	"strings"
)

// Style says how [Narrate] writes.
type Style struct {
	// Colour adds ANSI colours (for a terminal).
	Colour bool
	// Pause, if set, is called after each part of the story (to wait for
	// Enter); an error from it ends the narration.
	Pause func() error
	// Width is the line width to wrap at (0: 80).
	Width int
}

const (
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiGreen  = "\x1b[32m"
	ansiReset  = "\x1b[0m"
)

// narrator writes one result.
type narrator struct {
	w   io.Writer
	r   *Result
	st  Style
	err error
}

// Narrate tells a result on a terminal, step by step: the scenario, each
// message in every mode, who got what, what it cost, what just happened.
// It renders the same [Result] as the web page.
func Narrate(w io.Writer, r *Result, st Style) error {
	if st.Width <= 0 {
		st.Width = 80
	}
	n := &narrator{w: w, r: r, st: st}
	parts := []func(){n.intro}
	for i := range r.Messages {
		parts = append(parts, func() { n.step(i) })
	}
	parts = append(parts, n.grid, n.cost, n.summary)
	for i, part := range parts {
		part()
		if n.err == nil && st.Pause != nil && i < len(parts)-1 {
			n.err = st.Pause()
		}
		if n.err != nil {
			return n.err
		}
	}
	return nil
}

func (n *narrator) printf(format string, args ...any) {
	if n.err == nil {
		_, n.err = fmt.Fprintf(n.w, format, args...)
	}
}

// paint wraps s in an ANSI code when colour is on.
func (n *narrator) paint(code, s string) string {
	if !n.st.Colour {
		return s
	}
	return code + s + ansiReset
}

func (n *narrator) heading(s string) { n.printf("\n%s\n", n.paint(ansiBold, s)) }

// para writes text wrapped, every line indented.
func (n *narrator) para(indent, text string) {
	for _, line := range wrap(text, n.st.Width-len(indent)) {
		n.printf("%s%s\n", indent, line)
	}
}

func (n *narrator) intro() {
	r := n.r
	n.printf("%s\n", n.paint(ansiBold, "scanlab demo: "+r.Scenario.Title))
	n.para("", r.Scenario.Summary)
	n.para("", fmt.Sprintf("Each message goes through %s, each over a real TLS relay on this machine; then every party's real holdings are searched for it with only that party's keys.", joinWords(modeNames(r))))
	for _, g := range ModeGlossary {
		n.para("  ", g.Name+": "+g.Sentence)
	}
	if r.Vouchered() {
		n.para("", fmt.Sprintf("clientscan's threshold is set to t = %d for this demo (Apple's was 30): the provider can open an account's vouchers once more than %d match.", r.Threshold, r.Threshold))
	}
	if r.Text != "" {
		n.para("", fmt.Sprintf("Your message (%d characters): %q", len([]rune(r.Text)), r.Text))
	}
}

func modeNames(r *Result) []string {
	var out []string
	for _, m := range r.Modes {
		out = append(out, m.Mode)
	}
	return out
}

func (n *narrator) step(i int) {
	msg := n.r.Messages[i]
	n.heading(fmt.Sprintf("Step %d of %d — %s: %s → %s at %s", i+1, len(n.r.Messages), msg.Label, msg.From, msg.To, msg.At.Format("15:04")))
	switch {
	case msg.Photo != "":
		if p, ok := PhotoNamed(msg.Photo); ok {
			n.para("  ", "The photo: "+p.Title+".")
		}
	case msg.Text != "":
		n.para("  ", fmt.Sprintf("%q", msg.Text))
	}
	for _, m := range n.r.Modes {
		st := m.Steps[i]
		n.printf("  %s\n", n.paint(ansiBold, m.Mode))
		n.para("    ", strings.Join(st.Says, " "))
		n.para("    ", "("+st.Brief()+")")
	}
}

func (n *narrator) grid() {
	n.heading("Who got what — the visibility audit of the same messages")
	for _, row := range n.r.Rows() {
		title := Title(string(row.Party))
		if !strings.EqualFold(title, string(row.Party)) {
			title += " (" + string(row.Party) + ")"
		}
		if row.Focus {
			title += "  ← this scenario"
		}
		n.printf("  %s\n", n.paint(ansiBold, title))
		for i, c := range row.Cells {
			badge := n.paint(levelColour(c.Level), "["+c.Level.Label()+"]")
			n.para("    ", fmt.Sprintf("%-10s %s %s — %s", n.r.Modes[i].Mode, badge, c.What, c.How))
		}
	}
}

func levelColour(l Level) string {
	switch l {
	case Content:
		return ansiRed
	case Metadata:
		return ansiYellow
	}
	return ansiGreen
}

func (n *narrator) cost() {
	if len(n.r.Messages) == 0 {
		return
	}
	n.heading("What it cost — " + n.r.Messages[0].Label + ", measured")
	line := fmt.Sprintf("  %-46s", "")
	for _, m := range n.r.Modes {
		line += fmt.Sprintf(" %-14s", m.Mode)
	}
	n.printf("%s\n", strings.TrimRight(line, " "))
	for _, row := range n.r.Costs(0) {
		if row.Stage == "Attachments" {
			for i, v := range row.Values {
				n.para("  ", fmt.Sprintf("Attachments in %s: %s", n.r.Modes[i].Mode, v))
			}
			continue
		}
		stage := row.Stage
		if row.Sub {
			stage = "  " + stage
		}
		line := fmt.Sprintf("  %-46s", stage)
		for _, v := range row.Values {
			line += fmt.Sprintf(" %-14s", v)
		}
		n.printf("%s\n", strings.TrimRight(line, " "))
	}
}

func (n *narrator) summary() {
	n.heading("What just happened")
	for _, m := range n.r.Modes {
		n.para("  ", m.Mode+": "+m.Outcome+".")
	}
	for _, note := range n.r.Notes {
		n.para("  ", note)
	}
	n.para("", n.r.Happened)
}

// wrap breaks text into lines of at most width characters, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	var line strings.Builder
	for _, word := range strings.Fields(text) {
		if line.Len() > 0 && len([]rune(line.String()))+1+len([]rune(word)) > width {
			lines = append(lines, line.String())
			line.Reset()
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(word)
	}
	if line.Len() > 0 {
		lines = append(lines, line.String())
	}
	return lines
}
