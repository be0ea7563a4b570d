package experiments

import (
	"scanlab"
	"scanlab/e2ee"
	"scanlab/perceptual"
	"scanlab/serverscan"
)

// ModeConfig is what the modes are built from: the hash list the curator
// supplies (with optional labels).
type ModeConfig struct {
	List   []perceptual.Hash
	Labels []string
}

// Modes returns the architectures every experiment compares, in the order
// results list them. A mode added here joins every experiment.
func Modes(cfg ModeConfig) []scanlab.Mode {
	return []scanlab.Mode{
		serverscan.New(serverscan.Options{Image: serverscan.NewPDQScanner(cfg.List, cfg.Labels)}),
		e2ee.New(e2ee.Options{}),
	}
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
