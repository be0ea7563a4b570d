package corpus

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"scanlab/textscan"
)

// HeldOutConfig configures [HeldOutTexts]. Defaults come from
// [DefaultHeldOutConfig].
type HeldOutConfig struct {
	// Seed makes the set reproducible. Default 1001, apart from the
	// default seed of [TextConfig] (1); the draws also use PCG streams of
	// their own, so no seed makes the two generators share a sequence.
	Seed uint64
	// PerCategory is the number of harmful texts of each harm category.
	// Default 250.
	PerCategory int
	// Benign is the number of benign texts. Default 1000.
	Benign int
	// ConfuserShare is the share of benign texts drawn from the confusers,
	// in [0, 1]: exactly round(ConfuserShare × Benign). Default 0.5.
	ConfuserShare float64
	// ObfuscationShare is the share of harmful texts put through one of
	// [Obfuscations], in [0, 1]: exactly round(ObfuscationShare × harmful
	// texts). Default 0, so that the set measures phrasing alone.
	ObfuscationShare float64
}

// DefaultHeldOutConfig returns the held-out set of the default study: 250
// harmful texts of each category and 1000 benign ones, half of them
// confusers, none obfuscated.
func DefaultHeldOutConfig() HeldOutConfig {
	return HeldOutConfig{Seed: 1001, PerCategory: 250, Benign: 1000, ConfuserShare: 0.5}
}

func (cfg *HeldOutConfig) check() error {
	var errs []error
	if cfg.PerCategory < 0 {
		errs = append(errs, fmt.Errorf("per category %d: must not be negative", cfg.PerCategory))
	}
	if cfg.Benign < 0 {
		errs = append(errs, fmt.Errorf("benign %d: must not be negative", cfg.Benign))
	}
	errs = append(errs, checkShares(map[string]float64{
		"confuser share": cfg.ConfuserShare, "obfuscation share": cfg.ObfuscationShare,
	})...)
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// PCG streams of the held-out set, apart from the text workload's.
const (
	heldOutStreamDraw      = 1<<40 + 1
	heldOutStreamObfuscate = 1<<40 + 2
)

// HeldOutTexts returns the held-out text set: single messages filled from
// templates written apart from the text workload and from package textscan's
// rules (see the comment on the templates in this file). Each message's
// Label says whether it is harmful, its category, whether it is a confuser,
// and its template as "heldout/<category, benign or confuser>/<index>", the
// unit to resample when estimating intervals: texts from one template are
// not independent. Messages have IDs "h000001", … and no conversation or
// accounts. Every text is synthetic ([SyntheticTexts]).
func HeldOutTexts(cfg HeldOutConfig) ([]TextMessage, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("corpus: bad held-out config: %w", err)
	}
	r := rand.New(rand.NewPCG(cfg.Seed, heldOutStreamDraw))
	var out []TextMessage
	add := func(set string, templates []string, l TextLabel) {
		k := r.IntN(len(templates))
		l.Template = fmt.Sprintf("heldout/%s/%d", set, k)
		l.Stage = "held-out"
		out = append(out, TextMessage{Text: heldOutFill(r, templates[k]), Label: l})
	}
	for _, cat := range TextCategories {
		for range cfg.PerCategory {
			add(cat, heldOutHarmful[cat], TextLabel{Harmful: true, Category: cat})
		}
	}
	nHarmful := len(out)
	nConf := int(math.Round(cfg.ConfuserShare * float64(cfg.Benign)))
	for i := range cfg.Benign {
		if i < nConf {
			add("confuser", heldOutConfusers, TextLabel{Confuser: true})
		} else {
			add("benign", heldOutBenign, TextLabel{})
		}
	}
	or := rand.New(rand.NewPCG(cfg.Seed, heldOutStreamObfuscate))
	nObf := int(math.Round(cfg.ObfuscationShare * float64(nHarmful)))
	for _, k := range or.Perm(nHarmful)[:nObf] {
		m := &out[k]
		m.Text, m.Label.Obfuscation = textObfuscate(or, m.Text, Obfuscations)
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	for i := range out {
		out[i].ID = fmt.Sprintf("h%06d", i+1)
	}
	return out, nil
}

// heldOutFill replaces every "{a|b|…}" group of t by one of its
// alternatives. The held-out set shares the parser with the workload's
// templates, not their words.
func heldOutFill(r *rand.Rand, t string) string {
	return expandBraces(r, t, func(group string) []string { return strings.Split(group, "|") })
}

// TextExamples converts messages to the labelled examples package textscan
// trains and evaluates on: the text, whether it is harmful, its category.
func TextExamples(msgs []TextMessage) []textscan.Example {
	out := make([]textscan.Example, len(msgs))
	for i, m := range msgs {
		out[i] = textscan.Example{Text: m.Text, Harmful: m.Label.Harmful, Category: m.Label.Category}
	}
	return out
}

// EvaluateHeldOut runs c over the held-out set of cfg and returns its
// confusion counts, overall and per category (TP, FP, FN, TN; the positives
// of a category are TP + FN, the set's size is Examples), with the rates
// [textscan.Evaluate] derives from them. Intervals are the caller's: resample
// templates (see [HeldOutTexts]), not texts.
func EvaluateHeldOut(c textscan.Classifier, cfg HeldOutConfig) (textscan.Metrics, error) {
	msgs, err := HeldOutTexts(cfg)
	if err != nil {
		return textscan.Metrics{}, err
	}
	return textscan.Evaluate(c, TextExamples(msgs)), nil
}

// The held-out text templates below were written for evaluation only, after
// the text workload and the rules of package textscan existed and without
// reading either: not textscan's rules and keyword lists, not the templates
// of [GenerateTexts]. They cover the same harm categories with phrasings of
// their own (texting spellings, other verbs, other demands), and benign
// messages of their own including confusers. A classifier written or trained
// with the workload's templates in view has never seen these; its figures on
// them estimate how it does on phrasings its author did not anticipate, still
// far more regular than real messages.
//
// Syntax: "{a|b|c}" is replaced by one of its alternatives, chosen uniformly;
// an empty alternative ("{x|}") drops the group. Groups do not nest.
//
// Only messages harmful on their own are labelled harmful: flattery and
// small talk that may precede grooming are left out rather than labelled.

// heldOutHarmful are the harmful templates by category.
var heldOutHarmful = map[string][]string{
	Grooming: {
		"{this stays|keep this} between {us|you and me} ok? {your parents|your mum|your dad|adults} {wouldn't get it|would overreact|just don't understand us}",
		"{delete|clear|wipe} {our chat|these messages|this convo} {before bed|when we're done|so nobody sees}, {promise|deal}?",
		"{let's|we should} {move|switch} to {snap|telegram|another app} {where it's more private|so nobody can read it|it's safer there}",
		"{i can|let me} {buy you|get you|send you} {that game|a gift card|the skin you wanted|some robux} {if you|as long as you} {keep it our secret|don't tell anyone}",
		"{are you|r u} {home alone|by yourself|alone in your room} {right now|tonight}? {good|perfect}",
		"{send|show} me {a pic|a photo|a selfie} {of you|} {in your pjs|before bed|in the mirror|without your hoodie}",
		"{have you ever|did you ever} {kissed anyone|had a boyfriend|had a girlfriend}? {you can tell me|i won't judge}, {i'm|im} not like {your parents|other grown ups}",
		"{we should|i want to} {meet up|hang out} {this weekend|after school|saturday}, {don't tell|no need to tell} {your parents|anyone}",
		"{i'll|i can} {pick you up|come get you} {near the park|by your school|at the corner}, {just|} {say you're at a friend's|tell them you're at practice}",
		"{it's|its} {totally|completely} normal {for people who love each other|between close friends|at your age} to {share pics|talk about this stuff}",
		"{what are you wearing|what r u wearing} {rn|right now|tonight}? {show me|pic?}",
		"{you're|ur} {so|really} {pretty|cute|hot} {for your age|for a 13 year old|for someone in year 8}",
		"{i'm|im} {only|just} a few years older {than you|}, {age is just a number|it doesn't matter}, {nobody has to know|it's our thing}",
		"{if|when} {your mom|your parents} {ask|check your phone}, {tell them|say} {i'm|im} {a friend from school|someone from your team|your cousin}",
		"{turn on|switch on} your {camera|cam} {for me|so i can see you}, {just for a sec|only me}, {close your door first|make sure nobody walks in}",
		"{i bet|i'm sure} you {look|would look} {amazing|so good} in {a bikini|your swimsuit|your underwear}, {prove it|show me}",
		"{you're|ur} {old enough|mature enough|grown up enough} to {decide for yourself|keep a secret|do what you want with me}",
		"{don't|dont} {tell|mention this to} {anyone|your friends|your teacher}, they {would|will} {split us up|stop us talking|get jealous}",
		"{i'll|i will} {send|transfer} you {£50|$40|some money} {for|if you send} {a cute pic|one more photo|a video of you}",
		"{come|sneak} {over|out} {tonight|after your parents sleep}, {i'll|i will} {wait in the car|be outside}",
	},
	SelfHarm: {
		"{just|go} {kill yourself|end it|end yourself}, {nobody|no one} {would care|would miss you}",
		"{the world|everyone} would be {better off|happier} without you {in it|around}",
		"{you should|u should} {hurt|cut} yourself {again|tonight}, {you deserve it|it's all you're good for}",
		"{do us all a favour|do everyone a favor} and {stop breathing|don't wake up|disappear forever}",
		"{nobody|no one} {wants|needs} you {here|alive|around}, {take the hint|get it}",
		"{you're|ur} a {burden|waste of space} {to everyone|on your family}, {just|} {end it already|go away for good}",
		"{stop eating|don't eat} {until|till} you {disappear|are nothing}, {that's|thats} the only way {you'll|ull} be {worth anything|pretty}",
		"{if i were you|if i was you} {i'd|i would} {have ended it|have given up on living} {long ago|ages ago}",
		"{your family|your parents} {would be relieved|wouldn't even cry} {if you were gone|if you died}",
		"{honestly|seriously} {just|} {go hang yourself|go drink bleach|jump off a bridge} {already|and spare us}",
		"{one less|one fewer} {loser|freak} {in the world|at school} {if you|when you} {off yourself|end it}",
		"{stop|quit} being {dramatic|a coward} and {finish the job|actually do it} this time",
		"{why are you|why r u} still {alive|breathing|here}? {seriously|honestly} {give up|end it}",
		"{nobody|no one} {would come|would show up} to your funeral {anyway|lol}, {so|} {do it|go ahead}",
		"{swallow|take} {the whole bottle|all of them} {and|then} {sleep forever|you won't have to deal with anything}",
	},
	Threat: {
		"{i know|i found out} where you live, {i'll|i will} {be waiting|come for you|show up} {tonight|after school|when you least expect it}",
		"{you're|ur} {dead|gonna die|finished} {tomorrow|after class|when i see you}",
		"{i'm going to|im gonna|i will} {break your legs|smash your face in|beat you senseless}",
		"{watch your back|better watch out}, {i've got|i have} {friends|people} {who|that} will find you",
		"{i'll|ill} {burn|torch} {your house|your car} {with you in it|while you sleep}",
		"{say|tell} {that|it} again and {i'll|ill} {stab|shoot} you",
		"{i've|i have} {your address|your school|your mum's number}, {think about that|sleep well|see you soon}",
		"{i'll|ill} {post|leak} your {address|phone number|home address} {everywhere|online} and {let them come|see what happens}",
		"{you|u} {and|&} your {family|little sister} {are|r} {going to|gonna} {regret|pay for} this, {i promise|mark my words}",
		"{keep|stay} {talking|mouthing off} and {you'll|u'll} {end up in hospital|need a doctor|lose some teeth}",
		"{i'm|im} {outside|parked outside} your {house|school} {right now|rn}, {come out|look out the window}",
		"{next time|tomorrow} {i see you|you walk home} {i'm bringing|i'll bring} a {knife|bat|few friends}",
		"{nobody|no one} {will|is gonna} {recognise|recognize} your face {when i'm done|after this}",
		"{snitch|report me} {again|one more time} and {you won't|u wont} {make it home|see the weekend}",
		"{i swear|swear down} {i will|ima} {hurt|end} {you|your dog|your brother} {if you|if u} {don't|dont} {pay me back|give it back}",
	},
	Sextortion: {
		"{i have|i've got} your {pics|photos|video}, {pay|send} {$500|200 pounds|£300|bitcoin} {or|or else} {everyone|your friends|your family} {sees them|gets a copy}",
		"{send|give me} {more|another} {pic|video} or {i'll|ill} {post|share|leak} {the ones i have|what you sent}",
		"{you have|u have} {24 hours|until midnight|one hour} {to pay|to send the money} {before|or} {i send it|it goes} to {your followers|every contact you have|your school}",
		"{i recorded|i screenshotted|i saved} {our call|everything|the video}, {do what i say|you belong to me now} or {it goes public|your parents see it}",
		"{don't|do not} {block me|ignore me} {or|unless you want} {the pictures|the video} {going|to go} {everywhere|viral}",
		"{i already|i've already} {made|got} a list of {your friends|your followers|your relatives}, {one click|one message} and they {all|} {see you|get the pics}",
		"{pay up|transfer the money} {and|then} {i'll|i will} {delete|remove} {everything|the photos}, {promise|no tricks}",
		"{if you tell|if u tell} {anyone|the police|your parents}, {the video|your nudes} {goes|go} {straight|} {online|to everyone}",
		"{it's|its} {your choice|up to you}: {more pics|gift cards|money} or {your whole school|your family} {finds out|sees}",
		"{i'll|ill} {tag|send} {your mum|your boss|your coach} in {the post|the photos} {unless|if you don't} {pay|send more}",
		"{remember|think about} {how|what} {your|ur} {dad|grandma|church} {would|will} {think|say} when {they|he|she} {sees|gets} {your nudes|those pics}",
		"{buy|get} {me|} {steam cards|amazon gift cards|google play cards} {worth|for} {$100|£150} {or|else} {i post|i share} {your video|the pics}",
		"{naked|nude} {pic|video} {now|tonight} or {i send|i forward} {the screenshots|our chat} to {your class|your team|everyone}",
	},
}

// heldOutBenign are ordinary messages of family, school, sport, gaming and
// work, and heldOutConfusers benign messages that share words with harmful
// ones.
var (
	heldOutBenign = []string{
		"{can you|could u} {pick up|grab} {milk|bread|eggs} on the way home?",
		"{practice|training} {is moved|got moved} to {4pm|5|saturday morning}, {bring|don't forget} your {boots|water bottle|shin pads}",
		"{did you|did u} {finish|do} the {maths|history|science} {homework|worksheet|project}?",
		"{gg|good game}, {that last round|that match} was {insane|close|so fun}",
		"{meeting|call} {moved|pushed} to {3|tomorrow|after lunch}, {sorry|apologies} for the {late notice|short notice}",
		"{happy birthday|hbd}!! {hope you have|have} a {great|lovely} day",
		"{love you|love u}, {see you|see u} {at dinner|tonight|soon}",
		"{can you|could you} {send|share} {the slides|the notes|the report} {before|by} {friday|tomorrow}?",
		"{what time|when} {does the bus|does the game|does the film} {leave|start}?",
		"{the|our} {dog|cat} {ate|knocked over} {my sandwich|the plant|grandma's cake} {lol|haha}",
		"{who's|whos} {on|in} {the squad|our team} {tonight|for the tournament}? {need|we need} {one more|a fifth}",
		"{remember|don't forget} {grandma's|nana's} {visit|lunch} on {sunday|saturday}, {wear something nice|be on time}",
		"{the|our} {invoice|budget|timesheet} {needs|still needs} {your|a} signature {by|before} {noon|end of day}",
		"{coach|miss} said {we|the team} {did|played} {really|so} well {today|on saturday}",
		"{ready|are you ready} for the {test|quiz|presentation} {tomorrow|on monday}? {i'm|im} {nervous|so unprepared}",
		"{dinner|tea} {is|will be} ready in {ten|20} {minutes|mins}, {wash your hands|come down}",
	}
	heldOutConfusers = []string{
		"this {workout|essay|commute} is {killing me|going to kill me}",
		"{don't tell|dont tell} {mum|dad|your sister} about the {surprise party|present|cake}, {it's|its} a secret",
		"{i'm|im} {dead|dying} {lol|haha}, {that video|that meme} {is too funny|got me}",
		"{send me|can u send} {the pics|the photos} from {the party|the trip|the wedding} {when you can|pls}",
		"{delete|clear} {that|the} {group chat|old thread}, {it's|its} {full of spam|too long}, {we'll|we will} {start|make} a new one",
		"{share|send} your {location|live location} {when you get there|on the way} so {i know you're safe|i can pick you up}",
		"{are you|r u} home {alone|by yourself}? {i need to|gonna} {drop off|leave} {the keys|a parcel}",
		"{i'll|ill} {kill|destroy|wreck} you {at|in} {fortnite|fifa|chess} {tonight|later}",
		"{pay me back|send me} the {£20|$15|tenner} {or else|or i'll cry} {lol|haha}",
		"{that|the} {exam|test} {destroyed|killed} me, {i want to|i wanna} {disappear|move to the mountains} {lol|haha}",
		"{your|the} {photos|pictures} from {the recital|the match|graduation} {are|look} {amazing|so good}, {you look|you've grown} {so grown up|so tall}",
		"{keep|let's keep} {this|it} {between us|quiet} {until|till} {the announcement|friday|the offer is signed}",
		"{you're|ur} {dead|in trouble} {when|if} {mum|mom} {sees|finds} {the mess|your room|the broken vase} {haha|lol}",
		"{shoot|fire} me {an email|a message} {when|once} {you're|ur} {free|done}",
		"{we should|let's} {meet up|grab coffee} {this weekend|saturday}, {bring|tell} {the kids|your sister|everyone}",
		"{my|the} {battery|phone} {is dying|just died}, {text|call} {dad|me} {if|when} {you're|ur} {ready|outside}",
		"{that|this} {level|boss fight} {is|was} {brutal|murder}, {i|we} {died|got wrecked} {like|} ten times",
		"{the|this} {coach|teacher} {said|told us} {we|the team} {have to|must} {keep|stay} {quiet|silent} {about|on} the {lineup|surprise} {until|till} {saturday|the match}",
	}
)
