package report

import (
	"fmt"
	"strconv"
)

func (r *results) writeLimitations(d *doc) error {
	d.p("## Limitations")
	var items []string
	items = append(items, "**Synthetic content.** Texts come from the `corpus` package's templates and images are generated from the seed; "+
		"no real conversation or real abuse material is used. Classifiers and perceptual hashes behave differently on real content, "+
		"so detection rates here show how the architectures compare, not what a deployed system would catch.")
	if s := r.corpusSize(); s != "" {
		items = append(items, "**Corpus size.** "+s+" Rates computed from small counts are coarse: with few items, one item more or less moves a rate visibly.")
	}
	var quick []string
	for _, m := range r.manifests {
		if m.Quick {
			quick = append(quick, m.Experiment)
		}
	}
	if len(quick) > 0 {
		items = append(items, fmt.Sprintf("**Quick runs.** The %s results come from quick mode, with reduced workloads.", andList(quick)))
	}
	machine := "one machine"
	for _, m := range r.manifests {
		if m.CPUModel != "" {
			machine = fmt.Sprintf("one machine (%s, %d CPUs)", m.CPUModel, m.CPUs)
			break
		}
	}
	items = append(items, "**Loopback network.** Devices and relay ran on "+machine+" and talked over TLS on the loopback interface: "+
		"wire times leave out real network latency, bandwidth limits, mobile radios and packet loss, and storage times reflect this machine's disk. "+
		"Other processes sharing the machine add noise to the times.")
	items = append(items, "**Visibility is measured for the modelled parties only.** A 0 means the auditor found no canary in that party's view with that party's keys; "+
		"it does not rule out attacks outside the model (malware on a device, a compromised client update, side channels, traffic correlation across providers).")
	items = append(items, "**What a simulation cannot capture.** How people actually use and report, how offenders adapt once they know the system, "+
		"how a provider's policies, staff and legal obligations shape what happens after a flag, errors and delays of human review, "+
		"and the cost of running any of this at the scale of a real service.")
	for _, it := range items {
		d.line("- " + it)
	}
	d.line("")
	return nil
}

// corpusSize describes how many messages and items the experiments used.
func (r *results) corpusSize() string {
	var parts []string
	if r.vis != nil {
		for _, m := range r.manifests {
			if m.Experiment != "visibility" {
				continue
			}
			pairs, ok1 := m.Results["pairs"]
			per, ok2 := m.Results["messages_per_pair"]
			if ok1 && ok2 {
				parts = append(parts, fmt.Sprintf("the visibility audit planted canaries in %s conversations of %s messages per architecture", number(pairs), number(per)))
			}
		}
	}
	if r.lat != nil {
		n := -1
		same := true
		for _, l := range r.lat {
			if n >= 0 && l.Messages != n {
				same = false
			}
			n = l.Messages
		}
		if n >= 0 && same {
			parts = append(parts, fmt.Sprintf("the latency runs timed %d messages per architecture and content kind", n))
		}
	}
	if r.cov != nil {
		total := 0
		for _, c := range r.cov {
			if c.Pathway == "any" {
				total += c.Items
			}
		}
		if total > 0 {
			parts = append(parts, fmt.Sprintf("the coverage runs labelled %s items in all (summed over architectures and classes)", count(float64(total))))
		}
	}
	if r.eva != nil {
		total := 0
		for _, e := range r.eva {
			total += e.Items
		}
		parts = append(parts, fmt.Sprintf("the evasion runs hashed %s transformed images in all", count(float64(total))))
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
