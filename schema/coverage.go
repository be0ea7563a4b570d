package schema

import (
	"fmt"

	"scanlab"
	"scanlab/corpus"
)

// CoverageRow is one row of coverage/coverage.csv: in one mode, of the
// delivered messages of one content class, how many one pathway flagged.
// For benign classes Items counts messages of benign senders only and
// Recall is a false-positive rate.
type CoverageRow struct {
	Mode    string
	Class   corpus.ContentClass
	Pathway scanlab.Pathway // one of [Pathways], [AnyPathway] included
	Items   int             // delivered messages of the class
	// Detected is how many of them the pathway flagged.
	Detected int
	// Recall is Detected/Items (0 when Items is 0), written with four
	// decimals.
	Recall float64
	// MedianToDetection is the median, over senders the pathway caught,
	// of the messages of this class each sent up to its first detection;
	// absent when no sender was caught.
	MedianToDetection Opt[int]
	// Distinct is how many distinct pieces of content the items are draws
	// of, and Senders how many accounts sent them: the sample a rate really
	// rests on (older files lack both).
	Distinct, Senders int
	// RecallLo and RecallHi are Recall's 95% interval from a bootstrap over
	// senders (NaN in older files, and when there are no items).
	RecallLo, RecallHi float64
	// Confirmed, PreventedAfterFlag and FlaggedUnseen split the items the
	// metadata detector is credited with (delivered at or after their
	// sender's first flag) by what the flag led to: a reviewer read the
	// content (serverscan), the restriction of the flagged account's
	// contact with minors stopped it, or it was delivered unseen. Set on
	// server-metadata and "any" rows; "any" counts the first two as caught.
	Confirmed, PreventedAfterFlag, FlaggedUnseen int
}

func coverageColumns[R any](row func(*R) *CoverageRow) []Column[R] {
	return []Column[R]{
		Text("mode", func(r *R) *string { return &row(r).Mode }),
		Enum("class", func(r *R) *corpus.ContentClass { return &row(r).Class }, Classes),
		Enum("pathway", func(r *R) *scanlab.Pathway { return &row(r).Pathway }, Pathways),
		Count("items", func(r *R) *int { return &row(r).Items }),
		Count("detected", func(r *R) *int { return &row(r).Detected }),
		Fraction("recall", Fixed(6), func(r *R) *float64 { return &row(r).Recall }),
		OptCount("median_messages_to_detection", func(r *R) *Opt[int] { return &row(r).MedianToDetection }),
		Optional(Count("distinct", func(r *R) *int { return &row(r).Distinct })),
		Optional(Count("senders", func(r *R) *int { return &row(r).Senders })),
		Optional(OptFraction("recall_lo", Fixed(6), func(r *R) *float64 { return &row(r).RecallLo })),
		Optional(OptFraction("recall_hi", Fixed(6), func(r *R) *float64 { return &row(r).RecallHi })),
		Optional(Count("confirmed", func(r *R) *int { return &row(r).Confirmed })),
		Optional(Count("prevented_after_flag", func(r *R) *int { return &row(r).PreventedAfterFlag })),
		Optional(Count("flagged_unseen", func(r *R) *int { return &row(r).FlaggedUnseen })),
	}
}

func (c *CoverageRow) check() error {
	return firstError(
		atMost("detected", c.Detected, "items", c.Items),
		atMost("confirmed + prevented_after_flag + flagged_unseen", c.Confirmed+c.PreventedAfterFlag+c.FlaggedUnseen, "items", c.Items),
		inInterval("recall", c.Recall, c.RecallLo, c.RecallHi),
	)
}

// inInterval refuses an estimate outside its interval (NaN bounds: none).
func inInterval(name string, v, lo, hi float64) error {
	if lo == lo && hi == hi && !(lo <= v+1e-9 && v <= hi+1e-9) {
		return fmt.Errorf("%s %v lies outside its interval [%v, %v]", name, v, lo, hi)
	}
	return nil
}

// atMost refuses a count larger than the count it is part of.
func atMost(part string, p int, whole string, w int) error {
	if p > w {
		return fmt.Errorf("%s (%d) exceeds %s (%d)", part, p, whole, w)
	}
	return nil
}

// Coverage is coverage/coverage.csv: the base configuration's detections
// per mode, class and pathway.
var Coverage = &File[CoverageRow]{
	Path:    "coverage/coverage.csv",
	Doc:     "one mode, content class and pathway in the base configuration: items delivered and detected",
	Columns: coverageColumns(func(r *CoverageRow) *CoverageRow { return r }),
	Check:   (*CoverageRow).check,
}

// Variant names one configuration of the coverage sweep: the swept
// parameter ("base" for the defaults) and its value as the sweep names it
// ("default", "0.001", "0.05;t=5").
type Variant struct {
	Sweep, Value string
}

// BaseVariant is the sweep's default configuration.
var BaseVariant = Variant{Sweep: "base", Value: "default"}

func variantColumns[R any](v func(*R) *Variant) []Column[R] {
	return []Column[R]{
		Text("sweep", func(r *R) *string { return &v(r).Sweep }),
		Text("value", func(r *R) *string { return &v(r).Value }),
	}
}

// CoverageSweepRow is one row of coverage/coverage-sweeps.csv: a
// [CoverageRow] of one configuration of the sweep.
type CoverageSweepRow struct {
	CoverageRow
	Variant
}

// CoverageSweeps is coverage/coverage-sweeps.csv: coverage.csv's rows for
// every configuration of the sweep, the base included.
var CoverageSweeps = &File[CoverageSweepRow]{
	Path: "coverage/coverage-sweeps.csv",
	Doc:  "coverage.csv's row for one configuration of the sweep",
	Columns: append(coverageColumns(func(r *CoverageSweepRow) *CoverageRow { return &r.CoverageRow }),
		variantColumns(func(r *CoverageSweepRow) *Variant { return &r.Variant })...),
	Check: func(r *CoverageSweepRow) error { return r.check() },
}

// AccountsRow is one row of coverage/accounts.csv: in one mode and
// configuration, one group of accounts and how many were flagged. Groups
// are "offender" and "offender/ARCHETYPE", and the innocent groups
// "benign-adult", "minor", "lookalike" (benign adults with many minor
// contacts: teachers, coaches, parents) and "framed" (innocent senders of a
// collision image). For innocent groups Flagged is the false-flag count.
type AccountsRow struct {
	Mode string
	Variant
	Group    string
	Accounts int
	// Flagged counts accounts an automated pathway flagged (the metadata
	// detector at the operating point, or a content scanner), with its 95%
	// Clopper–Pearson interval.
	Flagged              int
	FlaggedLo, FlaggedHi float64
	// FlaggedMetadata and FlaggedContent split Flagged by what flagged the
	// account (an account may be flagged by both).
	FlaggedMetadata, FlaggedContent int
	// Reported counts accounts named by a verified user report.
	Reported int
	// MedianDaysToFlag is the median, over flagged accounts, of the days
	// from the start of the period to the first automated flag;
	// MedianMessagesToFlag the median number of harmful messages a flagged
	// offender had sent before it (absent for innocent groups and when no
	// account was flagged).
	MedianDaysToFlag     float64
	MedianMessagesToFlag Opt[int]
}

// Groups of coverage/accounts.csv.
const (
	GroupOffender    = "offender"
	GroupBenignAdult = "benign-adult"
	GroupMinor       = "minor"
	GroupLookalike   = "lookalike"
	GroupFramed      = "framed"
)

// Accounts is coverage/accounts.csv.
var Accounts = &File[AccountsRow]{
	Path: "coverage/accounts.csv",
	Doc:  "one group of accounts per mode and configuration: how many, and how many each kind of pathway flagged",
	Columns: append([]Column[AccountsRow]{Text("mode", func(r *AccountsRow) *string { return &r.Mode })},
		append(variantColumns(func(r *AccountsRow) *Variant { return &r.Variant }),
			Text("group", func(r *AccountsRow) *string { return &r.Group }),
			Count("accounts", func(r *AccountsRow) *int { return &r.Accounts }),
			Count("flagged", func(r *AccountsRow) *int { return &r.Flagged }),
			Fraction("flagged_lo", Fixed(6), func(r *AccountsRow) *float64 { return &r.FlaggedLo }),
			Fraction("flagged_hi", Fixed(6), func(r *AccountsRow) *float64 { return &r.FlaggedHi }),
			Count("flagged_metadata", func(r *AccountsRow) *int { return &r.FlaggedMetadata }),
			Count("flagged_content", func(r *AccountsRow) *int { return &r.FlaggedContent }),
			Count("reported", func(r *AccountsRow) *int { return &r.Reported }),
			OptNumber("median_days_to_flag", Fixed(2), func(r *AccountsRow) *float64 { return &r.MedianDaysToFlag }),
			OptCount("median_messages_to_flag", func(r *AccountsRow) *Opt[int] { return &r.MedianMessagesToFlag }),
		)...),
	Check: func(r *AccountsRow) error {
		return firstError(
			atMost("flagged", r.Flagged, "accounts", r.Accounts),
			atMost("flagged_metadata", r.FlaggedMetadata, "flagged", r.Flagged),
			atMost("flagged_content", r.FlaggedContent, "flagged", r.Flagged),
			atMost("reported", r.Reported, "accounts", r.Accounts),
		)
	},
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// PreventionRow is one row of coverage/prevention.csv: in one mode and
// configuration, what the recipients' direct-message policies stopped
// before delivery, and what was delivered and detected.
type PreventionRow struct {
	Mode string
	Variant
	HarmfulAttempts  int // harmful messages senders tried to send
	HarmfulPrevented int // refused by the recipient's DM policy
	HarmfulDelivered int
	HarmfulDetected  int // delivered and flagged by any pathway
	BenignAttempts   int
	BenignPrevented  int // benign messages the policy refused too
	// HarmfulPreventedAfterFlag counts delivered harmful messages the
	// restriction of a flagged account would have stopped (older files
	// lack it).
	HarmfulPreventedAfterFlag int
	// PreventedLo and PreventedHi are the 95% interval of the share of
	// harmful attempts the DM policies prevented, from a bootstrap over
	// senders (NaN in older files).
	PreventedLo, PreventedHi float64
}

// Prevention is coverage/prevention.csv.
var Prevention = &File[PreventionRow]{
	Path: "coverage/prevention.csv",
	Doc:  "messages the recipients' DM policies prevented, per mode and configuration",
	Columns: append([]Column[PreventionRow]{Text("mode", func(r *PreventionRow) *string { return &r.Mode })},
		append(variantColumns(func(r *PreventionRow) *Variant { return &r.Variant }),
			Count("harmful_attempts", func(r *PreventionRow) *int { return &r.HarmfulAttempts }),
			Count("harmful_prevented", func(r *PreventionRow) *int { return &r.HarmfulPrevented }),
			Count("harmful_delivered", func(r *PreventionRow) *int { return &r.HarmfulDelivered }),
			Count("harmful_detected", func(r *PreventionRow) *int { return &r.HarmfulDetected }),
			Count("benign_attempts", func(r *PreventionRow) *int { return &r.BenignAttempts }),
			Count("benign_prevented", func(r *PreventionRow) *int { return &r.BenignPrevented }),
			Optional(Count("harmful_prevented_after_flag", func(r *PreventionRow) *int { return &r.HarmfulPreventedAfterFlag })),
			Optional(OptFraction("harmful_prevented_lo", Fixed(6), func(r *PreventionRow) *float64 { return &r.PreventedLo })),
			Optional(OptFraction("harmful_prevented_hi", Fixed(6), func(r *PreventionRow) *float64 { return &r.PreventedHi })),
		)...),
	Check: func(r *PreventionRow) error {
		if r.HarmfulPrevented+r.HarmfulDelivered != r.HarmfulAttempts {
			return fmt.Errorf("harmful_prevented (%d) + harmful_delivered (%d) ≠ harmful_attempts (%d)", r.HarmfulPrevented, r.HarmfulDelivered, r.HarmfulAttempts)
		}
		return firstError(
			atMost("harmful_detected", r.HarmfulDetected, "harmful_delivered", r.HarmfulDelivered),
			atMost("benign_prevented", r.BenignPrevented, "benign_attempts", r.BenignAttempts),
		)
	},
}

// SensitivityRow is one row of coverage/sensitivity.csv: coverage under one
// assumed offender model and detector threshold, so that a finding can say
// how much it depends on what was assumed.
type SensitivityRow struct {
	Mode string
	// OffenderModel names the assumed offender behaviour.
	OffenderModel string
	// Stealth is the assumed share of offenders who avoid detectable
	// behaviour, between 0 and 1.
	Stealth float64
	// DetectorThreshold is the metadata detector's threshold.
	DetectorThreshold float64
	// OffenderRecall is the share of offender accounts flagged.
	OffenderRecall float64
	// ItemRecall is the share of harmful items flagged, with its 95%
	// interval [ItemRecallLo, ItemRecallHi].
	ItemRecall, ItemRecallLo, ItemRecallHi float64
	// FalseFlagRate is the share of innocent accounts flagged, and
	// FalseFlagHi its 95% upper bound.
	FalseFlagRate, FalseFlagHi float64
	// Offenders, Items and Innocent are the counts behind the three rates
	// (older files lack them), and OffenderRecallLo/Hi the offender
	// recall's 95% interval.
	Offenders, Items, Innocent         int
	OffenderRecallLo, OffenderRecallHi float64
}

// Sensitivity is coverage/sensitivity.csv.
var Sensitivity = &File[SensitivityRow]{
	Path: "coverage/sensitivity.csv",
	Doc:  "coverage under one assumed offender model, stealth and detector threshold",
	Columns: []Column[SensitivityRow]{
		Text("mode", func(r *SensitivityRow) *string { return &r.Mode }),
		Text("offender_model", func(r *SensitivityRow) *string { return &r.OffenderModel }),
		Fraction("stealth", Shortest, func(r *SensitivityRow) *float64 { return &r.Stealth }),
		Number("detector_threshold", Shortest, func(r *SensitivityRow) *float64 { return &r.DetectorThreshold }),
		Fraction("offender_recall", Fixed(6), func(r *SensitivityRow) *float64 { return &r.OffenderRecall }),
		Fraction("item_recall", Fixed(6), func(r *SensitivityRow) *float64 { return &r.ItemRecall }),
		Fraction("item_recall_lo", Fixed(6), func(r *SensitivityRow) *float64 { return &r.ItemRecallLo }),
		Fraction("item_recall_hi", Fixed(6), func(r *SensitivityRow) *float64 { return &r.ItemRecallHi }),
		Fraction("false_flag_rate", Fixed(6), func(r *SensitivityRow) *float64 { return &r.FalseFlagRate }),
		Fraction("false_flag_hi", Fixed(6), func(r *SensitivityRow) *float64 { return &r.FalseFlagHi }),
		Optional(Count("offenders", func(r *SensitivityRow) *int { return &r.Offenders })),
		Optional(Count("items", func(r *SensitivityRow) *int { return &r.Items })),
		Optional(Count("innocent", func(r *SensitivityRow) *int { return &r.Innocent })),
		Optional(OptFraction("offender_recall_lo", Fixed(6), func(r *SensitivityRow) *float64 { return &r.OffenderRecallLo })),
		Optional(OptFraction("offender_recall_hi", Fixed(6), func(r *SensitivityRow) *float64 { return &r.OffenderRecallHi })),
	},
	Check: func(r *SensitivityRow) error {
		if !(r.ItemRecallLo <= r.ItemRecall && r.ItemRecall <= r.ItemRecallHi) {
			return fmt.Errorf("item_recall %v lies outside its interval [%v, %v]", r.ItemRecall, r.ItemRecallLo, r.ItemRecallHi)
		}
		if r.FalseFlagRate > r.FalseFlagHi {
			return fmt.Errorf("false_flag_rate %v exceeds its upper bound %v", r.FalseFlagRate, r.FalseFlagHi)
		}
		return nil
	},
}

// TextsRow is one row of coverage/texts.csv: how serverscan's text
// scanner judged one category of a text set that was written apart from
// its rules (the held-out templates) or drawn from the workload's own.
// Rate is the share flagged — recall for a harm category, the
// false-positive rate for "benign" — with a 95% interval from a bootstrap
// over templates (texts of one template are not independent).
type TextsRow struct {
	Set       string // "held-out" or "workload"
	Category  string // a harm category, "harmful" (all of them) or "benign"
	Items     int
	Templates int
	Flagged   int
	Rate      float64
	Lo, Hi    float64
}

// Texts is coverage/texts.csv.
var Texts = &File[TextsRow]{
	Path: "coverage/texts.csv",
	Doc:  "serverscan's text scanner on one category of a text set: items flagged, with an interval over templates",
	Columns: []Column[TextsRow]{
		Text("set", func(r *TextsRow) *string { return &r.Set }),
		Text("category", func(r *TextsRow) *string { return &r.Category }),
		Count("items", func(r *TextsRow) *int { return &r.Items }),
		Count("templates", func(r *TextsRow) *int { return &r.Templates }),
		Count("flagged", func(r *TextsRow) *int { return &r.Flagged }),
		Fraction("rate", Fixed(6), func(r *TextsRow) *float64 { return &r.Rate }),
		Fraction("lo", Fixed(6), func(r *TextsRow) *float64 { return &r.Lo }),
		Fraction("hi", Fixed(6), func(r *TextsRow) *float64 { return &r.Hi }),
	},
	Check: func(r *TextsRow) error {
		return firstError(atMost("flagged", r.Flagged, "items", r.Items), inInterval("rate", r.Rate, r.Lo, r.Hi))
	},
}

// PooledRow is one row of coverage/pooled.csv: in one mode and
// configuration, every harmful item offenders delivered, pooled over
// classes: how many any pathway caught, with an interval from a bootstrap
// over offenders, and the share of what serverscan caught that this mode
// lost, with a paired interval (the same offenders resampled for both).
type PooledRow struct {
	Mode string
	Variant
	Items, Senders, Caught int
	Rate, Lo, Hi           float64
	// Loss is 1 − caught here ÷ caught by serverscan on the same workload,
	// with its 95% interval; NaN for serverscan itself and for a cell
	// serverscan did not run in.
	Loss, LossLo, LossHi float64
}

// Pooled is coverage/pooled.csv.
var Pooled = &File[PooledRow]{
	Path: "coverage/pooled.csv",
	Doc:  "one mode and configuration: harmful items caught by any pathway, and the share of serverscan's catch lost",
	Columns: append([]Column[PooledRow]{Text("mode", func(r *PooledRow) *string { return &r.Mode })},
		append(variantColumns(func(r *PooledRow) *Variant { return &r.Variant }),
			Count("items", func(r *PooledRow) *int { return &r.Items }),
			Count("senders", func(r *PooledRow) *int { return &r.Senders }),
			Count("items_caught", func(r *PooledRow) *int { return &r.Caught }),
			Fraction("rate", Fixed(6), func(r *PooledRow) *float64 { return &r.Rate }),
			Fraction("lo", Fixed(6), func(r *PooledRow) *float64 { return &r.Lo }),
			Fraction("hi", Fixed(6), func(r *PooledRow) *float64 { return &r.Hi }),
			OptNumber("loss_vs_serverscan", Fixed(6), func(r *PooledRow) *float64 { return &r.Loss }),
			OptNumber("loss_lo", Fixed(6), func(r *PooledRow) *float64 { return &r.LossLo }),
			OptNumber("loss_hi", Fixed(6), func(r *PooledRow) *float64 { return &r.LossHi }),
		)...),
	Check: func(r *PooledRow) error {
		return firstError(atMost("items_caught", r.Caught, "items", r.Items), inInterval("rate", r.Rate, r.Lo, r.Hi),
			inInterval("loss_vs_serverscan", r.Loss, r.LossLo, r.LossHi))
	},
}
