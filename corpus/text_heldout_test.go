package corpus

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"scanlab/textscan"
)

func TestHeldOutTemplatesParse(t *testing.T) {
	sets := map[string][]string{"benign": heldOutBenign, "confuser": heldOutConfusers}
	for cat, ts := range heldOutHarmful {
		sets[cat] = ts
	}
	for name, ts := range sets {
		for k, tmpl := range ts {
			t.Run(fmt.Sprintf("set=%s/template=%d", name, k), func(t *testing.T) {
				depth := 0
				for _, c := range tmpl {
					switch c {
					case '{':
						depth++
					case '}':
						depth--
					}
					if depth < 0 || depth > 1 {
						t.Fatalf("unbalanced or nested group in %q", tmpl)
					}
				}
				if depth != 0 {
					t.Fatalf("unterminated group in %q", tmpl)
				}
			})
		}
	}
	for _, cat := range TextCategories {
		if len(heldOutHarmful[cat]) < 10 {
			t.Errorf("category %s: %d held-out templates, want at least 10", cat, len(heldOutHarmful[cat]))
		}
	}
}

func TestHeldOutDeterministicAndCounted(t *testing.T) {
	cfg := DefaultHeldOutConfig()
	cfg.ObfuscationShare = 0.2
	a, err := HeldOutTexts(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := HeldOutTexts(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different held-out sets")
	}
	counts := map[string]int{}
	var confusers, obfuscated int
	for _, m := range a {
		counts[m.Label.Category]++
		if m.Label.Confuser {
			confusers++
		}
		if m.Label.Obfuscation != "" {
			obfuscated++
		}
		if m.Label.Harmful != (m.Label.Category != "") || !strings.HasPrefix(m.Label.Template, "heldout/") {
			t.Fatalf("bad label %+v", m.Label)
		}
	}
	for _, cat := range TextCategories {
		if counts[cat] != cfg.PerCategory {
			t.Errorf("category %s: %d texts, want %d", cat, counts[cat], cfg.PerCategory)
		}
	}
	if counts[""] != cfg.Benign || confusers != cfg.Benign/2 || obfuscated != cfg.PerCategory*4/5 {
		t.Errorf("benign %d, confusers %d, obfuscated %d; want %d, %d, %d",
			counts[""], confusers, obfuscated, cfg.Benign, cfg.Benign/2, cfg.PerCategory*4/5)
	}
	cfg.Seed++
	c, _ := HeldOutTexts(cfg)
	same := 0
	for i := range a {
		if a[i].Text == c[i].Text {
			same++
		}
	}
	if same > len(a)/10 {
		t.Errorf("seeds %d and %d share %d of %d texts at the same position", cfg.Seed-1, cfg.Seed, same, len(a))
	}
}

// TestHeldOutApartFromWorkload fails if a held-out text could have come from
// the workload's templates, or the two default seeds coincide.
func TestHeldOutApartFromWorkload(t *testing.T) {
	if DefaultHeldOutConfig().Seed == DefaultTextConfig().Seed {
		t.Fatal("held-out set and text workload share a default seed")
	}
	work := mustGenerateTexts(t, DefaultTextConfig())
	seen := map[string]bool{}
	for _, m := range work.Messages() {
		seen[strings.ToLower(m.Text)] = true
	}
	held, err := HeldOutTexts(DefaultHeldOutConfig())
	if err != nil {
		t.Fatal(err)
	}
	var shared []string
	for _, m := range held {
		if m.Label.Harmful && seen[strings.ToLower(m.Text)] {
			shared = append(shared, m.Text)
		}
	}
	if len(shared) > 0 {
		t.Errorf("%d held-out harmful texts also occur in the workload: %q", len(shared), shared)
	}
}

func TestHeldOutBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*HeldOutConfig)
		want string
	}{
		{"per-category", func(c *HeldOutConfig) { c.PerCategory = -1 }, "per category"},
		{"benign", func(c *HeldOutConfig) { c.Benign = -3 }, "benign"},
		{"confuser-share", func(c *HeldOutConfig) { c.ConfuserShare = 1.5 }, "confuser share"},
		{"obfuscation-share", func(c *HeldOutConfig) { c.ObfuscationShare = -0.1 }, "obfuscation share"},
	} {
		t.Run("field="+tc.name, func(t *testing.T) {
			cfg := DefaultHeldOutConfig()
			tc.edit(&cfg)
			_, err := HeldOutTexts(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// always flags every text as one category.
type always string

func (a always) Name() string { return "always-" + string(a) }
func (a always) Classify(string) textscan.Verdict {
	return textscan.Verdict{Harmful: true, Category: string(a), Score: 1}
}

func TestEvaluateHeldOutCounts(t *testing.T) {
	cfg := HeldOutConfig{Seed: 5, PerCategory: 30, Benign: 40, ConfuserShare: 0.5}
	m, err := EvaluateHeldOut(always(Threat), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Examples != 160 {
		t.Fatalf("%d examples, want 160", m.Examples)
	}
	if o := m.Overall; o.TP != 120 || o.FP != 40 || o.FN != 0 || o.TN != 0 {
		t.Errorf("overall %+v, want TP 120 FP 40", o)
	}
	if c := m.Categories[Threat]; c.TP != 30 || c.FP != 130 || c.FN != 0 {
		t.Errorf("threat %+v, want TP 30 FP 130", c)
	}
	if c := m.Categories[Grooming]; c.TP != 0 || c.FN != 30 || c.TN != 130 {
		t.Errorf("grooming %+v, want FN 30 TN 130", c)
	}
	if _, err := EvaluateHeldOut(always(Threat), HeldOutConfig{PerCategory: -1}); err == nil {
		t.Error("bad config accepted")
	}
}
