package experiments

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"scanlab"
	"scanlab/behavior"
	"scanlab/clientscan"
	"scanlab/corpus"
	"scanlab/harness"
	"scanlab/modes"
	"scanlab/schema"
)

func init() {
	register(Experiment{
		Name:    "coverage",
		Summary: "what each mode catches, per content class and pathway, under report rates, modified clients, thresholds and DM policies",
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
	Users                int       `toml:"users" json:"users,omitempty"`
	Days                 int       `toml:"days" json:"days,omitempty"`
	OffenderShare        float64   `toml:"offender_share" json:"offender_share,omitempty"`
	Images               int       `toml:"images" json:"images,omitempty"` // distinct images per content class
	ReportRates          []float64 `toml:"report_rates" json:"report_rates"`
	DMPolicies           []string  `toml:"dm_policies" json:"dm_policies"`
	ModifiedClientShares []float64 `toml:"modified_client_shares" json:"modified_client_shares"`
	Thresholds           []int     `toml:"thresholds" json:"thresholds"`
	PSIMatch             []string  `toml:"psi_match" json:"psi_match"`
}

// check refuses impossible values, naming the key.
func (c CoverageOptions) check() error {
	switch {
	case c.Users < 0:
		return fmt.Errorf("users: %d is negative", c.Users)
	case c.Days < 0:
		return fmt.Errorf("days: %d is negative", c.Days)
	case c.Images < 0:
		return fmt.Errorf("images: %d is negative", c.Images)
	case c.OffenderShare < 0 || c.OffenderShare > 1:
		return fmt.Errorf("offender_share: %v is not in [0, 1]", c.OffenderShare)
	}
	for _, r := range c.ReportRates {
		if r < 0 || r > 1 {
			return fmt.Errorf("report_rates: %v is not a probability", r)
		}
	}
	for _, r := range c.ModifiedClientShares {
		if r < 0 || r > 1 {
			return fmt.Errorf("modified_client_shares: %v is not a probability", r)
		}
	}
	for _, p := range c.DMPolicies {
		if !slices.Contains(corpus.DMPolicies, corpus.DMPolicy(p)) {
			return fmt.Errorf("dm_policies: unknown dm policy %q (everyone, friends, no-one)", p)
		}
	}
	for _, t := range c.Thresholds {
		if t < 1 {
			return fmt.Errorf("thresholds: threshold %d must be at least 1", t)
		}
	}
	for _, m := range c.PSIMatch {
		if _, err := clientscan.ParseMatch(m); err != nil {
			return fmt.Errorf("psi_match: %w", err)
		}
	}
	return nil
}

// coverageVariant is one cell of the coverage sweep: a change to the base
// configuration, and the modes it concerns.
type coverageVariant struct {
	sweep, value string
	apply        func(*coverageConfig)
	modes        []string // nil: every mode
}

// coverageConfig is everything one cell of the coverage experiment varies.
type coverageConfig struct {
	pop       corpus.PopulationConfig
	conv      corpus.ConversationConfig
	mode      modes.Config
	dmPolicy  string // "" keeps each user's drawn policy; else everyone's
	behavior  behavior.Config
	images    int // distinct images per content class
	listExtra int // random filler entries in the hash list
}

func baseCoverage(o Options) coverageConfig {
	pop := corpus.DefaultPopulationConfig()
	pop.Seed = o.Seed
	// Offenders are over-sampled (5% of adults, against the population
	// default of 1%) so that harmful classes hold enough messages to
	// measure; the rates below are per message and per account, not
	// prevalence estimates.
	pop.Users = 400
	pop.OffenderShare = 0.05
	conv := corpus.DefaultConversationConfig()
	conv.Seed = o.Seed
	conv.Days = 7
	conv.MessagesPerDay = 2
	images := 24
	if o.Scale == Quick {
		pop.Users, conv.Days, images = 200, 5, 12
	}
	c := o.Coverage
	if c.Users > 0 {
		pop.Users = c.Users
	}
	if c.Days > 0 {
		conv.Days = c.Days
	}
	if c.OffenderShare > 0 {
		pop.OffenderShare = c.OffenderShare
	}
	if c.Images > 0 {
		images = c.Images
	}
	return coverageConfig{pop: pop, conv: conv, behavior: behavior.DefaultConfig(), images: images, listExtra: 2000}
}

func coverageVariants(o Options) []coverageVariant {
	c := o.Coverage
	// A sweep file's lists replace the defaults (nil keeps them).
	reportRates := orDefault(c.ReportRates, []float64{0.001, 0.05, 0.2})
	policies := orDefault(c.DMPolicies, []string{"everyone", "friends", "no-one"})
	modified := orDefault(c.ModifiedClientShares, []float64{0, 0.5, 1})
	thresholds := orDefault(c.Thresholds, []int{1, 5}) // the base run has t = 30
	matches := orDefault(c.PSIMatch, []string{"exact", "chunks=4", "chunks=8"})
	v := []coverageVariant{{sweep: "base", value: "default"}}
	for _, r := range reportRates {
		v = append(v, coverageVariant{sweep: "report-rate", value: formatFloat(r), apply: func(c *coverageConfig) { c.pop.ReportProb = r }})
	}
	for _, p := range policies {
		v = append(v, coverageVariant{sweep: "dm-policy", value: p, apply: func(c *coverageConfig) { c.dmPolicy = p }})
	}
	// Modified clients and matching variants are swept at t = 5: at the
	// base t = 30 no account of this workload crosses the threshold, so
	// neither could change anything.
	clientscanOnly := []string{clientscan.Name}
	for _, s := range modified {
		v = append(v, coverageVariant{sweep: "modified-clients", value: formatFloat(s) + ";t=5", modes: clientscanOnly,
			apply: func(c *coverageConfig) { c.pop.ModifiedClientShare, c.mode.Clientscan.Threshold = s, 5 }})
	}
	for _, t := range thresholds {
		v = append(v, coverageVariant{sweep: "threshold", value: strconv.Itoa(t), modes: clientscanOnly,
			apply: func(c *coverageConfig) { c.mode.Clientscan.Threshold = t }})
	}
	for _, m := range matches {
		v = append(v, coverageVariant{sweep: "psi-match", value: m + ";t=5", modes: clientscanOnly,
			apply: func(c *coverageConfig) { c.mode.Clientscan.Match, c.mode.Clientscan.Threshold = m, 5 }})
	}
	if o.Scale == Quick && c.ReportRates == nil && c.DMPolicies == nil && c.ModifiedClientShares == nil && c.Thresholds == nil && c.PSIMatch == nil {
		v = firstOfEachSweep(v)
	}
	return v
}

// firstOfEachSweep keeps the base cell and the first point of every sweep:
// the quick study.
func firstOfEachSweep(v []coverageVariant) []coverageVariant {
	var q []coverageVariant
	seen := map[string]bool{}
	for _, x := range v {
		if x.sweep == "base" || !seen[x.sweep] {
			q = append(q, x)
			seen[x.sweep] = true
		}
	}
	return q
}

func orDefault[T any](given, def []T) []T {
	if given != nil {
		return given
	}
	return def
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// coverageHeaders are the headers of the files the coverage sweep's cells
// write, by file name.
var coverageHeaders = map[string][]string{
	schema.Coverage.Base():       schema.Coverage.Header(),
	schema.CoverageSweeps.Base(): schema.CoverageSweeps.Header(),
	schema.FalseFlag.Base():      schema.FalseFlag.Header(),
	schema.Accounts.Base():       schema.Accounts.Header(),
	schema.Prevention.Base():     schema.Prevention.Header(),
}

func coverageSweep(o Options) sweepOutput {
	var names []string
	for _, v := range coverageVariants(o) {
		names = append(names, v.sweep+"="+v.value)
	}
	return sweepOutput{names: names, headers: coverageHeaders}
}

func runCoverage(o Options, dir string) (map[string]any, error) {
	variants := coverageVariants(o)
	assembled, err := runSweep(o, dir, coverageSweep(o), func(k int) (map[string][][]string, error) {
		return coverageCell(o, variants[k])
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"cells": len(variants), "assembled": assembled, "synthetic_texts": corpus.SyntheticTexts, "synthetic_images": true}, nil
}

// coverageCell runs every concerned mode on one configuration.
func coverageCell(o Options, v coverageVariant) (map[string][][]string, error) {
	cfg := baseCoverage(o)
	if v.apply != nil {
		v.apply(&cfg)
	}
	w, err := newWorkload(o, cfg)
	if err != nil {
		return nil, err
	}
	files := map[string][][]string{}
	if v.sweep == "base" {
		files["falseflag.csv"] = falseFlagRows(o, w)
	}
	for _, name := range modes.Names {
		if v.modes != nil && !slices.Contains(v.modes, name) {
			continue
		}
		m, err := modes.New(name, w.modeConfig)
		if err != nil {
			return nil, err
		}
		res, err := w.run(m)
		if err != nil {
			return nil, fmt.Errorf("mode %s: %w", name, err)
		}
		for _, r := range res.coverageRows() {
			if v.sweep == "base" {
				files["coverage.csv"] = append(files["coverage.csv"], r)
			}
			files["coverage-sweeps.csv"] = append(files["coverage-sweeps.csv"], append(slices.Clone(r), v.sweep, v.value))
		}
		files["accounts.csv"] = append(files["accounts.csv"], append([]string{name, v.sweep, v.value}, res.accountRow()...))
		files["prevention.csv"] = append(files["prevention.csv"], append([]string{name, v.sweep, v.value}, res.preventionRow()...))
	}
	return files, nil
}

// workload is one configuration's population, traffic and content, shared by
// the modes so that they are compared on exactly the same messages.
type workload struct {
	cfg        coverageConfig
	pop        *corpus.Population
	events     []corpus.MessageEvent
	content    *contentPools
	modeConfig modes.Config
	policy     map[scanlab.UserID]corpus.DMPolicy
}

func newWorkload(o Options, cfg coverageConfig) (*workload, error) {
	pop, err := corpus.GeneratePopulation(cfg.pop)
	if err != nil {
		return nil, err
	}
	events, err := pop.Conversations(cfg.conv)
	if err != nil {
		return nil, err
	}
	content, err := newContentPools(o, cfg)
	if err != nil {
		return nil, err
	}
	w := &workload{cfg: cfg, pop: pop, events: events, content: content, policy: map[scanlab.UserID]corpus.DMPolicy{}}
	for _, u := range pop.Users {
		w.policy[u.ID] = u.Policy
		if cfg.dmPolicy != "" {
			w.policy[u.ID] = corpus.DMPolicy(cfg.dmPolicy)
		}
	}
	w.modeConfig = cfg.mode
	w.modeConfig.Clientscan.Seed = o.Seed
	w.modeConfig.List, w.modeConfig.Labels, w.modeConfig.Second = content.list, content.labels, content.second
	w.modeConfig.Clientscan.Modified = map[scanlab.UserID]bool{}
	for _, u := range pop.Users {
		if u.ModifiedClient {
			w.modeConfig.Clientscan.Modified[u.ID] = true
		}
	}
	return w, nil
}

// modeResult is what one mode caught on one workload.
type modeResult struct {
	mode      string
	w         *workload
	detected  map[string]map[scanlab.Pathway]bool // message ID → pathways that flagged it
	flagged   map[scanlab.UserID]time.Time        // account → first detection time
	delivered []corpus.MessageEvent
	prevented []corpus.MessageEvent
}

// note records detections raised at time at.
func (r *modeResult) note(dets []scanlab.Detection, at time.Time) {
	for _, d := range dets {
		if d.MessageID != "" {
			if r.detected[d.MessageID] == nil {
				r.detected[d.MessageID] = map[scanlab.Pathway]bool{}
			}
			r.detected[d.MessageID][d.Pathway] = true
		}
		if t, ok := r.flagged[d.Account]; !ok || at.Before(t) {
			r.flagged[d.Account] = at
		}
	}
}

// run sends the workload through one mode in process (package harness): the
// recipient's DM policy first, then the sender's device, the provider's
// logic, the recipient's device and any report; the metadata detector
// watches every message the provider handles.
func (w *workload) run(m scanlab.Mode) (*modeResult, error) {
	clock := w.pop.Config.Start
	world, err := harness.New(harness.Options{
		Mode: m, Transport: harness.InProcess,
		Now:   func() time.Time { return clock },
		Admit: func(from, to scanlab.UserID) bool { return corpus.Allowed(w.policy[to], w.pop.Connected(from, to)) },
	})
	if err != nil {
		return nil, err
	}
	defer world.Close()
	res := &modeResult{mode: m.Name(), w: w, detected: map[string]map[scanlab.Pathway]bool{}, flagged: map[scanlab.UserID]time.Time{}}
	meta := behavior.New(w.cfg.behavior)
	rng := rand.New(rand.NewPCG(w.cfg.pop.Seed, 77))
	for _, ev := range w.events {
		clock = ev.At
		reported, err := w.deliver(world, res, ev, rng)
		if err != nil {
			return nil, err
		}
		meta.Observe(behaviorEvent(w.pop, ev, reported))
	}
	res.creditMetadata(meta.Detections())
	return res, nil
}

// deliver takes one event through the world and reports whether a verified
// report about it reached the provider.
func (w *workload) deliver(world *harness.World, res *modeResult, ev corpus.MessageEvent, rng *rand.Rand) (bool, error) {
	if !world.Admits(ev.From, ev.To) {
		// The provider enforces the policy, so it sees the attempt.
		res.prevented = append(res.prevented, ev)
		return false, nil
	}
	msg := scanlab.Message{ID: ev.ID, From: ev.From, To: ev.To, Sent: ev.At, Content: w.content.draw(ev, rng)}
	sent, err := world.Send(msg)
	res.note(sent.Detections, ev.At)
	if err != nil {
		return false, err
	}
	if sent.Prevented {
		return false, fmt.Errorf("%s: the harness's gate and the workload disagree", ev.ID)
	}
	batch, err := world.Deliver(ev.To, 1)
	if err != nil {
		return false, err
	}
	if len(batch.Messages) != 1 || batch.Messages[0].Message.ID != ev.ID {
		return false, fmt.Errorf("%s: not delivered", ev.ID)
	}
	res.delivered = append(res.delivered, ev)
	if !ev.Reported {
		return false, nil
	}
	dets, err := world.Report(ev.To, batch.Messages[0].Message)
	res.note(dets, ev.At)
	return len(dets) > 0, err
}

// creditMetadata records the metadata detector's account flags. Metadata
// flags are about accounts: every delivered message of a flagged account
// counts as caught by that pathway.
func (r *modeResult) creditMetadata(flags []scanlab.Detection) {
	flaggedMeta := map[scanlab.UserID]time.Time{}
	for _, d := range flags {
		flaggedMeta[d.Account] = d.At
		if t, ok := r.flagged[d.Account]; !ok || d.At.Before(t) {
			r.flagged[d.Account] = d.At
		}
	}
	for _, ev := range r.delivered {
		if _, ok := flaggedMeta[ev.From]; ok {
			if r.detected[ev.ID] == nil {
				r.detected[ev.ID] = map[scanlab.Pathway]bool{}
			}
			r.detected[ev.ID][scanlab.ServerMetadata] = true
		}
	}
}

// behaviorEvent is what the provider's metadata detector sees of a message:
// routing, account facts the platform holds, and whether a verified report
// came in. No content, no ground truth.
func behaviorEvent(p *corpus.Population, ev corpus.MessageEvent, reported bool) behavior.Event {
	from, to := p.User(ev.From), p.User(ev.To)
	return behavior.Event{
		MessageID: ev.ID, From: ev.From, To: ev.To, At: ev.At,
		FromCreated: from.Created, FromMinor: from.Minor(), ToMinor: to.Minor(),
		Connected: ev.Connected, Hops: ev.Hops, Reported: reported,
	}
}

var coverageClasses = []corpus.ContentClass{
	corpus.ClassKnownImage, corpus.ClassTransformedImage, corpus.ClassEvasiveImage, corpus.ClassNovelImage,
	corpus.ClassCollisionImage, corpus.ClassHarmfulText, corpus.ClassBenignImage, corpus.ClassBenignText,
}

// coverageRows gives, for every class and pathway (and "any"), how many
// delivered messages there were and how many were flagged. For benign
// classes the ratio is the false-positive rate, counted over messages of
// benign senders only (an offender's small talk flagged with its account is
// not a false positive).
func (r *modeResult) coverageRows() [][]string {
	var rows [][]string
	pathways := append(slices.Clone(scanlab.Pathways), "any")
	for _, c := range coverageClasses {
		items := r.itemsOf(c)
		for _, p := range pathways {
			detected, toDetection := r.detections(items, p)
			recall := 0.0
			if len(items) > 0 {
				recall = float64(detected) / float64(len(items))
			}
			med := ""
			if len(toDetection) > 0 {
				med = strconv.FormatInt(median(toDetection), 10)
			}
			rows = append(rows, []string{r.mode, string(c), string(p), strconv.Itoa(len(items)), strconv.Itoa(detected), strconv.FormatFloat(recall, 'f', 4, 64), med})
		}
	}
	return rows
}

// itemsOf returns the delivered messages of class c that count for it:
// for benign classes, those of benign senders only.
func (r *modeResult) itemsOf(c corpus.ContentClass) []corpus.MessageEvent {
	var items []corpus.MessageEvent
	for _, ev := range r.delivered {
		if ev.Class == c && (c.Harmful() || !r.w.pop.User(ev.From).Offender) {
			items = append(items, ev)
		}
	}
	return items
}

// detections counts the items pathway p (or "any") flagged, and for each
// sender the number of items it had sent of them until its first detection.
func (r *modeResult) detections(items []corpus.MessageEvent, p scanlab.Pathway) (detected int, toDetection []int64) {
	sentSoFar := map[scanlab.UserID]int{}
	caught := map[scanlab.UserID]bool{}
	for _, ev := range items {
		sentSoFar[ev.From]++
		hit := r.detected[ev.ID][p]
		if p == "any" {
			hit = len(r.detected[ev.ID]) > 0
		}
		if !hit {
			continue
		}
		detected++
		if !caught[ev.From] {
			caught[ev.From] = true
			toDetection = append(toDetection, int64(sentSoFar[ev.From]))
		}
	}
	return detected, toDetection
}

// accountCounts counts accounts of each group and how many were flagged.
type accountCounts struct {
	offenders, offendersFlagged   int
	innocent, innocentFlagged     int
	framed, framedFlagged         int // innocent accounts that sent a collision image
	lookalikes, lookalikesFlagged int
}

func (r *modeResult) accountRow() []string {
	var c accountCounts
	framed := map[scanlab.UserID]bool{}
	for _, ev := range r.delivered {
		if ev.Class == corpus.ClassCollisionImage {
			framed[ev.From] = true
		}
	}
	count := func(n, flaggedN *int, flagged bool) {
		*n++
		if flagged {
			*flaggedN++
		}
	}
	for i := range r.w.pop.Users {
		u := &r.w.pop.Users[i]
		_, flagged := r.flagged[u.ID]
		if u.Offender {
			count(&c.offenders, &c.offendersFlagged, flagged)
			continue
		}
		count(&c.innocent, &c.innocentFlagged, flagged)
		if framed[u.ID] {
			count(&c.framed, &c.framedFlagged, flagged)
		}
		if u.LookAlike() {
			count(&c.lookalikes, &c.lookalikesFlagged, flagged)
		}
	}
	return itoas(c.offenders, c.offendersFlagged, c.innocent, c.innocentFlagged, c.framed, c.framedFlagged, c.lookalikes, c.lookalikesFlagged)
}

func (r *modeResult) preventionRow() []string {
	var harmfulAttempts, harmfulPrevented, harmfulDelivered, harmfulDetected, benignAttempts, benignPrevented int
	for _, ev := range r.prevented {
		if ev.Harmful {
			harmfulAttempts++
			harmfulPrevented++
		} else {
			benignAttempts++
			benignPrevented++
		}
	}
	for _, ev := range r.delivered {
		if !ev.Harmful {
			benignAttempts++
			continue
		}
		harmfulAttempts++
		harmfulDelivered++
		if len(r.detected[ev.ID]) > 0 {
			harmfulDetected++
		}
	}
	return itoas(harmfulAttempts, harmfulPrevented, harmfulDelivered, harmfulDetected, benignAttempts, benignPrevented)
}

func itoas(v ...int) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = strconv.Itoa(x)
	}
	return out
}
