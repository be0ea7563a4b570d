package corpus

import (
	"math/rand/v2"
	"slices"
	"strings"
)

// The evasions applied to harmful texts, as people use them against keyword
// filters.
const (
	ObfSpacing     = "spacing"     // "k i l l"
	ObfPunctuation = "punctuation" // "k.i.l.l", "k-i-l-l"
	ObfLeet        = "leet"        // "k1ll y0urs3lf"
	ObfHomoglyph   = "homoglyph"   // Cyrillic look-alikes: "кіll"
	ObfZeroWidth   = "zero-width"  // zero-width spaces between letters
	ObfRepeat      = "repeat"      // "kiiiill"
	ObfFullWidth   = "full-width"  // "ｋｉｌｌ"
	ObfEmoji       = "emoji"       // "send 📸", "our 🤫"
)

// Obfuscations lists every evasion in a stable order.
var Obfuscations = []string{
	ObfSpacing, ObfPunctuation, ObfLeet, ObfHomoglyph, ObfZeroWidth, ObfRepeat, ObfFullWidth, ObfEmoji,
}

// textObfuscate applies one evasion drawn from kinds to s and returns the new text
// and the evasion's name. If the drawn evasion cannot change s (no word for an
// emoji, say), the others are tried in a random order; every kind changes a
// text that has a word of two or more letters.
func textObfuscate(r *rand.Rand, s string, kinds []string) (string, string) {
	order := slices.Clone(kinds)
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, k := range order {
		if t := textObfuscators[k](r, s); t != s {
			return t, k
		}
	}
	return s, ""
}

var textObfuscators = map[string]func(*rand.Rand, string) string{
	ObfSpacing: func(r *rand.Rand, s string) string { return textPerWord(r, s, textInterleave(" ")) },
	ObfPunctuation: func(r *rand.Rand, s string) string {
		return textPerWord(r, s, textInterleave(textPick(r, []string{".", "-", "*", "_"})))
	},
	ObfZeroWidth: func(r *rand.Rand, s string) string { return textPerWord(r, s, textInterleave("\u200b")) },
	ObfRepeat: func(r *rand.Rand, s string) string {
		return textPerWord(r, s, func(w string) string {
			i := strings.IndexAny(w, "aeiou")
			if i < 0 {
				i = 0
			}
			return w[:i+1] + strings.Repeat(w[i:i+1], 2+r.IntN(3)) + w[i+1:]
		})
	},
	ObfLeet:      func(r *rand.Rand, s string) string { return textMapLetters(r, s, textLeet, 0.7) },
	ObfHomoglyph: func(r *rand.Rand, s string) string { return textMapLetters(r, s, textCyrillic, 0.6) },
	ObfFullWidth: func(r *rand.Rand, s string) string {
		return strings.Map(func(c rune) rune {
			if c > ' ' && c < 0x7f {
				return c - '!' + '！'
			}
			return c
		}, s)
	},
	ObfEmoji: func(r *rand.Rand, s string) string {
		words := strings.Fields(s)
		for i, w := range words {
			if e, ok := textEmoji[strings.ToLower(strings.TrimRight(w, ".,!?"))]; ok {
				words[i] = e
			}
		}
		return strings.Join(words, " ")
	},
}

// textPerWord applies f to one or two of the longest words of s (words of at
// least two ASCII letters).
func textPerWord(r *rand.Rand, s string, f func(string) string) string {
	words := strings.Fields(s)
	var cand []int
	for i, w := range words {
		if len(w) >= 2 && textIsLetters(w) {
			cand = append(cand, i)
		}
	}
	if len(cand) == 0 {
		return s
	}
	slices.SortStableFunc(cand, func(a, b int) int { return len(words[b]) - len(words[a]) })
	n := min(len(cand), 1+r.IntN(2))
	for _, i := range cand[:n] {
		words[i] = f(words[i])
	}
	return strings.Join(words, " ")
}

func textIsLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// textInterleave returns a function that puts sep between the letters of a word.
func textInterleave(sep string) func(string) string {
	return func(w string) string {
		var b strings.Builder
		for i, c := range w {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteRune(c)
		}
		return b.String()
	}
}

// textMapLetters replaces each letter that has a substitute with probability p,
// and at least one letter if any has a substitute.
func textMapLetters(r *rand.Rand, s string, sub map[rune]rune, p float64) string {
	rs := []rune(s)
	var can []int
	for i, c := range rs {
		if _, ok := sub[c]; ok {
			can = append(can, i)
		}
	}
	if len(can) == 0 {
		return s
	}
	changed := false
	for _, i := range can {
		if r.Float64() < p {
			rs[i] = sub[rs[i]]
			changed = true
		}
	}
	if !changed {
		i := can[r.IntN(len(can))]
		rs[i] = sub[rs[i]]
	}
	return string(rs)
}

var textLeet = map[rune]rune{'a': '4', 'e': '3', 'i': '1', 'o': '0', 's': '5', 't': '7', 'l': '1', 'A': '4', 'E': '3', 'I': '1', 'O': '0', 'S': '$'}

var textCyrillic = map[rune]rune{
	'a': 'а', 'e': 'е', 'o': 'о', 'p': 'р', 'c': 'с', 'x': 'х', 'y': 'у', 'i': 'і', 's': 'ѕ', 'j': 'ј',
	'A': 'А', 'E': 'Е', 'O': 'О', 'P': 'Р', 'C': 'С', 'K': 'К', 'M': 'М', 'T': 'Т', 'H': 'Н', 'B': 'В',
}

// textEmoji maps words to the emoji people type instead of them.
var textEmoji = map[string]string{
	"secret": "🤫", "pic": "📸", "pics": "📸", "photo": "📸", "photos": "📸", "selfie": "🤳",
	"video": "📹", "gift": "🎁", "money": "💰", "knife": "🔪", "gun": "🔫", "you": "🫵",
	"kill": "🔪", "die": "⚰️", "house": "🏠", "school": "🏫", "phone": "📱", "camera": "📷",
	"love": "❤️", "naked": "🍑", "body": "🍑",
}
