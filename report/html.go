package report

import (
	"encoding/base64"
	"fmt"
	"html"
	"strings"
)

// htmlStyle lays the report out for a screen and for print on A4 or Letter:
// no fixed page size, figures and table rows kept whole across pages,
// small type for the wide tables, whose cells wrap at spaces.
const htmlStyle = `
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 11pt; line-height: 1.45; max-width: 52em; margin: 2em auto; padding: 0 1em; color: #111; }
h1 { font-size: 1.7em; } h2 { font-size: 1.35em; margin-top: 1.8em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.15em; } h4 { font-size: 1em; }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.92em; background: #f3f3f3; padding: 0 0.2em; }
table { border-collapse: collapse; font-size: 8.5pt; margin: 0.8em 0; }
th, td { border: 1px solid #bbb; padding: 0.15em 0.4em; vertical-align: top; }
th { background: #eee; } td.num { text-align: right; }
figure { margin: 1em 0; } figure img { width: 100%; height: auto; } figcaption { font-size: 0.95em; }
a { color: #0057a3; }
@page { margin: 14mm 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  h2, h3, h4 { break-after: avoid; }
  figure, tr { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
`

// htmlDoc renders the blocks as one self-contained HTML page; svgs maps a
// plot's name to its SVG bytes, embedded as data URLs so that the page
// needs no other file and no network.
func htmlDoc(title string, blocks []block, svgs map[string][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n", html.EscapeString(title), htmlStyle)
	for _, bl := range blocks {
		switch x := bl.(type) {
		case heading:
			fmt.Fprintf(&b, "<h%d id=\"%s\">%s</h%d>\n", x.level, anchor(x.text), inlineHTML(x.text), x.level)
		case para:
			fmt.Fprintf(&b, "<p>%s</p>\n", inlineHTML(x.text))
		case list:
			b.WriteString("<ul>\n")
			for _, it := range x.items {
				fmt.Fprintf(&b, "<li>%s</li>\n", inlineHTML(it))
			}
			b.WriteString("</ul>\n")
		case tableData:
			b.WriteString(htmlTable(x))
		case figureRef:
			src := "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svgs[x.name])
			fmt.Fprintf(&b, "<figure>\n<img src=\"%s\" alt=\"%s\">\n", src, html.EscapeString(x.alt))
			if x.caption != "" {
				fmt.Fprintf(&b, "<figcaption>%s</figcaption>\n", inlineHTML(x.caption))
			}
			b.WriteString("</figure>\n")
		}
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}

func htmlTable(t tableData) string {
	var b strings.Builder
	b.WriteString("<table>\n<thead><tr>")
	for _, h := range t.header {
		fmt.Fprintf(&b, "<th>%s</th>", inlineHTML(h))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, r := range t.rows {
		b.WriteString("<tr>")
		for i, c := range r {
			if numericColumn(t, i) {
				fmt.Fprintf(&b, "<td class=\"num\">%s</td>", inlineHTML(c))
			} else {
				fmt.Fprintf(&b, "<td>%s</td>", inlineHTML(c))
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	return b.String()
}

// inlineHTML converts the inline Markdown subset to HTML, escaping
// everything else.
func inlineHTML(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		switch {
		case s[0] == '`':
			if end := strings.IndexByte(s[1:], '`'); end >= 0 {
				b.WriteString("<code>" + html.EscapeString(s[1:1+end]) + "</code>")
				s = s[end+2:]
				continue
			}
		case strings.HasPrefix(s, "**"):
			if end := strings.Index(s[2:], "**"); end >= 0 {
				b.WriteString("<strong>" + inlineHTML(s[2:2+end]) + "</strong>")
				s = s[end+4:]
				continue
			}
		case s[0] == '*':
			if end := strings.IndexByte(s[1:], '*'); end > 0 {
				b.WriteString("<em>" + inlineHTML(s[1:1+end]) + "</em>")
				s = s[end+2:]
				continue
			}
		case s[0] == '[':
			if text, href, rest, ok := cutLink(s); ok {
				fmt.Fprintf(&b, "<a href=\"%s\">%s</a>", html.EscapeString(href), inlineHTML(text))
				s = rest
				continue
			}
		}
		b.WriteString(html.EscapeString(s[:1]))
		s = s[1:]
	}
	return b.String()
}

// cutLink splits "[text](href)rest".
func cutLink(s string) (text, href, rest string, ok bool) {
	close := strings.Index(s, "](")
	if close < 0 {
		return "", "", "", false
	}
	end := strings.IndexByte(s[close:], ')')
	if end < 0 {
		return "", "", "", false
	}
	return s[1:close], s[close+2 : close+end], s[close+end+1:], true
}
