// Package coverage measures what each mode catches of a synthetic
// population's harmful traffic, what innocent accounts it flags, and how
// those figures move with the assumptions behind them (docs/DESIGN.md §5).
//
// A run has three passes over one seeded workload (package corpus: a
// population with offender archetypes and their stealth, and its traffic):
//
//  1. The metadata pass is the same in every mode. The provider applies each
//     recipient's direct-message setting (a refused message is prevented,
//     before any scanner runs) and feeds what it sees of every message to the
//     metadata-only detector of package behavior. One pass gives the flags
//     at every detector threshold (behavior.Detector.FlagsAt).
//  2. The content pass runs one mode's real devices and server logic
//     (package harness, in process) on every item a content pathway can
//     judge — see [Judge] for which, and why the rest cannot change a
//     detection. TestCheapPathAgrees proves on a small population that this
//     gives the same detections as sending every message through the mode.
//  3. Crediting combines them: an item-level pathway is credited with the
//     items it judged, at the time it judged them; the metadata detector
//     flags accounts, so an item counts for it only when delivered at or
//     after its sender's first flag, and then as "content confirmed" where
//     the provider can read it (serverscan: a reviewer reads the flagged
//     account's messages), "prevented after flag" where the provider restricts
//     the flagged account's contact with minors, or "flagged, content unseen".
//
// Rates carry 95% intervals: a cluster bootstrap over sender accounts for
// item rates (package stats: detections of one account are not
// independent), Clopper–Pearson for account rates.
//
// # Assumptions
//
// Outcomes after a flag are classified on the same run: the offender's
// reaction to a restriction is not simulated, and a clientscan reveal that
// happens after the flag is credited as it happened. Reports are honest. In
// the three compared modes they verify and sealed sender is off. A mode
// built outside the registry ([ModeSpec.Build], a platform's) may take
// reports that carry no content or cannot be verified, and may seal
// senders, whose messages the metadata detector then sees only when they
// are reported ([Workload.MetadataSealed]); a platform's direct-message
// defaults are kept by a share of accounts ([DMDefaults]). Everything else
// the workload assumes is stated in package corpus, field by field.
//
// # Who sees what
//
// The package holds the ground truth (who is an offender, what each message
// is). It never enters a message, an envelope or the detector: the
// detector reads what behavior.Observed gives it, the modes see messages.
package coverage

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"

	"scanlab"
	"scanlab/behavior"
	"scanlab/corpus"
)

// Config is one workload and the provider's settings.
type Config struct {
	// Seed drives the content pools and the choice of each message's
	// content.
	Seed uint64
	// Population and Conversation generate the workload.
	Population   corpus.PopulationConfig
	Conversation corpus.ConversationConfig
	// Content sizes the pools messages draw their content from.
	Content ContentConfig
	// DMPolicy, if set, replaces every user's direct-message setting.
	DMPolicy corpus.DMPolicy
	// DMDefaults, if set (and DMPolicy is not), are a platform's default
	// direct-message settings, which some accounts keep.
	DMDefaults *DMDefaults
	// Detector configures the metadata detector; its Threshold is the
	// study's operating point.
	Detector behavior.Config
	// Thresholds are further detector thresholds to credit (sensitivity
	// curves); the operating point is always included.
	Thresholds []float64
}

// Check refuses a configuration the study could not run or should not
// report: impossible values, and a workload that overlaps the detector's
// calibration (the detector was calibrated on its own seeds and settings;
// evaluating it on them would report what it was fitted to).
func (c Config) Check() error {
	if err := behavior.CheckApart(c.Population, c.Conversation); err != nil {
		return err
	}
	if c.DMPolicy != "" && !slices.Contains(corpus.DMPolicies, c.DMPolicy) {
		return fmt.Errorf("coverage: unknown DM policy %q", c.DMPolicy)
	}
	if err := c.DMDefaults.check(); err != nil {
		return err
	}
	return c.Content.check()
}

// DMDefaults are the direct-message settings a platform gives new
// accounts, per group. Each account keeps its group's default with
// probability Keep (a coin per account, keyed by the workload's seed) and
// otherwise has the setting the population drew for it (corpus: its own
// choice). How many users keep a default is not platform data; experiments
// sweep Keep.
type DMDefaults struct {
	Adults, Minors corpus.DMPolicy
	// Keep is the probability that an account keeps its default, in [0, 1].
	Keep float64
}

func (d *DMDefaults) check() error {
	if d == nil {
		return nil
	}
	for _, p := range []corpus.DMPolicy{d.Adults, d.Minors} {
		if !slices.Contains(corpus.DMPolicies, p) {
			return fmt.Errorf("coverage: unknown default DM policy %q", p)
		}
	}
	if !(d.Keep >= 0 && d.Keep <= 1) {
		return fmt.Errorf("coverage: share of accounts keeping the DM default %v is not in [0, 1]", d.Keep)
	}
	return nil
}

// keepSalt separates the keep-the-default coins from other draws of the
// seed.
const keepSalt = 0x6b656570_64656661

// apply returns the accounts that keep their default, and that default.
func (d *DMDefaults) apply(seed uint64, pop *corpus.Population) map[scanlab.UserID]corpus.DMPolicy {
	if d == nil {
		return nil
	}
	out := map[scanlab.UserID]corpus.DMPolicy{}
	for i := range pop.Users {
		u := &pop.Users[i]
		h := fnv.New64a()
		h.Write([]byte(u.ID))
		if rand.New(rand.NewPCG(seed^keepSalt, h.Sum64())).Float64() >= d.Keep {
			continue
		}
		out[u.ID] = d.Adults
		if u.Minor() {
			out[u.ID] = d.Minors
		}
	}
	return out
}

// thresholds returns the detector thresholds to credit, the operating point
// first.
func (c Config) thresholds() []float64 {
	op := c.Detector.Threshold
	if op == 0 {
		op = behavior.CalibratedThreshold
	}
	out := []float64{op}
	for _, t := range c.Thresholds {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// Automated pathways flag accounts without anyone reporting them: the
// false-flag rate counts these. User reports are counted apart.
func automated(p scanlab.Pathway) bool { return p != scanlab.UserReport }

// ErrNoWorkload is returned for a configuration with no users or days.
var ErrNoWorkload = errors.New("coverage: empty workload")

// dayOf is the number of whole days from start to t.
func dayOf(start, t time.Time) float64 { return t.Sub(start).Hours() / 24 }
