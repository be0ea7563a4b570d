package demo

import (
	"fmt"
	"scanlab/serverscan"
	"strings"

	"scanlab"
	"scanlab/observe"
)

// says tells one step in sentences, from what the provider did with it.
func says(st Step) []string {
	var out []string
	if v := st.Vouchers; v.Counted {
		out = append(out, fmt.Sprintf("The phone sealed a %d-byte safety voucher onto it. The provider now holds %s from this account, %d matching (real or decoy: it cannot tell): %s.",
			v.Bytes, plural(v.Vouchers, "voucher"), v.Matches, belowThreshold(st)))
	}
	opened := 0
	for _, d := range st.Detections {
		switch d.Pathway {
		case scanlab.ServerHash:
			out = append(out, fmt.Sprintf("The server matched it to the hash list (%s, %d bits apart) and flagged it.", d.Rule, d.Distance))
		case scanlab.ServerText:
			out = append(out, fmt.Sprintf("The server's text scanner flagged it (%s).", d.Rule))
		case scanlab.DeviceText:
			out = append(out, "The phone's text classifier flagged it.")
		case scanlab.UserReport:
			out = append(out, "A verified report reached the provider.")
		case scanlab.DeviceHash:
			opened++
		}
	}
	if opened > 0 {
		out = append(out, fmt.Sprintf("Threshold crossed: the provider opened %d vouchers — low-resolution copies of the matching photos — and flagged the account.", opened))
	}
	if st.Flag != nil {
		out = append(out, fmt.Sprintf("The provider's metadata detector flagged the sender's account (%s).", strings.Join(st.Flag.Reasons, ", ")))
	}
	if st.Intercepted != "" {
		out = append(out, "The provider read it on the way, through "+st.Intercepted+".")
	}
	if len(out) == 0 {
		out = append(out, "Delivered; nothing flagged.")
	}
	return out
}

// belowThreshold says what the provider can open of the account's
// vouchers before this step's detections.
func belowThreshold(st Step) string {
	for _, d := range st.Detections {
		if d.Pathway == scanlab.DeviceHash {
			return "enough to cross the threshold"
		}
	}
	return "it can open none yet"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// outcome says in a clause what a mode's provider caught over the run.
func outcome(mr ModeResult, msgs []Message, t int) string {
	var parts []string
	if i, n := crossing(mr); i >= 0 {
		parts = append(parts, fmt.Sprintf("the provider counted vouchers it could not open until %s crossed t = %d, then opened %d and flagged the account", msgs[i].Label, t, n))
	}
	if ls := labelsWith(mr, msgs, scanlab.ServerHash); len(ls) > 0 {
		parts = append(parts, "the server matched "+joinWords(ls)+" to the hash list as they arrived")
	}
	if ls := labelsWith(mr, msgs, scanlab.ServerText); len(ls) > 0 {
		parts = append(parts, "the server's text scanner flagged "+joinWords(ls))
	}
	for i, st := range mr.Steps {
		if st.Flag != nil {
			parts = append(parts, fmt.Sprintf("the metadata detector flagged the sender's account at %s", msgs[i].Label))
		}
	}
	if len(parts) == 0 {
		return "the provider flagged nothing"
	}
	return strings.Join(parts, "; ")
}

// crossing returns the step at which clientscan's provider first opened
// vouchers, and how many it opened then (-1 when it never did).
func crossing(mr ModeResult) (int, int) {
	for i, st := range mr.Steps {
		n := 0
		for _, d := range st.Detections {
			if d.Pathway == scanlab.DeviceHash {
				n++
			}
		}
		if n > 0 {
			return i, n
		}
	}
	return -1, 0
}

// labelsWith lists the messages on which the provider raised a detection
// on pathway p.
func labelsWith(mr ModeResult, msgs []Message, p scanlab.Pathway) []string {
	var out []string
	for i, st := range mr.Steps {
		for _, d := range st.Detections {
			if d.Pathway == p {
				out = append(out, msgs[i].Label)
				break
			}
		}
	}
	return out
}

// agreement is a value some modes share.
type agreement struct {
	modes []string
	says  string
}

// agree groups the modes by f's answer, in mode order.
func agree(r *Result, f func(ModeResult) string) []agreement {
	var out []agreement
	for _, m := range r.Modes {
		v, found := f(m), false
		for i := range out {
			if out[i].says == v {
				out[i].modes, found = append(out[i].modes, m.Mode), true
			}
		}
		if !found {
			out = append(out, agreement{modes: []string{m.Mode}, says: v})
		}
	}
	return out
}

// where names the modes of a: "in every mode", "in e2ee and clientscan".
func (a agreement) where(r *Result) string {
	if len(a.modes) == len(r.Modes) && len(r.Modes) > 1 {
		return "in every mode"
	}
	return "in " + joinWords(a.modes)
}

// valueFirst words f across modes as "X in serverscan; Y in e2ee and
// clientscan".
func valueFirst(r *Result, f func(ModeResult) string) string {
	var parts []string
	for _, a := range agree(r, f) {
		parts = append(parts, a.says+" "+a.where(r))
	}
	return strings.Join(parts, "; ")
}

// modeFirst words f across modes as "In serverscan, X; in e2ee and
// clientscan, Y".
func modeFirst(r *Result, f func(ModeResult) string) string {
	var parts []string
	for _, a := range agree(r, f) {
		parts = append(parts, a.where(r)+", "+a.says)
	}
	return capitalise(strings.Join(parts, "; "))
}

// readersOf names the parties other than the two ends who read content.
func readersOf(m ModeResult) string {
	var who []string
	for _, c := range m.Grid {
		if c.Level == Content && c.Party != observe.Sender && c.Party != observe.Recipient {
			who = append(who, theParty(c.Party))
		}
	}
	if len(who) == 0 {
		return "nobody but the two of them"
	}
	return joinWords(who)
}

func outcomeOf(m ModeResult) string { return m.Outcome }

// caught reports whether any mode's provider flagged anything.
func caught(r *Result) bool {
	for _, m := range r.Modes {
		for _, st := range m.Steps {
			if len(st.Detections) > 0 || st.Flag != nil {
				return true
			}
		}
	}
	return false
}

func explainChat(r *Result) string {
	s := "Your words reached the recipient. Who else could read them: " + valueFirst(r, readersOf) + "."
	s += " The provider itself got " + valueFirst(r, func(m ModeResult) string {
		return strings.ToLower(m.Cell(observe.Provider).What)
	}) + "."
	if caught(r) {
		s += " " + modeFirst(r, outcomeOf) + "."
	}
	return s
}

// explainAttack says what the provider acting in bad faith read in each
// mode and who noticed, modes that agree said once.
func explainAttack(r *Result) string {
	return modeFirst(r, attackOf) + "."
}

// attackOf says what the provider acting in bad faith did in one mode.
func attackOf(m ModeResult) string {
	c := m.Cell(observe.ProviderActive)
	switch {
	case m.Mode == serverscan.Name:
		return "the provider needed no attack: it reads every message anyway"
	case c.Level != Content:
		return "the provider read nothing. " + strings.Join(m.Noticed, " ")
	case len(m.Noticed) == 0:
		return "it read your words through " + c.How + ", and the message still arrived; nobody noticed"
	}
	return "it read your words through " + c.How + ", and the message still arrived. " + strings.TrimSuffix(strings.Join(m.Noticed, " "), ".")
}

func explainListed(r *Result) string {
	return fmt.Sprintf("clientscan's threshold is t = %d in this demo (Apple's was 30). %s.", r.Threshold, modeFirst(r, outcomeOf))
}

func explainGrooming(r *Result) string {
	return "The provider runs the same metadata detector in every mode; it reads who messages whom and when, and what the platform knows of the accounts — never the words. " +
		modeFirst(r, outcomeOf) + "."
}

// explainParties sums a scenario up by what the given parties got in
// each mode.
func explainParties(ps ...observe.Party) func(*Result) string {
	return func(r *Result) string {
		var parts []string
		for _, p := range ps {
			parts = append(parts, fmt.Sprintf("%s got %s.", capitalise(theParty(p)),
				valueFirst(r, func(m ModeResult) string { return strings.ToLower(m.Cell(p).What) })))
		}
		return strings.Join(parts, " ")
	}
}

// theParty names a party in a sentence: "the rogue employee", "law
// enforcement".
func theParty(p observe.Party) string {
	t := strings.ToLower(Title(string(p)))
	if p == observe.LawEnforcement {
		return t
	}
	return "the " + t
}
