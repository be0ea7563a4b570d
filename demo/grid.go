package demo

import (
	"fmt"
	"strings"

	"scanlab/observe"
)

// Level is how much of the messages a party got: the colour of its cell,
// always shown beside words.
type Level int

// The levels, from least to most.
const (
	Nothing  Level = iota // nothing of the messages
	Metadata              // who, to whom, when, how big — not the content
	Content               // the words or the photos themselves
)

// String returns "nothing", "metadata" or "content".
func (l Level) String() string {
	switch l {
	case Content:
		return "content"
	case Metadata:
		return "metadata"
	}
	return "nothing"
}

// Label is the level as a cell's badge says it.
func (l Level) Label() string {
	switch l {
	case Content:
		return "reads it"
	case Metadata:
		return "metadata only"
	}
	return "nothing"
}

// Meaning explains the level in a sentence, for the glossary.
func (l Level) Meaning() string {
	switch l {
	case Content:
		return "The party recovered the words or the photos themselves (or low-resolution copies of them)."
	case Metadata:
		return "The party recovered facts about the messages — who sent them, to whom, when, how big, whether they matched — but not the content."
	}
	return "The party recovered nothing of the messages: what it holds is encrypted to it, or is not about them."
}

// Cell is one party's outcome in one mode, in words: What it got and How.
type Cell struct {
	Party observe.Party
	Level Level
	// What lists what the party recovered ("Your words, sender, recipient,
	// time and size"), or says it got nothing.
	What string
	// How says by which route ("TLS ended at the server"), or what the
	// party held instead.
	How string
	// Items are the items the party recovered, with the audit's counts.
	Items []observe.Cell
}

// Recovered reports whether the party recovered any canary of item.
func (c Cell) Recovered(item observe.Item) bool {
	for _, it := range c.Items {
		if it.Item == item {
			return it.Recovered > 0
		}
	}
	return false
}

// grid turns an audit's cells into one [Cell] per party, in the order of
// observe.Parties. yours says the texts are the audience's own words.
func grid(audited []observe.Cell, yours bool) []Cell {
	byParty := map[observe.Party][]observe.Cell{}
	for _, c := range audited {
		if c.Recovered > 0 {
			byParty[c.Party] = append(byParty[c.Party], c)
		}
	}
	out := make([]Cell, 0, len(observe.Parties))
	for _, p := range observe.Parties {
		out = append(out, describe(p, byParty[p], yours))
	}
	return out
}

// describe words one party's recovered items.
func describe(p observe.Party, got []observe.Cell, yours bool) Cell {
	c := Cell{Party: p, Items: got}
	var what, how []string
	for _, iw := range itemWords {
		ac, ok := find(got, iw.item)
		if !ok || (iw.item == observe.ContactGraph && c.Recovered(observe.SenderID) && c.Recovered(observe.RecipientID)) {
			continue
		}
		w := iw.words
		if iw.item == observe.Text && !yours {
			w = "the words"
		}
		if ac.Canaries > 1 && ac.Recovered < ac.Canaries {
			w += fmt.Sprintf(" (%d of %d)", ac.Recovered, ac.Canaries)
		}
		what = append(what, w)
		c.Level = max(c.Level, iw.level)
		if len(how) == 0 || iw.level == Content {
			how = appendRoutes(how, ac.Routes)
		}
	}
	if len(what) == 0 {
		c.What, c.How = "Nothing", holds[p]
		return c
	}
	c.What = capitalise(joinWords(what))
	if c.Level == Nothing {
		c.What = "Only " + joinWords(what)
	}
	c.How = strings.Join(how[:min(2, len(how))], "; ")
	return c
}

func find(cells []observe.Cell, item observe.Item) (observe.Cell, bool) {
	for _, c := range cells {
		if c.Item == item {
			return c, true
		}
	}
	return observe.Cell{}, false
}

// appendRoutes adds the plain words of routes not yet in how.
func appendRoutes(how []string, routes []string) []string {
	for _, r := range routes {
		w := routePhrase(r)
		dup := false
		for _, h := range how {
			dup = dup || h == w
		}
		if !dup {
			how = append(how, w)
		}
	}
	return how
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
