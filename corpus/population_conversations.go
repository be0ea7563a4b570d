package corpus

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"scanlab"
)

// ContentClass names what a message of the conversation workload carries.
// The content itself is drawn later by the experiments from the text and
// image generators; the workload emits only the class and the ground truth.
type ContentClass string

// The content classes.
const (
	// ClassKnownImage is a harmful image on the hash list, sent unchanged.
	ClassKnownImage ContentClass = "known-image"
	// ClassTransformedImage is a known harmful image put through ordinary
	// edits (crop, resize, recompression, filters) in the hope of dodging
	// matching; a robust perceptual hash should still match it.
	ClassTransformedImage ContentClass = "transformed-image"
	// ClassEvasiveImage is a known harmful image perturbed by an
	// adversarial evasion attack against the perceptual hash.
	ClassEvasiveImage ContentClass = "evasive-image"
	// ClassNovelImage is a harmful image on no list.
	ClassNovelImage ContentClass = "novel-image"
	// ClassCollisionImage is a benign image crafted so that its perceptual
	// hash collides with a listed one (a prank or framing attempt). It is
	// not harmful.
	ClassCollisionImage ContentClass = "collision-image"
	// ClassHarmfulText is a harmful text (grooming, sextortion, threats).
	ClassHarmfulText ContentClass = "harmful-text"
	// ClassBenignImage is an ordinary photo.
	ClassBenignImage ContentClass = "benign-image"
	// ClassBenignText is an ordinary text, including an offender's
	// rapport-building messages that are harmless on their own.
	ClassBenignText ContentClass = "benign-text"
)

// ContentClasses lists the content classes in a stable order.
var ContentClasses = []ContentClass{
	ClassKnownImage, ClassTransformedImage, ClassEvasiveImage, ClassNovelImage,
	ClassCollisionImage, ClassHarmfulText, ClassBenignImage, ClassBenignText,
}

// Harmful reports whether content of class c is harmful: every class but
// collision-image, benign-image and benign-text.
func (c ContentClass) Harmful() bool {
	switch c {
	case ClassKnownImage, ClassTransformedImage, ClassEvasiveImage, ClassNovelImage, ClassHarmfulText:
		return true
	}
	return false
}

// Image reports whether c is an image class.
func (c ContentClass) Image() bool {
	return c != ClassHarmfulText && c != ClassBenignText
}

// MessageEvent is one message of the conversation workload: who sends to
// whom and when, what the platform knows about the pair, and the ground
// truth. It carries no content.
//
// From, To, At, FirstContact, Connected and Hops are metadata every mode's
// provider sees or can derive (the platform knows its social graph and its
// own message history). Class, Harmful, Reported and Archetype are ground
// truth for the harness: they must never enter a [scanlab.Message], an
// envelope or a detector (package behavior builds the provider's view of an
// event from the metadata fields alone). The experiment draws the content of
// the given class and scores detections against Harmful afterwards.
type MessageEvent struct {
	// ID is unique within the workload and in time order ("m000000001").
	ID   string
	From scanlab.UserID
	To   scanlab.UserID
	At   time.Time
	// FirstContact is true for the first message between the two accounts
	// in either direction. The workload has no history before Start, so
	// early messages between old friends are first contacts too; first
	// contacts between unconnected accounts are the telling ones.
	FirstContact bool
	// Connected is true when From and To are connected in the social
	// graph: the input of [Allowed].
	Connected bool
	// Hops is the social-graph distance, capped at 3 (see
	// [Population.Hops]).
	Hops int
	// Class is the content class to draw.
	Class ContentClass
	// Harmful is Class.Harmful(), kept beside it for scoring.
	Harmful bool
	// Reported is true when the recipient would report this message if it
	// reached them: drawn with the recipient's ReportProb for a harmful
	// message and with MistakenReportProb for a benign one. Experiments
	// count a report only for a delivered message.
	Reported bool
	// Archetype is the sender's archetype when the sender is an offender,
	// whatever the class (an offender's small talk is its own too), and
	// empty for a benign sender.
	Archetype Archetype
}

// ConversationConfig configures [Population.Events]. Rates are per user;
// shares are in [0, 1]. How offenders behave is in the population's
// archetype table ([PopulationConfig.Archetypes]), not here. Defaults come
// from [DefaultConversationConfig]; where a default is an assumption of
// this study rather than a published figure, its comment says so. Errors
// about a bad configuration name the field.
type ConversationConfig struct {
	// Seed selects the traffic; it is combined with the population's seed,
	// so one population can carry several independent workloads.
	Seed uint64
	// Days is the length of the simulated period from the population's
	// Start. Default 30.
	Days int
	// MessagesPerDay is the mean number of ordinary messages a user sends
	// per day; each user's own rate varies around it (log-normal, σ = 0.5).
	// Default 4 (assumption).
	MessagesPerDay float64
	// ImageShare is the share of ordinary messages that are images.
	// Default 0.15 (assumption).
	ImageShare float64
	// CollisionShare is the share of ordinary images that are collision
	// images. Default 0.001 (assumption; sweep it for framing attacks).
	CollisionShare float64
	// StrangerShare is the share of an adult's ordinary messages that go to
	// a random unconnected adult (marketplace, events, work). Default 0.03
	// (assumption).
	StrangerShare float64
	// MinorStrangerShare is the share of a minor's ordinary messages that go
	// to an unconnected minor, a friend of a friend. Default 0.02
	// (assumption).
	MinorStrangerShare float64
	// MentorStrangerShare is the share of the ordinary messages of parents,
	// teachers and coaches (and offenders, who hold a parent's place) that
	// go to an unconnected minor who is a friend of one of their children,
	// students or players. Default 0.03 (assumption).
	MentorStrangerShare float64
	// DistantShare is the share of those benign contacts of parents,
	// teachers and coaches with unconnected minors (including recruiting)
	// that go to a random minor, usually with no common friend, instead of
	// a friend of a friend. Default 0.25 (assumption: new players and
	// students who come from elsewhere).
	DistantShare float64
	// BroadcastsPerWeek is how often a teacher or coach messages a whole
	// class or team within a few minutes: a benign burst. Default 2
	// (assumption).
	BroadcastsPerWeek float64
	// RecruitsPerMonth is how often (Poisson, per 30 days) a teacher or
	// coach messages several unconnected minors within an hour (a new
	// class, new players): the benign look-alike of an offender's burst.
	// Default 0.3 (assumption).
	RecruitsPerMonth float64
	// EvasiveShare is the share of an evader's altered known images that are
	// adversarially optimised (evasive-image) rather than ordinary
	// transforms (transformed-image). Default 0.5 (assumption).
	EvasiveShare float64
	// MistakenReportProb is the probability that a recipient reports a
	// benign message. Default 0.0001 (assumption: no published figure;
	// it keeps "prior reports" from being a perfect signal).
	MistakenReportProb float64
}

// DefaultConversationConfig returns the workload of the default study: 30
// days of traffic. See the fields of [ConversationConfig] for every default
// and its source.
func DefaultConversationConfig() ConversationConfig {
	return ConversationConfig{
		Seed:                1,
		Days:                30,
		MessagesPerDay:      4,
		ImageShare:          0.15,
		CollisionShare:      0.001,
		StrangerShare:       0.03,
		MinorStrangerShare:  0.02,
		MentorStrangerShare: 0.03,
		DistantShare:        0.25,
		BroadcastsPerWeek:   2,
		RecruitsPerMonth:    0.3,
		EvasiveShare:        0.5,
		MistakenReportProb:  0.0001,
	}
}

// maxDays bounds ConversationConfig.Days: a year, whose seconds fit an
// event's ordering key.
const maxDays = 366

func (cfg *ConversationConfig) check() error {
	var errs []error
	if cfg.Days < 1 || cfg.Days > maxDays {
		errs = append(errs, fieldError("Days", "%d: need 1 to %d", cfg.Days, maxDays))
	}
	errs = append(errs, checkShares(map[string]float64{
		"ImageShare": cfg.ImageShare, "CollisionShare": cfg.CollisionShare,
		"StrangerShare": cfg.StrangerShare, "MinorStrangerShare": cfg.MinorStrangerShare,
		"MentorStrangerShare": cfg.MentorStrangerShare, "DistantShare": cfg.DistantShare,
		"EvasiveShare": cfg.EvasiveShare, "MistakenReportProb": cfg.MistakenReportProb,
	})...)
	errs = append(errs, checkRates(map[string]float64{
		"MessagesPerDay": cfg.MessagesPerDay, "BroadcastsPerWeek": cfg.BroadcastsPerWeek,
		"RecruitsPerMonth": cfg.RecruitsPerMonth,
	})...)
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// Events returns the message workload of the population as an iterator:
// every message every user attempts in the period, in time order.
// Attempts that a recipient's direct-message policy refuses are included;
// apply [Allowed] to count them as prevented. It returns an error for an
// invalid configuration.
//
// Benign users message mostly their connections, sometimes a stranger;
// teachers and coaches also broadcast to a class or team, and some recruit
// unconnected minors in a burst. Offenders send a parent's ordinary traffic
// and, as their archetype and stealth say (see [ArchetypeParams] and
// [StealthRange]), first-contact targets, talk with each for a while,
// send them harmful texts and harmful images; rings trade images among
// themselves.
//
// The iterator generates one day at a time, so memory holds one day of
// events and the pairs seen so far, not the period. Generation is
// deterministic: each user's traffic on each day comes from its own PCG
// stream of the population seed, cfg.Seed, the user and the day, and each
// user's plan for the period from another; iterating twice gives the same
// events.
func (p *Population) Events(cfg ConversationConfig) (iter.Seq[MessageEvent], error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("corpus: bad conversation config: %w", err)
	}
	return func(yield func(MessageEvent) bool) {
		newTrafficGen(p, &cfg).run(yield)
	}, nil
}

// Conversations returns all of [Population.Events] in one slice. For large
// populations prefer Events: a 100,000-user month is about twelve million
// events.
func (p *Population) Conversations(cfg ConversationConfig) ([]MessageEvent, error) {
	seq, err := p.Events(cfg)
	if err != nil {
		return nil, err
	}
	return slices.Collect(seq), nil
}

// friendOfFriendMinor returns a minor who is a friend of one of i's friends
// but not connected to i, or -1 when a few tries find none.
func (p *Population) friendOfFriendMinor(r *rand.Rand, i int) int {
	if len(p.adj[i]) == 0 {
		return -1
	}
	for range 8 {
		f := p.adj[i][r.IntN(len(p.adj[i]))]
		if len(p.adj[f]) == 0 {
			continue
		}
		c := int(p.adj[f][r.IntN(len(p.adj[f]))])
		if c != i && p.Users[c].Minor() && !p.connected(i, c) {
			return c
		}
	}
	return -1
}

// unconnectedMinor returns a minor not connected to i: with probability
// distant a random one, otherwise a friend of a friend (falling back to a
// random one). It returns -1 when a few tries find none.
func (p *Population) unconnectedMinor(r *rand.Rand, i int, distant float64) int {
	if r.Float64() >= distant {
		if c := p.friendOfFriendMinor(r, i); c >= 0 {
			return c
		}
	}
	return p.stranger(r, i, p.minors)
}

// stranger returns a user of pool not connected to i, or -1 when a few tries
// find none.
func (p *Population) stranger(r *rand.Rand, i int, pool []int32) int {
	if len(pool) == 0 {
		return -1
	}
	for range 8 {
		c := int(pool[r.IntN(len(pool))])
		if c != i && !p.connected(i, c) {
			return c
		}
	}
	return -1
}

// popPoisson draws from a Poisson distribution with mean lambda: by Knuth's
// product method for small means and a rounded normal approximation for large
// ones.
func popPoisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 50 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
	}
	l, k, prod := math.Exp(-lambda), 0, r.Float64()
	for prod > l {
		k++
		prod *= r.Float64()
	}
	return k
}
