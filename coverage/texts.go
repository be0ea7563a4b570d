package coverage

import (
	"fmt"
	"slices"

	"scanlab"
	"scanlab/corpus"
	"scanlab/harness"
	"scanlab/modes"
	"scanlab/schema"
	"scanlab/serverscan"
	"scanlab/stats"
)

// Text sets of coverage/texts.csv.
const (
	SetHeldOut  = "held-out" // templates written apart from the scanner's rules
	SetWorkload = "workload" // the templates the workload's texts come from
)

// TextRows measures serverscan's text scanner, through the real mode, on
// two sets: the held-out templates (package corpus: written without
// reading the scanner's rules or the workload's templates, own seed) and a
// sample of the workload's own texts. Per harm category, for all harmful
// texts and for benign ones: how many were flagged, with a 95% interval
// from a bootstrap over templates, the unit that is really independent.
func TextRows(seed uint64, heldOut corpus.HeldOutConfig, workload corpus.TextConfig) ([]schema.TextsRow, error) {
	ho, err := corpus.HeldOutTexts(heldOut)
	if err != nil {
		return nil, err
	}
	wl, err := corpus.GenerateTexts(workload)
	if err != nil {
		return nil, err
	}
	bs := stats.Bootstrap{Seed: seed}
	var rows []schema.TextsRow
	for _, set := range []struct {
		name string
		msgs []corpus.TextMessage
	}{{SetHeldOut, ho}, {SetWorkload, wl.Messages()}} {
		flagged, err := scanTexts(set.msgs)
		if err != nil {
			return nil, err
		}
		r, err := textRows(bs, set.name, set.msgs, flagged)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// scanTexts sends every text through serverscan (in process) and returns
// which of them its server-text pathway flagged.
func scanTexts(msgs []corpus.TextMessage) ([]bool, error) {
	m, err := modes.New(serverscan.Name, modes.Config{})
	if err != nil {
		return nil, err
	}
	w, err := harness.New(harness.Options{Mode: m, Transport: harness.InProcess})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	flagged := make([]bool, len(msgs))
	for i, tm := range msgs {
		s, err := w.Send(scanlab.Message{ID: fmt.Sprintf("t%06d", i), From: "writer", To: "reader",
			Content: scanlab.Content{Kind: scanlab.Text, Text: tm.Text}})
		if err != nil {
			return nil, err
		}
		for _, d := range s.Detections {
			flagged[i] = flagged[i] || d.Pathway == scanlab.ServerText
		}
		if _, err := w.Deliver("reader", 1); err != nil {
			return nil, err
		}
	}
	return flagged, nil
}

// textRows tabulates one set.
func textRows(bs stats.Bootstrap, set string, msgs []corpus.TextMessage, flagged []bool) ([]schema.TextsRow, error) {
	cats := slices.Clone(corpus.TextCategories)
	cats = append(cats, "harmful", "benign")
	var rows []schema.TextsRow
	for _, cat := range cats {
		in := func(l corpus.TextLabel) bool {
			switch cat {
			case "harmful":
				return l.Harmful
			case "benign":
				return !l.Harmful
			}
			return l.Harmful && l.Category == cat
		}
		byTemplate := map[string]*stats.Cluster{}
		var order []string
		row := schema.TextsRow{Set: set, Category: cat}
		for i, m := range msgs {
			if !in(m.Label) {
				continue
			}
			cl := byTemplate[m.Label.Template]
			if cl == nil {
				cl = &stats.Cluster{}
				byTemplate[m.Label.Template] = cl
				order = append(order, m.Label.Template)
			}
			cl.Den++
			row.Items++
			if flagged[i] {
				cl.Num++
				row.Flagged++
			}
		}
		if row.Items == 0 {
			continue
		}
		slices.Sort(order)
		clusters := make([]stats.Cluster, len(order))
		for i, t := range order {
			clusters[i] = *byTemplate[t]
		}
		iv, err := bs.Ratio("texts/"+set+"/"+cat, clusters, stats.Level95)
		if row.Flagged == 0 || row.Flagged == row.Items {
			// Resampling cannot move a rate of 0 or 1: say how far it
			// could be from it with the exact interval over items.
			iv.Interval, err = stats.ClopperPearson(row.Flagged, row.Items, stats.Level95)
		}
		if err != nil {
			return nil, err
		}
		row.Templates, row.Rate, row.Lo, row.Hi = len(order), iv.Estimate, iv.Lo, iv.Hi
		rows = append(rows, row)
	}
	return rows, nil
}
