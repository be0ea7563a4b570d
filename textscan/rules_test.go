package textscan

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// cannedCase is one line of testdata/rules.tsv.
type cannedCase struct {
	line     int
	text     string
	harmful  bool
	category string
}

// readCanned parses a canned corpus: text, expected harmful, category,
// separated by tabs; a quoted text is a Go string literal.
func readCanned(t testing.TB, path string) []cannedCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []cannedCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			t.Fatalf("%s:%d: want 3 tab-separated fields, got %d", path, n, len(fields))
		}
		text := fields[0]
		if strings.HasPrefix(text, `"`) {
			if text, err = strconv.Unquote(text); err != nil {
				t.Fatalf("%s:%d: bad quoted text: %v", path, n, err)
			}
		}
		harmful, err := strconv.ParseBool(fields[1])
		if err != nil {
			t.Fatalf("%s:%d: bad harmful field: %v", path, n, err)
		}
		if harmful != (fields[2] != "") {
			t.Fatalf("%s:%d: a category goes with harmful=true and only then", path, n)
		}
		cases = append(cases, cannedCase{n, text, harmful, fields[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestRulesCanned(t *testing.T) {
	cases := readCanned(t, "testdata/rules.tsv")
	var harmful, benign int
	for _, c := range cases {
		if c.harmful {
			harmful++
		} else {
			benign++
		}
	}
	if harmful < 20 || benign < 20 {
		t.Fatalf("canned corpus too small: %d harmful, %d benign", harmful, benign)
	}
	rs := Rules()
	for _, c := range cases {
		t.Run(fmt.Sprintf("line=%d", c.line), func(t *testing.T) {
			v := rs.Classify(c.text)
			if v.Harmful != c.harmful || v.Category != c.category {
				t.Errorf("Classify(%q) = %+v, want harmful=%v category=%q (normalised %q)",
					c.text, v, c.harmful, c.category, Normalize(c.text))
			}
			if v.Harmful && (v.Score != 1 || !strings.HasPrefix(v.Rule, v.Category+"/")) {
				t.Errorf("Classify(%q) = %+v: harmful verdict needs score 1 and a rule in its category", c.text, v)
			}
			if !v.Harmful && (v != Verdict{}) {
				t.Errorf("Classify(%q) = %+v: harmless verdict must be zero", c.text, v)
			}
		})
	}
}

// TestRulesUnlessMatters checks that the exceptions do work: without them the
// confusers are flagged, so a rule set that ignored exceptions would fail.
func TestRulesUnlessMatters(t *testing.T) {
	stripped := &RuleSet{}
	for _, r := range Rules().rules {
		r.unless = nil
		stripped.rules = append(stripped.rules, r)
	}
	for _, r := range Rules().ones {
		r.unless = nil
		stripped.ones = append(stripped.ones, r)
	}
	for _, text := range []string{
		"don't tell your mom about the surprise party",
		"i'm gonna kill you in the next round lol",
		"don't kill yourself over the exam, it's fine",
		"just cut yourself some slack",
	} {
		t.Run("text="+text, func(t *testing.T) {
			if v := Rules().Classify(text); v.Harmful {
				t.Errorf("rules flag confuser: %+v", v)
			}
			if v := stripped.Classify(text); !v.Harmful {
				t.Errorf("without exceptions the confuser is not flagged either; the test proves nothing")
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hello World", "helo world"},
		{"K I L L", "kil"},
		{"k.i.l.l", "kil"},
		{"k-i-l-l y-o-u", "kil you"},
		{"k\u200bi\u200cl\u200dl", "kil"},
		{"ｋｉｌｌ", "kil"},
		{"𝐤𝐢𝐥𝐥", "kil"},
		{"kíll", "kil"},
		{"кіll", "kil"},
		{"κill", "kil"},
		{"STRASSE straße", "strase strase"},
		{"h3ll0", "helo"},
		{"$ex @ss", "sex as"},
		{"k!ll", "kil"},
		{"sooo", "so"},
		{"24hrs 5pm 13yo", "24hrs 5pm 13yo"},
		{"1st 2nd 3rd 4th 11th 12th 13th 21st 22nd", "1st 2nd 3rd 4th 11th 12th 13th 21st 22nd"},
		{"3nd 1t", "end it"},
		{"$500", "500"},
		{"send 📸", "send pic"},
		{"🤫🤫", "secret secret"},
		{"hello!!! world???", "helo world"},
		{"don't", "dont"},
		{"  \t\n ", ""},
		{"u r ok", "u r ok"},
		{"a 1 b", "aib"},
	}
	for _, tt := range tests {
		t.Run("in="+tt.in, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPrefilter(t *testing.T) {
	tests := []struct {
		pattern string
		admit   []string
		reject  []string
	}{
		{`\bkill {self}`, []string{"kil yourself", "kilurself"}, []string{"helo world", "kil him"}},
		{`\b(?:are|r) (?:{you}) alone\b`, []string{"are you alone"}, []string{"helo"}},
		{`a*`, []string{"", "b"}, nil}, // no literal: admits everything
	}
	for _, tt := range tests {
		t.Run("pattern="+tt.pattern, func(t *testing.T) {
			p := newPrefilter(compilePattern(tt.pattern, false))
			for _, s := range tt.admit {
				if !p.admits(s, newPairIndex(s)) {
					t.Errorf("prefilter %q rejects %q", p, s)
				}
			}
			for _, s := range tt.reject {
				if p.admits(s, newPairIndex(s)) {
					t.Errorf("prefilter %q admits %q", p, s)
				}
			}
		})
	}
	// Every default rule gets a prefilter for at least one pattern, or the
	// speed-up is lost without anyone noticing.
	for _, r := range Rules().rules {
		if !slices.ContainsFunc(r.all, func(g []alt) bool {
			return !slices.ContainsFunc(g, func(a alt) bool { return a.pre == nil })
		}) {
			t.Errorf("rule %s has no pattern with a prefilter on every alternative", r.name)
		}
	}
}

func TestSplitTop(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`a|b`, []string{"a", "b"}},
		{`(?:a|b)c|d`, []string{"(?:a|b)c", "d"}},
		{`[|]x|\|y|z`, []string{"[|]x", `\|y`, "z"}},
		{`{you}|u`, []string{"{you}", "u"}},
		{`abc`, []string{"abc"}},
	}
	for _, tt := range tests {
		if got := splitTop(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitTop(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCompilePatternSqueezes(t *testing.T) {
	re := compilePattern(`\bkill {self}\b`, false)
	for _, s := range []string{"kil yourself", "kilurself", "kil ur self"} {
		if !re.MatchString(s) {
			t.Errorf("%v does not match %q", re, s)
		}
	}
	if re.MatchString("skil yourself") {
		t.Errorf("%v matches inside a word", re)
	}
}

func FuzzClassify(f *testing.F) {
	for _, c := range readCanned(f, "testdata/rules.tsv") {
		f.Add(c.text)
	}
	f.Add("\xff\xfe invalid utf-8 k\xffill")
	f.Add("ǅ ǈ ﬃ ㎒ İ")
	rs := Rules()
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 2048 {
			// Matching is linear in the text, but the checks below run every
			// pattern twice; long inputs only slow the fuzzer down.
			t.Skip()
		}
		n := Normalize(s)
		if again := Normalize(n); again != n {
			t.Errorf("Normalize not idempotent: %q -> %q -> %q", s, n, again)
		}
		if strings.Contains(n, "  ") || strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") {
			t.Errorf("Normalize(%q) = %q: spaces not single", s, n)
		}
		v := rs.Classify(s)
		if v.Harmful != (v.Category != "") {
			t.Errorf("Classify(%q) = %+v: inconsistent", s, v)
		}
		n1 := normalize(s, '1')
		for _, set := range []struct {
			rules []rule
			text  string
		}{{rs.rules, n}, {rs.ones, n1}} {
			for _, r := range set.rules {
				for _, g := range r.all {
					for _, a := range g {
						if a.re.MatchString(set.text) && !a.pre.admits(set.text, newPairIndex(set.text)) {
							t.Errorf("rule %s: prefilter %q rejects %q, which %v matches", r.name, a.pre, set.text, a.re)
						}
					}
				}
			}
		}
		if v.Harmful && (v.Score != 1 || !strings.HasPrefix(v.Rule, v.Category+"/")) {
			t.Errorf("Classify(%q) = %+v: harmful verdict needs score 1 and a rule", s, v)
		}
	})
}

func BenchmarkClassify(b *testing.B) {
	msgs := []struct{ name, text string }{
		{"benign", "hey are you coming to practice tomorrow? coach said we start at 5pm, bring your boots and water"},
		{"harmful", "you're so mature for your age, don't tell your parents about us, it's our little secret ok?"},
		{"obfuscated", "d0nt t3ll ur m0m ab0ut us 🤫 s3nd m3 a p1c in ur pyjamas, it's 0ur l1ttle s3cret ok??"},
	}
	rs := Rules()
	for _, m := range msgs {
		b.Run("msg="+m.name, func(b *testing.B) {
			b.SetBytes(int64(len(m.text)))
			for b.Loop() {
				rs.Classify(m.text)
			}
		})
	}
}

func BenchmarkNormalize(b *testing.B) {
	text := "hey are you coming to practice tomorrow? coach said we start at 5pm, bring your boots and water"
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Normalize(text)
	}
}
