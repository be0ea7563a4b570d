package experiments

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"scanlab/behavior"
	"scanlab/clientscan"
	"scanlab/corpus"
	"scanlab/coverage"
	"scanlab/modes"
	"scanlab/schema"
	"scanlab/stats"
)

func init() {
	register(Experiment{
		Name: "coverage",
		Summary: "what each mode catches and whom it flags wrongly, with intervals, across offender stealth, " +
			"detector thresholds, report rates, DM policies, modified clients, clientscan's threshold and duration",
		Run:     runCoverage,
		spec:    func(o Options) any { return o.Coverage },
		setSpec: func(raw json.RawMessage, o *Options) error { return json.Unmarshal(raw, &o.Coverage) },
		sweep:   coverageSweep,
	})
}

// CoverageOptions change the coverage experiment's workload and sweep; a
// sweep file's [coverage] table sets them. A zero number keeps the scale's
// default; an absent list keeps the default points, an empty list runs none.
type CoverageOptions struct {
	Users         int     `toml:"users" json:"users,omitempty"`
	Days          int     `toml:"days" json:"days,omitempty"`
	OffenderShare float64 `toml:"offender_share" json:"offender_share,omitempty"`
	// Images and Attacks size the content pools (distinct images per
	// class, and attack outputs).
	Images  int `toml:"images" json:"images,omitempty"`
	Attacks int `toml:"attacks" json:"attacks,omitempty"`

	Stealth              []float64 `toml:"stealth" json:"stealth"`
	DetectorThresholds   []float64 `toml:"detector_thresholds" json:"detector_thresholds"`
	ReportRates          []float64 `toml:"report_rates" json:"report_rates"`
	DMPolicies           []string  `toml:"dm_policies" json:"dm_policies"`
	ModifiedClientShares []float64 `toml:"modified_client_shares" json:"modified_client_shares"`
	Thresholds           []int     `toml:"thresholds" json:"thresholds"`
	PSIMatch             []string  `toml:"psi_match" json:"psi_match"`
	// DurationDays are further lengths of the period, each run at
	// clientscan's default threshold and at DurationThresholds.
	DurationDays       []int `toml:"duration_days" json:"duration_days"`
	DurationThresholds []int `toml:"duration_thresholds" json:"duration_thresholds"`
}

// check refuses impossible values, naming the key.
func (c CoverageOptions) check() error {
	switch {
	case c.Users < 0:
		return fmt.Errorf("users: %d is negative", c.Users)
	case c.Days < 0 || c.Days > 366:
		return fmt.Errorf("days: %d is not in 1..366", c.Days)
	case c.Images < 0:
		return fmt.Errorf("images: %d is negative", c.Images)
	case c.Attacks < 0:
		return fmt.Errorf("attacks: %d is negative", c.Attacks)
	case c.OffenderShare < 0 || c.OffenderShare > 1:
		return fmt.Errorf("offender_share: %v is not in [0, 1] (more offenders than adults?)", c.OffenderShare)
	}
	checks := []struct {
		key string
		ok  func() error
	}{
		{"stealth", func() error { return inUnit(c.Stealth) }},
		{"report_rates", func() error { return inUnit(c.ReportRates) }},
		{"modified_client_shares", func() error { return inUnit(c.ModifiedClientShares) }},
		{"detector_thresholds", func() error { return positive(c.DetectorThresholds) }},
		{"thresholds", func() error { return atLeastOne(c.Thresholds) }},
		{"duration_thresholds", func() error { return atLeastOne(c.DurationThresholds) }},
		{"duration_days", func() error { return days(c.DurationDays) }},
		{"dm_policies", func() error { return policies(c.DMPolicies) }},
		{"psi_match", func() error { return matches(c.PSIMatch) }},
	}
	for _, ch := range checks {
		if err := ch.ok(); err != nil {
			return fmt.Errorf("%s: %w", ch.key, err)
		}
	}
	return nil
}

func inUnit(v []float64) error {
	for _, x := range v {
		if !(x >= 0 && x <= 1) {
			return fmt.Errorf("%v is not in [0, 1]", x)
		}
	}
	return nil
}

func positive(v []float64) error {
	for _, x := range v {
		if !(x > 0) {
			return fmt.Errorf("%v is not positive", x)
		}
	}
	return nil
}

func atLeastOne(v []int) error {
	for _, t := range v {
		if t < 1 {
			return fmt.Errorf("threshold %d must be at least 1", t)
		}
	}
	return nil
}

func days(v []int) error {
	for _, d := range v {
		if d < 1 || d > 366 {
			return fmt.Errorf("%d days is not in 1..366", d)
		}
	}
	return nil
}

func policies(v []string) error {
	for _, p := range v {
		if !slices.Contains(corpus.DMPolicies, corpus.DMPolicy(p)) {
			return fmt.Errorf("unknown dm policy %q (everyone, friends, no-one)", p)
		}
	}
	return nil
}

func matches(v []string) error {
	for _, m := range v {
		if _, err := clientscan.ParseMatch(m); err != nil {
			return err
		}
	}
	return nil
}

// coverageCell is one cell of the coverage sweep: a change to the base
// configuration, the modes it concerns and what it tabulates.
type coverageCell struct {
	schema.Variant
	apply     func(*coverage.Config)
	clients   modes.Clientscan // clientscan's knobs
	modes     []string         // nil: every mode
	stealth   float64
	sensitive bool // tabulate sensitivity rows
}

// coverageBase is the default workload of a scale. Offenders are
// over-sampled (5% of adults, against the population default of 1%) so
// that per-offender rates rest on hundreds of accounts; rates here are per
// account and per message, not prevalence estimates.
func coverageBase(o Options) coverage.Config {
	pop := corpus.DefaultPopulationConfig()
	pop.Seed, pop.OffenderShare = o.Seed, 0.05
	conv := corpus.DefaultConversationConfig()
	conv.Seed = o.Seed
	content := coverage.ContentConfig{Images: 48, Attacks: 6, ListExtra: 2000, Texts: 200}
	switch o.Scale {
	case Quick:
		pop.Users, conv.Days = 2000, 14
		content.Images, content.Attacks = 12, 2
	case Full:
		pop.Users, conv.Days = 100_000, 90
		content.Images, content.Attacks = 200, 24
	}
	c := o.Coverage
	pop.Users = cmpOr(c.Users, pop.Users)
	conv.Days = cmpOr(c.Days, conv.Days)
	if c.OffenderShare > 0 {
		pop.OffenderShare = c.OffenderShare
	}
	content.Images, content.Attacks = cmpOr(c.Images, content.Images), cmpOr(c.Attacks, content.Attacks)
	det := behavior.DefaultConfig()
	return coverage.Config{Seed: o.Seed, Population: pop, Conversation: conv, Content: content, Detector: det}
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// coverageSweepPoints are the points of each sweep at a scale; a sweep
// file's lists replace them.
func coverageSweepPoints(o Options) CoverageOptions {
	p := CoverageOptions{
		Stealth: []float64{0.25, 0.5, 0.75, 1}, DetectorThresholds: []float64{4, 5, 7, 8},
		ReportRates: []float64{0.001, 0.05, 0.2}, DMPolicies: []string{"everyone", "friends", "no-one"},
		ModifiedClientShares: []float64{0, 0.5, 1}, Thresholds: []int{1, 5, 10, 20},
		PSIMatch: []string{"exact", "chunks=4", "chunks=8"}, DurationDays: []int{7, 90}, DurationThresholds: []int{5},
	}
	if o.Scale == Quick {
		p = CoverageOptions{Stealth: []float64{1}, DetectorThresholds: []float64{5}, ReportRates: []float64{0.2},
			DMPolicies: []string{"friends"}, ModifiedClientShares: []float64{1}, Thresholds: []int{5},
			PSIMatch: []string{"chunks=4"}, DurationDays: []int{7}, DurationThresholds: []int{5}}
	}
	c := o.Coverage
	p.Stealth = orDefault(c.Stealth, p.Stealth)
	p.DetectorThresholds = orDefault(c.DetectorThresholds, p.DetectorThresholds)
	p.ReportRates = orDefault(c.ReportRates, p.ReportRates)
	p.DMPolicies = orDefault(c.DMPolicies, p.DMPolicies)
	p.ModifiedClientShares = orDefault(c.ModifiedClientShares, p.ModifiedClientShares)
	p.Thresholds = orDefault(c.Thresholds, p.Thresholds)
	p.PSIMatch = orDefault(c.PSIMatch, p.PSIMatch)
	p.DurationDays = orDefault(c.DurationDays, p.DurationDays)
	p.DurationThresholds = orDefault(c.DurationThresholds, p.DurationThresholds)
	return p
}

func orDefault[T any](given, def []T) []T {
	if given != nil {
		return given
	}
	return def
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// coverageCells lists the cells of the sweep.
func coverageCells(o Options) []coverageCell {
	p := coverageSweepPoints(o)
	thresholds := p.DetectorThresholds
	cs := []string{clientscan.Name}
	cells := []coverageCell{{Variant: schema.BaseVariant, sensitive: true,
		apply: func(c *coverage.Config) { c.Thresholds = thresholds }}}
	add := func(sweep, value string, cell coverageCell) {
		cell.Variant = schema.Variant{Sweep: sweep, Value: value}
		cells = append(cells, cell)
	}
	for _, s := range p.Stealth {
		add("stealth", formatFloat(s), coverageCell{stealth: s, sensitive: true, apply: func(c *coverage.Config) {
			c.Population.Stealth, c.Thresholds = corpus.FixedStealth(s), thresholds
		}})
	}
	for _, r := range p.ReportRates {
		add("report-rate", formatFloat(r), coverageCell{apply: func(c *coverage.Config) { c.Population.ReportProb = r }})
	}
	for _, pol := range p.DMPolicies {
		add("dm-policy", pol, coverageCell{apply: func(c *coverage.Config) { c.DMPolicy = corpus.DMPolicy(pol) }})
	}
	// Modified clients and matching variants are swept at t = 5, where an
	// account of this workload can cross the threshold.
	for _, s := range p.ModifiedClientShares {
		add("modified-clients", formatFloat(s)+";t=5", coverageCell{modes: cs, clients: modes.Clientscan{Threshold: 5},
			apply: func(c *coverage.Config) { c.Population.ModifiedClientShare = s }})
	}
	for _, t := range p.Thresholds {
		add("threshold", strconv.Itoa(t), coverageCell{modes: cs, clients: modes.Clientscan{Threshold: t}})
	}
	for _, m := range p.PSIMatch {
		add("psi-match", m+";t=5", coverageCell{modes: cs, clients: modes.Clientscan{Threshold: 5, Match: m}})
	}
	for _, d := range p.DurationDays {
		apply := func(c *coverage.Config) { c.Conversation.Days = d }
		add("duration", strconv.Itoa(d)+"d", coverageCell{apply: apply})
		for _, t := range p.DurationThresholds {
			add("duration", fmt.Sprintf("%dd;t=%d", d, t), coverageCell{modes: cs, clients: modes.Clientscan{Threshold: t}, apply: apply})
		}
	}
	return cells
}

// coverageFiles are the files the sweep's cells write.
var coverageFiles = []interface {
	Base() string
	Header() []string
}{schema.Coverage, schema.CoverageSweeps, schema.Accounts, schema.Prevention, schema.Sensitivity, schema.Texts, schema.Pooled}

func coverageSweep(o Options) sweepOutput {
	var names []string
	for _, c := range coverageCells(o) {
		names = append(names, c.Sweep+"="+c.Value)
	}
	headers := map[string][]string{}
	for _, f := range coverageFiles {
		headers[f.Base()] = f.Header()
	}
	return sweepOutput{names: names, headers: headers}
}

func runCoverage(o Options, dir string) (map[string]any, error) {
	cells := coverageCells(o)
	base := coverageBase(o)
	if err := base.Check(); err != nil {
		return nil, err
	}
	assembled, err := runSweep(o, dir, coverageSweep(o), func(k int) (map[string][][]string, error) {
		return runCoverageCell(o, cells[k])
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"cells": len(cells), "assembled": assembled, "users": base.Population.Users,
		"days": base.Conversation.Days, "offender_share": base.Population.OffenderShare,
		"detector_threshold": behavior.CalibratedThreshold, "detector_calibration_target": behavior.CalibrationTarget,
		"detector_calibration_seeds": behavior.CalibrationSeeds, "clientscan_threshold": clientscan.DefaultThreshold,
		"synthetic_texts": corpus.SyntheticTexts, "synthetic_images": true}, nil
}

// runCoverageCell runs one cell and returns its rows, file by file.
func runCoverageCell(o Options, cell coverageCell) (map[string][][]string, error) {
	cfg := coverageBase(o)
	if cell.apply != nil {
		cell.apply(&cfg)
	}
	meta, err := metadataOf(cfg)
	if err != nil {
		return nil, err
	}
	var specs []coverage.ModeSpec
	for _, name := range modes.Names {
		if cell.modes == nil || slices.Contains(cell.modes, name) {
			specs = append(specs, coverage.ModeSpec{Name: name, Clientscan: cell.clients})
		}
	}
	judgments, err := coverage.JudgeAll(meta, specs, coverage.PassOptions{Progress: cellProgress(o, cell.Variant)})
	if err != nil {
		return nil, err
	}
	files := map[string][][]string{}
	key, bs := cell.Sweep+"="+cell.Value, stats.Bootstrap{Seed: o.Seed}
	for _, j := range judgments {
		res := coverage.Result{Meta: meta, Judgment: j, Key: key, Bootstrap: bs}
		if err := tabulateCell(files, res, cell); err != nil {
			return nil, fmt.Errorf("mode %s: %w", j.Mode, err)
		}
	}
	pooled, err := coverage.PooledRows(meta, judgments, bs, key)
	if err != nil {
		return nil, err
	}
	for _, p := range pooled {
		p.Variant = cell.Variant
		files[schema.Pooled.Base()] = append(files[schema.Pooled.Base()], schema.Pooled.Record(p))
	}
	if cell.Variant == schema.BaseVariant {
		texts, err := textRows(o)
		if err != nil {
			return nil, err
		}
		for _, r := range texts {
			files[schema.Texts.Base()] = append(files[schema.Texts.Base()], schema.Texts.Record(r))
		}
	}
	return files, nil
}

// cellProgress reports, at most once a minute, how far a cell's content
// passes have got: a full-scale cell runs for many minutes.
func cellProgress(o Options, v schema.Variant) func(done, total int) {
	last := time.Now()
	return func(done, total int) {
		if time.Since(last) < time.Minute || total == 0 {
			return
		}
		last = time.Now()
		o.progress("coverage: %s=%s: %d%% of %d messages judged", v.Sweep, v.Value, 100*done/total, total)
	}
}

// textRows scores serverscan's text scanner on the held-out templates and
// on a sample of the workload's own texts (smaller sets in the quick
// study), once per seed and scale.
func textRows(o Options) ([]schema.TextsRow, error) {
	v, _ := textCache.LoadOrStore(fmt.Sprint(o.Seed, o.Scale), &textEntry{})
	e := v.(*textEntry)
	e.once.Do(func() {
		held := corpus.DefaultHeldOutConfig()
		tc := corpus.DefaultTextConfig()
		tc.Seed, tc.Conversations = o.Seed, 200
		if o.Scale == Quick {
			held.PerCategory, held.Benign, tc.Conversations = held.PerCategory/5, held.Benign/5, 40
		}
		e.rows, e.err = coverage.TextRows(o.Seed, held, tc)
	})
	return e.rows, e.err
}

var textCache sync.Map // seed and scale → *textEntry

type textEntry struct {
	once sync.Once
	rows []schema.TextsRow
	err  error
}

// tabulateCell adds one mode's rows of one cell.
func tabulateCell(files map[string][][]string, res coverage.Result, cell coverageCell) error {
	rows, err := res.CoverageRows()
	if err != nil {
		return err
	}
	for _, r := range rows {
		if cell.Variant == schema.BaseVariant {
			files[schema.Coverage.Base()] = append(files[schema.Coverage.Base()], schema.Coverage.Record(r))
		}
		files[schema.CoverageSweeps.Base()] = append(files[schema.CoverageSweeps.Base()],
			schema.CoverageSweeps.Record(schema.CoverageSweepRow{CoverageRow: r, Variant: cell.Variant}))
	}
	accounts, err := res.AccountRows()
	if err != nil {
		return err
	}
	for _, a := range accounts {
		a.Variant = cell.Variant
		files[schema.Accounts.Base()] = append(files[schema.Accounts.Base()], schema.Accounts.Record(a))
	}
	p, err := res.Prevention()
	if err != nil {
		return err
	}
	p.Variant = cell.Variant
	files[schema.Prevention.Base()] = append(files[schema.Prevention.Base()], schema.Prevention.Record(p))
	if !cell.sensitive {
		return nil
	}
	sens, err := res.SensitivityRows(cell.stealth)
	if err != nil {
		return err
	}
	for _, s := range sens {
		files[schema.Sensitivity.Base()] = append(files[schema.Sensitivity.Base()], schema.Sensitivity.Record(s))
	}
	return nil
}

// metaCache shares the metadata pass of one workload between the cells that
// differ only in clientscan's settings.
var metaCache sync.Map // string → *metaEntry

type metaEntry struct {
	once sync.Once
	meta *coverage.Meta
	err  error
}

func metadataOf(cfg coverage.Config) (*coverage.Meta, error) {
	key, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	v, _ := metaCache.LoadOrStore(string(key), &metaEntry{})
	e := v.(*metaEntry)
	e.once.Do(func() {
		w, err := coverage.NewWorkload(cfg)
		if err != nil {
			e.err = err
			return
		}
		e.meta, e.err = w.Metadata()
	})
	return e.meta, e.err
}
