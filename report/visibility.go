package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab/observe"
	"scanlab/schema"
)

// Item groups for the visibility sentences.
var (
	contentItems  = []observe.Item{observe.Text, observe.Image}
	metadataItems = []observe.Item{observe.SenderID, observe.RecipientID, observe.Timestamp, observe.Size, observe.ContactGraph}
)

// visKey is one cell of a visibility matrix.
type visKey struct {
	party observe.Party
	item  observe.Item
}

// visMatrix is one mode's visibility cells by party and item.
type visMatrix struct {
	mode    string
	parties []observe.Party
	items   []observe.Item
	v       map[visKey]float64
}

func (m visMatrix) get(party observe.Party, item observe.Item) (float64, bool) {
	v, ok := m.v[visKey{party, item}]
	return v, ok
}

// visMatrices arranges the visibility rows as one matrix per mode, parties
// and items in the vocabulary's order.
func visMatrices(rows []schema.VisibilityRow) []visMatrix {
	parties := inOrder(mapSlice(rows, func(c schema.VisibilityRow) observe.Party { return c.Party }), observe.Parties)
	items := inOrder(mapSlice(rows, func(c schema.VisibilityRow) observe.Item { return c.Item }), observe.Items)
	var out []visMatrix
	for _, mode := range distinct(mapSlice(rows, func(c schema.VisibilityRow) string { return c.Mode })) {
		m := visMatrix{mode: mode, parties: parties, items: items, v: map[visKey]float64{}}
		for _, c := range rows {
			if c.Mode == mode {
				m.v[visKey{c.Party, c.Item}] = c.Recovered
			}
		}
		out = append(out, m)
	}
	return out
}

// mapSlice applies f to every element of xs.
func mapSlice[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// visibilityAssumption is what every visibility finding rests on.
const visibilityAssumption = "each party holds only the views modelled; attacks outside the model (malware, a compromised app update) are not measured."

func (r *results) writeVisibility(d *doc) error {
	d.h(2, "Who can read what")
	if r.vis == nil {
		d.skipped(schema.Visibility.Path)
		return nil
	}
	d.p("%s", "The visibility experiment plants canaries — unique tokens in texts, unique photos — sends them through each design over the real relay, "+
		"then searches every party's actual view (server memory, database file, wire capture, lawful-access export) using only that party's keys. "+
		"Each cell is the share of that item's canaries the party recovered (`"+schema.Visibility.Path+"`; its `route` column says how). "+
		"A share below 100% means some but not all canaries were found — for example scan results exist only for the messages that were scanned or reported. "+
		"A 0 means the search found nothing in that party's view, not that no other attack exists.")
	for _, m := range visMatrices(passiveRows(r.vis)) {
		d.h(3, modeName(m.mode))
		caption, more := m.sentences()
		if len(caption) > 0 {
			d.find(joinSentences(caption), visibilityAssumption)
		}
		d.figure(m.heatMap(), "Share of planted canaries each party recovered in "+modeName(m.mode), caption...)
		if len(more) > 0 {
			d.p("%s", joinSentences(more))
		}
		d.table(m.tableHeader(), m.tableRows())
	}
	r.writeActive(d)
	return nil
}

// passiveRows are the visibility rows of parties that mount no attack
// (the provider acting in bad faith has a section of its own).
func passiveRows(rows []schema.VisibilityRow) []schema.VisibilityRow {
	var out []schema.VisibilityRow
	for _, v := range rows {
		if v.Attack == "" && v.Party != observe.ProviderActive {
			out = append(out, v)
		}
	}
	return out
}

func (m visMatrix) tableHeader() []string {
	return append([]string{"party \\ item"}, mapStrings(m.items, itemName)...)
}

func (m visMatrix) tableRows() [][]string {
	var rows [][]string
	for _, p := range m.parties {
		row := []string{partyName(p)}
		for _, it := range m.items {
			v, ok := m.get(p, it)
			if !ok {
				v = math.NaN()
			}
			row = append(row, sharePct(v))
		}
		rows = append(rows, row)
	}
	return rows
}

// sharePct formats a share of canaries: "100%", "67%", "0", "–".
func sharePct(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v == 0:
		return "0"
	}
	return pct(v)
}

func joinSentences(s []string) string { return strings.Join(s, " ") }

// withShares names parties in prose, adding the share when it is not all.
func withShares[K ~string](names []K, shares []float64, name func(K) string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = name(n)
		if shares[i] < 1 {
			out[i] += " (" + pct(shares[i]) + ")"
		}
	}
	return out
}

// recoveredBy lists the parties that recovered some of item, with their
// shares, leaving out those skip rejects.
func (m visMatrix) recoveredBy(item observe.Item, skip func(observe.Party) bool) []string {
	var who []observe.Party
	var shares []float64
	for _, p := range m.parties {
		if v, ok := m.get(p, item); ok && v > 0 && !skip(p) {
			who, shares = append(who, p), append(shares, v)
		}
	}
	return withShares(who, shares, partyPhrase)
}

// itemsOf lists the items party recovered some of, with their shares.
func (m visMatrix) itemsOf(party observe.Party, items []observe.Item) []string {
	var got []observe.Item
	var shares []float64
	for _, it := range items {
		if v, ok := m.get(party, it); ok && v > 0 {
			got, shares = append(got, it), append(shares, v)
		}
	}
	return withShares(got, shares, itemName)
}

// partyPhrase names a party in a sentence, with its article.
func partyPhrase(p observe.Party) string {
	if p == observe.LawEnforcement {
		return partyName(p)
	}
	return "the " + partyName(p)
}

func endpoint(p observe.Party) bool { return p == observe.Sender || p == observe.Recipient }

func none(observe.Party) bool { return false }

// sentences says what the matrix shows: the caption (who read content,
// what the provider saw), then further observations.
func (m visMatrix) sentences() (caption, more []string) {
	if s := m.contentSentence(); s != "" {
		caption = append(caption, s)
	}
	if s := m.providerSentence(); s != "" {
		caption = append(caption, s)
	}
	for _, f := range []func() string{m.eavesdropperSentence, m.reportedSentence, m.scannerSentence, m.hashListSentence, m.breachSentence} {
		if s := f(); s != "" {
			more = append(more, s)
		}
	}
	return caption, more
}

// contentSentence says who, besides the sender and recipient, recovered
// message text and photos.
func (m visMatrix) contentSentence() string {
	type readers struct {
		label string
		names []string
	}
	var rs []readers
	for _, it := range contentItems {
		if _, ok := m.get(observe.Provider, it); !ok {
			continue // not measured in this mode
		}
		rs = append(rs, readers{map[observe.Item]string{observe.Text: "message text", observe.Image: "photos"}[it], m.recoveredBy(it, endpoint)})
	}
	if len(rs) == 2 && slices.Equal(rs[0].names, rs[1].names) {
		join := " or "
		if len(rs[0].names) > 0 {
			join = " and "
		}
		rs = []readers{{rs[0].label + join + rs[1].label, rs[0].names}}
	}
	var parts []string
	for _, x := range rs {
		if len(x.names) == 0 {
			parts = append(parts, "no party other than the sender and recipient recovered "+x.label)
		} else {
			parts = append(parts, fmt.Sprintf("%s recovered %s", andList(x.names), x.label))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("In %s, %s.", modeName(m.mode), strings.Join(parts, "; "))
}

// providerSentence says which metadata the provider recovered.
func (m visMatrix) providerSentence() string {
	if _, ok := m.get(observe.Provider, observe.SenderID); !ok {
		return ""
	}
	var all, some []observe.Item
	var shares []float64
	for _, it := range metadataItems {
		switch v, _ := m.get(observe.Provider, it); {
		case v == 1:
			all = append(all, it)
		case v > 0:
			some, shares = append(some, it), append(shares, v)
		}
	}
	still := " still"
	for _, it := range contentItems {
		if v, ok := m.get(observe.Provider, it); ok && v > 0 {
			still = ""
		}
	}
	allNames, someNames := mapStrings(all, itemName), withShares(some, shares, itemName)
	switch {
	case len(all) == 0 && len(some) == 0:
		return "The provider recovered none of the metadata (" + andList(mapStrings(metadataItems, itemName)) + ")."
	case len(some) == 0:
		return fmt.Sprintf("The provider%s recovered %s for every message.", still, andList(allNames))
	case len(all) == 0:
		return fmt.Sprintf("The provider%s recovered %s.", still, andList(someNames))
	}
	return fmt.Sprintf("The provider%s recovered %s for every message, and %s.", still, andList(allNames), andList(someNames))
}

func (m visMatrix) eavesdropperSentence() string {
	if _, ok := m.get(observe.Eavesdropper, observe.Text); !ok {
		return ""
	}
	if got := m.itemsOf(observe.Eavesdropper, m.items); len(got) > 0 {
		return fmt.Sprintf("A network eavesdropper recovered %s.", andList(got))
	}
	return "A network eavesdropper recovered nothing."
}

func (m visMatrix) reportedSentence() string {
	return m.reachSentence(observe.ReportedText, endpoint, "Texts a recipient reported were recovered by %s.", "Texts a recipient reported reached no other party.")
}

func (m visMatrix) scannerSentence() string {
	return m.reachSentence(observe.MatchVerdict, none, "Scan results (which messages were flagged) reached %s.", "Scan results (which messages were flagged) reached no party.")
}

func (m visMatrix) hashListSentence() string {
	return m.reachSentence(observe.HashList, none, "The planted entry of the list of known images reached %s.", "The planted entry of the list of known images reached no party.")
}

// reachSentence says which parties, other than those skipped, recovered an
// item the run measured: found names them (one %s), nobody says none did.
func (m visMatrix) reachSentence(item observe.Item, skip func(observe.Party) bool, found, nobody string) string {
	if _, ok := m.get(observe.Provider, item); !ok {
		return ""
	}
	if who := m.recoveredBy(item, skip); len(who) > 0 {
		return fmt.Sprintf(found, andList(who))
	}
	return nobody
}

// breachSentence compares a stolen database with a full server breach.
func (m visMatrix) breachSentence() string {
	if _, ok := m.get(observe.DBThiefKMS, observe.Text); !ok {
		return ""
	}
	db, dbk := m.itemsOf(observe.DBThief, m.items), m.itemsOf(observe.DBThiefKMS, m.items)
	s := "A stolen database file alone revealed nothing"
	if len(db) > 0 {
		s = "A stolen database file alone revealed " + andList(db)
	}
	if len(dbk) == 0 {
		return s + "; with the provider's keys as well, still nothing."
	}
	return s + "; with the provider's keys as well, " + andList(dbk) + "."
}

// Heat map colours: light grey for nothing recovered to Okabe–Ito blue for
// every canary; a sequential ramp in one hue reads the same without colour
// vision.
var (
	heatLow  = color.RGBA{0xf2, 0xf2, 0xf2, 0xff}
	heatHigh = color.RGBA{0x00, 0x5a, 0x8c, 0xff}
)

func heatColour(v float64) color.Color { return ramp(heatLow, heatHigh, v) }

func heatInk(v float64) color.Color {
	if v >= 0.5 {
		return color.White
	}
	return color.Black
}

func (m visMatrix) heatMap() figure {
	z := make([][]float64, len(m.parties))
	labels := make([][]string, len(m.parties))
	for i, p := range m.parties {
		for _, it := range m.items {
			v, ok := m.get(p, it)
			if !ok {
				v = math.NaN()
			}
			z[i] = append(z[i], v)
			labels[i] = append(labels[i], sharePct(v))
		}
	}
	title := "Who could read what in " + modeName(m.mode) + "?"
	return figure{name: "visibility-" + fileName(m.mode), title: title, w: 9.5 * vg.Inch, h: 6 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, "what the party learned about a message", "who might read it")
		p.Add(&heatCells{z: z, labels: labels, colour: heatColour, ink: heatInk})
		p.NominalX(mapStrings(m.items, itemName)...)
		rev := make([]string, len(m.parties))
		for i, party := range m.parties {
			rev[len(m.parties)-1-i] = partyName(party)
		}
		p.NominalY(rev...)
		rotateXLabels(p)
		p.Legend.Add("share of planted canaries")
		p.Legend.Add("recovered:")
		p.Legend.Add("0: none", box{heatColour(0)})
		p.Legend.Add("50%", box{heatColour(0.5)})
		p.Legend.Add("100%: every one", box{heatColour(1)})
		drawWithLegend(p, c)
	}}
}
