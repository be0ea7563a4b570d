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
}

func coverageColumns[R any](row func(*R) *CoverageRow) []Column[R] {
	return []Column[R]{
		Text("mode", func(r *R) *string { return &row(r).Mode }),
		Enum("class", func(r *R) *corpus.ContentClass { return &row(r).Class }, Classes),
		Enum("pathway", func(r *R) *scanlab.Pathway { return &row(r).Pathway }, Pathways),
		Count("items", func(r *R) *int { return &row(r).Items }),
		Count("detected", func(r *R) *int { return &row(r).Detected }),
		Fraction("recall", Fixed(4), func(r *R) *float64 { return &row(r).Recall }),
		OptCount("median_messages_to_detection", func(r *R) *Opt[int] { return &row(r).MedianToDetection }),
	}
}

func (c *CoverageRow) check() error { return atMost("detected", c.Detected, "items", c.Items) }

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

// FalseFlagRow is one row of coverage/falseflag.csv: the chance that an
// innocent account is flagged by threshold matching, P[Binomial(Images,
// PImage) > T] as the PSI code computes it (the account is revealed at its
// (T+1)-th false match).
type FalseFlagRow struct {
	T int // the threshold
	// Library is the size of the hash list the per-image rate was
	// measured against.
	Library int
	// Images is the number of images the account sends.
	Images int
	// PImage is the per-image false-match probability: measured, or a 95%
	// upper bound when no benign image matched (see Basis).
	PImage float64
	// PAccount is the per-account probability.
	PAccount float64
	// Basis is "measured" or "upper-95%-bound".
	Basis string
	// MeasuredOn is how many benign images PImage was measured on.
	MeasuredOn int
}

// Bases of a false-flag row's per-image probability.
const (
	BasisMeasured   = "measured"
	BasisUpperBound = "upper-95%-bound"
)

// Bound reports whether PImage, and so PAccount, is an upper bound.
func (f FalseFlagRow) Bound() bool { return f.Basis == BasisUpperBound }

// FalseFlag is coverage/falseflag.csv.
var FalseFlag = &File[FalseFlagRow]{
	Path: "coverage/falseflag.csv",
	Doc:  "per-account false-flag probability at one threshold, list size and photo count",
	Columns: []Column[FalseFlagRow]{
		Count("t", func(r *FalseFlagRow) *int { return &r.T }),
		Count("library", func(r *FalseFlagRow) *int { return &r.Library }),
		Count("images", func(r *FalseFlagRow) *int { return &r.Images }),
		Fraction("p_image", General6, func(r *FalseFlagRow) *float64 { return &r.PImage }),
		Fraction("p_account", General6, func(r *FalseFlagRow) *float64 { return &r.PAccount }),
		Enum("p_image_basis", func(r *FalseFlagRow) *string { return &r.Basis }, []string{BasisMeasured, BasisUpperBound}),
		Count("p_image_measured_on", func(r *FalseFlagRow) *int { return &r.MeasuredOn }),
	},
}

// AccountsRow is one row of coverage/accounts.csv: in one mode and
// configuration, how many accounts of each kind there were and how many
// were flagged by any pathway. Framed and look-alike accounts are innocent
// accounts too.
type AccountsRow struct {
	Mode string
	Variant
	Offenders, OffendersFlagged   int
	Innocent, InnocentFlagged     int
	Framed, FramedFlagged         int // innocent accounts that received a collision image
	Lookalikes, LookalikesFlagged int // innocent accounts whose behaviour resembles an offender's
}

// Accounts is coverage/accounts.csv.
var Accounts = &File[AccountsRow]{
	Path: "coverage/accounts.csv",
	Doc:  "accounts of each kind and how many any pathway flagged, per mode and configuration",
	Columns: append([]Column[AccountsRow]{Text("mode", func(r *AccountsRow) *string { return &r.Mode })},
		append(variantColumns(func(r *AccountsRow) *Variant { return &r.Variant }),
			Count("offenders", func(r *AccountsRow) *int { return &r.Offenders }),
			Count("offenders_flagged", func(r *AccountsRow) *int { return &r.OffendersFlagged }),
			Count("innocent", func(r *AccountsRow) *int { return &r.Innocent }),
			Count("innocent_flagged", func(r *AccountsRow) *int { return &r.InnocentFlagged }),
			Count("framed", func(r *AccountsRow) *int { return &r.Framed }),
			Count("framed_flagged", func(r *AccountsRow) *int { return &r.FramedFlagged }),
			Count("lookalikes", func(r *AccountsRow) *int { return &r.Lookalikes }),
			Count("lookalikes_flagged", func(r *AccountsRow) *int { return &r.LookalikesFlagged }),
		)...),
	Check: func(r *AccountsRow) error {
		return firstError(
			atMost("offenders_flagged", r.OffendersFlagged, "offenders", r.Offenders),
			atMost("innocent_flagged", r.InnocentFlagged, "innocent", r.Innocent),
			atMost("framed_flagged", r.FramedFlagged, "framed", r.Framed),
			atMost("lookalikes_flagged", r.LookalikesFlagged, "lookalikes", r.Lookalikes),
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
		Fraction("offender_recall", Fixed(4), func(r *SensitivityRow) *float64 { return &r.OffenderRecall }),
		Fraction("item_recall", Fixed(4), func(r *SensitivityRow) *float64 { return &r.ItemRecall }),
		Fraction("item_recall_lo", Fixed(4), func(r *SensitivityRow) *float64 { return &r.ItemRecallLo }),
		Fraction("item_recall_hi", Fixed(4), func(r *SensitivityRow) *float64 { return &r.ItemRecallHi }),
		Fraction("false_flag_rate", Fixed(4), func(r *SensitivityRow) *float64 { return &r.FalseFlagRate }),
		Fraction("false_flag_hi", Fixed(4), func(r *SensitivityRow) *float64 { return &r.FalseFlagHi }),
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
