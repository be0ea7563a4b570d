package schema

import (
	"fmt"
	"math"
	"slices"

	"scanlab/observe"
)

// PlatformVariantBase names a platform's baseline run in a platforms file:
// every undocumented field at its baseline value.
const PlatformVariantBase = "baseline"

// A platforms file's other variants are "field=value": one undocumented
// preset field, or one of the study's assumptions about users, moved from
// its baseline. The assumptions, which no platform publishes:
const (
	// AssumeDMKeep is the share of accounts that keep the platform's
	// default direct-message setting.
	AssumeDMKeep = "dm_keep"
	// AssumeOffenderFactor is how many times more often a conversation
	// with an offender opts in to encryption than one between benign users
	// (hybrid platforms only).
	AssumeOffenderFactor = "offender_factor"
)

// VariantScanOn ends the variants of the adverse-selection sweep run with
// every undocumented scanning field on: "offender_factor=3;scan=on".
const VariantScanOn = ";scan=on"

// The visibility measures of platforms/platforms.csv: the share of one
// item's planted canaries one party recovered, as in visibility.csv.
var PlatformVisibilityItems = []observe.Item{observe.Text, observe.Image, observe.SenderID, observe.RecipientID, observe.ContactGraph,
	observe.ReportedText}

// The coverage measures of platforms/platforms.csv, from the coverage
// engine over one synthetic population shared by every platform (no
// party).
const (
	// MeasureHarmfulCaught is the share of harmful items delivered that any
	// pathway caught (item recall); interval: a cluster bootstrap over
	// sender accounts; n: the items delivered.
	MeasureHarmfulCaught = "harmful-caught"
	// MeasureHarmfulStopped is the share of harmful attempts refused by
	// the recipients' direct-message settings or, delivered, caught;
	// interval: a cluster bootstrap over sender accounts; n: the attempts.
	MeasureHarmfulStopped = "harmful-stopped"
	// MeasureInnocentFlagged is the share of innocent accounts (benign
	// adults and minors) an automated pathway flagged; interval:
	// Clopper–Pearson; n: the innocent accounts.
	MeasureInnocentFlagged = "innocent-flagged"
	// MeasureHarmfulRefused is the share of harmful attempts the
	// recipients' direct-message settings refused before any scanner ran;
	// interval: a cluster bootstrap over sender accounts; n: the attempts.
	MeasureHarmfulRefused = "harmful-refused"
)

// PlatformCoverageMeasures lists the coverage measures in the order the
// file and the report give them.
var PlatformCoverageMeasures = []string{MeasureHarmfulCaught, MeasureHarmfulStopped, MeasureInnocentFlagged, MeasureHarmfulRefused}

// PlatformMeasures are the values of platforms.csv's measure column:
// "recovered-ITEM" for each of [PlatformVisibilityItems] (with a party);
// [PlatformCoverageMeasures]; and "wire-bytes-KIND-CONVERSATION" — the
// median bytes one message of a kind put on the wire (send and fetch), in a
// clear or an encrypted conversation of the platform (no party).
var PlatformMeasures = platformMeasures()

func platformMeasures() []string {
	var m []string
	for _, it := range PlatformVisibilityItems {
		m = append(m, "recovered-"+string(it))
	}
	m = append(m, PlatformCoverageMeasures...)
	for _, k := range Kinds {
		for _, c := range PlatformConversations {
			m = append(m, WireBytesMeasure(k, c))
		}
	}
	return m
}

// WireBytesMeasure names the wire-bytes measure of a kind of message in a
// kind of conversation.
func WireBytesMeasure(kind, conversation string) string {
	return "wire-bytes-" + kind + "-" + conversation
}

// PlatformConversations are the kinds of conversation a platform may have.
var PlatformConversations = []string{"clear", "encrypted"}

// PlatformRow is one row of platforms/platforms.csv: one measure of one
// platform's design under one variant (the baseline, or one undocumented
// field moved across its range).
type PlatformRow struct {
	Platform string
	// Variant is [PlatformVariantBase] or "field=value".
	Variant string
	Measure string
	// Party is the party of a visibility measure, empty otherwise.
	Party observe.Party
	Value float64
	// Lo and Hi bound a 95% interval; NaN (empty) where the measure has
	// none: a visibility share counts canaries, which are not independent
	// (those of one conversation share its mode), so no binomial interval
	// is honest for it; bytes are a median of repeated sends of one
	// message. Every coverage measure has one.
	Lo, Hi float64
	// N is the count the value rests on: canaries planted, messages
	// timed, items, attempts or accounts.
	N int
}

func (r *PlatformRow) check() error {
	if r.Party != "" && !slices.Contains(Parties, r.Party) {
		return fmt.Errorf("party %q is not one of the parties", r.Party)
	}
	if slices.Contains(PlatformCoverageMeasures, r.Measure) && (r.Party != "" || r.Value > 1) {
		return fmt.Errorf("%s: a share without a party, got %v for %q", r.Measure, r.Value, r.Party)
	}
	if !math.IsNaN(r.Lo) && !math.IsNaN(r.Hi) && !(r.Lo <= r.Value && r.Value <= r.Hi) {
		return fmt.Errorf("value %v outside its interval [%v, %v]", r.Value, r.Lo, r.Hi)
	}
	return nil
}

// Platforms is platforms/platforms.csv.
var Platforms = &File[PlatformRow]{
	Path: "platforms/platforms.csv",
	Doc:  "one measure of one platform's design under one variant of its undocumented fields",
	Columns: []Column[PlatformRow]{
		Text("platform", func(r *PlatformRow) *string { return &r.Platform }),
		Text("variant", func(r *PlatformRow) *string { return &r.Variant }),
		Enum("measure", func(r *PlatformRow) *string { return &r.Measure }, PlatformMeasures),
		OptText("party", func(r *PlatformRow) *string { return (*string)(&r.Party) }),
		NonNegative("value", Shortest, func(r *PlatformRow) *float64 { return &r.Value }),
		OptNumber("lo", Shortest, func(r *PlatformRow) *float64 { return &r.Lo }),
		OptNumber("hi", Shortest, func(r *PlatformRow) *float64 { return &r.Hi }),
		Count("n", func(r *PlatformRow) *int { return &r.N }),
	},
	Check: (*PlatformRow).check,
}

// PlatformTimingRow is one row of platforms/platforms-timings.csv: the
// time from seal to open of one kind of message in one kind of a
// platform's conversations, through the real relay, in microseconds.
type PlatformTimingRow struct {
	Platform, Conversation, Kind string
	Messages                     int
	P50, P95                     float64 // µs
}

// PlatformTimings is platforms/platforms-timings.csv (timings: not
// byte-identical between runs).
var PlatformTimings = &File[PlatformTimingRow]{
	Path: "platforms/platforms-timings.csv",
	Doc:  "median and 95th percentile time from seal to open, per platform, conversation and kind, in µs",
	Columns: []Column[PlatformTimingRow]{
		Text("platform", func(r *PlatformTimingRow) *string { return &r.Platform }),
		Enum("conversation", func(r *PlatformTimingRow) *string { return &r.Conversation }, PlatformConversations),
		Enum("kind", func(r *PlatformTimingRow) *string { return &r.Kind }, Kinds),
		Count("messages", func(r *PlatformTimingRow) *int { return &r.Messages }),
		NonNegative("p50_us", Fixed(1), func(r *PlatformTimingRow) *float64 { return &r.P50 }),
		NonNegative("p95_us", Fixed(1), func(r *PlatformTimingRow) *float64 { return &r.P95 }),
	},
}
