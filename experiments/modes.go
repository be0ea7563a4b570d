package experiments

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/e2ee"
	"scanlab/perceptual"
	"scanlab/serverscan"
)

// ModeConfig is what the modes are built from: the hash list the curator
// supplies (with optional labels).
type ModeConfig struct {
	List   []perceptual.Hash
	Labels []string
	// Threshold is clientscan's t (0: its default); PSIMatch its matching
	// variant ("exact", "chunks=K"; "": default).
	Threshold int
	PSIMatch  string
	// Modified lists users whose client skips on-device scanning.
	Modified map[scanlab.UserID]bool
	// Seed drives clientscan's synthetic-voucher coin flips, so runs repeat.
	Seed uint64
	// TableFactor is clientscan's cuckoo slots per list entry (0: default).
	TableFactor float64
}

// coins is a seeded, goroutine-safe source of clientscan's coin flips.
type coins struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func (c *coins) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.r.Read(p)
}

func newCoins(seed uint64) *coins {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	copy(s[8:], "scanlab synthetic coins")
	return &coins{r: rand.NewChaCha8(s)}
}

// Modes returns the architectures every experiment compares, in the order
// results list them. A mode added here joins every experiment.
func Modes(cfg ModeConfig) []scanlab.Mode {
	return []scanlab.Mode{
		serverscan.New(serverscan.Options{Image: serverscan.NewPDQScanner(cfg.List, cfg.Labels)}),
		e2ee.New(e2ee.Options{}),
		clientscan.New(clientscanOptions(cfg)),
	}
}

func clientscanOptions(cfg ModeConfig) clientscan.Options {
	o := clientscan.Options{List: cfg.List, Labels: cfg.Labels, Threshold: cfg.Threshold, Coins: newCoins(cfg.Seed), TableFactor: cfg.TableFactor}
	if cfg.PSIMatch != "" {
		m, err := clientscan.ParseMatch(cfg.PSIMatch)
		if err != nil {
			panic(fmt.Sprintf("experiments: bad PSI match variant %q: %v", cfg.PSIMatch, err)) // our own sweep values
		}
		o.Match = m
	}
	if len(cfg.Modified) > 0 {
		mod := cfg.Modified
		o.Behaviour = func(u scanlab.UserID) clientscan.Behaviour {
			if mod[u] {
				return clientscan.SkipScan
			}
			return clientscan.Honest
		}
	}
	return o
}

// ModeByName returns the mode called name.
func ModeByName(name string, cfg ModeConfig) (scanlab.Mode, bool) {
	for _, m := range Modes(cfg) {
		if m.Name() == name {
			return m, true
		}
	}
	return nil, false
}

// ModeNames lists the modes' names in order.
func ModeNames() []string {
	var n []string
	for _, m := range Modes(ModeConfig{}) {
		n = append(n, m.Name())
	}
	return n
}
