package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func (r *results) writeRuns(d *doc) error {
	d.p("## What was run")
	if len(r.manifests) == 0 {
		d.p("*No `manifest.json` was found next to the results, so the settings of the run are unknown.*")
		return nil
	}
	var rows [][]string
	seeds := map[uint64]bool{}
	quick := 0
	for _, m := range r.manifests {
		seeds[m.Seed] = true
		q := "no"
		if m.Quick {
			q, quick = "yes", quick+1
		}
		start := m.Start
		if t, err := time.Parse(time.RFC3339Nano, m.Start); err == nil {
			start = t.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		rows = append(rows, []string{m.Experiment, strconv.FormatUint(m.Seed, 10), q, m.GoVersion,
			m.OS + "/" + m.Arch, strconv.Itoa(m.CPUs), m.CPUModel, start, m.Duration})
	}
	var s string
	switch {
	case len(seeds) == 1 && len(r.manifests) == 1:
		s = fmt.Sprintf("The %s experiment ran with seed %d", r.manifests[0].Experiment, r.manifests[0].Seed)
	case len(seeds) == 1 && len(r.manifests) == 2:
		s = fmt.Sprintf("Both experiments ran with seed %d", r.manifests[0].Seed)
	case len(seeds) == 1:
		s = fmt.Sprintf("All %d experiments ran with seed %d", len(r.manifests), r.manifests[0].Seed)
	default:
		s = fmt.Sprintf("The %d experiments ran with %d different seeds", len(r.manifests), len(seeds))
	}
	switch quick {
	case len(r.manifests):
		s += ", in quick mode (small workloads; numbers are indicative, not final)."
	case 0:
		s += ", at full size."
	default:
		s += fmt.Sprintf("; %d of them in quick mode (small workloads).", quick)
	}
	d.p("%s The same seed gives the same workload and byte-identical CSV files except for timing columns.", s)
	d.table([]string{"experiment", "seed", "quick", "Go", "OS/arch", "CPUs", "CPU", "started", "duration"}, rows)
	return nil
}

// Item groups for the visibility sentences.
var (
	contentItems  = []string{"text", "image"}
	metadataItems = []string{"sender-id", "recipient-id", "timestamp", "size", "contact-graph"}
)

// visMatrix is one mode's visibility cells by party and item.
type visMatrix struct {
	mode           string
	parties, items []string
	v              map[[2]string]float64
}

func (m visMatrix) get(party, item string) (float64, bool) {
	v, ok := m.v[[2]string{party, item}]
	return v, ok
}

func (r *results) visMatrices() []visMatrix {
	parties := order(r.vis, func(c visCell) string { return c.Party }, knownParties...)
	items := order(r.vis, func(c visCell) string { return c.Item }, knownItems...)
	var out []visMatrix
	for _, mode := range order(r.vis, func(c visCell) string { return c.Mode }, knownModes...) {
		m := visMatrix{mode: mode, parties: parties, items: items, v: map[[2]string]float64{}}
		for _, c := range r.vis {
			if c.Mode == mode {
				m.v[[2]string{c.Party, c.Item}] = c.Recovered
			}
		}
		out = append(out, m)
	}
	return out
}

func (r *results) writeVisibility(d *doc) error {
	d.p("## Who can read what")
	if r.vis == nil {
		d.skipped(visibilityFile)
		return nil
	}
	d.p("The visibility experiment plants canaries — unique tokens in texts, unique images — sends them through each architecture over the real relay, " +
		"then searches every party's actual view (memory, database file, wire capture, lawful-access export) using only that party's keys. " +
		"Each cell is the fraction of canaries of that item the party recovered (`" + visibilityFile + "`; the `route` column says how). " +
		"A 0 means the search found nothing in that party's view, not that no other attack exists.")
	for _, m := range r.visMatrices() {
		d.p("### %s", m.mode)
		caption, more := m.sentences()
		d.headline(joinSentences(caption))
		d.figure(m.heatMap(), "Share of planted canaries each party recovered in "+m.mode, caption...)
		if len(more) > 0 {
			d.p("%s", joinSentences(more))
		}
		header := append([]string{"party \\ item"}, m.items...)
		var rows [][]string
		for _, p := range m.parties {
			row := []string{p}
			for _, it := range m.items {
				v, ok := m.get(p, it)
				if !ok {
					v = math.NaN()
				}
				row = append(row, fraction(v))
			}
			rows = append(rows, row)
		}
		d.table(header, rows)
	}
	return nil
}

func joinSentences(s []string) string { return strings.Join(s, " ") }

// partyPhrases name the parties in prose for readers who do not know the
// identifiers; the identifier stays in brackets where it is not obvious.
var partyPhrases = map[string]string{
	"sender":          "the sender",
	"recipient":       "the recipient",
	"provider":        "the provider",
	"employee":        "an employee",
	"law-enforcement": "law enforcement",
	"eavesdropper":    "a network eavesdropper",
	"db-thief":        "a database thief (db-thief)",
	"db-thief+kms":    "a thief with the database and the key-management keys (db-thief+kms)",
	"hash-curator":    "the hash-list curator",
}

// partyPhrase names a party in a sentence.
func partyPhrase(p string) string {
	if s, ok := partyPhrases[p]; ok {
		return s
	}
	return p
}

// withShares names parties in prose, adding the share when it is not all.
// Item names (not in partyPhrases) pass through unchanged.
func withShares(names []string, shares []float64) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = partyPhrase(n)
		if shares[i] < 1 {
			out[i] += " (" + pct(shares[i]) + ")"
		}
	}
	return out
}

// sentences says what the matrix shows: the caption (who read content,
// what the provider saw), then further observations.
func (m visMatrix) sentences() (caption, more []string) {
	endpoint := func(p string) bool { return p == "sender" || p == "recipient" }
	// Who, besides the endpoints, recovered each content item.
	type readers struct {
		label string
		names []string
	}
	var rs []readers
	for _, it := range contentItems {
		var who []string
		var shares []float64
		for _, p := range m.parties {
			if v, ok := m.get(p, it); ok && v > 0 && !endpoint(p) {
				who = append(who, p)
				shares = append(shares, v)
			}
		}
		if _, ok := m.get("provider", it); !ok && len(who) == 0 {
			continue // item not measured in this mode
		}
		label := map[string]string{"text": "message text", "image": "images"}[it]
		rs = append(rs, readers{label, withShares(who, shares)})
	}
	if len(rs) == 2 && slices.Equal(rs[0].names, rs[1].names) {
		rs = []readers{{rs[0].label + " or " + rs[1].label, rs[0].names}}
		if len(rs[0].names) > 0 {
			rs[0].label = strings.Replace(rs[0].label, " or ", " and ", 1)
		}
	}
	var parts []string
	for _, x := range rs {
		if len(x.names) == 0 {
			parts = append(parts, "no party other than the sender and recipient recovered "+x.label)
		} else {
			parts = append(parts, fmt.Sprintf("%s recovered %s", andList(x.names), x.label))
		}
	}
	if len(parts) > 0 {
		sep := " and "
		if len(parts) == 2 && (strings.HasPrefix(parts[0], "no party") || strings.HasPrefix(parts[1], "no party")) {
			sep = "; "
		}
		caption = append(caption, fmt.Sprintf("In %s, %s.", m.mode, strings.Join(parts, sep)))
	}
	// The provider's metadata.
	providerContent := false
	for _, it := range contentItems {
		if v, ok := m.get("provider", it); ok && v > 0 {
			providerContent = true
		}
	}
	if _, ok := m.get("provider", "sender-id"); ok {
		var all, some []string
		var someShares []float64
		for _, it := range metadataItems {
			v, ok := m.get("provider", it)
			switch {
			case !ok || v == 0:
			case v == 1:
				all = append(all, it)
			default:
				some, someShares = append(some, it), append(someShares, v)
			}
		}
		still := ""
		if !providerContent {
			still = " still"
		}
		switch {
		case len(all) == 0 && len(some) == 0:
			caption = append(caption, "The provider recovered none of the metadata items ("+andList(metadataItems)+").")
		case len(some) == 0:
			caption = append(caption, fmt.Sprintf("The provider%s recovered %s for every message.", still, andList(all)))
		case len(all) == 0:
			caption = append(caption, fmt.Sprintf("The provider%s recovered %s.", still, andList(withShares(some, someShares))))
		default:
			caption = append(caption, fmt.Sprintf("The provider%s recovered %s for every message, and %s.", still, andList(all), andList(withShares(some, someShares))))
		}
	}
	// The network eavesdropper.
	if _, ok := m.get("eavesdropper", "text"); ok {
		var got []string
		var shares []float64
		for _, it := range m.items {
			if v, ok := m.get("eavesdropper", it); ok && v > 0 {
				got, shares = append(got, it), append(shares, v)
			}
		}
		if len(got) == 0 {
			more = append(more, "A network eavesdropper recovered nothing.")
		} else {
			more = append(more, fmt.Sprintf("A network eavesdropper recovered %s.", andList(withShares(got, shares))))
		}
	}
	// Reported texts: who sees content once a recipient reports it.
	if _, ok := m.get("provider", "reported-text"); ok {
		var who []string
		var shares []float64
		for _, p := range m.parties {
			if v, ok := m.get(p, "reported-text"); ok && v > 0 && !endpoint(p) {
				who, shares = append(who, p), append(shares, v)
			}
		}
		if len(who) == 0 {
			more = append(more, "Texts a recipient reported reached no other party.")
		} else {
			more = append(more, fmt.Sprintf("Texts a recipient reported were recovered by %s.", andList(withShares(who, shares))))
		}
	}
	// Scanner output and the hash list itself.
	for _, x := range []struct{ item, what string }{
		{"match-verdict", "Match verdicts (which messages were flagged)"},
		{"hash-list", "The hash list's planted entry"},
	} {
		if _, ok := m.get("provider", x.item); !ok {
			continue
		}
		var who []string
		var shares []float64
		for _, p := range m.parties {
			if v, ok := m.get(p, x.item); ok && v > 0 {
				who, shares = append(who, p), append(shares, v)
			}
		}
		if len(who) == 0 {
			more = append(more, x.what+" reached no party.")
		} else {
			more = append(more, fmt.Sprintf("%s reached %s.", x.what, andList(withShares(who, shares))))
		}
	}
	// A full server breach compared with a database copy alone.
	if _, ok := m.get("db-thief+kms", "text"); ok {
		var db, dbk []string
		for _, it := range m.items {
			if v, ok := m.get("db-thief", it); ok && v > 0 {
				db = append(db, it)
			}
			if v, ok := m.get("db-thief+kms", it); ok && v > 0 {
				dbk = append(dbk, it)
			}
		}
		s := "A stolen database file alone revealed nothing"
		if len(db) > 0 {
			s = "A stolen database file alone revealed " + andList(db)
		}
		if len(dbk) == 0 {
			s += "; with the key-management keys as well, still nothing."
		} else {
			s += "; with the key-management keys as well, " + andList(dbk) + "."
		}
		more = append(more, s)
	}
	return caption, more
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
			labels[i] = append(labels[i], fraction(v))
		}
	}
	return figure{name: "visibility-" + fileName(m.mode), w: 9 * vg.Inch, h: 5.6 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot("Who recovered what in "+m.mode+" (share of planted canaries)", "item the canary revealed", "party")
		p.Add(&heatCells{z: z, labels: labels, colour: heatColour, ink: heatInk})
		p.NominalX(m.items...)
		rev := make([]string, len(m.parties))
		for i, party := range m.parties {
			rev[len(m.parties)-1-i] = party
		}
		p.NominalY(rev...)
		rotateXLabels(p)
		p.Legend.Add("share recovered")
		p.Legend.Add("0: none", box{heatColour(0)})
		p.Legend.Add("0.5", box{heatColour(0.5)})
		p.Legend.Add("1: every canary", box{heatColour(1)})
		drawWithLegend(p, c)
	}}
}
