package corpus

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"scanlab"
)

// SyntheticTexts is true: every text the text workload produces is generated
// from templates, not collected from people. Experiments print it beside
// results computed on these texts.
const SyntheticTexts = true

// The harm categories of the text workload. They are spelled as the
// categories of package textscan.
const (
	Grooming   = "grooming"
	SelfHarm   = "self-harm"
	Threat     = "threat"
	Sextortion = "sextortion"
)

// TextCategories lists the harm categories in a stable order.
var TextCategories = []string{Grooming, SelfHarm, Threat, Sextortion}

// The benign topics of the text workload.
const (
	Family = "family"
	School = "school"
	Sport  = "sport"
	Gaming = "gaming"
	Work   = "work"
)

// TextTopics lists the benign conversation topics in a stable order.
var TextTopics = []string{Family, School, Sport, Gaming, Work}

// TextLabel is the ground truth about one generated message. It lives beside
// the message, never inside it.
type TextLabel struct {
	// Harmful is true when the message itself is harmful. Messages of a
	// harmful conversation that are harmless on their own (the rapport
	// stage of grooming, the target's replies) are not harmful.
	Harmful bool
	// Category is one of [TextCategories] when Harmful, and empty otherwise.
	Category string
	// Stage is where the message sits in its conversation: a grooming stage
	// ("rapport", "isolation", "desensitisation", "request"), "lure" or
	// "threat" in sextortion, "abuse" in self-harm and threat
	// conversations, "reply" for the target's answers, or the topic of a
	// benign conversation.
	Stage string
	// Confuser is true for a benign message written to share words with
	// harmful ones ("this workout will kill me").
	Confuser bool
	// Obfuscation names the evasion applied to the text (one of
	// [Obfuscations]), or is empty.
	Obfuscation string
	// Template identifies the template the text was filled from, as
	// "topic/set/index" (e.g. "grooming/isolation/3"), so that experiments
	// can hold out whole phrasings, not just conversations.
	Template string
}

// TextMessage is one generated message and its label. From is the author.
type TextMessage struct {
	ID           string
	Conversation string
	From         scanlab.UserID
	To           scanlab.UserID
	Text         string
	Label        TextLabel
}

// Conversation is one generated conversation between two accounts. In a
// harmful conversation the first account (A) is the offender and the second
// (B) the target.
type Conversation struct {
	ID       string
	A, B     scanlab.UserID
	Harmful  bool
	Category string // harm category, or empty for a benign conversation
	Topic    string // the harm category or the benign topic
	Messages []TextMessage
}

// TextConfig configures [GenerateTexts].
type TextConfig struct {
	// Seed makes the corpus reproducible: equal configs give equal corpora.
	Seed uint64
	// Conversations is the number of conversations to generate.
	Conversations int
	// HarmfulShare is the share of conversations that are harmful, in
	// [0, 1]. The number of harmful conversations is exactly
	// round(HarmfulShare × Conversations), spread evenly over Categories.
	HarmfulShare float64
	// Categories are the harm categories to generate; empty means all of
	// [TextCategories].
	Categories []string
	// ConfuserShare is the probability, in [0, 1], that a message of a
	// benign conversation is a confuser.
	ConfuserShare float64
	// ObfuscationShare is the share of harmful messages that are obfuscated,
	// in [0, 1]: exactly round(ObfuscationShare × harmful messages) of them.
	ObfuscationShare float64
	// Obfuscations are the evasions to draw from; empty means all of
	// [Obfuscations].
	Obfuscations []string
	// MinMessages and MaxMessages bound the length of a benign conversation.
	// Harmful conversations have their own structure of stages and are of
	// similar length.
	MinMessages, MaxMessages int
}

// DefaultTextConfig returns the configuration of the default study: 2000
// conversations, a quarter of them harmful, one benign message in six a
// confuser and a third of harmful messages obfuscated.
func DefaultTextConfig() TextConfig {
	return TextConfig{
		Seed:             1,
		Conversations:    2000,
		HarmfulShare:     0.25,
		ConfuserShare:    1.0 / 6,
		ObfuscationShare: 1.0 / 3,
		MinMessages:      6,
		MaxMessages:      12,
	}
}

// TextCorpus is a generated set of conversations.
type TextCorpus struct {
	// Synthetic is always true (see [SyntheticTexts]); it is a field so
	// that it travels with the corpus into results and manifests.
	Synthetic bool
	// Config is the configuration the corpus was generated from.
	Config        TextConfig
	Conversations []Conversation
}

// PCG streams, one per purpose, so that changing one part of the generation
// leaves the others alone.
const (
	textStreamLayout    = 1
	textStreamObfuscate = 2
	textStreamSplit     = 3
	textStreamConv      = 1 << 32 // + conversation index
)

// GenerateTexts generates a text corpus. It returns an error for an invalid
// configuration.
func GenerateTexts(cfg TextConfig) (*TextCorpus, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("corpus: bad text config: %w", err)
	}
	cats := cfg.Categories
	if len(cats) == 0 {
		cats = TextCategories
	}
	obfs := cfg.Obfuscations
	if len(obfs) == 0 {
		obfs = Obfuscations
	}

	// Layout: which conversation is about what. Exact counts, then shuffled.
	nHarm := int(math.Round(cfg.HarmfulShare * float64(cfg.Conversations)))
	topics := make([]string, cfg.Conversations)
	for i := range topics {
		if i < nHarm {
			topics[i] = cats[i%len(cats)]
		} else {
			topics[i] = TextTopics[(i-nHarm)%len(TextTopics)]
		}
	}
	layout := rand.New(rand.NewPCG(cfg.Seed, textStreamLayout))
	layout.Shuffle(len(topics), func(i, j int) { topics[i], topics[j] = topics[j], topics[i] })

	c := &TextCorpus{Synthetic: SyntheticTexts, Config: cfg}
	for i, topic := range topics {
		r := rand.New(rand.NewPCG(cfg.Seed, textStreamConv+uint64(i)))
		c.Conversations = append(c.Conversations, generateTextConversation(r, &cfg, i, topic))
	}

	// Obfuscation: exactly the configured share of harmful messages.
	var harmful []*TextMessage
	for i := range c.Conversations {
		for j := range c.Conversations[i].Messages {
			if m := &c.Conversations[i].Messages[j]; m.Label.Harmful {
				harmful = append(harmful, m)
			}
		}
	}
	nObf := int(math.Round(cfg.ObfuscationShare * float64(len(harmful))))
	or := rand.New(rand.NewPCG(cfg.Seed, textStreamObfuscate))
	for _, k := range or.Perm(len(harmful))[:nObf] {
		m := harmful[k]
		m.Text, m.Label.Obfuscation = textObfuscate(or, m.Text, obfs)
	}
	return c, nil
}

func (cfg *TextConfig) check() error {
	var errs []error
	if cfg.Conversations < 0 {
		errs = append(errs, errors.New("negative number of conversations"))
	}
	for name, v := range map[string]float64{
		"harmful share": cfg.HarmfulShare, "confuser share": cfg.ConfuserShare,
		"obfuscation share": cfg.ObfuscationShare,
	} {
		if !(v >= 0 && v <= 1) {
			errs = append(errs, fmt.Errorf("%s %v outside [0, 1]", name, v))
		}
	}
	if cfg.MinMessages < 2 || cfg.MaxMessages < cfg.MinMessages {
		errs = append(errs, fmt.Errorf("message bounds %d..%d: need 2 <= min <= max", cfg.MinMessages, cfg.MaxMessages))
	}
	for _, c := range cfg.Categories {
		if !slices.Contains(TextCategories, c) {
			errs = append(errs, fmt.Errorf("unknown category %q", c))
		}
	}
	for _, o := range cfg.Obfuscations {
		if !slices.Contains(Obfuscations, o) {
			errs = append(errs, fmt.Errorf("unknown obfuscation %q", o))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// Messages returns every message of the corpus, conversation by
// conversation.
func (c *TextCorpus) Messages() []TextMessage {
	var ms []TextMessage
	for _, conv := range c.Conversations {
		ms = append(ms, conv.Messages...)
	}
	return ms
}

// Split divides the conversations into a training and a test set, so that no
// conversation contributes messages to both. The test set holds
// round(testShare × n) conversations of each topic (each harm category and
// each benign topic), chosen by a PCG stream of the corpus seed, so the split
// is deterministic. Conversations keep their corpus order within each set.
func (c *TextCorpus) Split(testShare float64) (train, test []Conversation) {
	byTopic := map[string][]int{}
	var topics []string
	for i, conv := range c.Conversations {
		if _, ok := byTopic[conv.Topic]; !ok {
			topics = append(topics, conv.Topic)
		}
		byTopic[conv.Topic] = append(byTopic[conv.Topic], i)
	}
	slices.Sort(topics)
	r := rand.New(rand.NewPCG(c.Config.Seed, textStreamSplit))
	inTest := make([]bool, len(c.Conversations))
	for _, t := range topics {
		idx := byTopic[t]
		n := int(math.Round(testShare * float64(len(idx))))
		for _, k := range r.Perm(len(idx))[:n] {
			inTest[idx[k]] = true
		}
	}
	for i, conv := range c.Conversations {
		if inTest[i] {
			test = append(test, conv)
		} else {
			train = append(train, conv)
		}
	}
	return train, test
}

// generateTextConversation builds conversation number i about topic.
func generateTextConversation(r *rand.Rand, cfg *TextConfig, i int, topic string) Conversation {
	id := fmt.Sprintf("t%06d", i)
	conv := Conversation{
		ID:    id,
		A:     scanlab.UserID(id + "-a"),
		B:     scanlab.UserID(id + "-b"),
		Topic: topic,
	}
	// add appends a message filled from one of templates, a set named set.
	add := func(fromA bool, set string, templates []string, l TextLabel) {
		k := r.IntN(len(templates))
		l.Template = fmt.Sprintf("%s/%s/%d", topic, set, k)
		from, to := conv.A, conv.B
		if !fromA {
			from, to = to, from
		}
		conv.Messages = append(conv.Messages, TextMessage{
			ID:           fmt.Sprintf("%s-%02d", id, len(conv.Messages)),
			Conversation: id,
			From:         from,
			To:           to,
			Text:         textStyle(r, textFill(r, templates[k])),
			Label:        l,
		})
	}
	reply := func() {
		add(false, "reply", textReplies[topic], TextLabel{Stage: "reply"})
	}
	harm := func(stage string, templates []string) {
		add(true, stage, templates, TextLabel{Harmful: true, Category: topic, Stage: stage})
	}

	switch topic {
	case Grooming:
		conv.Harmful, conv.Category = true, topic
		for range 2 + r.IntN(3) {
			add(true, "rapport", textGroomingRapport, TextLabel{Stage: "rapport"})
			if r.IntN(3) > 0 {
				reply()
			}
		}
		for _, st := range []struct {
			name      string
			templates []string
			min, max  int
		}{
			{"isolation", textGroomingIsolation, 1, 3},
			{"desensitisation", textGroomingDesensitisation, 1, 2},
			{"request", textGroomingRequest, 1, 2},
		} {
			for range st.min + r.IntN(st.max-st.min+1) {
				harm(st.name, st.templates)
				if r.IntN(2) == 0 {
					reply()
				}
			}
		}
	case Sextortion:
		conv.Harmful, conv.Category = true, topic
		for range 1 + r.IntN(3) {
			add(true, "lure", textSextortionLure, TextLabel{Stage: "lure"})
			reply()
		}
		for range 2 + r.IntN(3) {
			harm("threat", textSextortionThreats)
			if r.IntN(3) > 0 {
				reply()
			}
		}
	case SelfHarm, Threat:
		conv.Harmful, conv.Category = true, topic
		templates := textSelfHarmAbuse
		if topic == Threat {
			templates = textThreatAbuse
		}
		if r.IntN(2) == 0 {
			add(true, "opener", textAbuseOpeners, TextLabel{Stage: "opener"})
		}
		for range 2 + r.IntN(4) {
			harm("abuse", templates)
			if r.IntN(3) > 0 {
				reply()
			}
		}
	default: // benign topic
		n := cfg.MinMessages + r.IntN(cfg.MaxMessages-cfg.MinMessages+1)
		for k := range n {
			if r.Float64() < cfg.ConfuserShare {
				add(k%2 == 0, "confuser", textConfusers[topic], TextLabel{Stage: topic, Confuser: true})
			} else {
				add(k%2 == 0, "benign", textBenign[topic], TextLabel{Stage: topic})
			}
		}
	}
	return conv
}

// textPick returns a uniformly chosen element of s.
func textPick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

// textFill replaces every {slot} in a template by a value of that slot.
func textFill(r *rand.Rand, t string) string {
	return expandBraces(r, t, func(slot string) []string {
		values, ok := textSlots[slot]
		if !ok {
			panic("corpus: unknown slot in template " + t)
		}
		return values
	})
}

// expandBraces replaces every "{…}" group of a template by one of the
// values choices gives for the group's text, drawn uniformly. Templates
// are constants of this package, checked by tests, so a malformed one is
// a programmer error and panics.
func expandBraces(r *rand.Rand, t string, choices func(group string) []string) string {
	var b strings.Builder
	for rest := t; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			panic("corpus: unterminated group in template " + t)
		}
		b.WriteString(rest[:i])
		b.WriteString(textPick(r, choices(rest[i+1:i+j])))
		rest = rest[i+j+1:]
	}
}

// textStyle varies the surface of a message the way people type: lower case,
// dropped final punctuation, a trailing "lol" or emoji. It is applied to
// every message, harmful or not, so that style alone says nothing about the
// label.
func textStyle(r *rand.Rand, s string) string {
	if r.IntN(10) < 4 {
		s = strings.ToLower(s)
	}
	if r.IntN(10) < 3 {
		s = strings.TrimRight(s, ".!?")
	}
	if r.IntN(10) < 2 {
		s += textPick(r, []string{" lol", " haha", " 😂", " 🙂", "!!", " ok", " 👀"})
	}
	return s
}
