package demo

import (
	"fmt"
	"strings"
	"time"
)

// CostRow is one stage of the cost table: its name and its measured value
// in each mode, formatted.
type CostRow struct {
	Stage string
	// Sub is true for a part of the stage above it.
	Sub    bool
	Values []string // one per mode, in the order of Result.Modes
}

// costStages are the rows of the cost table and how to read each off a
// step.
var costStages = []struct {
	stage string
	sub   bool
	value func(Step) string
}{
	{"Seal on the sender's phone (scan and encrypt)", false, func(s Step) string { return Duration(s.Seal) }},
	{"Send: round trip to the provider's receipt", false, func(s Step) string { return Duration(s.RoundTrip) }},
	{"of which the provider's server logic", true, func(s Step) string { return Duration(s.Logic) }},
	{"of which the database write", true, func(s Step) string { return Duration(s.Store) }},
	{"Fetch by the recipient", false, func(s Step) string { return Duration(s.Fetch) }},
	{"Open on the recipient's phone", false, func(s Step) string { return Duration(s.Open) }},
	{"Envelope as sealed", false, func(s Step) string { return Bytes(int64(s.EnvelopeBytes)) }},
	{"Attachments", false, attachments},
	{"Bytes on the wire: sending (TLS)", false, func(s Step) string { return Bytes(s.SendBytes) }},
	{"Bytes on the wire: fetching (TLS)", false, func(s Step) string { return Bytes(s.FetchBytes) }},
}

// Costs returns the cost table of message i: each stage's measured value
// in every mode.
func (r *Result) Costs(i int) []CostRow {
	var rows []CostRow
	for _, cs := range costStages {
		row := CostRow{Stage: cs.stage, Sub: cs.sub}
		for _, m := range r.Modes {
			v := "—"
			if i >= 0 && i < len(m.Steps) {
				v = cs.value(m.Steps[i])
			}
			row.Values = append(row.Values, v)
		}
		rows = append(rows, row)
	}
	return rows
}

// Brief is a step's cost in one line: "seal 2.2 ms · envelope 12,116 B ·
// sent 12,196 B".
func (s Step) Brief() string {
	return fmt.Sprintf("seal %s · envelope %s · sent %s on the wire", Duration(s.Seal), Bytes(int64(s.EnvelopeBytes)), Bytes(s.SendBytes))
}

var attachmentWords = map[string]string{
	"voucher":       "safety voucher",
	"frank-commit":  "franking commitment",
	"frank-tag":     "franking tag",
	"e2ee-init":     "session set-up",
	"sealed-sender": "sealed sender",
}

func attachments(s Step) string {
	if len(s.Attachments) == 0 {
		return "none"
	}
	var parts []string
	for _, a := range s.Attachments {
		name := a.Name
		if w, ok := attachmentWords[name]; ok {
			name = w
		}
		parts = append(parts, fmt.Sprintf("%s %s", name, Bytes(int64(a.Bytes))))
	}
	return strings.Join(parts, ", ")
}

// Duration formats a measured time for the audience: microseconds below a
// millisecond, else milliseconds with one decimal.
func Duration(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// Bytes formats a byte count with thousands separators: "12,116 B".
func Bytes(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + " B"
}
