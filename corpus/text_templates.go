package corpus

// This file holds the templates of the synthetic text workload. They are
// written for the study and paraphrase patterns described in the safety
// literature (grooming stages after O'Connell's and later analyses of
// offender conversations; sextortion scripts as described in public
// warnings). {slot} is replaced by a value from textSlots.

// textSlots are the values a template slot can take.
var textSlots = map[string][]string{
	"name":     {"Sam", "Alex", "Jo", "Mia", "Leo", "Priya", "Tom", "Zoe", "Omar", "Lina", "Ben", "Ava", "Noah", "Emma", "Kai", "Sara", "Jay", "Nina"},
	"parent":   {"mom", "mum", "dad", "parents", "mother", "father", "stepdad", "folks"},
	"relative": {"grandma", "grandpa", "aunt Lisa", "uncle Joe", "your cousin", "nana", "auntie", "your sister"},
	"day":      {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "tomorrow", "tonight", "this weekend"},
	"time":     {"5pm", "6:30", "7", "noon", "8am", "half past four", "9"},
	"food":     {"milk", "bread", "pizza", "eggs", "pasta", "tacos", "curry", "ice cream", "bananas"},
	"sport":    {"football", "soccer", "basketball", "swimming", "tennis", "hockey", "netball", "volleyball", "running"},
	"game":     {"fortnite", "minecraft", "roblox", "valorant", "fifa", "mario kart", "apex", "chess", "overwatch"},
	"subject":  {"maths", "history", "biology", "chemistry", "english", "geography", "french", "physics"},
	"place":    {"the park", "the mall", "the library", "the station", "the cinema", "the bus stop", "the skate park"},
	"app":      {"snapchat", "snap", "telegram", "kik", "whatsapp", "signal", "discord", "wickr"},
	"gift":     {"a new phone", "airpods", "robux", "v-bucks", "a gift card", "some makeup", "new shoes", "a skin"},
	"amount":   {"$50", "$100", "$200", "$500", "300 dollars", "150 bucks", "$1000"},
	"hours":    {"12", "24", "48", "6"},
	"audience": {"friends", "family", "followers", "classmates", "whole school", "teachers", "contacts", "parents"},
	"clothing": {"pyjamas", "underwear", "bikini", "swimsuit", "bra", "towel"},
	"body":     {"face", "legs", "arms", "teeth"},
	"project":  {"the report", "the slides", "the budget", "the launch", "the proposal", "the audit"},
	"chore":    {"the dishes", "your room", "the laundry", "the bins", "the dog"},
}

// Grooming, stage 1: rapport. Harmless on their own.
var textGroomingRapport = []string{
	"hey {name}! how was school today?",
	"you're really good at {game}, wanna team up sometime?",
	"i saw your post about {sport}, that's so cool",
	"what music are you into?",
	"haha you're funny, you know that?",
	"how old are you btw?",
	"what grade are you in?",
	"i had a rough day too, i get it",
	"you can always talk to me about anything",
	"your {parent} sounds really strict",
	"i like talking to you, you're different",
	"did you finish your {subject} homework?",
	"what do you do after school usually?",
	"that pic of your dog is adorable",
}

// Grooming, stage 2: isolation, secrecy and risk assessment.
var textGroomingIsolation = []string{
	"don't tell your {parent} about us, they wouldn't understand",
	"this is just our little secret ok?",
	"let's move to {app}, it's more private",
	"delete our chats so your {parent} doesn't see them",
	"are you home alone right now?",
	"do your parents check your phone?",
	"i understand you better than your {parent} does",
	"you're so mature for your age",
	"you're not like other kids your age",
	"add me on {app}, messages disappear there so nobody will know",
	"when does your {parent} get home?",
	"keep our chats secret, promise?",
	"nobody gets you like i do",
	"i'll buy you {gift} but you can't tell anyone",
	"your parents would just get in the way of us",
	"it's better if nobody else knows we talk",
	"promise me you won't mention me to anyone",
	"is anyone else home with you?",
	"age is just a number anyway",
	"we should talk somewhere more private",
}

// Grooming, stage 3: desensitisation.
var textGroomingDesensitisation = []string{
	"have you ever kissed anyone?",
	"are you still a virgin?",
	"it's normal for people who like each other to send pics",
	"everyone your age does this stuff",
	"what are you wearing right now?",
	"do you ever touch yourself?",
	"what colour underwear do you have on",
	"i bet you look really hot",
	"i showed you mine, it's only fair",
	"it's just a body, nothing to be shy about",
	"have you ever seen a grown up naked?",
	"you'd look so sexy in a {clothing}",
}

// Grooming, stage 4: requests for images, contact or meetings.
var textGroomingRequest = []string{
	"send me a pic in your {clothing}",
	"send me a sexy selfie, just for me",
	"can you send a photo without your shirt",
	"let's meet up, i'll pick you up after school, don't tell anyone",
	"i'll give you {gift} if you send a pic",
	"show me your body on video call",
	"come meet me at {place} alone",
	"send me a naked pic, i'll delete it right after",
	"take a photo in the mirror with no clothes on",
	"i want to see you for real, can you sneak out {day}?",
	"turn your camera on and lock your door",
	"just one pic, nobody will ever see it but me",
}

// Sextortion: the lure, harmless on its own.
var textSextortionLure = []string{
	"hey cutie, you seem fun",
	"you're really pretty, wanna chat?",
	"wanna video chat later?",
	"i'm new in town, how old are you?",
	"you looked great in that {sport} photo",
}

// Sextortion: threats and demands.
var textSextortionThreats = []string{
	"i have your nudes. pay me {amount} or i send them to all your {audience}",
	"you have {hours} hours to pay or everyone at your school sees your pics",
	"send more pics or i'll post the ones i have",
	"i'll send your nudes to your {parent} unless you pay",
	"if you block me i'll share your naked pics with your {audience}",
	"{amount} in gift cards or your {audience} get the video",
	"i screenshotted everything. do what i say or it goes online",
	"pay {amount} now or your {audience} will see your photos",
	"i recorded our video call. send {amount} or i post it",
	"think about how your {parent} will feel when they see these",
	"i already made a group chat with your {audience}, pay or i hit send",
	"you've got {hours} hours. {amount} or the pics go to everyone",
}

// Openers of abusive conversations: harmless on their own.
var textAbuseOpeners = []string{
	"hey {name}",
	"saw what you posted today",
	"everyone's talking about you",
	"you think you're so smart",
}

// Encouragement of self-harm.
var textSelfHarmAbuse = []string{
	"just kill yourself already",
	"nobody would miss you if you were gone",
	"you should just die",
	"do everyone a favour and end it",
	"go hang yourself",
	"the world would be better without you",
	"why are you still alive",
	"kys {name}",
	"go jump off a bridge",
	"you're better off dead",
	"seriously just end it, no one cares",
	"you'd be doing us all a favour if you disappeared for good",
	"do it, cut deeper this time",
	"if i were you i'd have ended it years ago",
	"go drink bleach",
}

// Threats and harassment.
var textThreatAbuse = []string{
	"i'm going to kill you",
	"i know where you live {name}",
	"wait till i find you after school, you'll be sorry",
	"i'll make your life a living hell",
	"everyone hates you, you're a waste of space",
	"i'll beat you up {day}",
	"you'll regret this, i swear",
	"i'm going to burn your house down",
	"say that again and i'll break your {body}",
	"sleep with one eye open",
	"nobody likes you, just leave school",
	"i will hurt your family",
	"you're worthless and everyone knows it",
	"i'm coming for you and your little brother",
}

// The target's replies in harmful conversations.
var textReplies = map[string][]string{
	Grooming: {
		"haha ok", "idk", "maybe", "lol", "my {parent} is kinda strict", "i'm 13", "school was boring",
		"ok i won't", "why?", "i don't know about that", "that's kinda weird", "sure", "what do you mean",
		"i have to go soon", "ok",
	},
	Sextortion: {
		"please don't", "i don't have that much money", "who is this", "please i'm begging you",
		"i'll block you", "ok ok give me time", "why are you doing this",
	},
	SelfHarm: {
		"stop", "leave me alone", "why are you saying this", "i'm telling a teacher", "please stop",
		"what did i do to you",
	},
	Threat: {
		"leave me alone", "i'm screenshotting this", "stop messaging me", "what is your problem",
		"i'll tell my {parent}", "whatever",
	},
}

// Benign conversations by topic.
var textBenign = map[string][]string{
	Family: {
		"can you pick up {food} on the way home?",
		"{relative} is coming over for dinner on {day}",
		"don't forget to do {chore}",
		"what time will you be home?",
		"love you, see you at {time}",
		"did you call {relative} back?",
		"dinner's ready in ten minutes",
		"i left the keys under the mat",
		"can you feed the cat tonight?",
		"we're out of {food} again",
		"how was your day sweetie?",
		"remember your dentist appointment {day}",
		"your brother needs a lift to {place}",
		"happy birthday! have a great day",
	},
	School: {
		"did you finish the {subject} homework?",
		"what page was the reading on?",
		"the {subject} test is on {day}",
		"can i copy your notes from today?",
		"our project is due {day}, are you free to meet?",
		"mr {name} was in a mood today",
		"i think i failed the quiz",
		"meet at {place} after school?",
		"what did you get for question 4?",
		"the bus was late again",
		"lunch at the usual table?",
		"i forgot my calculator, can i borrow yours",
	},
	Sport: {
		"practice moved to {time} on {day}",
		"great game today!",
		"coach wants everyone at {place} early",
		"bring your boots and water",
		"we won 3-1!!",
		"my knee still hurts from training",
		"who's driving to the away game?",
		"did you see the {sport} match last night?",
		"new personal best on the 5k today",
		"the tournament starts {day}",
		"stretch properly before you run",
	},
	Gaming: {
		"you on {game} tonight?",
		"that last round was insane",
		"get on discord, we're starting the raid",
		"i finally got the rare skin",
		"lag is terrible today",
		"gg, rematch?",
		"we need one more for the squad",
		"update is downloading, give me 5",
		"did you beat the boss yet?",
		"stop camping lol",
		"want to try ranked on {day}?",
		"the new season of {game} is out",
	},
	Work: {
		"can you review {project} before {time}?",
		"meeting moved to {day}",
		"i'll send the slides after lunch",
		"thanks for covering for me today",
		"the client liked {project}",
		"running 10 minutes late, start without me",
		"can we push {project} to {day}?",
		"who's on call this weekend?",
		"the printer is broken again",
		"great job on {project}",
		"lunch at {time}?",
	},
}

// Confusers: benign messages that share words with harmful ones.
var textConfusers = map[string][]string{
	Family: {
		"don't tell mom about the surprise party",
		"don't tell your dad about the birthday present, it's a surprise",
		"keep it a secret until the party!",
		"my mom will kill me if i'm late again",
		"send me the photos from the trip",
		"i'll share the photos with the family group",
		"i'll buy you a new phone if you pass your exams",
		"are your parents coming to the barbecue?",
		"grandma wants pics of the baby, send her some",
		"this heat is killing me",
		"don't tell your sister, but we got her a puppy for christmas",
		"you're going to die laughing at this video",
	},
	School: {
		"this exam is going to kill me",
		"don't kill yourself over the exam, it's fine",
		"the teacher said we have 2 hours to finish the test",
		"send me a pic of the homework page",
		"are you alone in the library? save me a seat",
		"i could kill for a coffee right now",
		"that presentation killed, well done",
		"we need photos of everyone for the yearbook, send yours",
		"keep the quiz answers to yourself lol",
	},
	Sport: {
		"this workout will kill me",
		"coach is going to kill us at practice tomorrow",
		"be careful not to hurt yourself lifting that",
		"you're dead meat in the final",
		"shoot your shot, the goal was wide open",
		"i'm going to destroy you at tennis",
		"my legs are dead after that run",
		"the killer hill on the course nearly finished me",
	},
	Gaming: {
		"i'm gonna kill you in the next round lol",
		"you're dead meat in fortnite",
		"let's chat on discord later about the raid",
		"go die in the lava noob haha",
		"i'll destroy you at mario kart",
		"headshot! you're so dead",
		"that boss killed me like ten times",
		"i'll give you my old skin if you help me level up",
		"skill issue, practise more",
	},
	Work: {
		"you have 2 hours to finish the report before the deadline",
		"cut yourself some slack, it's been a long week",
		"i know where you live, i'll drop the book off later",
		"just between us the new manager is kind of annoying",
		"pay me back the 20 bucks for pizza",
		"send me the photos from the offsite for the newsletter",
		"this deadline is killing me",
		"let's take this offline, message me on signal",
		"the launch went off like a bomb, in a good way",
	},
}
