package demo

import (
	"fmt"
	"time"

	"scanlab"
	"scanlab/audit"
	"scanlab/observe"
)

// Scenario is one story the demo tells. Adding a scenario is adding one
// entry to [Scenarios]: a script of messages and people, and the sentence
// that sums up its result.
type Scenario struct {
	// Name identifies it on the command line and in URLs: "listed-image".
	Name string
	// Title and Summary are what the teacher reads before choosing it.
	Title, Summary string
	// TakesText is true when the scenario sends the audience's words.
	TakesText bool
	// Focus are the parties the scenario is about; the grid marks their rows.
	Focus []observe.Party
	// script returns the messages to send, given the audience's words.
	script func(text string) (script, error)
	// explain sums up a run in one or two sentences.
	explain func(r *Result) string
}

// Scenarios are the demo's stories, in the order the page offers them.
var Scenarios = []Scenario{
	{Name: "harmless-chat", Title: "A harmless chat", TakesText: true,
		Summary: "Two friends chat. Who else can read it?",
		Focus:   []observe.Party{observe.Provider},
		script:  chatScript, explain: explainChat},
	{Name: "listed-image", Title: "A photo on the hash list",
		Summary: "Someone sends photos whose fingerprints are on the list — and a slightly edited copy.",
		Focus:   []observe.Party{observe.Provider, observe.HashCurator},
		script:  listedScript, explain: explainListed},
	{Name: "grooming", Title: "A grooming pattern",
		Summary: "A new adult account messages six children it has no link to.",
		Focus:   []observe.Party{observe.Provider},
		script:  groomingScript, explain: explainGrooming},
	{Name: "data-breach", Title: "A data breach", TakesText: true,
		Summary: "A criminal steals the provider's database — with and without its keys.",
		Focus:   []observe.Party{observe.DBThief, observe.DBThiefKMS},
		script:  chatScript, explain: explainParties(observe.DBThief, observe.DBThiefKMS)},
	{Name: "court-order", Title: "A court order", TakesText: true,
		Summary: "Police obtain the provider's lawful-access export.",
		Focus:   []observe.Party{observe.LawEnforcement},
		script:  chatScript, explain: explainParties(observe.LawEnforcement)},
	{Name: "rogue-employee", Title: "A rogue employee", TakesText: true,
		Summary: "Someone inside the company looks at the database with its keys.",
		Focus:   []observe.Party{observe.Employee},
		script:  chatScript, explain: explainParties(observe.Employee)},
	{Name: "swapped-key", Title: "The provider swaps a key", TakesText: true,
		Summary: "The company hands Sam its own key instead of Alex's and passes every message on.",
		Focus:   []observe.Party{observe.ProviderActive},
		script:  attackScript(observe.NoDefence), explain: explainAttack},
	{Name: "swapped-key-noticed", Title: "The provider swaps a key — apps that warn", TakesText: true,
		Summary: "The same attack, but the apps warn when a contact's key changes.",
		Focus:   []observe.Party{observe.ProviderActive},
		script:  attackScript(observe.Pinning), explain: explainAttack},
}

// Lookup returns the scenario called name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Focused reports whether the scenario is about party p.
func (s Scenario) Focused(p observe.Party) bool {
	for _, f := range s.Focus {
		if f == p {
			return true
		}
	}
	return false
}

// DefaultText is what a scenario that takes text sends when the audience
// typed nothing.
const DefaultText = "see you at the station at six, bring snacks for the trip"

// Message is one message a scenario sends, as the audience is told it.
type Message struct {
	// Label names it in the story: "photo 2", "first contact 3".
	Label string
	// From and To describe the accounts: "Sam (15)".
	From, To string
	// At is when it was sent, on the scenario's clock.
	At time.Time
	// Text holds a text's words; Photo names a stand-in photo.
	Text, Photo string

	from, to scanlab.UserID
	content  scanlab.Content
}

// person is what the platform itself knows of an account: the facts
// the provider's metadata detector reads.
type person struct {
	name    string
	age     int
	created time.Time
}

func (p person) String() string { return fmt.Sprintf("%s (%d)", p.name, p.age) }

// script is what a scenario sends: its messages, the people who send and
// receive them, who is friends with whom, and the visibility audit's plan.
type script struct {
	messages []Message
	people   map[scanlab.UserID]person
	friends  map[[2]scanlab.UserID]bool
	plan     audit.Plan
	// attack, if set, is the provider acting in bad faith: after a first
	// exchange it mounts the attack against the defence.
	attack *audit.Setup
}

// clock is the scenarios' clock: every story starts at this time.
var clock = time.Date(2025, time.March, 14, 16, 0, 0, 0, time.UTC)

// message adds a message from one person to another, m minutes after
// the clock starts.
func (s *script) message(label string, from, to scanlab.UserID, minutes int, c scanlab.Content) {
	m := Message{Label: label, From: s.people[from].String(), To: s.people[to].String(),
		At: clock.Add(time.Duration(minutes) * time.Minute), from: from, to: to, content: c}
	if c.Kind == scanlab.Text {
		m.Text = c.Text
		s.plan.Texts = append(s.plan.Texts, c.Text)
	}
	s.messages = append(s.messages, m)
}

// connected reports whether two accounts are friends on the platform.
func (s script) connected(a, b scanlab.UserID) bool {
	return s.friends[[2]scanlab.UserID{min(a, b), max(a, b)}]
}

func newScript(people map[scanlab.UserID]person, friendships ...[2]scanlab.UserID) script {
	s := script{people: people, friends: map[[2]scanlab.UserID]bool{}, plan: audit.Plan{Pairs: 1}}
	for _, f := range friendships {
		s.friends[[2]scanlab.UserID{min(f[0], f[1]), max(f[0], f[1])}] = true
	}
	return s
}

// chatScript: Sam sends the audience's words to Alex, a friend.
func chatScript(text string) (script, error) {
	s := newScript(map[scanlab.UserID]person{
		"u-sam":  {name: "Sam", age: 15, created: clock.AddDate(-2, 0, 0)},
		"u-alex": {name: "Alex", age: 15, created: clock.AddDate(-3, 0, 0)},
	}, [2]scanlab.UserID{"u-sam", "u-alex"})
	s.message("your message", "u-sam", "u-alex", 0, scanlab.Content{Kind: scanlab.Text, Text: text})
	return s, nil
}

// attackScript: the chat, with the provider swapping keys between Sam and
// Alex after their first exchange, against defence d.
func attackScript(d observe.Defence) func(string) (script, error) {
	return func(text string) (script, error) {
		s, err := chatScript(text)
		s.attack = &audit.Setup{Attack: observe.KeySubstitution, Defence: d}
		return s, err
	}
}

// listedScript: Rob sends Kim the stand-in photos, the edited copy second.
func listedScript(string) (script, error) {
	s := newScript(map[scanlab.UserID]person{
		"u-rob": {name: "Rob", age: 34, created: clock.AddDate(-1, 0, 0)},
		"u-kim": {name: "Kim", age: 36, created: clock.AddDate(-4, 0, 0)},
	}, [2]scanlab.UserID{"u-rob", "u-kim"})
	for i, p := range Photos {
		b, err := PhotoBytes(p.Name)
		if err != nil {
			return s, err
		}
		s.message(p.Label, "u-rob", "u-kim", i, scanlab.Content{Kind: scanlab.Image, Image: b})
		s.messages[i].Photo = p.Name
		s.plan.Listed = append(s.plan.Listed, b)
	}
	return s, nil
}

// groomingOpeners are the stranger's first messages, one per child.
var groomingOpeners = []string{
	"hey! saw your drawings online, you are really talented",
	"hi, we play the same game, want to team up sometime?",
	"hey, you seem really mature for your age",
	"hi :) which school do you go to? i might know it",
	"you can tell me anything, this is our secret ok",
	"add me on another app, it is more private there",
}

// groomingScript: an adult account two days old sends first messages to
// six children it has no friends in common with, minutes apart.
func groomingScript(string) (script, error) {
	people := map[scanlab.UserID]person{"u-stranger": {name: "\"Jay\"", age: 32, created: clock.AddDate(0, 0, -2)}}
	kids := []string{"Mia", "Leo", "Ava", "Noah", "Zoe", "Eli"}
	for i, k := range kids {
		people[scanlab.UserID("u-"+k)] = person{name: k, age: 12 + i%3, created: clock.AddDate(-1, 0, 0)}
	}
	s := newScript(people)
	for i, k := range kids {
		s.message(fmt.Sprintf("first contact %d", i+1), "u-stranger", scanlab.UserID("u-"+k), 7*i,
			scanlab.Content{Kind: scanlab.Text, Text: groomingOpeners[i]})
	}
	return s, nil
}
