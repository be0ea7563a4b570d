package experiments

import (
	"scanlab/clientscan"
	"scanlab/clientscan/psi"
	"scanlab/schema"
)

func init() {
	register(Experiment{
		Name:    "privacy",
		Summary: "below the threshold: how well the provider tells k real matches from none by the match count, per library size and synthetic-voucher calibration",
		Run:     runPrivacy,
		spec:    func(o Options) any { return privacySpecOf(privacyConfig(o)) },
	})
}

// privacyConfig is the below-threshold grid of a run: clientscan's
// threshold and synthetic rate, library sizes from 100 to 100,000 images,
// the calibrations psi.DefaultCalibrations compares, and a number of
// simulated accounts per scale. With 4,000 accounts per group and half the
// default run's 95% intervals are about ±0.02 wide, enough to separate the
// calibrations where their closed forms differ by 0.05 or more.
func privacyConfig(o Options) psi.PrivacyConfig {
	cfg := psi.PrivacyConfig{
		Threshold:    clientscan.DefaultThreshold,
		Libraries:    []int{100, 300, 1_000, 3_000, 10_000, 30_000, 100_000},
		Real:         []int{1, 2, 5, 10, 20, clientscan.DefaultThreshold},
		Calibrations: psi.DefaultCalibrations(clientscan.DefaultThreshold, clientscan.DefaultSyntheticRate),
		Trials:       4_000,
		Seed:         o.Seed,
	}
	switch o.Scale {
	case Quick:
		cfg.Libraries = []int{100, 1_000, 10_000, 100_000}
		cfg.Trials = 200
	case Full:
		cfg.Trials = 20_000
	}
	return cfg
}

// privacySpec is what the manifest records of the grid.
type privacySpec struct {
	Threshold    int          `json:"threshold"`
	Libraries    []int        `json:"libraries"`
	Real         []int        `json:"real"`
	Calibrations []privacyCal `json:"calibrations"`
	Trials       int          `json:"trials"`
}

// privacyCal is a calibration as the manifest records it.
type privacyCal struct {
	Name   string  `json:"name"`
	Rate   float64 `json:"rate"`
	Budget string  `json:"budget"`
	Max    int     `json:"max,omitempty"`
}

func privacySpecOf(cfg psi.PrivacyConfig) privacySpec {
	s := privacySpec{Threshold: cfg.Threshold, Libraries: cfg.Libraries, Real: cfg.Real, Trials: cfg.Trials}
	for _, c := range cfg.Calibrations {
		s.Calibrations = append(s.Calibrations, privacyCal{c.Name, c.Rate, c.Budget.String(), c.Max})
	}
	return s
}

// runPrivacy computes the below-threshold table one library size at a time
// (each cell draws from its own seeded stream, so the rows do not depend
// on how the grid is split) and writes privacy/below-threshold.csv.
func runPrivacy(o Options, dir string) (map[string]any, error) {
	cfg := privacyConfig(o)
	cals := map[string]psi.Calibration{}
	for _, c := range cfg.Calibrations {
		cals[c.Name] = c
	}
	var rows []schema.BelowThresholdRow
	for i, n := range cfg.Libraries {
		o.advance(i, len(cfg.Libraries))
		o.progress("privacy: libraries of %d images, %d simulated accounts per group", n, cfg.Trials)
		one := cfg
		one.Libraries = []int{n}
		got, err := psi.BelowThreshold(one)
		if err != nil {
			return nil, err
		}
		for _, r := range got {
			rows = append(rows, belowThresholdRow(r, cals[r.Calibration]))
		}
	}
	o.advance(len(cfg.Libraries), len(cfg.Libraries))
	if err := schema.BelowThreshold.WriteFile(o.Out, rows); err != nil {
		return nil, err
	}
	return map[string]any{"rows": len(rows), "trials": cfg.Trials}, nil
}

// belowThresholdRow is one row of the file: r, and the calibration c it
// was computed under.
func belowThresholdRow(r psi.PrivacyRow, c psi.Calibration) schema.BelowThresholdRow {
	row := schema.BelowThresholdRow{
		Calibration: r.Calibration, Rate: c.Rate, Budget: c.Budget.String(),
		Library: r.Library, K: r.Real, T: r.Threshold, MeanSynthetic: r.MeanSynthetic,
		ClosedForm: r.Closed, Simulated: r.Simulated, SimulatedLo: r.Low, SimulatedHi: r.High, Trials: r.Trials,
	}
	if c.Budget != psi.BudgetNone {
		row.BudgetMax = schema.Some(c.Max)
	}
	return row
}
