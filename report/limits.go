package report

import (
	"fmt"
	"strconv"
	"strings"

	"scanlab/corpus"
	"scanlab/schema"
)

func (r *results) writeLimitations(d *doc) error {
	d.h(2, "Limitations")
	items := []string{
		"**Synthetic content.** Texts come from the `corpus` package's templates and images are generated from the seed or taken from a few bundled public-domain photographs; " +
			"no real conversation or real abuse material is used. Classifiers and perceptual hashes behave differently on real content, " +
			"so detection rates here show how the designs compare, not what a deployed system would catch.",
	}
	if r.cov != nil {
		items = append(items, r.coverageLimitations()...)
	}
	if s := r.corpusSize(); s != "" {
		items = append(items, "**Sample sizes.** "+s+" With few items, one item more or less moves a rate visibly; each rate gives its count.")
	}
	if quick := r.quickExperiments(); len(quick) > 0 {
		items = append(items, fmt.Sprintf("**Quick runs.** The %s results come from quick mode, with reduced workloads.", andList(quick)))
	}
	items = append(items, r.networkLimitation(),
		"**False flags.** The chance an innocent account is flagged assumes each image falsely matches independently with one per-image probability; when no harmless image matched, that probability is a 95% upper bound (3/n), and every account-level figure built on it is a bound too.",
		"**Thorn comparison.** Thorn's benchmark uses 3,854 paintings and photographs; ours uses a few hundred bundled and generated images. Transforms follow Thorn's definitions, so the comparison shows whether the same edits are hard, not identical numbers.",
		"**Visibility is measured for the modelled parties only.** A 0 means the auditor found no canary in that party's view with that party's keys; "+
			"it does not rule out attacks outside the model (malware on a phone, a compromised app update, side channels, traffic correlation across providers).",
		"**What a simulation cannot capture.** How people actually use and report, how offenders adapt once they know the system, "+
			"how a provider's policies, staff and legal obligations shape what happens after a flag, errors and delays of human review, "+
			"and the cost of running any of this at the scale of a real service.")
	d.list(items)
	return nil
}

// coverageLimitations are the limitations of the coverage findings.
func (r *results) coverageLimitations() []string {
	return []string{
		r.populationLimitation(),
		"**Offenders are over-sampled.** " + r.oversampling(),
		"**What a flag leads to is first-order.** A behaviour-signal flag is credited only with items delivered at or after it, and what it led to (content confirmed, prevented, unseen) is read off the same run: " +
			"the offender's reaction to a restriction (a new account, another app, other victims) is not simulated, and neither are the errors and delays of human review.",
		"**Reports are honest and always verified.** Every report names a harmful message truthfully and the provider verifies it in every design (sealed sender, which would cost report attribution, is off); " +
			"false, malicious or unverifiable reports are not modelled.",
		"**The detector and the text classifier were written with the study in view.** The behaviour rules were written for the stranger and sextortion archetypes at low stealth, so recall on them is an upper bound; " +
			"the text classifier was written with the workload's templates in view, which the held-out texts show. The detector's threshold was calibrated on its own seeds and settings, apart from the study's.",
		r.intervalLimitation(),
	}
}

// intervalLimitation says where the intervals come from, and which
// comparisons between designs have a paired interval and which only a range.
func (r *results) intervalLimitation() string {
	s := "**Intervals.** Item rates carry the result files' 95% intervals from a bootstrap over sender accounts (Clopper–Pearson over items where a rate is 0 or 1); with few sender accounts (under about 20) a percentile bootstrap is too narrow. " +
		"Account rates carry Clopper–Pearson intervals over accounts. Where a file has no interval (messages stopped by direct-message settings, edited images), the report computes Clopper–Pearson and says what it treats as independent; "
	if len(pooledLosses(r.pooled, schema.BaseVariant)) > 0 {
		return s + "the loss of all harmful items caught, of one design relative to server-side scanning, has a paired interval (the same offenders resampled for both); the loss for one class of content carries only a range from the two designs' intervals, which is wider."
	}
	return s + "the loss of one design relative to another carries a range from the two intervals' ends, not a paired interval."
}

// populationLimitation says what the population and offender models
// assume, counting the archetype parameters that cite a source and those
// that are assumptions (package corpus, DefaultArchetypes).
func (r *results) populationLimitation() string {
	sourced, assumed := archetypeSources(corpus.DefaultArchetypes())
	return fmt.Sprintf("**The population and offender models.** Offenders, their targets and everyone else follow the study's population model: who messages whom, the direct-message settings, how often recipients report. "+
		"Offenders follow four archetypes (opportunistic strangers, slow groomers, adult rings trading known images, sextortion bursts); of the %d parameter values their table in package `corpus` uses, "+
		"%d cite a published source (Meta's descriptions of offender behaviour, Thorn and NCMEC on sextortion, Wolak et al. on victims' ages, Meta on re-shared images) and %d are this study's assumptions, to be swept. "+
		"The archetype mix itself is an assumption. Detection by behaviour signals and reports depends on these models more than on anything measured; the sensitivity curves show how far.",
		sourced+assumed, sourced, assumed)
}

// archetypeSources counts the archetype parameters that cite a source and
// those that are assumptions, leaving out the ones an archetype does not
// use.
func archetypeSources(table []corpus.ArchetypeParams) (sourced, assumed int) {
	for _, a := range table {
		for _, src := range a.Sources {
			switch {
			case src == "unused" || strings.HasPrefix(src, "none"):
			case strings.HasPrefix(src, "assumption"):
				assumed++
			default:
				sourced++
			}
		}
	}
	return sourced, assumed
}

// oversampling says how far offenders are over-sampled and what that means
// for the rates.
func (r *results) oversampling() string {
	share := "a few percent"
	if v, ok := r.manifestResult("coverage", "offender_share"); ok {
		share = pct(v)
	}
	return fmt.Sprintf("Offenders are %s of adults in the coverage runs, far more than in any real population, so that per-offender rates rest on enough accounts. "+
		"Rates per account and per item do not depend on that share, but pooled figures depend on the archetype mix, and counts of false flags come from a population of benign accounts that is still small: "+
		"a false-flag rate below the upper bounds shown cannot be ruled out.", share)
}

func (r *results) quickExperiments() []string {
	var quick []string
	for _, m := range r.manifests {
		if m.Scale == schema.ScaleQuick {
			quick = append(quick, m.Experiment)
		}
	}
	return quick
}

// networkLimitation says what the network of the timing runs was.
func (r *results) networkLimitation() string {
	machine := "one machine"
	for _, m := range r.manifests {
		if m.CPUModel != "" {
			machine = fmt.Sprintf("one machine (%s, %d CPUs)", m.CPUModel, m.CPUs)
			break
		}
	}
	if addr := r.remoteRelay(); addr != "" {
		return "**Network.** The latency run measured against a relay at " + addr + ", started elsewhere: its times include that network path and that host's load, " +
			"and differ from a run on " + machine + " over loopback. Other experiments ran on " + machine + "."
	}
	return "**Loopback network.** Phones and relay ran on " + machine + " and talked over TLS on the loopback interface: " +
		"wire times leave out real network latency, bandwidth limits, mobile radios and packet loss, and storage times reflect this machine's disk. " +
		"Other processes sharing the machine add noise to the times."
}

// corpusSize describes how many messages and items the experiments used.
func (r *results) corpusSize() string {
	var parts []string
	if r.vis != nil {
		for _, m := range r.manifests {
			pairs, ok1 := m.Results["pairs"]
			per, ok2 := m.Results["messages_per_pair"]
			if m.Experiment == "visibility" && ok1 && ok2 {
				parts = append(parts, fmt.Sprintf("the visibility audit planted canaries in %s conversations of %s messages per design", number(pairs), number(per)))
			}
		}
	}
	if ns := distinct(mapSlice(r.lat, func(l schema.LatencyRow) int { return l.Messages })); len(ns) == 1 {
		parts = append(parts, fmt.Sprintf("the latency runs timed %d messages per design and content kind", ns[0]))
	}
	total := 0
	for _, c := range r.cov {
		if c.Pathway == schema.AnyPathway {
			total += c.Items
		}
	}
	if total > 0 {
		parts = append(parts, fmt.Sprintf("the coverage runs labelled %s items in all (summed over designs and classes)", count(float64(total))))
	}
	if r.eva != nil {
		refs := 0
		for _, e := range r.eva {
			if !e.IsAttack() {
				refs = max(refs, e.Items)
			}
		}
		parts = append(parts, fmt.Sprintf("the evasion runs edited %d reference images per transform", refs))
	}
	if len(parts) == 0 {
		return ""
	}
	return upperFirst(andList(parts)) + "."
}

// number formats a JSON number from a manifest.
func number(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
