package report

import (
	"fmt"
	"strconv"

	"scanlab/schema"
)

func (r *results) writeLimitations(d *doc) error {
	d.h(2, "Limitations")
	items := []string{
		"**Synthetic content.** Texts come from the `corpus` package's templates and images are generated from the seed or taken from a few bundled public-domain photographs; " +
			"no real conversation or real abuse material is used. Classifiers and perceptual hashes behave differently on real content, " +
			"so detection rates here show how the designs compare, not what a deployed system would catch.",
		"**Modelled people.** Offenders, their victims and everyone else follow the study's population model: who messages whom, how often offenders make first contact, how often recipients report. " +
			"Detection by behaviour signals and reports depends on that model more than on anything measured; the sweep table shows how results move when some of its settings change.",
		"**Intervals.** Rates carry 95% Wilson score intervals that treat each message as independent. Messages of one account are not independent, so the true uncertainty is larger; an account-level (cluster) bootstrap would give wider, more honest intervals.",
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
