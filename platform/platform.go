// Package platform holds what public sources say about how six platforms
// handle one-to-one messages — TikTok, Signal, WhatsApp, Messenger,
// Instagram and X — as presets, and turns a preset into the configuration
// an experiment runs ([Run]): which mode applies to one-to-one messages (or
// which share opts in to encryption), sealed sender, key verification,
// direct-message defaults for adults and minors, what a report carries and
// what the provider scans.
//
// A preset is a TOML file (the six are embedded from package presets; a
// user's own is read with [Load]). Every field is one of three things:
//
//   - documented: a value and the public source it comes from (title, URL,
//     publisher and the date the page was read), in the file's [sources];
//   - "undocumented": the platform publishes nothing on it, and the field
//     gives the plausible range experiments sweep instead of a guess (a
//     yes/no or a choice among named values may leave the range out: it
//     is then every value);
//   - "not-applicable": moot given another documented field (no key
//     verification where nothing is end-to-end encrypted, no scanning where
//     everything is).
//
// Unknown keys, impossible values and uncited values are refused with an
// error naming the key. The fields are listed in [Fields]; the file format
// is shown in presets/README.md.
//
// What a preset says is the platform's design as published on the date
// read, not a measurement of the platform: the measurements come from
// running the design through scanlab's modes.
//
// # Who sees what
//
// Nothing here carries a secret: presets are public facts and ranges. [Run]
// describes who may see what on a platform (its mode, sealed sender,
// reports); the visibility audit measures it.
package platform

import (
	"time"

	"scanlab/corpus"
)

// State says how a preset knows a field's value.
type State uint8

// The states of a field.
const (
	Documented    State = iota + 1 // a value with its source
	Undocumented                   // a range to sweep
	NotApplicable                  // moot given another field
)

// The literal values that mark the two states other than [Documented].
const (
	UndocumentedValue  = "undocumented"
	NotApplicableValue = "not-applicable"
)

// String returns "documented", "undocumented" or "not-applicable".
func (s State) String() string {
	switch s {
	case Documented:
		return "documented"
	case Undocumented:
		return UndocumentedValue
	case NotApplicable:
		return NotApplicableValue
	}
	return "unknown"
}

// Kind is the type of a field's value.
type Kind uint8

// The kinds of field.
const (
	Choice Kind = iota + 1 // one of named values (a string)
	Share                  // a number in [0, 1] (float64)
	Bool                   // true or false
	List                   // a list of short descriptions ([]string); not swept
)

// Spec describes one preset field: its key, kind, allowed values and
// meaning.
type Spec struct {
	Key  string
	Kind Kind
	// Values lists the allowed values of a [Choice] field.
	Values []string
	// Doc says what the field means.
	Doc string
}

// The keys of the preset fields.
const (
	KeyDefaultMode     = "default_mode"
	KeyOptInShare      = "opt_in_share"
	KeyOptInWho        = "opt_in_who"
	KeyPayingShare     = "paying_share"
	KeySealedSender    = "sealed_sender"
	KeySafetyNumbers   = "safety_numbers"
	KeyKeyTransparency = "key_transparency"
	KeyDMAdults        = "dm_adults"
	KeyDMMinors        = "dm_minors"
	KeyReportClear     = "report_clear"
	KeyReportEncrypted = "report_encrypted"
	KeyScanHash        = "scan_hash"
	KeyScanText        = "scan_text"
	KeyMetadata        = "metadata"
)

// The values of default_mode: the three modes scanlab compares.
const (
	ModeServerscan = "serverscan"
	ModeE2EE       = "e2ee"
	ModeClientscan = "clientscan"
)

// OptInWho says who may opt in to end-to-end encryption.
type OptInWho string

// The values of opt_in_who.
const (
	OptInAll    OptInWho = "all"    // every user
	OptInAdults OptInWho = "adults" // adults only: a conversation with a minor stays clear
	OptInPaying OptInWho = "paying" // paying users only: both parties must pay
)

// Report says what a recipient's report of a message gives the provider.
type Report string

// The values of report_clear and report_encrypted.
const (
	// ReportProviderCopy: the provider relayed the plaintext and checks the
	// report against what it relayed (serverscan's report tag).
	ReportProviderCopy Report = "provider-copy"
	// ReportFranked: the reporter reveals the plaintext with a franking
	// opening the provider verifies (e2ee's franking).
	ReportFranked Report = "franked"
	// ReportForwarded: the reporter's app forwards recent messages in the
	// clear, with no published way for the provider to check them.
	ReportForwarded Report = "forwarded"
	// ReportMetadataOnly: the report names the sender and a message ID,
	// without content.
	ReportMetadataOnly Report = "metadata-only"
	// ReportNone: such messages cannot be reported (only the account).
	ReportNone Report = "none"
)

// Verifiable reports whether a report of this kind lets the provider check
// that the accused sent the reported content.
func (r Report) Verifiable() bool { return r == ReportProviderCopy || r == ReportFranked }

// CarriesContent reports whether a report of this kind shows the provider
// the reported content.
func (r Report) CarriesContent() bool { return r.Verifiable() || r == ReportForwarded }

// Fields lists every preset field in the order presets and results list
// them.
var Fields = []Spec{
	{KeyDefaultMode, Choice, []string{ModeServerscan, ModeE2EE, ModeClientscan},
		"the mode of a one-to-one conversation for users who change nothing: serverscan (readable and scannable by the provider), e2ee, or clientscan (e2ee with on-device scanning)"},
	{KeyOptInShare, Share, nil,
		"when default_mode is serverscan: the share of eligible one-to-one conversations end-to-end encrypted because their users opted in"},
	{KeyOptInWho, Choice, []string{string(OptInAll), string(OptInAdults), string(OptInPaying)},
		"who may opt in: all users, adults only, or paying users only (a conversation is eligible when both its users are)"},
	{KeyPayingShare, Share, nil,
		"when only paying users may opt in: the share of users who pay"},
	{KeySealedSender, Bool, nil,
		"whether encrypted messages hide their sender from the provider (Signal's sealed sender)"},
	{KeySafetyNumbers, Bool, nil,
		"whether users can compare key fingerprints out of band (safety numbers, security codes, keys)"},
	{KeyKeyTransparency, Bool, nil,
		"whether clients check correspondents' keys against an auditable key directory"},
	{KeyDMAdults, Choice, dmValues(),
		"who may start a conversation with an adult by default: everyone (message requests count as everyone), friends (connected accounts), or no-one"},
	{KeyDMMinors, Choice, dmValues(),
		"who may start a conversation with a minor by default (the stricter setting where the platform documents one)"},
	{KeyReportClear, Choice, []string{string(ReportProviderCopy), string(ReportForwarded), string(ReportMetadataOnly), string(ReportNone)},
		"what a report of a message in a clear conversation gives the provider"},
	{KeyReportEncrypted, Choice, []string{string(ReportFranked), string(ReportForwarded), string(ReportMetadataOnly), string(ReportNone)},
		"what a report of a message in an end-to-end encrypted conversation gives the provider"},
	{KeyScanHash, Bool, nil,
		"whether the provider matches images in clear one-to-one messages against a hash list"},
	{KeyScanText, Bool, nil,
		"whether the provider runs classifiers over the text of clear one-to-one messages"},
	{KeyMetadata, List, nil,
		"what the provider says it keeps about messages and accounts (descriptive; not swept)"},
}

func dmValues() []string {
	v := make([]string, len(corpus.DMPolicies))
	for i, p := range corpus.DMPolicies {
		v[i] = string(p)
	}
	return v
}

// SpecOf returns the field specification for key.
func SpecOf(key string) (Spec, bool) {
	for _, s := range Fields {
		if s.Key == key {
			return s, true
		}
	}
	return Spec{}, false
}

// Source is one public source a preset cites.
type Source struct {
	// Key is the source's name in the preset file's [sources] table.
	Key       string
	Title     string
	URL       string
	Publisher string
	// Read is the day the page was read.
	Read time.Time
}

// Field is one field of a preset.
type Field struct {
	Key   string
	State State
	// Value is the documented value: a string for a [Choice], a float64
	// for a [Share], a bool for a [Bool], a []string for a [List].
	Value any
	// Range is what an undocumented field sweeps: the candidate values of
	// a Choice or Bool field (the first is the baseline), or [lo, hi] of a
	// Share field (baseline the midpoint).
	Range []any
	// Source is the source of a documented value; an undocumented field
	// may cite one for its range or note.
	Source *Source
	// Note says what the source says beyond the value, or why the range is
	// what it is.
	Note string
}

// Preset is one platform's design for one-to-one messages as publicly
// documented.
type Preset struct {
	// Name is the platform's name as results show it.
	Name string
	// Slug is the file's base name ("whatsapp"), or the name of a user's
	// file.
	Slug   string
	fields map[string]Field
}

// Field returns the field with the given key; every field of [Fields] is
// present in a parsed preset.
func (p *Preset) Field(key string) Field { return p.fields[key] }

// Fields returns the preset's fields in the order of [Fields].
func (p *Preset) Fields() []Field {
	out := make([]Field, 0, len(Fields))
	for _, s := range Fields {
		out = append(out, p.fields[s.Key])
	}
	return out
}

// Undocumented returns the fields the platform publishes nothing on that
// experiments sweep (every undocumented field except the descriptive
// metadata list).
func (p *Preset) Undocumented() []Field {
	var out []Field
	for _, f := range p.Fields() {
		if f.State == Undocumented && f.Key != KeyMetadata {
			out = append(out, f)
		}
	}
	return out
}
