package textscan

import (
	"fmt"
	"io"
	"slices"
)

// Metric holds the confusion counts of one decision (harmful or not, or one
// category against the rest) and the rates derived from them. A rate whose
// denominator is zero is 0.
type Metric struct {
	TP, FP, FN, TN int
	// Precision is TP / (TP + FP): the share of flags that were right.
	Precision float64
	// Recall is TP / (TP + FN): the share of positives that were flagged.
	Recall float64
	// F1 is the harmonic mean of Precision and Recall.
	F1 float64
	// FPR is FP / (FP + TN): the share of negatives that were flagged.
	FPR float64
}

// Metrics is the result of [Evaluate].
type Metrics struct {
	// Classifier is the name of the evaluated classifier.
	Classifier string
	// Examples is the number of examples evaluated.
	Examples int
	// Overall scores the harmful/benign decision, whatever the category.
	Overall Metric
	// Categories scores each category one against the rest: a harmful
	// example flagged with the wrong category counts as a miss of its own
	// category and a false flag of the other.
	Categories map[string]Metric
}

// Evaluate runs c over examples and scores its verdicts against the labels.
// Every category of [Categories] appears in the result, plus any other
// category found in the labels or verdicts.
func Evaluate(c Classifier, examples []Example) Metrics {
	verdicts := make([]Verdict, len(examples))
	cats := slices.Clone(Categories)
	for i, e := range examples {
		verdicts[i] = c.Classify(e.Text)
		for _, cat := range []string{e.Category, verdicts[i].Category} {
			if cat != "" && !slices.Contains(cats, cat) {
				cats = append(cats, cat)
			}
		}
	}
	var overall Metric
	perCat := make([]Metric, len(cats))
	for i, e := range examples {
		v := verdicts[i]
		count(&overall, e.Harmful || e.Category != "", v.Harmful)
		pred := ""
		if v.Harmful {
			pred = v.Category
		}
		for k, cat := range cats {
			count(&perCat[k], e.Category == cat, pred == cat)
		}
	}
	m := Metrics{
		Classifier: c.Name(),
		Examples:   len(examples),
		Overall:    overall.rates(),
		Categories: make(map[string]Metric, len(cats)),
	}
	for k, cat := range cats {
		m.Categories[cat] = perCat[k].rates()
	}
	return m
}

// count adds one decision to the confusion counts of m.
func count(m *Metric, truth, flagged bool) {
	switch {
	case truth && flagged:
		m.TP++
	case truth:
		m.FN++
	case flagged:
		m.FP++
	default:
		m.TN++
	}
}

func (m Metric) rates() Metric {
	div := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	m.Precision = div(m.TP, m.TP+m.FP)
	m.Recall = div(m.TP, m.TP+m.FN)
	m.FPR = div(m.FP, m.FP+m.TN)
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
	return m
}

// WriteTable writes the metrics as an aligned plain-text table: one row per
// category in name order, then the overall row.
func (m Metrics) WriteTable(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "%-12s %-11s %6s %6s %6s %6s %9s %6s %6s %6s\n",
		"classifier", "category", "TP", "FP", "FN", "TN", "precision", "recall", "F1", "FPR"); err != nil {
		return err
	}
	row := func(name string, x Metric) error {
		_, err := fmt.Fprintf(w, "%-12s %-11s %6d %6d %6d %6d %9.3f %6.3f %6.3f %6.3f\n",
			m.Classifier, name, x.TP, x.FP, x.FN, x.TN, x.Precision, x.Recall, x.F1, x.FPR)
		return err
	}
	cats := make([]string, 0, len(m.Categories))
	for c := range m.Categories {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	for _, c := range cats {
		if err := row(c, m.Categories[c]); err != nil {
			return err
		}
	}
	return row("overall", m.Overall)
}
