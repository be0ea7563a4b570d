package textscan

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Normalize maps s to the canonical skeleton that the rules match against. It
// undoes the usual ways of hiding words from a keyword filter:
//
//   - compatibility forms and accents: NFKD decomposition, so full-width
//     "ｋｉｌｌ", mathematical "𝐤𝐢𝐥𝐥" and "kíll" all become "kill";
//   - case: Unicode case folding ("KILL", "ẞ" → "ss");
//   - invisible characters: format characters such as zero-width spaces and
//     joiners, combining marks and variation selectors are dropped;
//   - homoglyphs: Cyrillic and Greek look-alikes ("кіll", "κill") map to the
//     Latin letter they imitate;
//   - leetspeak: inside a word that contains a letter, 0→o, 1→i, 3→e, 4→a,
//     5→s, 7→t, 8→b, 9→g, and "$"/"@" before a letter, "!"/"|" between
//     letters become s, a, i and l; a number followed by a unit ("24hrs",
//     "5pm", "13yo") or an ordinal suffix ("2nd", but not "3nd") is left
//     alone;
//   - spacing tricks: punctuation between letters inside a word is removed
//     ("k.i.l.l", "k-i-l-l" → "kill") and runs of three or more one-character
//     words are joined ("k i l l" → "kill");
//   - repeated letters: every run of one letter collapses to a single letter
//     ("sooo" → "so", and also "kill" → "kil"), so the output is a matching
//     skeleton rather than readable text;
//   - emoji that stand for a word (🔪 knife, 🔫 gun, 📸 pic, 🤫 secret, 🎁 gift,
//     💰 money, 🫵 you) are replaced by that word.
//
// The result holds only lower-case letters, digits and single spaces between
// words. Normalize is idempotent: Normalize(Normalize(s)) == Normalize(s).
// Text in scripts with Cyrillic or Greek letters is deliberately mangled into
// Latin look-alikes; the skeleton is for matching, never for display.
func Normalize(s string) string {
	return normalize(s, 'i')
}

// normalize is [Normalize] with a choice of what the digit 1 stands for in
// leetspeak ('i' or 'l'), since "k1ll" and "se1f" need different answers.
func normalize(s string, one rune) string {
	if isASCII(s) {
		// NFKD is the identity on ASCII and case folding is lower-casing.
		s = strings.ToLower(s)
	} else {
		s = norm.NFKD.String(s)
		s = cases.Fold().String(s)
		s = norm.NFKD.String(s)
	}

	// Pass 1: drop invisible runes, map homoglyphs and emoji, and split into
	// raw words at white space.
	var words [][]rune
	var raw []rune
	flushRaw := func() {
		if len(raw) > 0 {
			words = splitWord(raw, words)
			raw = raw[:0]
		}
	}
	for _, r := range s {
		switch {
		case r == ' ' || unicode.IsSpace(r) || unicode.IsControl(r):
			flushRaw()
			continue
		case invisible(r):
			continue
		}
		if r < utf8.RuneSelf {
			raw = append(raw, r)
			continue
		}
		if w, ok := emojiWords[r]; ok {
			flushRaw()
			words = append(words, []rune(w))
			continue
		}
		if m, ok := homoglyphs[r]; ok {
			raw = append(raw, []rune(m)...)
			continue
		}
		raw = append(raw, r)
	}
	flushRaw()

	// Pass 2: leetspeak and repeated letters within each word.
	for i, w := range words {
		words[i] = squeeze(deleet(w, one))
	}

	// Pass 3: join runs of three or more one-character words.
	var b strings.Builder
	b.Grow(len(s))
	emit := func(w []rune) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		for _, r := range w {
			b.WriteRune(r)
		}
	}
	for i := 0; i < len(words); {
		j := i
		for j < len(words) && len(words[j]) == 1 {
			j++
		}
		if j-i >= 3 {
			var joined []rune
			for _, w := range words[i:j] {
				joined = append(joined, w...)
			}
			emit(squeeze(deleet(joined, one)))
			i = j
			continue
		}
		if j == i {
			j++
		}
		for _, w := range words[i:j] {
			emit(w)
		}
		i = j
	}
	return b.String()
}

// invisible reports whether r is dropped outright: format characters
// (zero-width space, joiners, soft hyphen, bidi controls), combining marks,
// variation selectors and the Hangul fillers that render as blank.
func invisible(r rune) bool {
	switch r {
	case 0x115F, 0x1160, 0x3164, 0xFFA0:
		return true
	}
	return unicode.In(r, unicode.Cf, unicode.Mn, unicode.Me)
}

// alnum reports whether r can be part of a word.
func alnum(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// splitWord splits one white-space-free run of runes into words and appends
// them to words. Punctuation between two word characters is removed so that
// "k.i.l.l" stays one word; other punctuation separates words. Leetspeak
// symbols that stand in for a letter are replaced by it here, because they are
// punctuation to everything else.
func splitWord(raw []rune, words [][]rune) [][]rune {
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, cur)
			cur = nil
		}
	}
	for i := 0; i < len(raw); i++ {
		r := raw[i]
		if alnum(r) {
			cur = append(cur, r)
			continue
		}
		j := i + 1
		for j < len(raw) && !alnum(raw[j]) {
			j++
		}
		next := j < len(raw)
		if j == i+1 {
			switch r {
			case '$', '@':
				if next && unicode.IsLetter(raw[j]) {
					cur = append(cur, leetSymbols[r])
					continue
				}
			case '!', '|', '€':
				if len(cur) > 0 && next {
					cur = append(cur, leetSymbols[r])
					continue
				}
			}
		}
		if len(cur) > 0 && next {
			i = j - 1 // punctuation inside a word: drop it
			continue
		}
		flush()
		i = j - 1
	}
	flush()
	return words
}

// leetSymbols are the punctuation runes that stand in for a letter.
var leetSymbols = map[rune]rune{'$': 's', '@': 'a', '!': 'i', '|': 'l', '€': 'e'}

// leetDigits are the digits that stand in for a letter; '1' is decided by the
// caller of normalize.
// leetDigits is indexed by the digit's value; 0 means "not a letter".
var leetDigits = [10]rune{0: 'o', 3: 'e', 4: 'a', 5: 's', 7: 't', 8: 'b', 9: 'g'}

// units are the suffixes that make a leading number a quantity ("24hrs",
// "5pm", "13yo"), not leetspeak. The list is closed under [squeeze].
var units = map[string]bool{
	"am": true, "pm": true,
	"yo": true, "y": true, "yr": true, "yrs": true, "h": true, "hr": true, "hrs": true,
	"min": true, "mins": true, "s": true, "k": true, "m": true, "x": true, "d": true,
	"gb": true, "mb": true, "km": true, "kg": true, "lb": true, "lbs": true,
	"cm": true, "mm": true, "ft": true, "mi": true, "mph": true,
}

// ordinal reports whether digits followed by suffix spell an English
// ordinal ("1st", "22nd", "13th"), not leetspeak ("3nd" is "end").
func ordinal(digits []rune, suffix string) bool {
	last, tens := digits[len(digits)-1], rune(0)
	if len(digits) > 1 {
		tens = digits[len(digits)-2]
	}
	want := "th"
	if tens != '1' {
		switch last {
		case '1':
			want = "st"
		case '2':
			want = "nd"
		case '3':
			want = "rd"
		}
	}
	return suffix == want
}

// deleet replaces digits that stand in for letters, in place. A word without
// letters, or a number followed by a unit, is left alone.
func deleet(w []rune, one rune) []rune {
	hasLetter := false
	for _, r := range w {
		if unicode.IsLetter(r) {
			hasLetter = true
			break
		}
	}
	if !hasLetter {
		return w
	}
	k := 0
	for k < len(w) && w[k] >= '0' && w[k] <= '9' {
		k++
	}
	if k > 0 && (units[string(w[k:])] || ordinal(w[:k], string(w[k:]))) {
		return w
	}
	for i, r := range w {
		if r >= '0' && r <= '9' {
			if r == '1' {
				w[i] = one
			} else if m := leetDigits[r-'0']; m != 0 {
				w[i] = m
			}
		}
	}
	return w
}

// squeeze collapses every run of one repeated letter to a single letter, in
// place. Digits are kept as they are.
func squeeze(w []rune) []rune {
	out := w[:0]
	for i, r := range w {
		if i > 0 && r == w[i-1] && unicode.IsLetter(r) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// emojiWords are emoji used in place of a word in abusive messages. Emoji
// whose everyday meaning is benign (💀 "I'm dying of laughter", 🔥, 😂) are not
// mapped.
var emojiWords = map[rune]string{
	'🔪': "knife", '🗡': "knife", '🔫': "gun", '💣': "bomb",
	'📸': "pic", '📷': "pic", '🤳': "pic", '📹': "video", '🎥': "video",
	'🤫': "secret", '🤐': "secret", '🎁': "gift", '💰': "money", '💵': "money", '💸': "money",
	'🫵': "you", '⚰': "coffin", '🪢': "rope", '🍑': "butt", '🍆': "dick",
}

// homoglyphs maps letters (after case folding) that imitate a Latin letter to
// that letter.
var homoglyphs = map[rune]string{
	// Cyrillic
	'а': "a", 'в': "b", 'г': "r", 'е': "e", 'з': "3", 'и': "u", 'к': "k", 'м': "m",
	'н': "h", 'о': "o", 'п': "n", 'р': "p", 'с': "c", 'т': "t", 'у': "y", 'х': "x",
	'ш': "w", 'щ': "w", 'ъ': "b", 'ь': "b", 'э': "e", 'і': "i", 'ј': "j", 'ѕ': "s",
	'ԁ': "d", 'ԛ': "q", 'ԝ': "w", 'һ': "h", 'ӏ': "l", 'ө': "o", 'ү': "y",
	// Greek
	'α': "a", 'β': "b", 'γ': "y", 'δ': "d", 'ε': "e", 'ζ': "z", 'η': "n", 'θ': "o",
	'ι': "i", 'κ': "k", 'μ': "u", 'ν': "v", 'ο': "o", 'π': "n", 'ρ': "p", 'σ': "o",
	'ς': "s", 'τ': "t", 'υ': "u", 'χ': "x", 'ω': "w",
	// Latin letters that look like another Latin letter
	'ı': "i", 'ł': "l", 'ø': "o", 'đ': "d", 'ð': "d", 'ɡ': "g", 'ɑ': "a", 'ß': "ss",
	'æ': "ae", 'œ': "oe", 'ſ': "s", 'ȷ': "j",
}
