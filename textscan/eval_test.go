package textscan_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"scanlab/corpus"
	"scanlab/textscan"
)

// examplesOf turns the messages of conversations into examples.
func examplesOf(convs []corpus.Conversation) []textscan.Example {
	var msgs []corpus.TextMessage
	for _, c := range convs {
		msgs = append(msgs, c.Messages...)
	}
	return corpus.TextExamples(msgs)
}

// generateSplit generates the default corpus and splits it: 70% of
// conversations for training, 30% for evaluation.
func generateSplit() (train, test []corpus.Conversation, err error) {
	c, err := corpus.GenerateTexts(corpus.DefaultTextConfig())
	if err != nil {
		return nil, nil, err
	}
	train, test = c.Split(0.3)
	return train, test, nil
}

var defaultSplit = sync.OnceValues(func() ([2][]corpus.Conversation, error) {
	train, test, err := generateSplit()
	return [2][]corpus.Conversation{train, test}, err
})

// heldOut returns the split of [generateSplit], made once per test binary.
// Callers must not modify it.
func heldOut(t testing.TB) (train, test []corpus.Conversation) {
	t.Helper()
	s, err := defaultSplit()
	if err != nil {
		t.Fatal(err)
	}
	return s[0], s[1]
}

func BenchmarkModelClassify(b *testing.B) {
	train, _ := heldOut(b)
	model := textscan.Train(examplesOf(train))
	text := "hey are you coming to practice tomorrow? coach said we start at 5pm, bring your boots and water"
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		model.Classify(text)
	}
}

func BenchmarkTrain(b *testing.B) {
	train, _ := heldOut(b)
	ex := examplesOf(train)
	b.ReportMetric(float64(len(ex)), "examples")
	for b.Loop() {
		textscan.Train(ex)
	}
}

func TestCategoriesAgree(t *testing.T) {
	if !slices.Equal(corpus.TextCategories, textscan.Categories) {
		t.Fatalf("corpus categories %v, textscan categories %v", corpus.TextCategories, textscan.Categories)
	}
}

func TestHeldOutDisjoint(t *testing.T) {
	train, test := heldOut(t)
	seen := map[string]bool{}
	for _, c := range train {
		seen[c.ID] = true
		for _, m := range c.Messages {
			seen[m.ID] = true
		}
	}
	for _, c := range test {
		if seen[c.ID] {
			t.Fatalf("conversation %s in training and test sets", c.ID)
		}
		for _, m := range c.Messages {
			if seen[m.ID] {
				t.Fatalf("message %s in training and test sets", m.ID)
			}
		}
	}
	if len(train) == 0 || len(test) == 0 {
		t.Fatalf("empty split: %d train, %d test", len(train), len(test))
	}
}

// Bounds for the held-out evaluation (default corpus: seed 1, 2000
// conversations, 30% of them held out, 5289 test messages). Measured with
//
//	go test ./textscan -run 'TestHeldOut$' -v
//
// rules:       precision 1.000, recall 0.973, FPR 0.000 (per category recall
//
//	0.886 sextortion .. 1.000 self-harm);
//
// naive-bayes: precision 0.996, recall 1.000, FPR 0.0004 (per category
//
//	recall 1.000).
//
// The bounds leave a margin under those figures and sit far above what a
// classifier that ignores its input, or a model trained on shuffled labels,
// achieves (TestBoundsCatchBrokenClassifiers). The figures are high because
// the held-out conversations are new fillings of the same templates, and the
// rules were written with those templates in view: they measure the code,
// not how either classifier would fare on real messages.
var bounds = map[string]struct {
	minRecall, minPrecision, maxFPR, minCategoryRecall float64
}{
	"rules":       {minRecall: 0.85, minPrecision: 0.9, maxFPR: 0.02, minCategoryRecall: 0.75},
	"naive-bayes": {minRecall: 0.9, minPrecision: 0.9, maxFPR: 0.02, minCategoryRecall: 0.8},
}

// checkBounds reports every bound that m breaks, using the bounds of the
// model for classifiers without their own.
func checkBounds(m textscan.Metrics) []string {
	b, ok := bounds[m.Classifier]
	if !ok {
		b = bounds["naive-bayes"]
	}
	var bad []string
	o := m.Overall
	if !(o.Recall >= b.minRecall) {
		bad = append(bad, "recall")
	}
	if !(o.Precision >= b.minPrecision) {
		bad = append(bad, "precision")
	}
	if !(o.FPR <= b.maxFPR) {
		bad = append(bad, "false-positive rate")
	}
	for _, cat := range textscan.Categories {
		if r := m.Categories[cat].Recall; !(r >= b.minCategoryRecall) {
			bad = append(bad, "recall of "+cat)
		}
	}
	return bad
}

func TestHeldOut(t *testing.T) {
	train, test := heldOut(t)
	model := textscan.Train(examplesOf(train))
	ex := examplesOf(test)
	for _, c := range []textscan.Classifier{textscan.Rules(), model} {
		t.Run("classifier="+c.Name(), func(t *testing.T) {
			m := textscan.Evaluate(c, ex)
			var buf bytes.Buffer
			if err := m.WriteTable(&buf); err != nil {
				t.Fatal(err)
			}
			t.Logf("held-out split (synthetic texts, %d messages):\n%s", m.Examples, buf.String())
			if bad := checkBounds(m); len(bad) > 0 {
				t.Errorf("%s breaks its bounds on %v", c.Name(), bad)
			}
		})
	}
}

// heldOutTemplate reports whether a template is one of the phrasings kept
// out of training in TestUnseenPhrasings: every third template of each set.
func heldOutTemplate(id string) bool {
	i := strings.LastIndexByte(id, '/')
	n, err := strconv.Atoi(id[i+1:])
	return err == nil && n%3 == 2
}

// TestUnseenPhrasings reports how the classifiers do on phrasings they have
// not seen: the model is trained on the training conversations without the
// held-out templates and tested on held-out templates in the test
// conversations. It asserts nothing beyond the split being clean; the
// numbers (logged with -v) show how much of the held-out score above is
// template memory. The rules were written with every template in view, so
// their figure here is not out of sample either.
func TestUnseenPhrasings(t *testing.T) {
	train, test := heldOut(t)
	var trainEx, testEx []textscan.Example
	trainText := map[string]bool{}
	for _, c := range train {
		for _, m := range c.Messages {
			if !heldOutTemplate(m.Label.Template) {
				trainEx = append(trainEx, textscan.Example{Text: m.Text, Harmful: m.Label.Harmful, Category: m.Label.Category})
				trainText[m.Text] = true
			}
		}
	}
	for _, c := range test {
		for _, m := range c.Messages {
			if heldOutTemplate(m.Label.Template) {
				testEx = append(testEx, textscan.Example{Text: m.Text, Harmful: m.Label.Harmful, Category: m.Label.Category})
			}
		}
	}
	leaks := 0
	for _, e := range testEx {
		if trainText[e.Text] {
			leaks++
		}
	}
	// Short replies ("ok", "lol") can be filled from different templates
	// to the same text; anything more means the split is broken.
	if leaks > len(testEx)/50 {
		t.Fatalf("%d of %d unseen-phrasing test texts also occur in training", leaks, len(testEx))
	}
	model := textscan.Train(trainEx)
	for _, c := range []textscan.Classifier{textscan.Rules(), model} {
		m := textscan.Evaluate(c, testEx)
		var buf bytes.Buffer
		if err := m.WriteTable(&buf); err != nil {
			t.Fatal(err)
		}
		t.Logf("unseen phrasings (synthetic texts, %d messages):\n%s", m.Examples, buf.String())
	}
}

// constant is a broken classifier that always says the same.
type constant textscan.Verdict

func (c constant) Name() string                     { return "constant" }
func (c constant) Classify(string) textscan.Verdict { return textscan.Verdict(c) }

// TestBoundsCatchBrokenClassifiers shows the bounds can fail: classifiers
// that ignore the text, or a model trained on shuffled labels, break them.
func TestBoundsCatchBrokenClassifiers(t *testing.T) {
	train, test := heldOut(t)
	ex := examplesOf(test)
	trainEx := examplesOf(train)
	r := rand.New(rand.NewPCG(1, 1))
	shuffled := slices.Clone(trainEx)
	labels := slices.Clone(trainEx)
	r.Shuffle(len(labels), func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
	for i := range shuffled {
		shuffled[i].Harmful, shuffled[i].Category = labels[i].Harmful, labels[i].Category
	}
	broken := []textscan.Classifier{
		constant{},
		constant{Harmful: true, Category: textscan.Grooming, Score: 1},
		textscan.Train(shuffled),
	}
	for i, c := range broken {
		m := textscan.Evaluate(c, ex)
		if bad := checkBounds(m); len(bad) == 0 {
			t.Errorf("broken classifier %d (%s) passes the bounds: %+v", i, c.Name(), m.Overall)
		}
	}
}

func TestModelDeterministic(t *testing.T) {
	train, test := heldOut(t)
	ex := examplesOf(train)
	a := textscan.Train(ex)
	shuffled := slices.Clone(ex)
	rand.New(rand.NewPCG(2, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b := textscan.Train(shuffled)
	train2, _, err := generateSplit()
	if err != nil {
		t.Fatal(err)
	}
	c := textscan.Train(examplesOf(train2))
	for _, e := range examplesOf(test) {
		va, vb, vc := a.Classify(e.Text), b.Classify(e.Text), c.Classify(e.Text)
		if va != vb || va != vc {
			t.Fatalf("Classify(%q): %+v, %+v (shuffled), %+v (regenerated)", e.Text, va, vb, vc)
		}
	}
}

func TestEvaluateKnownAnswer(t *testing.T) {
	ex := []textscan.Example{
		{Text: "a", Harmful: true, Category: textscan.Grooming}, // flagged grooming: TP
		{Text: "b", Harmful: true, Category: textscan.Grooming}, // flagged threat: overall TP, grooming FN, threat FP
		{Text: "c", Harmful: true, Category: textscan.SelfHarm}, // missed
		{Text: "d"}, // flagged grooming: FP
		{Text: "e"}, // clean: TN
		{Text: "f"}, // clean: TN
	}
	c := table{"a": textscan.Grooming, "b": textscan.Threat, "d": textscan.Grooming}
	m := textscan.Evaluate(c, ex)
	want := textscan.Metric{TP: 2, FP: 1, FN: 1, TN: 2, Precision: 2.0 / 3, Recall: 2.0 / 3, F1: 2.0 / 3, FPR: 1.0 / 3}
	if !metricEqual(m.Overall, want) {
		t.Errorf("overall = %+v, want %+v", m.Overall, want)
	}
	wantCat := map[string]textscan.Metric{
		textscan.Grooming:   {TP: 1, FP: 1, FN: 1, TN: 3, Precision: 0.5, Recall: 0.5, F1: 0.5, FPR: 0.25},
		textscan.Threat:     {TP: 0, FP: 1, FN: 0, TN: 5, FPR: 1.0 / 6},
		textscan.SelfHarm:   {TP: 0, FP: 0, FN: 1, TN: 5},
		textscan.Sextortion: {TN: 6},
	}
	for cat, w := range wantCat {
		if got := m.Categories[cat]; !metricEqual(got, w) {
			t.Errorf("category %s = %+v, want %+v", cat, got, w)
		}
	}
	if len(m.Categories) != len(wantCat) || m.Examples != len(ex) || m.Classifier != "table" {
		t.Errorf("metrics = %+v", m)
	}
}

func metricEqual(a, b textscan.Metric) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-12 }
	return a.TP == b.TP && a.FP == b.FP && a.FN == b.FN && a.TN == b.TN &&
		near(a.Precision, b.Precision) && near(a.Recall, b.Recall) && near(a.F1, b.F1) && near(a.FPR, b.FPR)
}

// table is a classifier that looks texts up in a map of categories.
type table map[string]string

func (table) Name() string { return "table" }
func (t table) Classify(s string) textscan.Verdict {
	if cat, ok := t[s]; ok {
		return textscan.Verdict{Harmful: true, Category: cat, Rule: "table", Score: 1}
	}
	return textscan.Verdict{}
}

func TestModelSmall(t *testing.T) {
	ex := []textscan.Example{
		{Text: "kill yourself", Harmful: true, Category: textscan.SelfHarm},
		{Text: "just kill yourself now", Harmful: true, Category: textscan.SelfHarm},
		{Text: "don't tell your parents about us", Harmful: true, Category: textscan.Grooming},
		{Text: "our little secret, don't tell your mom", Harmful: true, Category: textscan.Grooming},
		{Text: "see you at practice"},
		{Text: "dinner is at six"},
		{Text: "practice is at six, see you"},
	}
	m := textscan.Train(ex)
	tests := []struct {
		text     string
		category string
	}{
		{"k i l l y o u r s e l f", textscan.SelfHarm},
		{"d0nt t3ll your parents", textscan.Grooming},
		{"see you at dinner", ""},
	}
	for _, tt := range tests {
		t.Run("text="+tt.text, func(t *testing.T) {
			v := m.Classify(tt.text)
			if v.Category != tt.category || v.Harmful != (tt.category != "") || v.Score < 0 || v.Score > 1 {
				t.Errorf("Classify(%q) = %+v, want category %q", tt.text, v, tt.category)
			}
		})
	}
	if v := textscan.Train(nil).Classify("anything"); v.Harmful {
		t.Errorf("untrained model flags: %+v", v)
	}
	if !reflect.DeepEqual(textscan.Train(ex).Classify("kill yourself"), m.Classify("kill yourself")) {
		t.Error("retraining changed a verdict")
	}
}
