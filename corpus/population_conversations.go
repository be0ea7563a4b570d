package corpus

import (
	"cmp"
	"errors"
	"fmt"
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
// own message history). Class, Harmful and Reported are ground truth for the
// harness: they must never enter a [scanlab.Message], an envelope or a
// detector. The experiment draws the content of the given class and scores
// detections against Harmful afterwards.
type MessageEvent struct {
	// ID is unique within the workload and in time order ("m0000001").
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
}

// ConversationConfig configures [Population.Conversations]. Rates are per
// user; shares are in [0, 1]. Defaults come from [DefaultConversationConfig];
// where a default is an assumption of this study rather than a published
// figure, its comment says so.
type ConversationConfig struct {
	// Seed selects the traffic; it is combined with the population's seed,
	// so one population can carry several independent workloads.
	Seed uint64
	// Days is the length of the simulated period from the population's
	// Start. Default 14.
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
	// teachers and coaches that go to an unconnected minor who is a friend
	// of one of their children, students or players. Default 0.03
	// (assumption).
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
	// RecruitShare is the share of teachers and coaches who, once in the
	// period, message several unconnected minors within an hour (a new
	// class, new players): the benign look-alike of an offender's burst.
	// Default 0.3 (assumption).
	RecruitShare float64
	// TargetsMean is the mean number of unconnected minors an offender
	// contacts in the period (1 + Poisson(TargetsMean − 1)). Default 8
	// (assumption after the behaviour Meta describes: "messages a large
	// number of strangers", metadata.md).
	TargetsMean float64
	// NearTargetShare is the share of an offender's targets who are friends
	// of its friends (children of acquaintances) rather than random minors.
	// Default 0.2 (assumption).
	NearTargetShare float64
	// KnownShare is the share of offenders' harmful images that are
	// re-shares of known items. Default 0.9, clientscan.md §4.5 ("share of
	// harmful traffic that is re-shares of known items: 0.9", after Meta's
	// finding that over 90% of reported content matched earlier reports).
	KnownShare float64
	// EvasiveShare is the share of an evader's altered known images that are
	// adversarially optimised (evasive-image) rather than ordinary
	// transforms (transformed-image). Default 0.5 (assumption).
	EvasiveShare float64
	// RingImagesMean is the mean number of harmful images an offender sends
	// to each offender it is connected to. Default 3 (assumption).
	RingImagesMean float64
	// MistakenReportProb is the probability that a recipient reports a
	// benign message. Default 0.0001 (assumption: no published figure;
	// it keeps "prior reports" from being a perfect signal).
	MistakenReportProb float64
}

// DefaultConversationConfig returns the workload of the default study: two
// weeks of traffic. See the fields of [ConversationConfig] for every default
// and its source.
func DefaultConversationConfig() ConversationConfig {
	return ConversationConfig{
		Seed:                1,
		Days:                14,
		MessagesPerDay:      4,
		ImageShare:          0.15,
		CollisionShare:      0.001,
		StrangerShare:       0.03,
		MinorStrangerShare:  0.02,
		MentorStrangerShare: 0.03,
		DistantShare:        0.25,
		BroadcastsPerWeek:   2,
		RecruitShare:        0.3,
		TargetsMean:         8,
		NearTargetShare:     0.2,
		KnownShare:          0.9,
		EvasiveShare:        0.5,
		RingImagesMean:      3,
		MistakenReportProb:  0.0001,
	}
}

func (cfg *ConversationConfig) check() error {
	var errs []error
	if cfg.Days < 1 {
		errs = append(errs, fmt.Errorf("%d days: need at least 1", cfg.Days))
	}
	errs = append(errs, checkShares(map[string]float64{
		"image share": cfg.ImageShare, "collision share": cfg.CollisionShare,
		"stranger share": cfg.StrangerShare, "minor stranger share": cfg.MinorStrangerShare,
		"mentor stranger share": cfg.MentorStrangerShare, "recruit share": cfg.RecruitShare,
		"distant share": cfg.DistantShare, "near target share": cfg.NearTargetShare,
		"known share": cfg.KnownShare, "evasive share": cfg.EvasiveShare,
		"mistaken report probability": cfg.MistakenReportProb,
	})...)
	for name, v := range map[string]float64{
		"messages per day": cfg.MessagesPerDay, "broadcasts per week": cfg.BroadcastsPerWeek,
		"ring images mean": cfg.RingImagesMean,
	} {
		if !(v >= 0 && v < 1e4) {
			errs = append(errs, fmt.Errorf("%s %v outside [0, 10000)", name, v))
		}
	}
	if !(cfg.TargetsMean >= 1 && cfg.TargetsMean < 1e4) {
		errs = append(errs, fmt.Errorf("targets mean %v outside [1, 10000)", cfg.TargetsMean))
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// pendingEvent is a message before sorting: seq breaks ties in time.
type pendingEvent struct {
	from, to int
	at       int64 // seconds since Start
	class    ContentClass
	reported bool
	seq      int
}

// Conversations generates the message workload of the population: every
// message every user attempts in the period, in time order. Attempts that a
// recipient's direct-message policy refuses are included; apply [Allowed] to
// count them as prevented. It returns an error for an invalid configuration.
//
// Benign users message mostly their connections, sometimes a stranger;
// teachers and coaches also broadcast to a class or team, and some recruit
// unconnected minors in a burst. Offenders keep ordinary traffic with their
// adult circle and, in evening sessions, first-contact several unconnected
// minors within minutes; each target then gets rapport messages, harmful
// texts and harmful images over the following days. Offenders also pass
// harmful images to the offenders they know.
//
// Generation is deterministic: each user's traffic comes from its own PCG
// stream of the population seed and cfg.Seed.
func (p *Population) Conversations(cfg ConversationConfig) ([]MessageEvent, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("corpus: bad conversation config: %w", err)
	}
	seed := p.Config.Seed ^ (cfg.Seed * 0x9e3779b97f4a7c15)
	end := int64(cfg.Days) * 86400
	var evs []pendingEvent
	for i := range p.Users {
		r := rand.New(rand.NewPCG(seed, popStreamTraffic+uint64(i)))
		evs = p.userTraffic(r, &cfg, i, end, evs)
	}
	slices.SortFunc(evs, func(a, b pendingEvent) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq))
	})

	out := make([]MessageEvent, 0, len(evs))
	seen := map[[2]int32]struct{}{}
	width := max(7, len(fmt.Sprint(len(evs))))
	for k, e := range evs {
		pair := [2]int32{int32(min(e.from, e.to)), int32(max(e.from, e.to))}
		_, old := seen[pair]
		seen[pair] = struct{}{}
		h := p.hops(e.from, e.to)
		out = append(out, MessageEvent{
			ID:           fmt.Sprintf("m%0*d", width, k+1),
			From:         p.Users[e.from].ID,
			To:           p.Users[e.to].ID,
			At:           p.Config.Start.Add(time.Duration(e.at) * time.Second),
			FirstContact: !old,
			Connected:    h == 1,
			Hops:         h,
			Class:        e.class,
			Harmful:      e.class.Harmful(),
			Reported:     e.reported,
		})
	}
	return out, nil
}

// userTraffic appends the messages user i sends in [0, end) seconds.
func (p *Population) userTraffic(r *rand.Rand, cfg *ConversationConfig, i int, end int64, evs []pendingEvent) []pendingEvent {
	u := &p.Users[i]
	send := func(to int, at int64, class ContentClass) {
		if at < 0 || at >= end || to == i {
			return
		}
		prob := cfg.MistakenReportProb
		if class.Harmful() {
			prob = p.Users[to].ReportProb
		}
		evs = append(evs, pendingEvent{
			from: i, to: to, at: at, class: class,
			reported: r.Float64() < prob, seq: len(evs),
		})
	}
	ordinary := func() ContentClass {
		if r.Float64() < cfg.ImageShare {
			if r.Float64() < cfg.CollisionShare {
				return ClassCollisionImage
			}
			return ClassBenignImage
		}
		return ClassBenignText
	}
	// daytime is a time of day between 07:00 and 23:00 on a random day.
	daytime := func() int64 {
		return int64(r.IntN(cfg.Days))*86400 + 7*3600 + r.Int64N(16*3600)
	}

	// Ordinary traffic.
	rate := cfg.MessagesPerDay * math.Exp(0.5*r.NormFloat64()-0.125)
	mentor := u.Persona == PersonaParent || u.Persona == PersonaTeacher || u.Persona == PersonaCoach
	for range popPoisson(r, rate*float64(cfg.Days)) {
		at := daytime()
		to := -1
		switch x := r.Float64(); {
		case u.Minor() && x < cfg.MinorStrangerShare:
			to = p.friendOfFriendMinor(r, i)
		case !u.Minor() && x < cfg.StrangerShare:
			to = p.stranger(r, i, p.adults)
		case mentor && x < cfg.StrangerShare+cfg.MentorStrangerShare:
			to = p.unconnectedMinor(r, i, cfg.DistantShare)
		}
		if to < 0 && len(p.adj[i]) > 0 {
			to = int(p.adj[i][r.IntN(len(p.adj[i]))])
		}
		if to >= 0 {
			send(to, at, ordinary())
		}
	}

	// Teachers and coaches: broadcasts to a class or team, and recruiting.
	if groups := p.led[i]; len(groups) > 0 {
		for range popPoisson(r, cfg.BroadcastsPerWeek*float64(cfg.Days)/7) {
			at := daytime()
			class := ordinary()
			for _, m := range p.groups[groups[r.IntN(len(groups))]].members {
				at += 5 + r.Int64N(36)
				send(m, at, class)
			}
		}
		if r.Float64() < cfg.RecruitShare {
			at := daytime()
			for range 3 + r.IntN(6) {
				if to := p.unconnectedMinor(r, i, cfg.DistantShare); to >= 0 {
					send(to, at, ClassBenignText)
				}
				at += 60 + r.Int64N(8*60)
			}
		}
	}

	if !u.Offender {
		return evs
	}
	harmfulImage := func() ContentClass {
		if r.Float64() >= cfg.KnownShare {
			return ClassNovelImage
		}
		if !u.Evader {
			return ClassKnownImage
		}
		if r.Float64() < cfg.EvasiveShare {
			return ClassEvasiveImage
		}
		return ClassTransformedImage
	}
	// Targets: distinct unconnected minors, contacted in evening sessions
	// of two to six first contacts a few minutes apart.
	nTargets := min(1+popPoisson(r, cfg.TargetsMean-1), len(p.minors))
	targets := map[int]bool{}
	var order []int
	for tries := 0; len(order) < nTargets && tries < 20*nTargets; tries++ {
		t := p.unconnectedMinor(r, i, 1-cfg.NearTargetShare)
		if t >= 0 && !targets[t] {
			targets[t] = true
			order = append(order, t)
		}
	}
	for lo := 0; lo < len(order); {
		k := min(2+r.IntN(5), len(order)-lo)
		at := int64(r.IntN(cfg.Days))*86400 + 17*3600 + r.Int64N(6*3600)
		for _, t := range order[lo : lo+k] {
			// One conversation: rapport, harmful texts, harmful images.
			next := at
			for range 1 + r.IntN(3) {
				send(t, next, ClassBenignText)
				next += 60 + int64(r.ExpFloat64()*3*3600)
			}
			for range 1 + r.IntN(4) {
				send(t, next, ClassHarmfulText)
				next += 60 + int64(r.ExpFloat64()*6*3600)
			}
			for range r.IntN(4) {
				send(t, next, harmfulImage())
				next += 60 + int64(r.ExpFloat64()*6*3600)
			}
			at += 60 + r.Int64N(9*60)
		}
		lo += k
	}
	// Trading with connected offenders.
	for _, j := range p.adj[i] {
		if !p.Users[j].Offender {
			continue
		}
		for range popPoisson(r, cfg.RingImagesMean) {
			send(int(j), daytime(), harmfulImage())
		}
	}
	return evs
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
