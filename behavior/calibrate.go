package behavior

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"

	"scanlab/corpus"
)

// CalibratedThreshold is the rule threshold [Calibrate] chose, committed
// with the seeds it used ([CalibrationSeeds]) and its table
// (testdata/calibration.golden); a test fails if the procedure no longer
// gives it. [DefaultConfig] uses it.
const CalibratedThreshold float64 = 6

// CalibrationTarget is the largest share of benign adults the calibrated
// threshold may flag, pooled over the calibration populations: 0.1%.
const CalibrationTarget = 0.001

// CalibrationSeeds are the population and traffic seeds of the calibration
// populations. A study must not use them (see [CheckApart]).
var CalibrationSeeds = []uint64{1_000_001, 1_000_002, 1_000_003, 1_000_004}

// calibrationShares is the calibration's archetype mix, apart from the
// default study's: more of the archetypes the rules were written for.
var calibrationShares = map[corpus.Archetype]float64{
	corpus.ArchetypeStranger: 0.5, corpus.ArchetypeGroomer: 0.1,
	corpus.ArchetypeRing: 0.1, corpus.ArchetypeSextortion: 0.3,
}

// CalibrationStealth is the calibration's stealth distribution: each
// offender's stealth uniform in [0, 0.5]. A study sweeps fixed stealths.
var CalibrationStealth = corpus.StealthRange{Lo: 0, Hi: 0.5}

// CalibrationPopulation returns the population configuration of the
// calibration for one of [CalibrationSeeds]: the default population at
// 10,000 accounts with offenders over-sampled to 5% of adults (for the
// recall column), the calibration's own archetype mix (half stranger, three
// tenths sextortion, a tenth groomer and ring) and [CalibrationStealth].
func CalibrationPopulation(seed uint64) corpus.PopulationConfig {
	pc := corpus.DefaultPopulationConfig()
	pc.Seed = seed
	pc.Users = 10000
	pc.OffenderShare = 0.05
	pc.Archetypes = corpus.DefaultArchetypes()
	for k := range pc.Archetypes {
		pc.Archetypes[k].Share = calibrationShares[pc.Archetypes[k].Archetype]
	}
	pc.Stealth = CalibrationStealth
	return pc
}

// CalibrationConversations returns the traffic configuration of the
// calibration for one of [CalibrationSeeds]: the default 30 days.
func CalibrationConversations(seed uint64) corpus.ConversationConfig {
	cc := corpus.DefaultConversationConfig()
	cc.Seed = seed
	return cc
}

// CheckApart returns an error if a study configuration overlaps the
// calibration: a population or traffic seed among [CalibrationSeeds], the
// calibration's archetype table, or its stealth distribution. Every
// configuration a study evaluates the detector on must pass it.
func CheckApart(pc corpus.PopulationConfig, cc corpus.ConversationConfig) error {
	cal := CalibrationPopulation(CalibrationSeeds[0])
	var errs []error
	if slices.Contains(CalibrationSeeds, pc.Seed) {
		errs = append(errs, fmt.Errorf("population seed %d is a calibration seed", pc.Seed))
	}
	if slices.Contains(CalibrationSeeds, cc.Seed) {
		errs = append(errs, fmt.Errorf("traffic seed %d is a calibration seed", cc.Seed))
	}
	table := pc.Archetypes
	if table == nil {
		table = corpus.DefaultArchetypes()
	}
	if reflect.DeepEqual(table, cal.Archetypes) {
		errs = append(errs, errors.New("archetype table is the calibration's"))
	}
	if pc.Stealth == cal.Stealth {
		errs = append(errs, fmt.Errorf("stealth %v..%v is the calibration's", pc.Stealth.Lo, pc.Stealth.Hi))
	}
	if len(errs) > 0 {
		return fmt.Errorf("behavior: study overlaps the detector's calibration: %w", errors.Join(errs...))
	}
	return nil
}

// CalibrationRow is one candidate threshold of [Calibrate]: how many benign
// adults and offenders of the calibration populations its rules flag.
type CalibrationRow struct {
	Threshold                   float64
	Benign, BenignFlagged       int
	Offenders, OffendersFlagged int
}

// Calibration is the result of [Calibrate].
type Calibration struct {
	Seeds     []uint64
	Target    float64
	Threshold float64 // the lowest candidate whose benign false-flag rate is at most Target
	Rows      []CalibrationRow
}

// calibrationCandidates are the thresholds [Calibrate] considers: every
// score the rules can give.
var calibrationCandidates = []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}

// Calibrate runs the calibration procedure: it generates the populations
// and traffic of [CalibrationPopulation] and [CalibrationConversations] for
// each of [CalibrationSeeds], feeds each to a rule detector as the provider
// sees it ([ObserveWorkload]), and chooses the lowest threshold whose
// benign-adult false-flag rate, pooled over the populations, is at most
// [CalibrationTarget]. Offenders play no part in the choice; their column
// is recall on the calibration's own archetypes and stealth, an upper bound
// for the study. It takes about a second of CPU per population.
func Calibrate() (Calibration, error) {
	c := Calibration{Seeds: slices.Clone(CalibrationSeeds), Target: CalibrationTarget}
	c.Rows = make([]CalibrationRow, len(calibrationCandidates))
	for k, t := range calibrationCandidates {
		c.Rows[k].Threshold = t
	}
	for _, seed := range CalibrationSeeds {
		if err := c.add(seed); err != nil {
			return Calibration{}, err
		}
	}
	for _, r := range c.Rows {
		if float64(r.BenignFlagged) <= c.Target*float64(r.Benign) {
			c.Threshold = r.Threshold
			return c, nil
		}
	}
	return c, errors.New("behavior: no candidate threshold meets the calibration target")
}

// add counts the calibration population of seed into c's rows.
func (c *Calibration) add(seed uint64) error {
	p, err := corpus.GeneratePopulation(CalibrationPopulation(seed))
	if err != nil {
		return err
	}
	events, err := p.Events(CalibrationConversations(seed))
	if err != nil {
		return err
	}
	d := New(Config{Threshold: 1})
	ObserveWorkload(d, p, events)
	for id, truth := range TruthOf(p) {
		peak, _ := d.PeakScore(id)
		for k := range c.Rows {
			r := &c.Rows[k]
			flagged := peak >= r.Threshold
			if truth.Offender {
				r.Offenders++
				r.OffendersFlagged += b2i(flagged)
			} else {
				r.Benign++
				r.BenignFlagged += b2i(flagged)
			}
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// WriteTable writes the calibration as plain text: seeds, target, chosen
// threshold, then one row per candidate with its counts.
func (c Calibration) WriteTable(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "seeds %v, target benign false-flag rate %v, threshold %v\n%9s %8s %14s %9s %17s\n",
		c.Seeds, c.Target, c.Threshold, "threshold", "benign", "benign_flagged", "offenders", "offenders_flagged"); err != nil {
		return err
	}
	for _, r := range c.Rows {
		if _, err := fmt.Fprintf(w, "%9v %8d %14d %9d %17d\n", r.Threshold, r.Benign, r.BenignFlagged, r.Offenders, r.OffendersFlagged); err != nil {
			return err
		}
	}
	return nil
}
