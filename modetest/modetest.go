// Package modetest is the conformance suite every [scanlab.Mode] runs, in
// the spirit of upspin's pack/internal/packtest: a mode's own test calls
// [Run] once with a constructor and the mode's [Capabilities], and the
// suite drives the mode in process — Device.Seal → ServerLogic.Accept →
// Device.Open → Device.Report → ServerLogic.Verify — with an
// [e2ee.MemoryDirectory] whose certificate issuer is the mode's server
// logic (if it is a [scanlab.CertificateIssuer]).
//
//	func TestConformance(t *testing.T) {
//		modetest.Run(t, func(t *testing.T) scanlab.Mode { return mymode.New(mymode.Options{}) },
//			modetest.Capabilities{EndToEnd: true, HidesContent: true})
//	}
//
// The checks, each a subtest named check=…:
//
//   - round-trip: texts, a PNG and a JPEG (from internal/testimg) arrive
//     unchanged, with their ID, sender, recipient and time, in both
//     directions.
//   - provider-only: every attachment named in [Capabilities.ProviderOnly]
//     is on some sealed envelope and on no delivered one.
//   - reports: a genuine report verifies, with a user-report detection of
//     the message naming its sender (or no one, for a sealed-sender
//     envelope); a report with any bit of its evidence flipped, naming
//     another reporter or message, or accusing another user is refused (an
//     accusation the mode cannot check must at least not name the new
//     account); a second submission of a verified report is refused; after
//     the server logic restarts (same secrets), a report of a message
//     relayed before the restart still verifies.
//   - tamper: one bit flipped in the body or in any attachment of a
//     delivered envelope, at sampled positions, on a first message and on a
//     message inside an established session. Open must refuse it — unless
//     the part is not end to end (the mode lacks [Capabilities.EndToEnd], or
//     the provider added the attachment after Seal), in which case a report
//     of what opened must be refused. Either way the device is unharmed: the
//     genuine envelope, or the next message, still opens.
//   - provider-view: random tokens planted in texts and an image are never
//     in the provider's view — every byte the server logic records through
//     ServerEnv.Record and every envelope it handles, before and after
//     Accept — when the mode claims [Capabilities.HidesContent]; when it
//     does not, the suite requires that they are (which shows the search
//     works).
//
// The server environment's clock starts at the real time and moves one
// millisecond per reading; its secrets are random per run and survive the
// restart. Workload choices (tokens, sampled positions) come from a fixed
// seed.
//
// # Who sees what
//
// The suite plays every party at once and keeps the provider's view
// separately, so it can assert what the provider could and could not read.
package modetest

import (
	"testing"

	"scanlab"
)

// Capabilities says what a mode promises, so the suite checks each
// promise and, where a mode makes none, what holds instead.
type Capabilities struct {
	// EndToEnd says the body and the attachments the sender's device made
	// are protected end to end: Open refuses any change to them. Without
	// it (serverscan relies on TLS), the suite requires instead that a
	// report of a changed message is refused.
	EndToEnd bool
	// HidesContent says the provider never sees message content (e2ee,
	// clientscan below its threshold).
	HidesContent bool
	// ProviderOnly names attachments the device adds for the provider
	// alone (clientscan's vouchers and verdicts): Accept must remove them
	// before the envelope is stored and delivered.
	ProviderOnly []string
}

// Run runs the conformance suite. newMode is called once per subtest and
// must return a fresh mode; it may call t.Skip or t.Fatal.
func Run(t *testing.T, newMode func(t *testing.T) scanlab.Mode, caps Capabilities) {
	t.Helper()
	t.Run("check=round-trip", func(t *testing.T) { checkRoundTrip(newWorld(t, newMode)) })
	t.Run("check=provider-only", func(t *testing.T) { checkProviderOnly(newWorld(t, newMode), caps) })
	t.Run("check=reports", func(t *testing.T) { checkReports(newWorld(t, newMode)) })
	t.Run("check=tamper", func(t *testing.T) {
		t.Run("message=first", func(t *testing.T) { checkTamperFirst(newWorld(t, newMode), caps) })
		t.Run("message=in-session", func(t *testing.T) { checkTamperInSession(newWorld(t, newMode), caps) })
	})
	t.Run("check=provider-view", func(t *testing.T) { checkProviderView(newWorld(t, newMode), caps) })
}
