package demo

import (
	"time"

	"scanlab"
	"scanlab/behavior"
	"scanlab/observe"
)

// Result is one run of one scenario: everything the page and the terminal
// show, and nothing they show comes from elsewhere.
type Result struct {
	Scenario Scenario
	// Text is the audience's words, for a scenario that takes them.
	Text string
	// Seed drove the audit's accounts and tokens and clientscan's decoys.
	Seed uint64
	// Threshold is clientscan's t in this run.
	Threshold int
	// Messages are what the scenario sent, in order.
	Messages []Message
	// Modes holds each mode's outcome, in the order of modes.Names.
	Modes []ModeResult
	// Happened sums the run up in a sentence or two.
	Happened string
	// Notes are measured facts the story needs beside the steps (the
	// edited photo's distance from its original).
	Notes []string
	// Took is how long the whole run took.
	Took time.Duration
}

// ModeResult is one mode's part of a run.
type ModeResult struct {
	Mode string
	// Steps has one entry per message of the scenario.
	Steps []Step
	// Grid has one cell per party (order of observe.Parties), from Audit.
	Grid []Cell
	// Audit is the visibility audit's cells for the same messages.
	Audit []observe.Cell
	// Outcome says in a clause what the mode's provider caught.
	Outcome string
	// Noticed says, for a scenario where the provider attacks, who noticed
	// and how, one sentence each; empty if nobody did.
	Noticed []string
	// Took is how long the mode's story and audit took.
	Took time.Duration
}

// Step is what one message did in one mode.
type Step struct {
	// Seal is the sender's phone scanning and encrypting; RoundTrip the
	// send to the provider's receipt, of which Logic was the server logic
	// and Store the database write; Fetch the recipient's fetch, Open its
	// decryption.
	Seal, RoundTrip, Logic, Store, Fetch, Open time.Duration
	// EnvelopeBytes is the sealed envelope's wire encoding; SendBytes and
	// FetchBytes what the send and the fetch moved on the sender's and the
	// recipient's TLS connections (records included).
	EnvelopeBytes         int
	SendBytes, FetchBytes int64
	// Attachments are the envelope's attachments as the phone sealed it.
	Attachments []Attachment
	// Detections are what the provider's server logic raised on it.
	Detections []scanlab.Detection
	// Vouchers is the provider's running count after it (clientscan).
	Vouchers VoucherCount
	// Flag is set when the metadata detector flagged the sender's account
	// on this message.
	Flag *behavior.Flag
	// Intercepted names how the provider acting in bad faith decrypted
	// this message ("" if it did not).
	Intercepted string
	// Says tells the step in sentences.
	Says []string
}

// Attachment is one named attachment of an envelope and its size.
type Attachment struct {
	Name  string
	Bytes int
}

// Mode returns the result of the named mode, or nil.
func (r *Result) Mode(name string) *ModeResult {
	for i := range r.Modes {
		if r.Modes[i].Mode == name {
			return &r.Modes[i]
		}
	}
	return nil
}

// Cell returns the mode's cell for party p.
func (m ModeResult) Cell(p observe.Party) Cell {
	for _, c := range m.Grid {
		if c.Party == p {
			return c
		}
	}
	return Cell{Party: p, What: "Nothing", How: holds[p]}
}

// Row is one party's cells across the modes, for a renderer.
type Row struct {
	Party observe.Party
	Focus bool
	Cells []Cell // one per mode, in the order of Result.Modes
}

// Rows returns the grid a party per row, the modes across.
func (r *Result) Rows() []Row {
	var rows []Row
	for _, p := range observe.Parties {
		row := Row{Party: p, Focus: r.Scenario.Focused(p)}
		for _, m := range r.Modes {
			row.Cells = append(row.Cells, m.Cell(p))
		}
		rows = append(rows, row)
	}
	return rows
}

// Vouchered reports whether any message carried a safety voucher: the
// run has a threshold to explain.
func (r *Result) Vouchered() bool {
	for _, m := range r.Modes {
		for _, st := range m.Steps {
			if st.Vouchers.Counted {
				return true
			}
		}
	}
	return false
}
