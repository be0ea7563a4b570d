package experiments

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"scanlab"
	"scanlab/behavior"
	"scanlab/clientscan"
	"scanlab/corpus"
	"scanlab/e2ee"
	"scanlab/kms"
	"scanlab/perceptual"
)

func init() {
	register(Experiment{
		Name:    "coverage",
		Summary: "what each mode catches, per content class and pathway, under report rates, modified clients, thresholds and DM policies",
		Run:     runCoverage,
		sweep:   coverageSweep,
	})
}

// tinyCoverage shrinks the coverage workload for tests.
var tinyCoverage = false

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
	mode      ModeConfig
	dmPolicy  string // "" keeps each user's drawn policy; else everyone's
	behavior  behavior.Config
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
	if o.Quick {
		pop.Users = 200
		conv.Days = 5
	}
	if tinyCoverage {
		pop.Users, conv.Days = 60, 2
	}
	if sw := o.Sweep; sw != nil {
		if sw.Users > 0 {
			pop.Users = sw.Users
		}
		if sw.Days > 0 {
			conv.Days = sw.Days
		}
		if sw.OffenderShare > 0 {
			pop.OffenderShare = sw.OffenderShare
		}
	}
	return coverageConfig{pop: pop, conv: conv, behavior: behavior.DefaultConfig(), listExtra: 2000}
}

func coverageVariants(o Options) []coverageVariant {
	reportRates := []float64{0.001, 0.05, 0.2}
	policies := []string{"everyone", "friends", "no-one"}
	modified := []float64{0, 0.5, 1}
	thresholds := []int{1, 5} // the base run has t = 30
	matches := []string{"exact", "chunks=4", "chunks=8"}
	if sw := o.Sweep; sw != nil {
		// A sweep file's lists replace the defaults (nil keeps them).
		if sw.ReportRates != nil {
			reportRates = sw.ReportRates
		}
		if sw.DMPolicies != nil {
			policies = sw.DMPolicies
		}
		if sw.ModifiedClientShares != nil {
			modified = sw.ModifiedClientShares
		}
		if sw.Thresholds != nil {
			thresholds = sw.Thresholds
		}
		if sw.PSIMatch != nil {
			matches = sw.PSIMatch
		}
	}
	v := []coverageVariant{{sweep: "base", value: "default"}}
	for _, r := range reportRates {
		r := r
		v = append(v, coverageVariant{sweep: "report-rate", value: strconv.FormatFloat(r, 'g', -1, 64), apply: func(c *coverageConfig) { c.pop.ReportProb = r }})
	}
	for _, p := range policies {
		p := p
		v = append(v, coverageVariant{sweep: "dm-policy", value: p, apply: func(c *coverageConfig) { c.dmPolicy = p }})
	}
	// Modified clients and matching variants are swept at t = 5: at the
	// base t = 30 no account of this workload crosses the threshold, so
	// neither could change anything.
	for _, s := range modified {
		s := s
		v = append(v, coverageVariant{sweep: "modified-clients", value: strconv.FormatFloat(s, 'g', -1, 64) + ";t=5", apply: func(c *coverageConfig) { c.pop.ModifiedClientShare, c.mode.Threshold = s, 5 }, modes: []string{"clientscan"}})
	}
	for _, t := range thresholds {
		t := t
		v = append(v, coverageVariant{sweep: "threshold", value: strconv.Itoa(t), apply: func(c *coverageConfig) { c.mode.Threshold = t }, modes: []string{"clientscan"}})
	}
	for _, m := range matches {
		m := m
		v = append(v, coverageVariant{sweep: "psi-match", value: m + ";t=5", apply: func(c *coverageConfig) { c.mode.PSIMatch, c.mode.Threshold = m, 5 }, modes: []string{"clientscan"}})
	}
	if o.Quick && o.Sweep == nil {
		// The quick study keeps one point of each sweep besides the base.
		var q []coverageVariant
		seen := map[string]bool{}
		for _, x := range v {
			if x.sweep == "base" || !seen[x.sweep] {
				q = append(q, x)
				seen[x.sweep] = true
			}
		}
		v = q
	}
	return v
}

var coverageHeaders = map[string][]string{
	"coverage.csv":        {"mode", "class", "pathway", "items", "detected", "recall", "median_messages_to_detection"},
	"coverage-sweeps.csv": {"mode", "class", "pathway", "items", "detected", "recall", "median_messages_to_detection", "sweep", "value"},
	"falseflag.csv":       {"t", "library", "images", "p_image", "p_account", "p_image_basis", "p_image_measured_on"},
	"accounts.csv":        {"mode", "sweep", "value", "offenders", "offenders_flagged", "innocent", "innocent_flagged", "framed", "framed_flagged", "lookalikes", "lookalikes_flagged"},
	"prevention.csv":      {"mode", "sweep", "value", "harmful_attempts", "harmful_prevented", "harmful_delivered", "harmful_detected", "benign_attempts", "benign_prevented"},
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
		ff, err := falseFlagRows(o, w)
		if err != nil {
			return nil, err
		}
		files["falseflag.csv"] = ff
	}
	for _, m := range Modes(w.modeConfig) {
		if v.modes != nil && !slices.Contains(v.modes, m.Name()) {
			continue
		}
		res, err := w.run(m)
		if err != nil {
			return nil, fmt.Errorf("mode %s: %w", m.Name(), err)
		}
		for _, r := range res.coverageRows() {
			if v.sweep == "base" {
				files["coverage.csv"] = append(files["coverage.csv"], r)
			}
			files["coverage-sweeps.csv"] = append(files["coverage-sweeps.csv"], append(slices.Clone(r), v.sweep, v.value))
		}
		files["accounts.csv"] = append(files["accounts.csv"], append([]string{m.Name(), v.sweep, v.value}, res.accountRow()...))
		files["prevention.csv"] = append(files["prevention.csv"], append([]string{m.Name(), v.sweep, v.value}, res.preventionRow()...))
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
	modeConfig ModeConfig
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
	w.modeConfig.Seed = o.Seed
	w.modeConfig.List, w.modeConfig.Labels = content.list, content.labels
	w.modeConfig.Modified = map[scanlab.UserID]bool{}
	for _, u := range pop.Users {
		if u.ModifiedClient {
			w.modeConfig.Modified[u.ID] = true
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

// run sends the workload through one mode: the recipient's DM policy first,
// then the sender's device, the provider's logic, the recipient's device and
// any report; the metadata detector watches every delivered message.
func (w *workload) run(m scanlab.Mode) (*modeResult, error) {
	keys, err := kms.New()
	if err != nil {
		return nil, err
	}
	start := w.pop.Config.Start
	clock := start
	srv, err := m.NewServer(scanlab.ServerEnv{Now: func() time.Time { return clock }, Secret: keys.Secret})
	if err != nil {
		return nil, err
	}
	dir := e2ee.NewMemoryDirectory()
	devices := map[scanlab.UserID]scanlab.Device{}
	device := func(u scanlab.UserID) (scanlab.Device, error) {
		if d, ok := devices[u]; ok {
			return d, nil
		}
		d, err := m.NewDevice(u, dir)
		if err != nil {
			return nil, err
		}
		devices[u] = d
		return d, nil
	}
	res := &modeResult{mode: m.Name(), w: w, detected: map[string]map[scanlab.Pathway]bool{}, flagged: map[scanlab.UserID]time.Time{}}
	note := func(dets []scanlab.Detection) {
		for _, d := range dets {
			if d.MessageID != "" {
				if res.detected[d.MessageID] == nil {
					res.detected[d.MessageID] = map[scanlab.Pathway]bool{}
				}
				res.detected[d.MessageID][d.Pathway] = true
			}
			if t, ok := res.flagged[d.Account]; !ok || clock.Before(t) {
				res.flagged[d.Account] = clock
			}
		}
	}
	meta := behavior.New(w.cfg.behavior)
	rng := rand.New(rand.NewPCG(w.cfg.pop.Seed, 77))
	for _, ev := range w.events {
		clock = ev.At
		if !corpus.Allowed(w.policy[ev.To], ev.Connected) {
			// The provider enforces the policy, so it sees the attempt.
			res.prevented = append(res.prevented, ev)
			meta.Observe(behaviorEvent(w.pop, ev, false))
			continue
		}
		from, err := device(ev.From)
		if err != nil {
			return nil, err
		}
		to, err := device(ev.To)
		if err != nil {
			return nil, err
		}
		msg := scanlab.Message{ID: ev.ID, From: ev.From, To: ev.To, Sent: ev.At, Content: w.content.draw(ev, rng)}
		env, err := from.Seal(msg)
		if err != nil {
			return nil, fmt.Errorf("seal %s: %w", ev.ID, err)
		}
		dets, err := srv.Accept(&env)
		note(dets)
		if err != nil {
			return nil, fmt.Errorf("accept %s: %w", ev.ID, err)
		}
		got, err := to.Open(env)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", ev.ID, err)
		}
		res.delivered = append(res.delivered, ev)
		reported := false
		if ev.Reported {
			rep, err := to.Report(got)
			if err != nil {
				return nil, fmt.Errorf("report %s: %w", ev.ID, err)
			}
			dets, err := srv.Verify(rep)
			if err != nil {
				return nil, fmt.Errorf("verify report %s: %w", ev.ID, err)
			}
			note(dets)
			reported = len(dets) > 0
		}
		meta.Observe(behaviorEvent(w.pop, ev, reported))
	}
	// Metadata flags are about accounts: every delivered message of a flagged
	// account counts as caught by that pathway.
	flaggedMeta := map[scanlab.UserID]time.Time{}
	for _, d := range meta.Detections() {
		flaggedMeta[d.Account] = d.At
		if t, ok := res.flagged[d.Account]; !ok || d.At.Before(t) {
			res.flagged[d.Account] = d.At
		}
	}
	for _, ev := range res.delivered {
		if _, ok := flaggedMeta[ev.From]; ok {
			if res.detected[ev.ID] == nil {
				res.detected[ev.ID] = map[scanlab.Pathway]bool{}
			}
			res.detected[ev.ID][scanlab.ServerMetadata] = true
		}
	}
	return res, nil
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
		var items []corpus.MessageEvent
		for _, ev := range r.delivered {
			if ev.Class == c && (c.Harmful() || !r.w.pop.User(ev.From).Offender) {
				items = append(items, ev)
			}
		}
		for _, p := range pathways {
			det := 0
			var toDetection []int64
			// Messages each sender sent of this class until its first
			// detection; only the first detection per sender counts.
			sentSoFar := map[scanlab.UserID]int{}
			caught := map[scanlab.UserID]bool{}
			for _, ev := range items {
				sentSoFar[ev.From]++
				hit := false
				if p == "any" {
					hit = len(r.detected[ev.ID]) > 0
				} else {
					hit = r.detected[ev.ID][p]
				}
				if hit {
					det++
				}
				if hit && !caught[ev.From] {
					caught[ev.From] = true
					toDetection = append(toDetection, int64(sentSoFar[ev.From]))
				}
			}
			recall := 0.0
			if len(items) > 0 {
				recall = float64(det) / float64(len(items))
			}
			med := ""
			if len(toDetection) > 0 {
				med = strconv.FormatInt(median(toDetection), 10)
			}
			rows = append(rows, []string{r.mode, string(c), string(p), strconv.Itoa(len(items)), strconv.Itoa(det), strconv.FormatFloat(recall, 'f', 4, 64), med})
		}
	}
	return rows
}

func (r *modeResult) accountRow() []string {
	var off, offF, inn, innF, fr, frF, la, laF int
	framed := map[scanlab.UserID]bool{}
	for _, ev := range r.delivered {
		if ev.Class == corpus.ClassCollisionImage {
			framed[ev.From] = true
		}
	}
	for i := range r.w.pop.Users {
		u := &r.w.pop.Users[i]
		id := u.ID
		_, flagged := r.flagged[id]
		switch {
		case u.Offender:
			off++
			if flagged {
				offF++
			}
		default:
			inn++
			if flagged {
				innF++
			}
			if framed[id] {
				fr++
				if flagged {
					frF++
				}
			}
			if u.LookAlike() {
				la++
				if flagged {
					laF++
				}
			}
		}
	}
	return []string{strconv.Itoa(off), strconv.Itoa(offF), strconv.Itoa(inn), strconv.Itoa(innF), strconv.Itoa(fr), strconv.Itoa(frF), strconv.Itoa(la), strconv.Itoa(laF)}
}

func (r *modeResult) preventionRow() []string {
	var hA, hP, hD, hDet, bA, bP int
	for _, ev := range r.prevented {
		if ev.Harmful {
			hA++
			hP++
		} else {
			bA++
			bP++
		}
	}
	for _, ev := range r.delivered {
		if ev.Harmful {
			hA++
			hD++
			if len(r.detected[ev.ID]) > 0 {
				hDet++
			}
		} else {
			bA++
		}
	}
	return []string{strconv.Itoa(hA), strconv.Itoa(hP), strconv.Itoa(hD), strconv.Itoa(hDet), strconv.Itoa(bA), strconv.Itoa(bP)}
}

// falseFlagRows measures the per-image false-match rate p of PDQ against the
// study's hash list (library = its size) on fresh benign images, then applies
// Apple's threshold arithmetic: the chance that an innocent account with n
// images (images) has more than t false matches, P[Binomial(n, p) > t]. When
// no benign image matched, p is the 95% upper bound 3/N (the "rule of
// three") and the basis column says so.
func falseFlagRows(o Options, w *workload) ([][]string, error) {
	n := 1000
	if o.Quick || tinyCoverage {
		n = 200
	}
	r := o.rng("coverage-falseflag")
	ix := perceptual.NewIndex(w.content.list)
	hits := 0
	for range n {
		img := corpus.GenerateImage(r, 128, 256)
		h, q := perceptual.PDQ(img)
		if q >= perceptual.MinQuality && len(ix.Match(h, perceptual.MatchThreshold)) > 0 {
			hits++
		}
	}
	p, basis := float64(hits)/float64(n), "measured"
	if hits == 0 {
		p, basis = 3/float64(n), "upper-95%-bound"
	}
	var rows [][]string
	for _, t := range []int{1, 5, 10, 30} {
		for _, lib := range []int{100, 1000, 10000, 100000} {
			rows = append(rows, []string{strconv.Itoa(t), strconv.Itoa(len(w.content.list)), strconv.Itoa(lib),
				strconv.FormatFloat(p, 'g', 6, 64), strconv.FormatFloat(clientscan.AccountFalseFlag(lib, p, t), 'g', 6, 64), basis, strconv.Itoa(n)})
		}
	}
	return rows, nil
}
