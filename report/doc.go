package report

import (
	"fmt"
	"strings"
)

// The document model: the report is a list of blocks, rendered once as
// Markdown and once as HTML, so the two files carry the same content.
// Inline text uses a small subset of Markdown that both renderers
// understand: `code`, **strong**, *emphasis* and [text](#anchor) links.

// block is one element of the document.
type block interface{ isBlock() }

type (
	heading struct {
		level int
		text  string
	}
	para      struct{ text string }
	list      struct{ items []string }
	tableData struct {
		header []string
		rows   [][]string
	}
	figureRef struct {
		name, alt, caption string
	}
)

func (heading) isBlock()   {}
func (para) isBlock()      {}
func (list) isBlock()      {}
func (tableData) isBlock() {}
func (figureRef) isBlock() {}

// finding is one entry of the Findings list: a sentence carrying its
// number (and interval where there is one), the assumption it rests on,
// and the section that shows it.
type finding struct {
	text       string
	assumption string
	section    string // the heading of the section it links to
}

// doc accumulates the blocks, the figures they embed and the findings.
type doc struct {
	blocks   []block
	figs     []figure
	findings []finding
	section  string // the current level-2 heading, for findings' links
}

// h adds a heading; level 2 headings start a section.
func (d *doc) h(level int, text string) {
	d.blocks = append(d.blocks, heading{level, text})
	if level == 2 {
		d.section = text
	}
}

// p adds a paragraph.
func (d *doc) p(format string, a ...any) {
	d.blocks = append(d.blocks, para{fmt.Sprintf(format, a...)})
}

// list adds a bulleted list.
func (d *doc) list(items []string) {
	if len(items) > 0 {
		d.blocks = append(d.blocks, list{items})
	}
}

// table adds a table.
func (d *doc) table(header []string, rows [][]string) {
	d.blocks = append(d.blocks, tableData{header, rows})
}

// figure embeds f and records it for saving; alt is the image's alt text
// and caption the sentences that say what it shows.
func (d *doc) figure(f figure, alt string, caption ...string) {
	d.figs = append(d.figs, f)
	d.blocks = append(d.blocks, figureRef{f.name, alt, strings.Join(caption, " ")})
}

// find records a finding of the current section.
func (d *doc) find(text, assumption string) {
	d.findings = append(d.findings, finding{text, assumption, d.section})
}

// skipped writes the note for an absent input.
func (d *doc) skipped(file string) {
	d.p("*Not run: `%s` was not found in the results directory, so this part is skipped.*", file)
}

// anchor returns the id GitHub gives a heading: lower case, punctuation
// other than hyphens dropped, spaces turned into hyphens.
func anchor(heading string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(heading) {
		switch {
		case c == ' ':
			b.WriteByte('-')
		case c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c > 0x7f && c != '—' && c != '–' && c != '’':
			b.WriteRune(c)
		}
	}
	return b.String()
}

// markdown renders the blocks as GitHub-flavoured Markdown.
func markdown(blocks []block) string {
	var b strings.Builder
	for _, bl := range blocks {
		switch x := bl.(type) {
		case heading:
			fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", x.level), x.text)
		case para:
			b.WriteString(x.text + "\n\n")
		case list:
			for _, it := range x.items {
				b.WriteString("- " + it + "\n")
			}
			b.WriteString("\n")
		case tableData:
			b.WriteString(markdownTable(x) + "\n\n")
		case figureRef:
			fmt.Fprintf(&b, "![%s](plots/%s.png)\n\n", x.alt, x.name)
			if x.caption != "" {
				b.WriteString(x.caption + "\n\n")
			}
			fmt.Fprintf(&b, "Vector version: [plots/%s.svg](plots/%s.svg).\n\n", x.name, x.name)
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// numericColumn reports whether column i holds numbers in every row, so
// that it is right-aligned.
func numericColumn(t tableData, i int) bool {
	if i == 0 || len(t.rows) == 0 {
		return false
	}
	for _, r := range t.rows {
		if i < len(r) && r[i] != "" && !strings.ContainsRune("0123456789-–−≤<>", []rune(r[i])[0]) {
			return false
		}
	}
	return true
}

func markdownTable(t tableData) string {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	var b strings.Builder
	b.WriteString("|")
	for _, h := range t.header {
		b.WriteString(" " + esc(h) + " |")
	}
	b.WriteString("\n|")
	for i := range t.header {
		if numericColumn(t, i) {
			b.WriteString("--:|")
		} else {
			b.WriteString("---|")
		}
	}
	for _, r := range t.rows {
		b.WriteString("\n|")
		for _, c := range r {
			b.WriteString(" " + esc(c) + " |")
		}
	}
	return b.String()
}
