package textscan

import (
	"math"
	"slices"
	"strings"
)

// Example is one labelled text for training or evaluation. Category is one of
// [Categories] when Harmful is true and empty otherwise.
type Example struct {
	Text     string
	Harmful  bool
	Category string
}

// Model is a multinomial naive Bayes classifier over binary features of the
// [Normalize]d text: word unigrams, word bigrams and character 4-grams of the
// text with its spaces removed. It has one class per harm category plus one
// for benign texts.
//
// Naive Bayes is the choice here because messages are short (tens of words),
// where binarised multinomial naive Bayes is a strong baseline that trains in
// one pass, has no learning rate, iteration count or random initialisation to
// tune, and so is exactly reproducible: training on the same examples, in any
// order, gives the same model. The character n-grams of the space-free
// skeleton let it see through spacing tricks that survive normalisation
// ("kil yourself" and "kilyourself" share most of their 4-grams).
//
// A Model is immutable after [Train] and safe for concurrent use.
type Model struct {
	classes  []string             // classes[0] is benign (""), then the categories seen in training
	logPrior []float64            // log P(class)
	logLik   map[string][]float64 // feature → log P(feature | class), one entry per class
	opts     options
	// Threshold is the score at or above which a text is harmful; [Train]
	// sets it to 0.5.
	Threshold float64
}

// smoothing is the additive (Lidstone) smoothing of feature counts.
const smoothing = 0.1

// Train fits a [Model] to examples. Examples whose Category is not empty
// count as that category whatever their Harmful field says; the benign class
// is always present, even without benign examples.
func Train(examples []Example) *Model { return train(examples, defaultOptions) }

// options are the model's hyperparameters.
type options struct {
	words, bigrams, chars bool    // feature families
	alpha                 float64 // additive smoothing
}

var defaultOptions = options{words: true, bigrams: true, chars: true, alpha: smoothing}

func train(examples []Example, o options) *Model {
	classIdx := map[string]int{"": 0}
	classes := []string{""}
	var cats []string
	for _, e := range examples {
		if e.Category != "" && !slices.Contains(cats, e.Category) {
			cats = append(cats, e.Category)
		}
	}
	slices.Sort(cats) // independent of example order
	for _, c := range cats {
		classIdx[c] = len(classes)
		classes = append(classes, c)
	}

	docs := make([]float64, len(classes))
	totals := make([]float64, len(classes))
	counts := map[string][]float64{}
	for _, e := range examples {
		k := classIdx[e.Category]
		docs[k]++
		for _, f := range features(e.Text, o) {
			c := counts[f]
			if c == nil {
				c = make([]float64, len(classes))
				counts[f] = c
			}
			c[k]++
			totals[k]++
		}
	}

	m := &Model{
		classes:   classes,
		opts:      o,
		logPrior:  make([]float64, len(classes)),
		logLik:    make(map[string][]float64, len(counts)),
		Threshold: 0.5,
	}
	n := float64(len(examples))
	for k := range classes {
		// Smoothed prior, so a class without examples is possible but rare.
		m.logPrior[k] = math.Log((docs[k] + 1) / (n + float64(len(classes))))
	}
	v := float64(len(counts))
	for f, c := range counts {
		ll := make([]float64, len(classes))
		for k := range classes {
			ll[k] = math.Log((c[k] + o.alpha) / (totals[k] + o.alpha*v))
		}
		m.logLik[f] = ll
	}
	return m
}

// Name returns "naive-bayes".
func (m *Model) Name() string { return "naive-bayes" }

// Classify returns the model's verdict. Score is the posterior probability
// that the text is not benign; Category is the most probable harm category;
// Rule is the model's name. Features never seen in training are ignored.
func (m *Model) Classify(text string) Verdict {
	p := m.posterior(text)
	score := 1 - p[0]
	if score < m.Threshold || len(p) < 2 {
		return Verdict{Score: score}
	}
	best := 1
	for k := 2; k < len(p); k++ {
		if p[k] > p[best] {
			best = k
		}
	}
	return Verdict{Harmful: true, Category: m.classes[best], Rule: m.Name(), Score: score}
}

// posterior returns P(class | text) for every class.
func (m *Model) posterior(text string) []float64 {
	lp := slices.Clone(m.logPrior)
	for _, f := range features(text, m.opts) {
		if ll, ok := m.logLik[f]; ok {
			for k := range lp {
				lp[k] += ll[k]
			}
		}
	}
	mx := slices.Max(lp)
	sum := 0.0
	for k := range lp {
		lp[k] = math.Exp(lp[k] - mx)
		sum += lp[k]
	}
	for k := range lp {
		lp[k] /= sum
	}
	return lp
}

// charN is the length of the character n-grams.
const charN = 4

// features returns the distinct features of text, sorted.
func features(text string, o options) []string {
	n := Normalize(text)
	words := strings.Fields(n)
	var fs []string
	for i, w := range words {
		if o.words {
			fs = append(fs, "w:"+w)
		}
		if o.bigrams && i > 0 {
			fs = append(fs, "b:"+words[i-1]+" "+w)
		}
	}
	if o.chars {
		joined := []rune(strings.Join(words, ""))
		for i := 0; i+charN <= len(joined); i++ {
			fs = append(fs, "c:"+string(joined[i:i+charN]))
		}
		if len(joined) < charN && len(joined) > 0 {
			fs = append(fs, "c:"+string(joined))
		}
	}
	slices.Sort(fs)
	return slices.Compact(fs)
}
