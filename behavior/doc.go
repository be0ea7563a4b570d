// Package behavior detects suspicious accounts from message metadata alone:
// the detection pathway [scanlab.ServerMetadata].
//
// Providers that cannot read messages still see who messages whom, when and
// how often, how old each account is, which accounts are connected, the ages
// users declared, and the reports users send. Facebook Messenger's safety
// notices (2020) and Meta's description of safety in end-to-end encrypted
// messaging (December 2021) rest on such signals: "an adult sending a large
// amount of friend or message requests to people under 18", an adult who
// "repeatedly sets up new profiles and tries to connect with minors they don't
// know or messages a large number of strangers" (notes in the study's
// refs/metadata.md). No provider has published its model; this package is a
// transparent stand-in that the experiments can measure.
//
// A [Detector] observes message [Event]s in time order ([Observed] and
// [ObserveWorkload] make them from the study's workload) and keeps, for each
// account that declared itself an adult, a few counters (see [Features]):
// distinct minors it first contacted while not connected to them, how many of
// them were three or more hops away in the social graph, the share of its
// minor contacts that were such strangers, the largest number of such first
// contacts within a burst window, whether the account is new, and how many
// reports it received. Accounts of declared minors are not scored.
//
// # Rules
//
// The default scorer is a set of rules, each adding points to the account's
// score; an account is flagged the first time its score reaches
// [Config.Threshold] (default [CalibratedThreshold], 6), at the time of the
// event that made it so.
//
//	rule               condition                                              points
//	stranger-minors    ≥ 5 distinct unconnected minors first-contacted        2
//	no-mutual-friends  ≥ 3 of them three or more hops away                    1
//	mostly-strangers   ≥ 3 of them, and ≥ half of all minors contacted        1
//	burst              ≥ 3 such first contacts within Config.BurstWindow (1h) 1
//	new-account        account younger than Config.NewAccount (30 days)
//	                   and ≥ 2 unconnected minors first-contacted             1
//	reported           ≥ 1 report received (≥ 2 reports: 2 points)            1–2
//
// What the rules detect is one pattern: an adult account that first-contacts
// several minors it is not connected to, far from them in the graph, in
// bursts, from a new profile, or that draws reports. It reads nothing about
// contacts between adults, so an adult ring trading images among its members
// is invisible to it, and an offender who reaches minors the way parents,
// teachers and coaches do (few strangers, spread out, through friends of
// friends, from an old account) looks like one of them. It does not see
// friend requests, the signal Messenger's notices name first, because the
// workload has none. The rules and their conditions are the study's
// choices, not a provider's, written before measuring.
//
// # Calibration
//
// The threshold is the output of a procedure, [Calibrate], not a choice: on
// populations generated for the calibration alone, it is the lowest score at
// which at most [CalibrationTarget] (0.1%) of benign adults are flagged,
// pooled. The calibration has its own seeds ([CalibrationSeeds],
// 1,000,001–1,000,004), its own generator settings
// ([CalibrationPopulation]: 10,000 accounts, 30 days, offenders 5% of
// adults, half of them of the stranger archetype and three tenths
// sextortion, each offender's stealth uniform in [0, 0.5]), and its table
// is committed in testdata/calibration.golden: at threshold 5 it flagged
// 40 of 28,500 benign adults (0.14%), at 6 one; a test fails if the
// procedure no longer gives 6. [CheckApart] refuses a study configuration
// that shares a seed, the archetype table or the stealth distribution with
// the calibration; every evaluation must pass it.
//
// Offenders play no part in choosing the threshold, but the rules were
// written for the stranger and sextortion archetypes at low stealth. Recall
// on those archetypes, and any figure measured on offenders that behave as
// the rules expect, is an upper bound on what the rules would achieve on
// real traffic. On study-like seeds (1, default archetypes, 10,000
// accounts, 30 days) at threshold 6 the rules flag about a third of
// stranger offenders and three fifths of sextortion offenders at stealth 0,
// no groomer or ring member, and no offender of any archetype at stealth 1;
// see TestArchetypeRecall for the counts. [Detector.FlagsAt] gives the flags
// at any other threshold from the same pass, so experiments can sweep it
// and show recall against false flags, which [Evaluate] reports beside
// each other.
//
// Instead of the rules a [Model] (logistic regression over the same
// features, fitted by [Train] on accounts disjoint from those evaluated; see
// [Split]) may score accounts.
//
// # Who sees what
//
// Everything a [Detector] reads is metadata that the provider holds in every
// mode, serverscan, e2ee and clientscan alike: sender and recipient
// accounts, the time, the friendship graph the platform itself maintains,
// declared ages, account creation times, and verified user reports. It
// never sees message content, hashes, vouchers or ground-truth labels, so
// its detections measure what a provider can still do without reading
// messages.
//
// One caveat: with sealed sender (an option of the e2ee mode) an envelope
// names no sender, and the provider learns the sender only where the
// protocol still reveals it (a message request, a report). The experiments
// feed this detector the sender of every event, so with sealed sender its
// figures are an upper bound on what the provider can do, and must be
// labelled so.
//
// The same holds in reverse: a flag from this package is an inference about
// an account, not evidence about any message. In deployment its false flags
// would fall on real people; in the synthetic population they fall on
// parents, teachers and coaches.
package behavior
