package corpus

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
)

// Archetype names a way of offending: whom an offender contacts, how fast,
// from what kind of account, and what it sends. Every offender of a
// [Population] has one; it is ground truth, never seen by a detector.
type Archetype string

// The offender archetypes. Their parameters are in [DefaultArchetypes].
const (
	// ArchetypeStranger contacts many unconnected minors in evening
	// bursts, mostly from new accounts: the pattern Meta describes and the
	// rules of package behavior were written for.
	ArchetypeStranger Archetype = "stranger"
	// ArchetypeGroomer contacts few minors, mostly friends of friends,
	// one at a time, from an established account, and grooms each over
	// weeks before harm.
	ArchetypeGroomer Archetype = "groomer"
	// ArchetypeRing trades known images with the other members of its
	// ring, all adults; it contacts no minor.
	ArchetypeRing Archetype = "ring"
	// ArchetypeSextortion contacts many older minors in fast bursts from
	// new accounts and threatens them within hours.
	ArchetypeSextortion Archetype = "sextortion"
)

// Archetypes lists the archetypes in a stable order.
var Archetypes = []Archetype{ArchetypeStranger, ArchetypeGroomer, ArchetypeRing, ArchetypeSextortion}

// IntRange is an inclusive range of integers; a value is drawn uniformly
// from it.
type IntRange struct{ Lo, Hi int }

func (g IntRange) draw(r *rand.Rand) int { return g.Lo + r.IntN(g.Hi-g.Lo+1) }

// ArchetypeParams are the parameters of one archetype: how its offenders
// behave when they behave as the rules expect (stealth 0; see
// [StealthRange] for how stealth changes this). Rates are per offender.
// Sources maps the name of every other field to its source, or to
// "assumption" where the value is this study's choice; a test checks that
// every field has one.
type ArchetypeParams struct {
	Archetype Archetype
	// Share is the share of offenders of this archetype, in [0, 1]; the
	// shares of a population's archetypes sum to 1.
	Share float64
	// TargetsPerWeek is the mean number of minors the offender
	// first-contacts per week while not connected to them (Poisson over
	// the period).
	TargetsPerWeek float64
	// TargetAges is the range of declared ages of its targets.
	TargetAges IntRange
	// NearTargetShare is the share of targets chosen among friends of
	// friends (graph distance 2); the others are random minors, usually
	// three or more hops away.
	NearTargetShare float64
	// SessionSize is the number of targets first-contacted in one
	// session; {1, 1} means one at a time.
	SessionSize IntRange
	// SessionGapMinutes is the range of minutes between first contacts in
	// one session.
	SessionGapMinutes IntRange
	// SessionHours is the range of hours of the day (0–23) in which a
	// session starts.
	SessionHours IntRange
	// NewAccountShare is the share of its accounts younger than 30 days at
	// the population's Start.
	NewAccountShare float64
	// RapportTexts is the number of benign texts to each target before
	// and between harmful ones.
	RapportTexts IntRange
	// HarmfulTexts is the number of harmful texts to each target.
	HarmfulTexts IntRange
	// ConversationDays is the mean time in days from the first contact with
	// a target to its last message (each step exponential).
	ConversationDays float64
	// ImagesPerWeek is the mean number of harmful images the offender
	// sends per week (Poisson per day), each to one of its targets already
	// contacted, or for a ring to a ring member. An image drawn before the
	// first contact is not sent, so archetypes with few targets send fewer
	// in a short period.
	ImagesPerWeek float64
	// KnownShare is the share of its harmful images that are known (on a
	// hash list); the rest are novel.
	KnownShare float64
	// RingSize is the number of offenders in one ring (rings only).
	RingSize IntRange
	// Sources gives the source of every other field, by field name.
	Sources map[string]string
}

// The sources of archetype parameters, cited by [DefaultArchetypes].
const (
	srcAssumption = "assumption"
	srcMeta2020   = "assumption after Meta's description: adults who \"repeatedly set up new profiles\" and message \"a large number of strangers\" (Messenger safety notices 2020; Meta, Dec 2021; refs/metadata.md)"
	srcMeta2021   = "Meta, Feb 2021: over 90% of content reported in Oct–Nov 2020 was the same as or visually similar to earlier reports; copies of six videos were more than half (refs/clientscan.md §4.5)"
	srcThorn2024  = "Thorn and NCMEC, Trends in Financial Sextortion (June 2024): 90% of victims boys aged 14–17; offenders use fake accounts (catfishing)"
	srcNCMEC2024  = "NCMEC's L. Coffren on the Thorn–NCMEC report (2024): grooming used to take \"days, weeks, or months\"; financial sextortion happens \"within minutes and hours\""
	srcWolak2008  = "Wolak, Finkelhor, Mitchell and Ybarra, Online \"predators\" and their victims, American Psychologist 63(2), 2008: victims of internet-initiated sex crimes were adolescents, not young children"
	srcWhatsApp   = "assumption; WhatsApp: the average group has fewer than 10 members (refs/clientscan.md §4.5)"
	srcT30        = "assumption, chosen so that a ring member crosses Apple's t = 30 within a month"
)

// DefaultArchetypes returns the archetype table of the default study, in
// the order of [Archetypes]. Every value has its source in the Sources
// field; most are assumptions, to be swept.
func DefaultArchetypes() []ArchetypeParams {
	return []ArchetypeParams{{
		Archetype: ArchetypeStranger, Share: 0.4,
		TargetsPerWeek: 2, TargetAges: IntRange{10, 17}, NearTargetShare: 0.2,
		SessionSize: IntRange{2, 6}, SessionGapMinutes: IntRange{1, 10}, SessionHours: IntRange{17, 22},
		NewAccountShare: 0.6, RapportTexts: IntRange{1, 3}, HarmfulTexts: IntRange{1, 4}, ConversationDays: 1,
		ImagesPerWeek: 3, KnownShare: 0.9,
		Sources: map[string]string{
			"Share": srcAssumption, "TargetsPerWeek": srcMeta2020, "TargetAges": srcAssumption,
			"NearTargetShare": srcAssumption, "SessionSize": srcMeta2020, "SessionGapMinutes": srcAssumption,
			"SessionHours": srcAssumption, "NewAccountShare": srcMeta2020, "RapportTexts": srcAssumption,
			"HarmfulTexts": srcAssumption, "ConversationDays": srcAssumption, "ImagesPerWeek": srcAssumption,
			"KnownShare": srcMeta2021, "RingSize": "unused",
		},
	}, {
		Archetype: ArchetypeGroomer, Share: 0.3,
		TargetsPerWeek: 0.5, TargetAges: IntRange{12, 17}, NearTargetShare: 0.9,
		SessionSize: IntRange{1, 1}, SessionGapMinutes: IntRange{0, 0}, SessionHours: IntRange{15, 21},
		NewAccountShare: 0.1, RapportTexts: IntRange{5, 15}, HarmfulTexts: IntRange{2, 6}, ConversationDays: 21,
		ImagesPerWeek: 1, KnownShare: 0.9,
		Sources: map[string]string{
			"Share": srcAssumption, "TargetsPerWeek": srcAssumption, "TargetAges": srcWolak2008,
			"NearTargetShare": srcAssumption, "SessionSize": srcAssumption, "SessionGapMinutes": "unused",
			"SessionHours": srcAssumption, "NewAccountShare": srcAssumption, "RapportTexts": srcAssumption,
			"HarmfulTexts": srcAssumption, "ConversationDays": srcNCMEC2024, "ImagesPerWeek": srcAssumption,
			"KnownShare": srcMeta2021, "RingSize": "unused",
		},
	}, {
		Archetype: ArchetypeRing, Share: 0.15,
		SessionSize: IntRange{1, 1}, SessionHours: IntRange{0, 23},
		NewAccountShare: 0.3, RapportTexts: IntRange{1, 5}, ConversationDays: 30,
		ImagesPerWeek: 10, KnownShare: 0.95, RingSize: IntRange{3, 6},
		Sources: map[string]string{
			"Share": srcAssumption, "TargetsPerWeek": "none: rings contact no minor", "TargetAges": "unused",
			"NearTargetShare": "unused", "SessionSize": "unused", "SessionGapMinutes": "unused",
			"SessionHours": "unused", "NewAccountShare": srcAssumption,
			"RapportTexts": srcAssumption + " (texts to each ring member)", "HarmfulTexts": "none",
			"ConversationDays": srcAssumption, "ImagesPerWeek": srcT30, "KnownShare": srcMeta2021,
			"RingSize": srcWhatsApp,
		},
	}, {
		Archetype: ArchetypeSextortion, Share: 0.15,
		TargetsPerWeek: 5, TargetAges: IntRange{14, 17}, NearTargetShare: 0.05,
		SessionSize: IntRange{3, 10}, SessionGapMinutes: IntRange{1, 5}, SessionHours: IntRange{18, 23},
		NewAccountShare: 0.9, RapportTexts: IntRange{1, 3}, HarmfulTexts: IntRange{2, 6}, ConversationDays: 0.25,
		ImagesPerWeek: 2, KnownShare: 0.1,
		Sources: map[string]string{
			"Share": srcAssumption, "TargetsPerWeek": srcAssumption, "TargetAges": srcThorn2024,
			"NearTargetShare": srcAssumption, "SessionSize": srcAssumption, "SessionGapMinutes": srcNCMEC2024,
			"SessionHours": srcAssumption, "NewAccountShare": srcThorn2024, "RapportTexts": srcAssumption,
			"HarmfulTexts": srcAssumption, "ConversationDays": srcNCMEC2024, "ImagesPerWeek": srcAssumption,
			"KnownShare": srcAssumption + ": the threat shows the victim's own new images; a few lures reuse circulating ones",
			"RingSize":   "unused",
		},
	}}
}

// checkArchetypes returns an error naming each invalid field of the table.
func checkArchetypes(table []ArchetypeParams) error {
	var errs []error
	seen := map[Archetype]bool{}
	var sum float64
	for _, a := range table {
		name := "Archetypes[" + string(a.Archetype) + "]."
		if !slices.Contains(Archetypes, a.Archetype) {
			errs = append(errs, fieldError("Archetypes", ": unknown archetype %q", a.Archetype))
		}
		if seen[a.Archetype] {
			errs = append(errs, fieldError("Archetypes", ": %q listed twice", a.Archetype))
		}
		seen[a.Archetype] = true
		sum += a.Share
		errs = append(errs, checkShares(map[string]float64{
			name + "Share": a.Share, name + "NearTargetShare": a.NearTargetShare,
			name + "NewAccountShare": a.NewAccountShare, name + "KnownShare": a.KnownShare,
		})...)
		errs = append(errs, checkRates(map[string]float64{
			name + "TargetsPerWeek": a.TargetsPerWeek, name + "ConversationDays": a.ConversationDays,
			name + "ImagesPerWeek": a.ImagesPerWeek,
		})...)
		errs = append(errs, a.checkRanges(name)...)
	}
	if len(table) > 0 && math.Abs(sum-1) > 1e-9 {
		errs = append(errs, fieldError("Archetypes", ": shares sum to %v, want 1", sum))
	}
	return errors.Join(errs...)
}

// checkRanges returns an error for each range of a that is empty or out of
// its domain.
func (a *ArchetypeParams) checkRanges(name string) []error {
	var errs []error
	type bounded struct {
		g      IntRange
		lo, hi int
	}
	ranges := map[string]bounded{
		"SessionHours": {a.SessionHours, 0, 23}, "SessionSize": {a.SessionSize, 1, 1000},
		"SessionGapMinutes": {a.SessionGapMinutes, 0, 1440},
		"RapportTexts":      {a.RapportTexts, 0, 1000}, "HarmfulTexts": {a.HarmfulTexts, 0, 1000},
	}
	if a.TargetsPerWeek > 0 {
		ranges["TargetAges"] = bounded{a.TargetAges, 10, 17}
	}
	if a.Archetype == ArchetypeRing {
		ranges["RingSize"] = bounded{a.RingSize, 2, 1000}
	}
	for field, c := range ranges {
		if c.g.Lo > c.g.Hi || c.g.Lo < c.lo || c.g.Hi > c.hi {
			errs = append(errs, fmt.Errorf("%s%s %d..%d: need %d <= lo <= hi <= %d", name, field, c.g.Lo, c.g.Hi, c.lo, c.hi))
		}
	}
	return errs
}

// checkRates returns an error for each named value that is negative, not a
// number or implausibly large (10,000 or more).
func checkRates(rates map[string]float64) []error {
	var errs []error
	for name, v := range rates {
		if !(v >= 0 && v < 1e4) {
			errs = append(errs, fmt.Errorf("%s %v outside [0, 10000)", name, v))
		}
	}
	return errs
}

// undocumented returns the fields of a that have no entry in a.Sources.
func (a *ArchetypeParams) undocumented() []string {
	var missing []string
	t := reflect.TypeOf(*a)
	for i := range t.NumField() {
		f := t.Field(i).Name
		if f == "Archetype" || f == "Sources" {
			continue
		}
		if strings.TrimSpace(a.Sources[f]) == "" {
			missing = append(missing, f)
		}
	}
	return missing
}

// StealthRange is the range from which each offender's stealth is drawn
// uniformly; Lo == Hi gives every offender the same stealth. Both lie in
// [0, 1].
//
// Stealth 0 is an offender who behaves as its archetype says, which for
// most archetypes is what the rules of package behavior expect. Stealth 1
// is an offender whose metadata is distributed exactly as a benign
// parent's: every offender holds a parent's place in the social graph (a
// household with children, relatives, a circle of adults) and sends a
// parent's ordinary traffic, so a fully stealthy one differs from a benign
// parent only in the content of its messages and in what that content
// draws (reports). In between, each choice the detector can see is made
// the stealthy way with probability s, independently:
//
//   - its account age is drawn from the benign distribution instead of the
//     archetype's (so the new-account share moves from the archetype's to
//     the benign one);
//   - each target its archetype would contact as a stranger is contacted
//     with probability 1 − s (so the count of unconnected minors, the share
//     at three or more hops and the size of bursts shrink towards none);
//   - each minor outside its household that its ordinary, parent-like
//     traffic reaches becomes a target with probability s, harmed in
//     follow-up messages within a pair the benign process opened (the
//     detector counts recipients and first contacts, not messages per
//     pair).
//
// Its harmful image volume per week is the archetype's at every stealth, as
// long as it has a target; at high stealth it has fewer targets, and its
// harm reaches only the minors a parent reaches. A ring contacts no minor:
// stealth changes only its account age, and its ring members stay extra
// adult connections (which rules reading contacts with minors never see,
// but a model reading all recipients may). Reports are the one signal
// stealth cannot remove: they come from its targets.
type StealthRange struct{ Lo, Hi float64 }

// FixedStealth returns the range that gives every offender stealth s.
func FixedStealth(s float64) StealthRange { return StealthRange{s, s} }

func (s StealthRange) check() error {
	if !(s.Lo >= 0 && s.Lo <= s.Hi && s.Hi <= 1) {
		return fieldError("Stealth", "%v..%v: need 0 <= Lo <= Hi <= 1", s.Lo, s.Hi)
	}
	return nil
}

func (s StealthRange) draw(r *rand.Rand) float64 {
	if s.Lo == s.Hi {
		return s.Lo
	}
	return s.Lo + r.Float64()*(s.Hi-s.Lo)
}
