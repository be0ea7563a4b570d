package platform

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/corpus"
	"scanlab/e2ee"
	"scanlab/hybrid"
	"scanlab/serverscan"
)

// Run is what an experiment needs of a platform's design, with a value for
// every field: plain values, so that an experiment reads them without
// knowing the preset format.
type Run struct {
	// Platform is the preset's name.
	Platform string
	// Mode is the mode of one-to-one messages: serverscan.Name, e2ee.Name
	// or clientscan.Name when every conversation uses it, hybrid.Name when
	// a share of conversations opts in to encryption.
	Mode string
	// EncryptedShare is the share of eligible conversations that are end
	// to end encrypted: 1 for e2ee and clientscan, 0 for serverscan, the
	// opt-in share for hybrid.
	EncryptedShare float64
	// OptIn is who may opt in (hybrid only; "" otherwise), and PayingShare
	// the share of users who pay when only they may.
	OptIn       OptInWho
	PayingShare float64
	// SealedSender, SafetyNumbers and KeyTransparency apply to the
	// encrypted conversations; all false when there are none.
	SealedSender, SafetyNumbers, KeyTransparency bool
	// DM is who may start a conversation by default.
	DM DMDefaults
	// Reports says what a report gives the provider in each kind of
	// conversation.
	Reports Reports
	// Scan is what the provider scans in clear conversations; all false
	// when there are none.
	Scan Scan
}

// DMDefaults is the direct-message setting accounts start with. Which
// share of users keeps it is not platform data; experiments sweep it.
type DMDefaults struct {
	Adults, Minors corpus.DMPolicy
}

// Reports is what a report gives the provider, per kind of conversation;
// "" when the platform has no conversation of that kind.
type Reports struct {
	Clear, Encrypted Report
}

// Scan is what the provider scans in clear one-to-one messages.
type Scan struct {
	// Hash: images matched against a hash list (pathway server-hash).
	Hash bool
	// Text: classifiers over the text (pathway server-text).
	Text bool
}

// Config returns the run configuration with choice giving a value for each
// field of [Preset.Undocumented] (by key, written as in a preset: "true",
// "0.25", "friends"), each within the field's range. A missing, extra or
// out-of-range choice is an error naming the key.
func (p *Preset) Config(choice map[string]string) (Run, error) {
	vals, err := p.values(choice)
	if err != nil {
		return Run{}, fmt.Errorf("platform: %s: %w", p.Slug, err)
	}
	r := Run{Platform: p.Name, Mode: vals[KeyDefaultMode].(string), EncryptedShare: 1,
		SealedSender: flag(vals, KeySealedSender), SafetyNumbers: flag(vals, KeySafetyNumbers), KeyTransparency: flag(vals, KeyKeyTransparency),
		DM:      DMDefaults{Adults: corpus.DMPolicy(vals[KeyDMAdults].(string)), Minors: corpus.DMPolicy(vals[KeyDMMinors].(string))},
		Reports: Reports{Clear: report(vals, KeyReportClear), Encrypted: report(vals, KeyReportEncrypted)},
		Scan:    Scan{Hash: flag(vals, KeyScanHash), Text: flag(vals, KeyScanText)}}
	if r.Mode == ModeServerscan {
		r.EncryptedShare = vals[KeyOptInShare].(float64)
		if r.EncryptedShare > 0 {
			r.Mode = hybrid.Name
			r.OptIn = OptInWho(vals[KeyOptInWho].(string))
		}
		if r.OptIn == OptInPaying {
			r.PayingShare = vals[KeyPayingShare].(float64)
		}
	}
	return r, nil
}

// values returns every swept field's value: documented, chosen, or nil
// when not applicable.
func (p *Preset) values(choice map[string]string) (map[string]any, error) {
	vals := map[string]any{}
	var errs []error
	swept := map[string]bool{}
	for _, f := range p.Fields() {
		switch f.State {
		case Documented:
			vals[f.Key] = f.Value
		case Undocumented:
			if f.Key == KeyMetadata {
				continue
			}
			swept[f.Key] = true
			c, ok := choice[f.Key]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: undocumented, so the run needs a value from its range %s", f.Key, formatRange(f)))
				continue
			}
			v, err := f.choose(c)
			if err != nil {
				errs = append(errs, err)
			}
			vals[f.Key] = v
		}
	}
	for _, k := range sortedKeys(choice) {
		if !swept[k] {
			errs = append(errs, fmt.Errorf("%s: not an undocumented field of this preset, so it takes no chosen value", k))
		}
	}
	return vals, errors.Join(errs...)
}

// choose parses s as a value of f within its range.
func (f Field) choose(s string) (any, error) {
	spec, _ := SpecOf(f.Key)
	var v any = s
	switch spec.Kind {
	case Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not true or false", f.Key, s)
		}
		v = b
	case Share:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || !(x >= f.Range[0].(float64) && x <= f.Range[1].(float64)) {
			return nil, fmt.Errorf("%s: %q is outside its range %s", f.Key, s, formatRange(f))
		}
		return x, nil
	}
	if !slices.Contains(f.Range, v) {
		return nil, fmt.Errorf("%s: %q is outside its range %s", f.Key, s, formatRange(f))
	}
	return v, nil
}

func flag(vals map[string]any, key string) bool {
	b, _ := vals[key].(bool)
	return b
}

func report(vals map[string]any, key string) Report {
	s, _ := vals[key].(string)
	return Report(s)
}

// Points returns the values an undocumented field is swept at, written as
// a preset writes them: every candidate of a Choice or Bool field; the
// ends and the midpoint of a Share field's range. The first is the
// baseline: the first candidate, or the midpoint.
func (f Field) Points() []string {
	spec, _ := SpecOf(f.Key)
	if spec.Kind == Share {
		lo, hi := f.Range[0].(float64), f.Range[1].(float64)
		pts := []string{format((lo + hi) / 2)}
		for _, x := range []float64{lo, hi} {
			if s := format(x); !slices.Contains(pts, s) {
				pts = append(pts, s)
			}
		}
		return pts
	}
	pts := make([]string, len(f.Range))
	for i, v := range f.Range {
		pts[i] = format(v)
	}
	return pts
}

func format(v any) string {
	if x, ok := v.(float64); ok {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

func formatRange(f Field) string {
	s := make([]string, len(f.Range))
	for i, v := range f.Range {
		s[i] = format(v)
	}
	return fmt.Sprint(s)
}

// Variant is one run configuration of a preset: the baseline (Field "")
// or one undocumented field moved to another value of its range.
type Variant struct {
	Field, Value string
	Run          Run
}

// Baseline returns the choice that puts every undocumented field at its
// baseline (the first of [Field.Points]).
func (p *Preset) Baseline() map[string]string {
	c := map[string]string{}
	for _, f := range p.Undocumented() {
		c[f.Key] = f.Points()[0]
	}
	return c
}

// Variants returns the baseline run, then, for each undocumented field in
// the order of [Fields], one run per other point of its sweep with every
// other field at its baseline: the one-at-a-time sweep that shows how much
// a platform's measured row rests on what the platform does not publish.
func (p *Preset) Variants() ([]Variant, error) {
	base := p.Baseline()
	r, err := p.Config(base)
	if err != nil {
		return nil, err
	}
	out := []Variant{{Run: r}}
	for _, f := range p.Undocumented() {
		for _, v := range f.Points()[1:] {
			c := maps(base)
			c[f.Key] = v
			r, err := p.Config(c)
			if err != nil {
				return nil, err
			}
			out = append(out, Variant{Field: f.Key, Value: v, Run: r})
		}
	}
	return out, nil
}

func maps(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Truth is the workload's ground truth that deciding who opts in needs. It
// never reaches the provider.
type Truth struct {
	// Offender and Minor tell offenders and minors apart (Minor is needed
	// when only adults may opt in).
	Offender, Minor func(scanlab.UserID) bool
	// OffenderFactor is the adverse-selection knob of [hybrid.OptIn]: 1 is
	// uniform opt-in. No platform publishes it; experiments sweep it.
	OffenderFactor float64
	// Seed keys the opt-in draws.
	Seed uint64
	// Choose, if set, replaces a hybrid run's opt-in draw: to measure
	// one kind of its conversations at a time.
	Choose hybrid.Choose
}

// payingSalt separates the paying-user draw from the conversation draw.
const payingSalt = 0x70617969_6e672121

// Chooser returns which conversations are end-to-end encrypted in this
// run: all for e2ee and clientscan, none for serverscan, and for hybrid
// the [hybrid.OptIn] draw at EncryptedShare among eligible conversations —
// both users adults, or both paying (each user pays with probability
// PayingShare, drawn from t.Seed), as OptIn says — unless t.Choose is set.
func (r Run) Chooser(t Truth) (hybrid.Choose, error) {
	switch r.Mode {
	case e2ee.Name, clientscan.Name:
		return func(scanlab.UserID, scanlab.UserID) bool { return true }, nil
	case serverscan.Name:
		return func(scanlab.UserID, scanlab.UserID) bool { return false }, nil
	case hybrid.Name:
		if t.Choose != nil {
			return t.Choose, nil
		}
	default:
		return nil, fmt.Errorf("platform: %s: unknown mode %q", r.Platform, r.Mode)
	}
	var eligible func(a, b scanlab.UserID) bool
	switch r.OptIn {
	case OptInAdults:
		if t.Minor == nil {
			return nil, fmt.Errorf("platform: %s: only adults may opt in, and the truth has no Minor", r.Platform)
		}
		eligible = func(a, b scanlab.UserID) bool { return !t.Minor(a) && !t.Minor(b) }
	case OptInPaying:
		pays := func(u scanlab.UserID) bool { return hybrid.Coin(t.Seed^payingSalt, u, "") < r.PayingShare }
		eligible = func(a, b scanlab.UserID) bool { return pays(a) && pays(b) }
	}
	c, err := hybrid.OptIn{Share: r.EncryptedShare, OffenderFactor: t.OffenderFactor, Seed: t.Seed}.Chooser(t.Offender, eligible)
	if err != nil {
		return nil, fmt.Errorf("platform: %s: %w", r.Platform, err)
	}
	return c, nil
}
