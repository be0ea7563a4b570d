package schema

// EvasionRow is one row of evasion/evasion.csv: how many references still
// match their own hash after one transform or attack, at one threshold.
// Rows whose transform starts with "attack" are attacks: their strength is
// the PSNR floor in dB and the attack columns are set; for
// "attack-collide", Matched counts benign images that now match their
// target (the framing success).
type EvasionRow struct {
	Algo      string // the perceptual hash: "pdq" or "phash"
	Transform string // Thorn's transform name, or "attack-evade", "attack-collide"
	// Strength is the transform's strength (a blur's σ, a JPEG quality),
	// NaN for a transform without one.
	Strength  float64
	Threshold int // Hamming distance in bits at or below which a pair matches
	Items     int // references edited
	Matched   int // edited images within Threshold of their reference
	Recall    float64
	// PSNR is the mean peak signal-to-noise ratio of the edit in dB, NaN
	// when the edit changes the size.
	PSNR float64
	// SSIM is the attacks' mean structural similarity, NaN otherwise.
	SSIM float64
	// Queries is an attack's median number of oracle queries.
	Queries Opt[int]
	// Success is the share of attacks that reached their goal, and
	// SuccessJPEG95 the share that still did after re-encoding the output
	// as JPEG at quality 95; NaN for transforms.
	Success, SuccessJPEG95 float64
}

// Evasion is evasion/evasion.csv.
var Evasion = &File[EvasionRow]{
	Path: "evasion/evasion.csv",
	Doc:  "one hash, transform or attack and threshold: references edited and still matched",
	Columns: []Column[EvasionRow]{
		Text("algo", func(r *EvasionRow) *string { return &r.Algo }),
		Text("transform", func(r *EvasionRow) *string { return &r.Transform }),
		OptNumber("strength", ShortestG, func(r *EvasionRow) *float64 { return &r.Strength }),
		Count("threshold", func(r *EvasionRow) *int { return &r.Threshold }),
		Count("items", func(r *EvasionRow) *int { return &r.Items }),
		Count("matched", func(r *EvasionRow) *int { return &r.Matched }),
		Fraction("recall", Fixed(4), func(r *EvasionRow) *float64 { return &r.Recall }),
		OptDecibels("psnr", Fixed(2), func(r *EvasionRow) *float64 { return &r.PSNR }),
		OptNumber("ssim", Fixed(4), func(r *EvasionRow) *float64 { return &r.SSIM }),
		OptCount("queries", func(r *EvasionRow) *Opt[int] { return &r.Queries }),
		OptFraction("success", Fixed(4), func(r *EvasionRow) *float64 { return &r.Success }),
		OptFraction("success_jpeg95", Fixed(4), func(r *EvasionRow) *float64 { return &r.SuccessJPEG95 }),
	},
	Check: func(r *EvasionRow) error { return atMost("matched", r.Matched, "items", r.Items) },
}

// IsAttack reports whether the row is an attack rather than a transform.
func (r EvasionRow) IsAttack() bool { return len(r.Transform) >= 6 && r.Transform[:6] == "attack" }

// ThornMetricRow is one row of evasion/thorn-metric.csv: Thorn's own
// metric for one hash and transform — recall at 99.99% precision, where
// each edited image's positive distance is to its own reference and its
// negative distance to the nearest other reference of the same category —
// beside Thorn's published figure for the same transform.
type ThornMetricRow struct {
	Algo, Transform string
	Strength        float64 // NaN when the transform has none
	Items           int
	// Threshold is the distance in bits this metric chose, absent when
	// even the smallest positive distance misses the precision target.
	Threshold Opt[int]
	// Recall and Precision are percentages; Precision is NaN when no
	// threshold qualifies.
	Recall, Precision float64
	// ThornRecall (percent) and ThornThreshold (bits) are Thorn's
	// published figures, NaN and absent for transforms Thorn did not
	// publish.
	ThornRecall    float64
	ThornThreshold Opt[int]
}

// ThornMetric is evasion/thorn-metric.csv.
var ThornMetric = &File[ThornMetricRow]{
	Path: "evasion/thorn-metric.csv",
	Doc:  "Thorn's recall-at-99.99%-precision metric for one hash and transform, beside Thorn's published figure",
	Columns: []Column[ThornMetricRow]{
		Text("algo", func(r *ThornMetricRow) *string { return &r.Algo }),
		Text("transform", func(r *ThornMetricRow) *string { return &r.Transform }),
		OptNumber("strength", ShortestG, func(r *ThornMetricRow) *float64 { return &r.Strength }),
		Count("items", func(r *ThornMetricRow) *int { return &r.Items }),
		OptCount("threshold", func(r *ThornMetricRow) *Opt[int] { return &r.Threshold }),
		Percent("recall", Fixed(3), func(r *ThornMetricRow) *float64 { return &r.Recall }),
		OptPercent("precision", Fixed(3), func(r *ThornMetricRow) *float64 { return &r.Precision }),
		OptPercent("thorn_recall", Fixed(3), func(r *ThornMetricRow) *float64 { return &r.ThornRecall }),
		OptCount("thorn_threshold", func(r *ThornMetricRow) *Opt[int] { return &r.ThornThreshold }),
	},
}
