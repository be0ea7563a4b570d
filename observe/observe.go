// Package observe measures visibility: what each party to a messaging system
// can actually recover. Every party owns a [View] — the sources of bytes it
// really held during a run (the relay's memory after TLS termination, a copy
// of the database file, the wire capture, a lawful-access export, a device's
// own messages) — and each source opens only what that party's keys open.
// The auditor plants canaries (unique random tokens in texts, unique images,
// unique account IDs and timestamps) and checks, for each party and item,
// which canaries appear in what the party can read.
//
// Nothing here is asserted: a cell of the matrix is the fraction of planted
// canaries found, and the route names the sources that yielded them.
//
// # Who sees what
//
// This package decides nothing about who sees what; it reads views built
// from real bytes by the relay, the store, the tap and the devices, and
// reports what it finds in them.
package observe

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// Party is one row of the visibility matrix.
type Party string

// The parties of docs/DESIGN.md §2.
const (
	Sender         Party = "sender"
	Recipient      Party = "recipient"
	Provider       Party = "provider"
	Employee       Party = "employee"
	LawEnforcement Party = "law-enforcement"
	Eavesdropper   Party = "eavesdropper"
	DBThief        Party = "db-thief"
	DBThiefKMS     Party = "db-thief+kms"
	HashCurator    Party = "hash-curator"
	// ProviderActive is the provider acting in bad faith: everything the
	// provider holds, plus what devices it controls decrypted after it
	// substituted a key or added a ghost device (package active). Its
	// rows carry the attack and the defence.
	ProviderActive Party = "provider-active"
)

// Parties lists every party in the order results use.
var Parties = []Party{Sender, Recipient, Provider, Employee, LawEnforcement, Eavesdropper, DBThief, DBThiefKMS, HashCurator, ProviderActive}

// Attack is what a provider acting in bad faith does to read messages.
type Attack string

// The attacks (docs/DESIGN.md §2).
const (
	// NoAttackNeeded: the provider already reads every message (serverscan).
	NoAttackNeeded Attack = "none-needed"
	// KeySubstitution: the directory hands each side a key the provider
	// holds, and the provider decrypts and re-encrypts every message in
	// the middle.
	KeySubstitution Attack = "key-substitution"
	// GhostDevice: the directory lists a device the provider holds under
	// the recipient's account, so senders encrypt a copy to it.
	GhostDevice Attack = "ghost-device"
)

// Attacks lists the attacks in the order results use.
var Attacks = []Attack{NoAttackNeeded, KeySubstitution, GhostDevice}

// Defence is what users, apps and auditors do against an active provider.
type Defence string

// The defences.
const (
	NoDefence Defence = "none"
	// Pinning: apps pin each correspondent's device keys and show "safety
	// number changed" / "new device" when they change.
	Pinning Defence = "identity-pinning"
	// SafetyNumbers: a share of users compare safety numbers out of band.
	SafetyNumbers Defence = "safety-numbers"
	// KeyTransparency: apps check every key against the provider's
	// append-only key log, and owners monitor their own entries.
	KeyTransparency Defence = "key-transparency"
	// KeyTransparencyGossip: as KeyTransparency, and apps gossip the log
	// heads they saw to independent auditors, who compare them.
	KeyTransparencyGossip Defence = "key-transparency+gossip"
)

// Defences lists the defences in the order results use.
var Defences = []Defence{NoDefence, Pinning, SafetyNumbers, KeyTransparency, KeyTransparencyGossip}

// LogHandling is how an attacking provider treats its key log.
type LogHandling string

// The ways to treat the log.
const (
	// NoLog: there is no key log (defences other than key transparency).
	NoLog LogHandling = ""
	// Unlogged: the attack keys are served but never logged.
	Unlogged LogHandling = "unlogged"
	// Logged: the attack keys are logged like any other.
	Logged LogHandling = "logged"
	// SplitView: the attack keys are logged in a copy of the log shown
	// only to the attacked senders; everyone else sees the honest log.
	SplitView LogHandling = "split-view"
)

// LogHandlings lists the ways in the order results use.
var LogHandlings = []LogHandling{NoLog, Unlogged, Logged, SplitView}

// Detector is who noticed an attack.
type Detector string

// The detectors.
const (
	BySender    Detector = "sender"
	ByRecipient Detector = "recipient"
	ByAuditor   Detector = "auditor"
)

// Detectors lists the detectors in the order results use.
var Detectors = []Detector{BySender, ByRecipient, ByAuditor}

// Stage is when an attack was noticed, earliest first.
type Stage string

// The stages.
const (
	// BeforeSend: the sender's app, on fetching the changed keys.
	BeforeSend Stage = "before-send"
	// OnReceipt: the recipient's app, on the first message from a changed key.
	OnReceipt Stage = "on-receipt"
	// AtComparison: when the two users compared safety numbers.
	AtComparison Stage = "comparison"
	// AtMonitoring: when an owner's app checked its own entries in the log.
	AtMonitoring Stage = "monitoring"
	// AtAudit: when auditors compared log heads.
	AtAudit Stage = "audit"
)

// Stages lists the stages, earliest first.
var Stages = []Stage{BeforeSend, OnReceipt, AtComparison, AtMonitoring, AtAudit}

// Item is one column of the visibility matrix: a kind of thing a party may
// learn about a message.
type Item string

// The items of docs/DESIGN.md §2.
const (
	Text         Item = "text"          // a text's content
	Image        Item = "image"         // an image's content (encoded bytes, or a visual derivative)
	ImageHash    Item = "image-hash"    // an image's perceptual hash
	MatchVerdict Item = "match-verdict" // whether a message matched a scanner
	SenderID     Item = "sender-id"     // who sent a message
	RecipientID  Item = "recipient-id"  // who received it
	Timestamp    Item = "timestamp"     // when it was sent
	Size         Item = "size"          // how long its sealed body is
	ContactGraph Item = "contact-graph" // that its sender and recipient talk
	HashList     Item = "hash-list"     // the scanner's list of target hashes
	// ReportedText is a text its recipient reported. It is kept apart from
	// Text because a report is a disclosure by a party to the message, not
	// something the system lets others read on their own.
	ReportedText Item = "reported-text"
	// ListedImage is an image on the scanner's list, sent by an account that
	// crosses any reporting threshold. Kept apart from Image, which counts
	// ordinary images only.
	ListedImage Item = "listed-image"
)

// Items lists every item in the order results use.
var Items = []Item{Text, Image, ImageHash, MatchVerdict, SenderID, RecipientID, Timestamp, Size, ContactGraph, HashList, ReportedText, ListedImage}

// Evidence is one thing a party can read: bytes, and fields a decoder
// extracted from them (for example "message", "from", "to", "sent", "size").
type Evidence struct {
	Route  string
	Data   []byte
	Fields map[string]string
}

// Source is something a party holds. Open returns what the party can read
// of it with its own keys; a source that is pure ciphertext to this party
// returns its raw bytes.
type Source interface {
	Open() ([]Evidence, error)
}

// SourceFunc adapts a function to [Source].
type SourceFunc func() ([]Evidence, error)

// Open calls f.
func (f SourceFunc) Open() ([]Evidence, error) { return f() }

// View is one party's holdings.
type View struct {
	Party   Party
	Sources []Source
}

// Log is an in-memory source that components append to as they handle data
// (the relay's memory, a device's message list). It is safe for concurrent use.
type Log struct {
	mu  sync.Mutex
	evs []Evidence
}

// Record appends a copy of data with its route and fields. Its signature
// matches scanlab.ServerEnv.Record and relay.Config.Observe.
func (l *Log) Record(route string, data []byte, fields map[string]string) {
	f := make(map[string]string, len(fields))
	for k, v := range fields {
		f[k] = v
	}
	l.mu.Lock()
	l.evs = append(l.evs, Evidence{Route: route, Data: bytes.Clone(data), Fields: f})
	l.mu.Unlock()
}

// Open returns everything recorded so far.
func (l *Log) Open() ([]Evidence, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Evidence(nil), l.evs...), nil
}

// Canary is one planted secret of one item. Match reports whether a piece of
// evidence reveals it.
type Canary struct {
	Item  Item
	Name  string
	Match func(Evidence) bool
}

// Cell is one (party, item) result.
type Cell struct {
	Party     Party
	Item      Item
	Canaries  int      // canaries planted for this item
	Recovered int      // how many of them the party recovered
	Routes    []string // sorted, distinct routes that recovered them
}

// Fraction returns Recovered/Canaries, or 0 when nothing was planted.
func (c Cell) Fraction() float64 {
	if c.Canaries == 0 {
		return 0
	}
	return float64(c.Recovered) / float64(c.Canaries)
}

// Route joins the routes for a table cell.
func (c Cell) Route() string { return strings.Join(c.Routes, "; ") }

// Audit opens every view and checks every canary against it. It returns one
// cell per party of views and per item of [Items], in that order.
func Audit(views []View, canaries []Canary) ([]Cell, error) {
	byItem := map[Item][]Canary{}
	for _, c := range canaries {
		byItem[c.Item] = append(byItem[c.Item], c)
	}
	var cells []Cell
	for _, v := range views {
		var evs []Evidence
		for _, s := range v.Sources {
			e, err := s.Open()
			if err != nil {
				return nil, fmt.Errorf("observe: open a source of %s: %w", v.Party, err)
			}
			evs = append(evs, e...)
		}
		for _, item := range Items {
			cell := Cell{Party: v.Party, Item: item, Canaries: len(byItem[item])}
			routes := map[string]bool{}
			for _, c := range byItem[item] {
				found := false
				for _, e := range evs {
					if c.Match(e) {
						found = true
						routes[e.Route] = true
					}
				}
				if found {
					cell.Recovered++
				}
			}
			for r := range routes {
				cell.Routes = append(cell.Routes, r)
			}
			sort.Strings(cell.Routes)
			cells = append(cells, cell)
		}
	}
	return cells, nil
}

// Contains matches evidence whose data holds any of the patterns.
func Contains(patterns ...[]byte) func(Evidence) bool {
	return func(e Evidence) bool {
		for _, p := range patterns {
			if len(p) > 0 && bytes.Contains(e.Data, p) {
				return true
			}
		}
		return false
	}
}

// Field matches evidence whose field key equals value.
func Field(key, value string) func(Evidence) bool {
	return func(e Evidence) bool { v, ok := e.Fields[key]; return ok && v == value }
}

// All matches evidence that every matcher matches.
func All(ms ...func(Evidence) bool) func(Evidence) bool {
	return func(e Evidence) bool {
		for _, m := range ms {
			if !m(e) {
				return false
			}
		}
		return true
	}
}

// Any matches evidence that some matcher matches.
func Any(ms ...func(Evidence) bool) func(Evidence) bool {
	return func(e Evidence) bool {
		for _, m := range ms {
			if m(e) {
				return true
			}
		}
		return false
	}
}

// File is a source holding a file's raw bytes, as someone who copied the
// file without any key sees it.
func File(path, route string) Source {
	return SourceFunc(func() ([]Evidence, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("observe: %w", err)
		}
		return []Evidence{{Route: route, Data: b}}, nil
	})
}

// Static is a source of fixed evidence (a hash list a party curates).
func Static(evs ...Evidence) Source {
	return SourceFunc(func() ([]Evidence, error) { return evs, nil })
}
