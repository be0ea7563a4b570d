package corpus

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func smallTextConfig(seed uint64) TextConfig {
	cfg := DefaultTextConfig()
	cfg.Seed = seed
	cfg.Conversations = 400
	return cfg
}

func mustGenerateTexts(t testing.TB, cfg TextConfig) *TextCorpus {
	t.Helper()
	c, err := GenerateTexts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTextsDeterministic(t *testing.T) {
	a := mustGenerateTexts(t, smallTextConfig(7))
	b := mustGenerateTexts(t, smallTextConfig(7))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different corpora")
	}
	c := mustGenerateTexts(t, smallTextConfig(8))
	same := 0
	ma, mc := a.Messages(), c.Messages()
	for i := range min(len(ma), len(mc)) {
		if ma[i].Text == mc[i].Text {
			same++
		}
	}
	if n := min(len(ma), len(mc)); same > n/2 {
		t.Errorf("seeds 7 and 8 share %d of %d message texts at the same position", same, n)
	}
}

func TestTextsSynthetic(t *testing.T) {
	if !SyntheticTexts || !mustGenerateTexts(t, smallTextConfig(1)).Synthetic {
		t.Fatal("generated texts must be marked synthetic")
	}
}

func TestTextsLabelBalance(t *testing.T) {
	for _, share := range []float64{0, 0.1, 0.25, 0.5, 1} {
		t.Run(fmt.Sprintf("harmful=%v", share), func(t *testing.T) {
			cfg := smallTextConfig(3)
			cfg.Conversations = 203 // not a multiple of the number of categories
			cfg.HarmfulShare = share
			c := mustGenerateTexts(t, cfg)
			perTopic := map[string]int{}
			harmful := 0
			for _, conv := range c.Conversations {
				perTopic[conv.Topic]++
				if conv.Harmful {
					harmful++
				}
			}
			want := int(math.Round(share * float64(cfg.Conversations)))
			if harmful != want {
				t.Errorf("harmful conversations = %d, want %d", harmful, want)
			}
			checkTextEven(t, perTopic, TextCategories, want)
			checkTextEven(t, perTopic, TextTopics, cfg.Conversations-want)
		})
	}
}

// checkTextEven checks that total items are spread over names with counts that
// differ by at most one.
func checkTextEven(t *testing.T, counts map[string]int, names []string, total int) {
	t.Helper()
	lo, hi, sum := math.MaxInt, 0, 0
	for _, n := range names {
		lo, hi, sum = min(lo, counts[n]), max(hi, counts[n]), sum+counts[n]
	}
	if sum != total || hi-lo > 1 {
		t.Errorf("counts over %v = %v: want %d spread evenly", names, counts, total)
	}
}

func TestTextsCategories(t *testing.T) {
	cfg := smallTextConfig(4)
	cfg.Categories = []string{Sextortion}
	cfg.HarmfulShare = 0.5
	for _, conv := range mustGenerateTexts(t, cfg).Conversations {
		if conv.Harmful && conv.Category != Sextortion {
			t.Fatalf("conversation %s has category %q, want only %q", conv.ID, conv.Category, Sextortion)
		}
	}
}

func TestTextsObfuscationShare(t *testing.T) {
	for _, share := range []float64{0, 0.2, 1.0 / 3, 1} {
		t.Run(fmt.Sprintf("share=%.3f", share), func(t *testing.T) {
			cfg := smallTextConfig(5)
			cfg.ObfuscationShare = share
			var harmful, obf int
			kinds := map[string]int{}
			for _, m := range mustGenerateTexts(t, cfg).Messages() {
				if m.Label.Obfuscation != "" {
					if !m.Label.Harmful {
						t.Fatalf("benign message %s obfuscated", m.ID)
					}
					obf++
					kinds[m.Label.Obfuscation]++
				}
				if m.Label.Harmful {
					harmful++
				}
			}
			if want := int(math.Round(share * float64(harmful))); obf != want {
				t.Errorf("obfuscated %d of %d harmful messages, want %d", obf, harmful, want)
			}
			if share >= 0.2 && len(kinds) != len(Obfuscations) {
				t.Errorf("obfuscations used: %v, want all of %v", kinds, Obfuscations)
			}
		})
	}
}

func TestTextsObfuscationKinds(t *testing.T) {
	cfg := smallTextConfig(6)
	cfg.ObfuscationShare = 1
	cfg.Obfuscations = []string{ObfLeet, ObfSpacing}
	for _, m := range mustGenerateTexts(t, cfg).Messages() {
		if m.Label.Harmful && !slices.Contains(cfg.Obfuscations, m.Label.Obfuscation) {
			t.Fatalf("message %s: obfuscation %q not among %v", m.ID, m.Label.Obfuscation, cfg.Obfuscations)
		}
	}
}

func TestObfuscators(t *testing.T) {
	const text = "Don't tell your mom about our secret, send me a pic"
	checks := map[string]func(string) bool{
		ObfSpacing:     func(s string) bool { return len(strings.Fields(s)) > len(strings.Fields(text)) },
		ObfPunctuation: func(s string) bool { return strings.ContainsAny(s, ".-*_") },
		ObfLeet:        func(s string) bool { return strings.ContainsAny(s, "01345$7") },
		ObfHomoglyph: func(s string) bool {
			return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) })
		},
		ObfZeroWidth: func(s string) bool { return strings.ContainsRune(s, '\u200b') },
		ObfRepeat:    func(s string) bool { return len(s) > len(text) && len(strings.Fields(s)) == len(strings.Fields(text)) },
		ObfFullWidth: func(s string) bool { return strings.ContainsRune(s, 'ｓ') },
		ObfEmoji:     func(s string) bool { return strings.Contains(s, "🤫") && strings.Contains(s, "📸") },
	}
	if len(checks) != len(Obfuscations) {
		t.Fatalf("checks for %d obfuscations, have %d", len(checks), len(Obfuscations))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, kind := range Obfuscations {
		t.Run("kind="+kind, func(t *testing.T) {
			for range 20 {
				got, used := textObfuscate(r, text, []string{kind})
				if used != kind || got == text || !checks[kind](got) {
					t.Fatalf("obfuscate(%q, %s) = %q, %q", text, kind, got, used)
				}
			}
		})
	}
}

func TestTextsConfuserShare(t *testing.T) {
	for _, share := range []float64{0, 0.15, 0.5} {
		t.Run(fmt.Sprintf("share=%v", share), func(t *testing.T) {
			cfg := smallTextConfig(9)
			cfg.ConfuserShare = share
			var nBenign, conf int
			for _, conv := range mustGenerateTexts(t, cfg).Conversations {
				for _, m := range conv.Messages {
					if m.Label.Confuser {
						if conv.Harmful || m.Label.Harmful {
							t.Fatalf("confuser %s in a harmful conversation", m.ID)
						}
						conf++
					}
					if !conv.Harmful {
						nBenign++
					}
				}
			}
			got := float64(conf) / float64(nBenign)
			// Binomial: allow five standard deviations.
			tol := 5*math.Sqrt(share*(1-share)/float64(nBenign)) + 1e-9
			if math.Abs(got-share) > tol {
				t.Errorf("confuser share %.4f over %d benign messages, want %.4f ± %.4f", got, nBenign, share, tol)
			}
		})
	}
}

func TestTextsLabels(t *testing.T) {
	c := mustGenerateTexts(t, smallTextConfig(10))
	ids := map[string]bool{}
	stages := map[string]int{}
	for _, conv := range c.Conversations {
		harmfulMsgs := 0
		for _, m := range conv.Messages {
			if ids[m.ID] {
				t.Fatalf("duplicate message ID %s", m.ID)
			}
			ids[m.ID] = true
			l := m.Label
			stages[conv.Topic+"/"+l.Stage]++
			if m.Conversation != conv.ID || (m.From != conv.A && m.From != conv.B) || m.From == m.To {
				t.Fatalf("message %s: bad routing %+v", m.ID, m)
			}
			if l.Harmful != (l.Category != "") {
				t.Fatalf("message %s: label %+v inconsistent", m.ID, l)
			}
			if l.Harmful {
				harmfulMsgs++
				if l.Category != conv.Category || m.From != conv.A {
					t.Fatalf("message %s: harmful message must come from the offender in its category: %+v", m.ID, m)
				}
			}
			lower := strings.ToLower(m.Text)
			for _, w := range append(slices.Clone(TextCategories), "harmful", "benign", "label", "confuser") {
				if strings.Contains(lower, w) {
					t.Fatalf("message %s text %q contains label word %q", m.ID, m.Text, w)
				}
			}
			if parts := strings.Split(l.Template, "/"); len(parts) != 3 || parts[0] != conv.Topic {
				t.Fatalf("message %s: template %q not of the form topic/set/index", m.ID, l.Template)
			}
			if strings.Contains(m.Text, "{") || strings.Contains(m.Text, "}") {
				t.Fatalf("message %s: unfilled slot in %q", m.ID, m.Text)
			}
		}
		if conv.Harmful != (harmfulMsgs > 0) {
			t.Fatalf("conversation %s: harmful=%v with %d harmful messages", conv.ID, conv.Harmful, harmfulMsgs)
		}
	}
	for _, st := range []string{"grooming/rapport", "grooming/isolation", "grooming/desensitisation", "grooming/request", "sextortion/lure", "sextortion/threat", "self-harm/abuse", "threat/abuse"} {
		if stages[st] == 0 {
			t.Errorf("no message of stage %s", st)
		}
	}
}

func TestTextsSplit(t *testing.T) {
	c := mustGenerateTexts(t, smallTextConfig(11))
	train, test := c.Split(0.3)
	if len(train)+len(test) != len(c.Conversations) {
		t.Fatalf("split %d+%d of %d conversations", len(train), len(test), len(c.Conversations))
	}
	inTrain := map[string]bool{}
	for _, conv := range train {
		inTrain[conv.ID] = true
	}
	perTopic := map[string]int{}
	for _, conv := range test {
		if inTrain[conv.ID] {
			t.Fatalf("conversation %s in both sets", conv.ID)
		}
		perTopic[conv.Topic]++
	}
	all := map[string]int{}
	for _, conv := range c.Conversations {
		all[conv.Topic]++
	}
	for topic, n := range all {
		if want := int(math.Round(0.3 * float64(n))); perTopic[topic] != want {
			t.Errorf("topic %s: %d of %d in test, want %d", topic, perTopic[topic], n, want)
		}
	}
	train2, test2 := c.Split(0.3)
	if !reflect.DeepEqual(train, train2) || !reflect.DeepEqual(test, test2) {
		t.Error("split not deterministic")
	}
}

func TestTextConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*TextConfig)
		want   string
	}{
		{"negative", func(c *TextConfig) { c.Conversations = -1 }, "negative number"},
		{"harmful", func(c *TextConfig) { c.HarmfulShare = 1.5 }, "harmful share"},
		{"nan", func(c *TextConfig) { c.ObfuscationShare = math.NaN() }, "obfuscation share"},
		{"bounds", func(c *TextConfig) { c.MinMessages, c.MaxMessages = 5, 4 }, "message bounds"},
		{"category", func(c *TextConfig) { c.Categories = []string{"spam"} }, `unknown category "spam"`},
		{"obfuscation", func(c *TextConfig) { c.Obfuscations = []string{"rot13"} }, `unknown obfuscation "rot13"`},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			cfg := DefaultTextConfig()
			tt.modify(&cfg)
			_, err := GenerateTexts(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("GenerateTexts error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestTemplatesFill(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var all []string
	for _, set := range [][]string{textGroomingRapport, textGroomingIsolation, textGroomingDesensitisation, textGroomingRequest, textSextortionLure, textSextortionThreats, textAbuseOpeners, textSelfHarmAbuse, textThreatAbuse} {
		all = append(all, set...)
	}
	for _, m := range []map[string][]string{textReplies, textBenign, textConfusers} {
		for _, set := range m {
			all = append(all, set...)
		}
	}
	for _, topic := range TextTopics {
		if len(textBenign[topic]) == 0 || len(textConfusers[topic]) == 0 {
			t.Errorf("topic %s lacks benign or confuser templates", topic)
		}
	}
	for _, cat := range TextCategories {
		if len(textReplies[cat]) == 0 {
			t.Errorf("category %s lacks replies", cat)
		}
	}
	for _, tmpl := range all {
		// fill panics on an unknown slot.
		if s := textFill(r, tmpl); strings.ContainsAny(s, "{}") {
			t.Errorf("fill(%q) = %q", tmpl, s)
		}
	}
}

func BenchmarkGenerateTexts(b *testing.B) {
	cfg := DefaultTextConfig()
	for b.Loop() {
		if _, err := GenerateTexts(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
