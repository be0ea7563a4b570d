package platform

import (
	"fmt"
	"slices"
)

// possible returns the values a field may take: its documented value, its
// range when undocumented (for a share, its ends), none when not
// applicable.
func (p *Preset) possible(key string) []any {
	f := p.fields[key]
	switch f.State {
	case Documented:
		return []any{f.Value}
	case Undocumented:
		return f.Range
	}
	return nil
}

// checkMoot checks that exactly the fields made moot by other fields say
// "not-applicable": with every conversation end-to-end encrypted there is
// no opt-in, no clear report and no scanning of messages; with none there
// is no sealed sender, key verification or encrypted report; paying_share
// matters only when paying users alone may opt in.
func (p *Preset) checkMoot() []error {
	reasons := map[string]string{}
	modes := p.possible(KeyDefaultMode)
	if all(modes, func(v any) bool { return v == ModeE2EE || v == ModeClientscan }) {
		for _, k := range []string{KeyOptInShare, KeyOptInWho, KeyPayingShare, KeyReportClear, KeyScanHash, KeyScanText} {
			reasons[k] = "every one-to-one conversation is end-to-end encrypted (default_mode)"
		}
	}
	if all(modes, func(v any) bool { return v == ModeServerscan }) && all(p.possible(KeyOptInShare), func(v any) bool { return v == 0.0 }) {
		for _, k := range []string{KeyOptInWho, KeyPayingShare, KeySealedSender, KeySafetyNumbers, KeyKeyTransparency, KeyReportEncrypted} {
			reasons[k] = "no one-to-one conversation is end-to-end encrypted (default_mode serverscan, opt_in_share 0)"
		}
	}
	if _, ok := reasons[KeyPayingShare]; !ok && !slices.Contains(p.possible(KeyOptInWho), any(string(OptInPaying))) {
		reasons[KeyPayingShare] = "only paying users' opting in needs it, and opt_in_who is not paying"
	}
	var errs []error
	for _, s := range Fields {
		f := p.fields[s.Key]
		why, moot := reasons[s.Key]
		switch {
		case moot && f.State != NotApplicable:
			errs = append(errs, fmt.Errorf("%s: moot because %s; write %q", s.Key, why, NotApplicableValue))
		case !moot && f.State == NotApplicable:
			errs = append(errs, fmt.Errorf("%s: %q, but nothing in the preset makes it moot", s.Key, NotApplicableValue))
		}
	}
	return errs
}

// all reports whether vs is non-empty and every value satisfies ok.
func all(vs []any, ok func(any) bool) bool {
	if len(vs) == 0 {
		return false
	}
	for _, v := range vs {
		if !ok(v) {
			return false
		}
	}
	return true
}
