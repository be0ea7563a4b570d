package textscan

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// RuleSet is a keyword and regular-expression classifier. Every rule is matched
// against the [Normalize]d text, so obfuscations such as "k i l l", "k1ll",
// "кіll" or "ｋｉｌｌ" need no rules of their own. A rule fires when all of its
// patterns match and none of its exceptions does; the exceptions carry the
// everyday uses of the same words ("don't tell mom about the surprise party",
// "I'll kill you in the next round"). The first rule to fire, in the order
// sextortion, self-harm, threat, grooming, decides the verdict.
//
// A RuleSet is immutable and safe for concurrent use.
type RuleSet struct {
	rules []rule
	// ones are the same rules for text normalised with the digit 1 kept,
	// where every i and l of a pattern also matches runs of 1s ("k111").
	ones []rule
}

// rule is one compiled rule.
type rule struct {
	name     string // "category/what", reported in Verdict.Rule
	category string
	all      [][]alt          // in every group, some alternative must match
	unless   []*regexp.Regexp // none may match
}

// alt is one top-level alternative of a rule pattern. Patterns are split at
// their top-level "|" so that each alternative gets its own prefilter and a
// regular expression small enough for the faster matchers of package regexp.
type alt struct {
	re  *regexp.Regexp
	pre prefilter // a necessary condition for re to match
}

// Rules returns the default rule set. It is compiled once and shared.
func Rules() *RuleSet { return defaultRules() }

var defaultRules = sync.OnceValue(func() *RuleSet {
	return &RuleSet{rules: compileRules(ruleDefs, false), ones: compileRules(ruleDefs, true)}
})

// compileRules compiles rule definitions; see [compilePattern] for one.
func compileRules(defs []ruleDef, one bool) []rule {
	var rules []rule
	for _, d := range defs {
		r := rule{name: d.category + "/" + d.name, category: d.category}
		for _, p := range d.all {
			var g []alt
			for _, a := range splitTop(p) {
				re := compilePattern(a, one)
				g = append(g, alt{re, newPrefilter(re)})
			}
			r.all = append(r.all, g)
		}
		for _, p := range d.unless {
			r.unless = append(r.unless, compilePattern(p, one))
		}
		rules = append(rules, r)
	}
	return rules
}

// Name returns "rules".
func (rs *RuleSet) Name() string { return "rules" }

// Classify normalises text and returns the verdict of the first rule that
// fires, or a harmless verdict with score 0. A harmful verdict has score 1.
// Because the digit 1 stands for both i and l ("k111" is "kill"), a text
// with a 1 that no rule matches as [Normalize] reads it is matched again with
// each 1 allowed to be either letter.
func (rs *RuleSet) Classify(text string) Verdict {
	n := Normalize(text)
	if v, ok := match(rs.rules, n); ok {
		return v
	}
	// "1" stands for "i" in "k1d" and for "l" in "se1f", or both in "k111";
	// try again with the 1s kept and matched as either.
	if strings.ContainsRune(text, '1') || !isASCII(text) {
		if n1 := normalize(text, '1'); strings.ContainsRune(n1, '1') {
			if v, ok := match(rs.ones, n1); ok {
				return v
			}
		}
	}
	return Verdict{}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// match runs rules over normalised text.
func match(rules []rule, n string) (Verdict, bool) {
	idx := newPairIndex(n)
	for i := range rules {
		r := &rules[i]
		if r.fires(n, idx) {
			return Verdict{Harmful: true, Category: r.category, Rule: r.name, Score: 1}, true
		}
	}
	return Verdict{}, false
}

func (r *rule) fires(n string, idx *pairIndex) bool {
	// Cheap checks first: every group needs an alternative whose
	// prefilter admits the text.
	for _, g := range r.all {
		if !slices.ContainsFunc(g, func(a alt) bool { return a.pre.admits(n, idx) }) {
			return false
		}
	}
	for _, g := range r.all {
		if !slices.ContainsFunc(g, func(a alt) bool { return a.pre.admits(n, idx) && a.re.MatchString(n) }) {
			return false
		}
	}
	for _, re := range r.unless {
		if re.MatchString(n) {
			return false
		}
	}
	return true
}

// compilePattern turns a rule pattern into a regular expression over
// normalised text. Patterns are written in plain spelling: {macros} expand to
// the usual variants ("{you}" is you, u, ya), repeated letters are collapsed
// as [Normalize] collapses them ("kill" matches "kil"), and a space matches
// any run of spaces, including none, because spacing tricks can join words.
// With one set, every i and l also matches a run of the digit 1, for text
// normalised with its 1s kept.
func compilePattern(p string, one bool) *regexp.Regexp {
	for range 3 { // macros may use macros
		p = macroRE.ReplaceAllStringFunc(p, func(m string) string {
			x, ok := macros[m[1:len(m)-1]]
			if !ok {
				panic("textscan: unknown macro " + m)
			}
			return "(?:" + x + ")"
		})
	}
	var b strings.Builder
	var prev byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
			prev = 0
			continue
		case c == ' ':
			b.WriteString(`\s*`)
			prev = 0
			continue
		case c >= 'a' && c <= 'z' && c == prev:
			continue
		case one && (c == 'i' || c == 'l'):
			b.WriteString("[" + string(c) + "1]+")
			prev = c
			continue
		}
		b.WriteByte(c)
		prev = c
	}
	return regexp.MustCompile(b.String())
}

// splitTop splits a pattern at the "|" that are outside any group or
// character class.
func splitTop(p string) []string {
	var parts []string
	depth, class, start := 0, false, 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case class:
			class = c != ']'
		case c == '[':
			class = true
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			parts = append(parts, p[start:i])
			start = i + 1
		}
	}
	return append(parts, p[start:])
}

var macroRE = regexp.MustCompile(`\{[a-z]+\}`)

// macros are the vocabulary shared by the rules.
var macros = map[string]string{
	"you":      `you|u|ya|yu`,
	"your":     `your|ur|yor|yur|yo`,
	"self":     `(?:your|ur|yor|yur|yo) (?:self|selves)`,
	"youre":    `you are|you re|youre|u are|u r|ur|your|yr|ya are|you is`,
	"ill":      `i ll|i will|i shall|im going to|im gona|im gon|i am going to|i am gona|ima|ima|gona|going to|i m going to|i m gona|i wil`,
	"dont":     `dont|do not|dnt|don t|dont u|dont you|dont ever|never|cant|can not|cannot|mustnt|must not|wont|better not`,
	"parents":  `parents|parent|mom|mum|mommy|mother|dad|daddy|father|stepdad|stepmom|stepmum|family|folks|grandma|grandpa|nan|aunt|uncle|teacher|teachers|sister|brother|friends|anyone|anybody|any one|no one|nobody`,
	"pic":      `pics?|pictures?|photos?|selfies?|vids?|videos?|imgs?|images?|snaps?`,
	"intimate": `nudes?|naked|butt|dick|nakey|explicit|intimate|sexy|topless|nsfw|sex ?tape|sex video|private (?:{pic})`,
	"leak":     `post|share|send|leak|show|upload|forward|spread|expose|publish|put`,
	"audience": `friends|family|parents|mom|mum|dad|mother|father|stepdad|stepmom|folks|brother|sister|grandma|grandparents|school|clas|classmates|followers|everyone|everybody|every1|every one|contacts|internet|online|teachers|whole school|boyfriend|girlfriend|instagram|insta|tiktok|facebook|twitter|snap|group chat|team|coach|church|work|boss`,
	"coerce":   `or|unless|otherwise|else|if {you} (?:dont|do not|wont|refuse|stop|block)|{you} (?:have|got) (?:\d+|one|two|three|an|a few) (?:hours?|hrs?|minutes?|mins?|days?)|pay|money|send (?:me )?more`,
	"game":     `games?|round|match|fortnite|minecraft|roblox|chess|kart|fifa|cod|valorant|league|ranked|lobby|level|1v1|ivi|pvp|arena|rematch|tournament|ping pong|tenis|monopoly|uno|scrable|smash|darts|pool|cards|checkers|halo|overwatch|apex|madden|nba ?2k|tetris|boss fight|raid|noob|lava|respawn|spawn|gg`,
	"benign":   `surprise|party|birthday|bday|anniversary|christmas|xmas|present for|gift for|engagement|proposal|pregnant|baby shower|ice ?cream|cake|pizza|candy|sweets|desert|dessert|treat|spoiler|ending|finale`,
	"body":     `face|legs|arms|neck|nose|teeth|jaw|head|bones|fingers|knees|back|skul|ribs|hands`,
	"want":     `lets|let us|we should|we can|can we|wana|want to|wanna|move|switch|go|talk|chat|continue|take (?:this|it)`,
}

// ruleDef is a rule as written in the source.
type ruleDef struct {
	category string
	name     string
	all      []string
	unless   []string
}

// ruleDefs are the default rules, in the order they are tried.
var ruleDefs = []ruleDef{
	// Sextortion: a threat to spread intimate images, usually with a demand.
	{Sextortion, "leak-intimate", []string{
		`\b(?:{leak})\b.{0,40}\b(?:to|with|on|in|for) (?:al |the |my |)?(?:{your} )?(?:{audience})\b|\b(?:{audience}) (?:wil|are going to|are gona|is going to|is gona|gona) see`,
		`\b(?:{intimate})\b`,
	}, nil},
	{Sextortion, "leak-coerced", []string{
		`\b(?:{leak})\b.{0,40}\b(?:to|with|on|in|for) (?:al |the |my |)?(?:{your} )?(?:{audience})\b|\b(?:{audience}) (?:wil|are going to|are gona|is going to|is gona|gona) see`,
		`\b(?:{your}|these|those|the) (?:{pic}|body)\b`,
		`\b(?:{coerce})\b`,
	}, []string{`\b(?:{benign})\b`}},
	{Sextortion, "payment-demand", []string{
		`\b(?:pay|send|transfer|give|venmo|cashapp|paypal|wire)\b.{0,25}(?:\d|money|cash|bitcoin|btc|crypto|gift ?cards?|dolars|bucks|usd|euros|pounds|robux)`,
		`\b(?:{intimate})\b|\b(?:{your}|those|these) (?:{pic}|body)\b|\bscreenshots\b|\brecording\b`,
		`\b(?:or|unless|otherwise|else|before|if {you} (?:dont|do not|wont)|{you} have|everyone wil see|{leak})\b`,
	}, nil},
	{Sextortion, "more-or-else", []string{
		`\bsend (?:me )?(?:more|another|one more|a new|new|again)\b.{0,30}\b(?:or|unless|otherwise|else)\b`,
		`\b(?:{leak})\b|\b(?:{audience}) (?:wil|are going to|gona) see`,
	}, []string{`\b(?:{benign})\b`}},

	{Sextortion, "deadline", []string{
		`\b(?:{you})(?: ve| have)? (?:have|got) (?:\d+|one|two|three|an|a few) (?:hours?|hrs?|minutes?|mins?|days?)\b`,
		`\b(?:pay|{leak}|go to|goes to|sees|se|get)\b`,
		`\b(?:{intimate})\b|\b(?:{your}|the|those|these) (?:{pic}|body)\b`,
	}, nil},
	{Sextortion, "kept-material", []string{
		`\bi (?:have|got|saved|screnshoted|screnshot|recorded|kept|took) (?:al |everything|our|the|(?:{your})|those|these)\b|\bgroup (?:chat )?with (?:al )?(?:{your}) (?:{audience})`,
		`\b(?:or|unles|otherwise) (?:i|it|they|everyone|(?:{your}))\b`,
		`\b(?:{leak}|online|everyone|go to|goes|hit send|pay)\b`,
	}, nil},
	{Sextortion, "or-they-get-it", []string{
		`\b(?:\d+|money|cash|gift ?cards?|bitcoin|crypto)\b.{0,30}\bor (?:{your}) (?:{audience}) (?:get|gets|se|ses|wil se|receive|wil get)\b`,
	}, nil},

	// Self-harm encouragement: telling someone to hurt or kill themselves.
	{SelfHarm, "kill-yourself", []string{`\bkil {self}|\bkys\b`},
		[]string{`\b(?:dont|do not|never|not|wont|shouldnt|stop|try not to) (?:try to |trying to |go )?kil {self}|kil {self} (?:over|with|trying|laughing|working|studying)|\bkil {self} for`}},
	{SelfHarm, "go-die", []string{
		`\b(?:{you}) (?:should|shud|shld|beter|need to|deserve to|ought to|might as wel|can go|could go|should go) (?:just |go |literaly |al )?(?:die|drop dead|end it|not exist|stop existing|stop breathing|rot)\b|\bgo (?:and )?(?:die|drop dead|rot in hel)\b|\b(?:pls|plz|please) (?:just )?(?:go )?(?:die|drop dead)\b|\bjust (?:go )?die already\b`,
	}, []string{`\bdie (?:laughing|of|from|happy)\b|\b(?:{game})\b|\bi (?:just |could |would )?die\b`}},
	{SelfHarm, "method", []string{
		`\b(?:go|just|pls|plz|please|should|beter|why dont {you}|why not|you should|u should) (?:go |just )?(?:hang|cut|slit|starve|of|hurt|drown|poison|shoot|stab|burn|knife) (?:{self})|\bslit (?:{your}) wrists?|\b(?:drink|swalow|go drink) (?:some )?bleach|\b(?:go|just|pls|please|should) jump (?:of|off) (?:a|the|some) (?:bridge|building|rof|tower|balcony)|\bcut (?:{self} )?deper\b|\bend (?:{your}) (?:own |miserable |pathetic |sad )?life\b|\bhang {self}`,
	}, []string{`\b(?:slack|slice|piece|break|some|short)\b`}},
	{SelfHarm, "worthless-life", []string{
		`\b(?:nobody|no one|noone|no1) (?:would|wil|is gona|is going to|gona|d) (?:even )?(?:mis (?:{you})|care if (?:{you}) (?:die|died|were dead|were gone|kiled))|\bworld (?:would be|is|wil be|d be) beter (?:of )?without (?:{you})\b|\b(?:{youre}|{you}d|{you} would be|{you} are) beter of dead\b|\bwhy (?:are|r) (?:{you}) (?:even )?(?:stil )?alive\b|\bdo (?:everyone|us al|the world|us|every1|everybody) a favou?r and (?:die|kil|end|disappear|hang|jump|stop breathing)`,
	}, nil},

	{SelfHarm, "end-it", []string{
		`\b(?:just|go|pls|please|seriously) end it\b|\bfavou?r if (?:{you}) (?:disappeared|died|were gone|were dead|kiled {self}|vanished)\b|\bif i were (?:{you})\b.{0,25}\b(?:ended|end|kiled|kil) (?:it|myself)\b`,
	}, []string{`\b(?:meeting|cal|game|match|relationship|argument|discusion|subscription|contract|lease)\b`}},

	// Threats and harassment.
	{Threat, "violence", []string{
		`\b(?:{ill}) (?:kil|murder|stab|knife|shoot|gun|hurt|beat|smash|break|cut|strangle|choke|find and kil|end|bash|punch|slit) (?:(?:{you})\b|(?:{your}) (?:{body}|throat|family|mom|mum|dad|sister|brother|kids|dog|house))`,
	}, []string{`\b(?:{game})\b|\bif (?:{you}) (?:eat|touch|take|spoil|drink|finish|use|borow|wear|forget)|\bwith (?:kindnes|tickles|love|hugs)`}},
	{Threat, "stalking", []string{
		`\b(?:i|1) know where (?:{you}) (?:live|sleep|go to school|work|are)\b|\bsleep with one eye open\b|\b(?:{your}) days are numbered\b|\b(?:{ill}) make (?:{your}) life (?:a )?(?:living )?(?:hel|misery|miserable)|\b(?:{ill}|gona) (?:burn|blow up|shoot up|bomb) (?:{your}) (?:house|home|school|car)\b|\b(?:{ill}) (?:find|come for|get|hunt|track) (?:{you})\b.{0,40}\b(?:kil|hurt|pay|regret|sory|bleed)`,
	}, []string{`\b(?:drop|bring|pick up|come by|pop by|swing by|deliver|visit)\b|\b(?:{game})\b`}},
	{Threat, "intimidation", []string{
		`\bwait (?:til|until|till|til) i (?:find|get|catch|se) (?:{you})\b|\b(?:{you})(?: l| wil) regret (?:this|it)\b|\bi(?: m| am) coming for (?:{you})\b|\bsay that again and\b|\b(?:{ill}) break (?:{your}) (?:{body})\b`,
	}, []string{`\b(?:{game})\b|\bpick (?:{you}) up\b|\bcoming for (?:{you}) at\b|\b(?:{benign})\b`}},
	{Threat, "harassment", []string{
		`\b(?:everyone|everybody|every1|every one) (?:hates|despises) (?:{you})\b|\b(?:nobody|no one|noone|no1) (?:likes|loves|wants|cares about) (?:{you})\b|\b(?:{youre}) (?:a |such a |so )?(?:worthless|pathetic|waste of (?:space|air|oxygen|skin)|subhuman|disgusting pig|ugly pig|fat pig|ugly cow|fat cow)\b|\bwaste of (?:space|oxygen|skin)\b`,
	}, []string{`\b(?:{game})\b`}},

	// Grooming, by the stages the literature describes.
	{Grooming, "secrecy", []string{
		`\b(?:{dont}) (?:ever )?tel (?:{your}) (?:{parents})\b|\b(?:{dont}) (?:ever )?tel (?:anyone|anybody|any one|no one|nobody|ur parents|your parents) (?:about|bout) (?:us|our|what we|me|this chat|these chats|our chats|talking|that we|we talk)|\bour (?:litle |special |smal )?secret\b|\bkeep (?:this|it|us|our (?:chats?|talks|messages|convos?|friendship|relationship)|what we (?:do|say|talk about)) (?:a |our |just )?(?:secret|between us|to yourself)\b|\b(?:{your}) parents (?:wouldnt|wont|would not|wil not|dont|do not|cant|can not|cannot) understand\b|\bthey (?:wouldnt|wont) understand (?:us|what we have|our)`,
	}, []string{`\b(?:{benign})\b`}},
	{Grooming, "secrecy", []string{
		`\b(?:nobody|no one|noone) (?:else )?(?:needs to|has to|should|must) know\b|\bbeter if (?:nobody|no one|noone) (?:else )?knows\b|\b(?:{dont}) (?:mention|talk about|say anything about) (?:me|us|this|our chats?) to (?:anyone|anybody|(?:{your}) (?:{parents}))|\b(?:{your}) (?:{parents}) (?:would|wil|d) (?:just )?get in the way\b`,
	}, []string{`\b(?:{benign})\b`}},
	{Grooming, "meeting", []string{
		`\b(?:meet|met up|hang out|come over|pick (?:{you}) up|sneak out|come and get (?:{you}))\b`,
		`\b(?:alone|without (?:{your}) (?:{parents})|(?:{dont}) tel|secret|(?:nobody|no one) (?:has to|needs to|wil|should) know|sneak)\b`,
	}, []string{`\b(?:{benign})\b`}},
	{Grooming, "camera", []string{
		`\b(?:camera|cam|video|pic)\b.{0,30}\block (?:{your}) (?:bedroom )?dor|\block (?:{your}) (?:bedroom )?dor\b.{0,30}\b(?:camera|cam|video|pic)\b|\b(?:nobody|no one|noone) (?:else )?(?:wil )?(?:ever )?se (?:it|them|this)\b.{0,10}\b(?:but|except) me\b`,
	}, nil},
	{Grooming, "desensitisation", []string{
		`\beveryone (?:at )?(?:{your}) age does (?:this|it)\b|\bnormal (?:for|to)\b.{0,40}\b(?:send|share|show|swap|trade) (?:{pic}|nudes)|\bi showed (?:{you}) mine\b|\b(?:{you})(?: d| would| must)? (?:look|looks) (?:so |realy |super )?(?:hot|sexy)\b|\bjust a body\b|\bhave (?:{you}) (?:ever )?sen (?:a |an )?(?:grown up|adult|man|woman|guy|girl|boy) naked\b`,
	}, nil},
	{Grooming, "wearing", []string{`\bwhat (?:are|r) (?:{you}) wearing\b`},
		[]string{`\bwearing (?:to|for|at|on)\b|\b(?:party|wedding|school|prom|dinner|interview|game|match|tonight|tomorrow|concert|work|ofice)\b`}},
	{Grooming, "delete-chats", []string{
		`\b(?:delete|clear|erase|wipe) (?:al )?(?:our|these|the|this|ur|your|my) (?:chat|chats|messages|msgs|texts|convo|convos|conversation|history|dms)\b`,
		`\b(?:parents|mom|mum|dad|family|anyone|nobody|no one|se|find|know|secret|check)\b`,
	}, nil},
	{Grooming, "isolation", []string{
		`\b(?:are|r) (?:{you}) (?:home )?alone\b|\bis (?:anyone|anybody|any one|any body) (?:else )?(?:home|around|there|with (?:{you})|watching)\b|\b(?:are|r) (?:{your}) (?:parents|mom|mum|dad|folks) (?:home|around|there|awake|asleep|watching|nearby)\b|\bwhen (?:do|are|wil|does) (?:{your}) (?:parents|mom|mum|dad|folks) (?:go out|leave|get home|go to sleep|go away|work)|\bdo (?:{your}) (?:parents|mom|mum|dad|folks) (?:check|read|look at|go through|monitor|se) (?:{your}) (?:phone|messages|texts|chats|dms|snap|insta)`,
	}, []string{`\b(?:{benign})\b|\b(?:library|ofice|clasrom|seat|desk|table|queue|line|meting|lab|gym)\b`}},
	{Grooming, "private-channel", []string{
		`\b(?:{want}|add me|message me|text me|dm me|msg me|hit me up|find me|follow me)\b.{0,20}\b(?:somewhere|on|to|in|over|at) (?:a |an )?(?:more )?(?:private|privately|snap|snapchat|kik|telegram|wickr|signal|vault|secret|diferent|other|another)\b`,
		`\b(?:private|privately|secret|alone|just us|just (?:the )?two of us|(?:{parents}) (?:cant|wont|dont|can not|wil not|do not|never)|disappear|disappearing|vanish|delete|deletes)`,
	}, nil},
	{Grooming, "flattery", []string{
		`\bmature for (?:{your}) age\b|\bage is (?:just|only) a number\b|\b(?:i|only i) (?:understand|get) (?:{you}) (?:beter|more) than (?:anyone|(?:{your}) (?:{parents}))|\b(?:{youre}) not like (?:other|the other) (?:girls|boys|kids)\b|\b(?:no one|nobody|noone) (?:understands|gets|loves|cares about) (?:{you}) like (?:i do|me)\b`,
	}, nil},
	{Grooming, "photo-request", []string{
		`\b(?:send|show|snap|take) (?:me )?.{0,15}\b(?:{pic})\b.{0,25}\b(?:in (?:{your}) (?:underwear|bra|bikini|swimsuit|pyjamas|pajamas|pjs|undies|towel|bed)|without (?:(?:{your}) |any )?(?:clothes|shirt|top|bra|pants)|(?:no|with no) (?:clothes|shirt|top|bra)|naked|nude|topless|just for me|only for me|for my eyes only)|\b(?:send|show|snap) (?:me )?(?:a |some |another |more |an )?(?:sexy|hot|naughty|spicy|private|special|dirty|nsfw|topless|naked|nude) (?:{pic})|\bshow me (?:{your}) (?:body|chest|boobs|tits|butt|bum|underwear|bra|privates)\b|\b(?:send|show|give|need|want)\b.{0,20}\b(?:nudes?|naked)\b`,
	}, nil},
	{Grooming, "gifts", []string{
		`\b(?:{ill}|i can|i could|i d|id|let me|want to|wana) (?:buy|get|send|give|gift) (?:{you})\b.{0,25}\b(?:robux|vbucks|v bucks|gift ?cards?|gift|present|skins?|money|cash|phone|iphone|makeup|clothes|shoes|game|games|nitro|crypto|airpods)`,
		`\b(?:if (?:{you})|as long as|in return|in exchange|only if|for a (?:{pic})|(?:{dont}) tel|secret|send me|just send|but first)\b`,
	}, []string{`\b(?:exam|exams|test|tests|grades|homework|chores|rom|birthday|christmas|xmas|graduation|report card|help me|level|levels|my old)\b`}},
	{Grooming, "sexual-talk", []string{
		`\bhave (?:{you}) (?:ever )?(?:ben kised|kised (?:a|anyone|someone)|had sex|touched (?:{self}|a)|done it|sen a (?:dick|penis))|\b(?:are|r) (?:{you}) (?:stil )?a virgin\b|\bdo (?:{you}) (?:ever )?(?:touch|play with) (?:{self})|\b(?:what|which) (?:colou?r|kind of|type of) (?:underwear|bra|panties|undies|knickers)|\b(?:wana|want to|lets|let me|can i) (?:se|touch|fel) (?:{your}) (?:body|boobs|tits|dick|penis|privates)`,
	}, nil},
}
