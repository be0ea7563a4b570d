package report

import (
	"strings"
	"testing"
)

func TestGainToThorn(t *testing.T) {
	cs := []thornCompare{
		{algo: "pdq", transform: "noise0.2", at31: exactRate(40, 100), atThorn: exactRate(99, 100)},
		{algo: "pdq", transform: "blur2", at31: exactRate(99, 100), atThorn: exactRate(100, 100)},
		{algo: "pdq", transform: "rotate4", at31: exactRate(0, 100)}, // not measured at Thorn's threshold
		{algo: "phash", transform: "blur2", at31: exactRate(100, 100), atThorn: exactRate(100, 100)},
	}
	g := gainToThorn(cs, "pdq")
	if g.n != 2 || g.most != "noise0.2" || g.mean != 30 {
		t.Errorf("gain = %+v, want 2 transforms, mean 30 points, most for noise0.2", g)
	}
	s := gainSentence(cs)
	for _, w := range []string{"for PDQ by 30 points on average over 2 transforms (most for noise0.2: from 40% (95% CI 30–50%) to 99% (95% CI 95–99.9%))",
		"for pHash it raises no transform's recall"} {
		if !strings.Contains(s, w) {
			t.Errorf("%q lacks %q", s, w)
		}
	}
}
