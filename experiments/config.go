package experiments

import (
	"fmt"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Config is a sweep file: `scanlab run --config sweep.toml`. Flags given on
// the command line win over the file; unknown keys are an error, so a typo
// cannot silently leave a default in place.
//
//	seed = 3
//	scale = "quick"
//	experiments = ["coverage"]
//
//	[coverage]
//	users = 300
//	report_rates = [0.01, 0.1]
//	thresholds = [1, 5]
//	psi_match = ["exact", "chunks=4"]
type Config struct {
	Seed        *uint64         `toml:"seed"`
	Scale       *Scale          `toml:"scale"`
	Quick       *bool           `toml:"quick"` // the same as scale = "quick"
	Out         *string         `toml:"out"`
	Experiments []string        `toml:"experiments"`
	Coverage    CoverageOptions `toml:"coverage"`
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
	if c.Quick != nil && *c.Quick {
		if c.Scale != nil && *c.Scale != Quick {
			return Config{}, fmt.Errorf("%s: quick = true contradicts scale = %q", path, c.Scale.String())
		}
		q := Quick
		c.Scale = &q
	}
	return c, nil
}

func (c Config) check() error {
	for _, e := range c.Experiments {
		if _, ok := Lookup(e); !ok {
			return fmt.Errorf("experiments: unknown experiment %q (have: %s)", e, strings.Join(Names(), ", "))
		}
	}
	if err := c.Coverage.check(); err != nil {
		return fmt.Errorf("coverage.%w", err)
	}
	return nil
}
