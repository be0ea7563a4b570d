package textscan_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"scanlab/corpus"
	"scanlab/internal/golden"
	"scanlab/textscan"
)

// TestHeldOutTemplates evaluates the rules and the naive Bayes model (trained
// on the whole default text workload) on the held-out template set of package
// corpus, written apart from the rules and the workload. The counts are
// committed in testdata/heldout.golden; a change to a classifier or to the
// set that moves them fails here until the file is rewritten with -update,
// so the figures quoted from it stay the figures the code gives.
func TestHeldOutTemplates(t *testing.T) {
	work, err := corpus.GenerateTexts(corpus.DefaultTextConfig())
	if err != nil {
		t.Fatal(err)
	}
	model := textscan.Train(corpus.TextExamples(work.Messages()))
	var buf bytes.Buffer
	for _, c := range []textscan.Classifier{textscan.Rules(), model} {
		m, err := corpus.EvaluateHeldOut(c, corpus.DefaultHeldOutConfig())
		if err != nil {
			t.Fatal(err)
		}
		if err := m.WriteTable(&buf); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("held-out templates (synthetic texts):\n%s", buf.String())
	golden.Check(t, filepath.Join("testdata", "heldout.golden"), buf.Bytes())
}
