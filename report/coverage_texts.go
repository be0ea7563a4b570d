package report

import (
	"fmt"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"scanlab"
	"scanlab/schema"
)

// textsAssumption is what the held-out text findings rest on.
const textsAssumption = "both text sets are synthetic templates; the held-out set was written without reading the classifier's rules or the workload's templates, so it stands for phrasings the rules never saw, not for real conversations."

// Categories of coverage/texts.csv that pool the others.
const (
	textsHarmful = "harmful"
	textsBenign  = "benign"
)

// textCategoryName names a category of texts.csv plainly.
func textCategoryName(c string) string {
	switch c {
	case textsHarmful:
		return "all harmful"
	case textsBenign:
		return "harmless (false alarms)"
	}
	return c
}

// writeTexts compares the server's text classifier on held-out phrasings
// with the workload's own.
func (r *results) writeTexts(d *doc) {
	d.h(3, "Harmful texts in phrasings the classifier was not written for")
	if r.texts == nil {
		d.skipped(schema.Texts.Path)
		return
	}
	pairs := textPairs(r.texts)
	d.p("Server-side scanning's text classifier is a set of rules written with the workload's own text templates in view, so its recall on the workload is an upper bound. "+
		"`%s` also scores it on a held-out set of templates written apart from its rules (own file, own seed). Intervals are 95%%, from a bootstrap over templates "+
		"(the texts of one template are not independent), or Clopper–Pearson over templates where every template gave the same verdict and the bootstrap collapses to a point.",
		schema.Texts.Path)
	if s := textSentence(pairs); s != "" {
		d.find(s, textsAssumption)
		d.p("%s", s)
	}
	d.figure(textBars(pairs), "Share of texts the server's text classifier flagged, held-out phrasings beside the workload's own, per category")
	var rows [][]string
	for _, p := range pairs {
		rows = append(rows, []string{textCategoryName(p.category), textCell(p.heldOut, p.heldOutN, p.found[0]), textCell(p.workload, p.workloadN, p.found[1])})
	}
	d.table([]string{"category", "held-out phrasings: flagged (95% CI) k/n, templates", "workload's own: flagged (95% CI) k/n, templates"}, rows)
}

func textCell(r rate, templates int, found bool) string {
	if !found {
		return "–"
	}
	return fmt.Sprintf("%s, %d templates", r.cell(), templates)
}

// textSentence states the gap between the workload's phrasings and the
// held-out ones, for harmful texts and for false alarms.
func textSentence(pairs []textPair) string {
	var harm, ben *textPair
	for i := range pairs {
		switch pairs[i].category {
		case textsHarmful:
			harm = &pairs[i]
		case textsBenign:
			ben = &pairs[i]
		}
	}
	if harm == nil || !harm.found[0] || !harm.found[1] {
		return ""
	}
	s := fmt.Sprintf("The %s flagged %s of harmful texts phrased as the workload phrases them, but %s of harmful texts in held-out phrasings written apart from its rules",
		pathwayName(scanlab.ServerText), harm.workload, harm.heldOut)
	if harm.workload.k*harm.heldOut.n == harm.heldOut.k*harm.workload.n {
		s = fmt.Sprintf("The %s flagged the same share of harmful texts in the workload's phrasing and in held-out phrasings: %s and %s",
			pathwayName(scanlab.ServerText), harm.workload, harm.heldOut)
	}
	if ben != nil && ben.found[0] && ben.found[1] {
		s += fmt.Sprintf("; it flagged %s of harmless held-out texts and %s of the workload's", ben.heldOut, ben.workload)
	}
	return s + "."
}

// textBars draws, per category, the held-out and the workload's rates.
func textBars(pairs []textPair) figure {
	title := "Does the text classifier recognise harmful phrasings it was not written for?"
	return figure{name: "coverage-texts", title: title, w: 10 * vg.Inch, h: 5 * vg.Inch, draw: func(c draw.Canvas) {
		p := newPlot(title, "category (n = texts: held-out, workload's own)", "texts flagged (95% interval)")
		addGrid(p, false)
		held, work := &bars{width: 0.35, colour: oiOrange}, &bars{width: 0.35, colour: oiBlue}
		var ticks []string
		for i, tp := range pairs {
			if tp.found[0] {
				addRateBar(held, float64(i)-0.18, tp.heldOut)
			}
			if tp.found[1] {
				addRateBar(work, float64(i)+0.18, tp.workload)
			}
			ticks = append(ticks, fmt.Sprintf("%s\nn = %s, %s", textCategoryName(tp.category), count(float64(tp.heldOut.n)), count(float64(tp.workload.n))))
		}
		p.Add(held, work)
		p.Legend.Add("held-out phrasings", held)
		p.Legend.Add("workload's own phrasings", work)
		drawShareBars(p, c, ticks)
	}}
}
