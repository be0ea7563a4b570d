package experiments

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"scanlab/clientscan"
	"scanlab/corpus"
)

// Config is a sweep file: `scanlab run --config sweep.toml`. Flags given on
// the command line win over the file; unknown keys are an error, so a typo
// cannot silently leave a default in place.
//
//	seed = 3
//	quick = true
//	experiments = ["coverage"]
//
//	[coverage]
//	users = 300
//	report_rates = [0.01, 0.1]
//	thresholds = [1, 5]
//	psi_match = ["exact", "chunks=4"]
type Config struct {
	Seed        *uint64   `toml:"seed"`
	Quick       *bool     `toml:"quick"`
	Out         *string   `toml:"out"`
	Experiments []string  `toml:"experiments"`
	Coverage    SweepSpec `toml:"coverage"`
}

// SweepSpec changes the coverage experiment's workload and sweep. A zero
// number keeps the default; an absent list keeps the default points, an
// empty list runs none.
type SweepSpec struct {
	Users                int       `toml:"users" json:"users,omitempty"`
	Days                 int       `toml:"days" json:"days,omitempty"`
	OffenderShare        float64   `toml:"offender_share" json:"offender_share,omitempty"`
	ReportRates          []float64 `toml:"report_rates" json:"report_rates"`
	DMPolicies           []string  `toml:"dm_policies" json:"dm_policies"`
	ModifiedClientShares []float64 `toml:"modified_client_shares" json:"modified_client_shares"`
	Thresholds           []int     `toml:"thresholds" json:"thresholds"`
	PSIMatch             []string  `toml:"psi_match" json:"psi_match"`
}

// LoadConfig reads and checks a sweep file.
func LoadConfig(path string) (Config, error) {
	var c Config
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		keys := make([]string, len(un))
		for i, k := range un {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return Config{}, fmt.Errorf("%s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	if err := c.check(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func (c Config) check() error {
	for _, e := range c.Experiments {
		if _, ok := Lookup(e); !ok {
			return fmt.Errorf("unknown experiment %q (have: %s)", e, strings.Join(Names(), ", "))
		}
	}
	s := c.Coverage
	if s.Users < 0 || s.Days < 0 || s.OffenderShare < 0 || s.OffenderShare > 1 {
		return fmt.Errorf("coverage: users and days must be positive, offender_share in [0, 1]")
	}
	for _, r := range append(append([]float64(nil), s.ReportRates...), s.ModifiedClientShares...) {
		if r < 0 || r > 1 {
			return fmt.Errorf("coverage: %v is not a probability", r)
		}
	}
	for _, p := range s.DMPolicies {
		if !slices.Contains(corpus.DMPolicies, corpus.DMPolicy(p)) {
			return fmt.Errorf("coverage: unknown dm policy %q (everyone, friends, no-one)", p)
		}
	}
	for _, t := range s.Thresholds {
		if t < 1 {
			return fmt.Errorf("coverage: threshold %d must be at least 1", t)
		}
	}
	for _, m := range s.PSIMatch {
		if _, err := clientscan.ParseMatch(m); err != nil {
			return fmt.Errorf("coverage: %w", err)
		}
	}
	return nil
}

// encode and decodeSweep carry a spec through a manifest's params, so that
// merging shards rebuilds the same sweep.
func (s SweepSpec) encode() string {
	b, _ := json.Marshal(s)
	return string(b)
}

func decodeSweep(params map[string]string) (*SweepSpec, error) {
	v, ok := params["sweep"]
	if !ok || v == "" {
		return nil, nil
	}
	var s SweepSpec
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return nil, fmt.Errorf("manifest sweep: %w", err)
	}
	return &s, nil
}
