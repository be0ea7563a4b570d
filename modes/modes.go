// Package modes is the registry of the architectures scanlab compares: it
// builds serverscan, e2ee and clientscan from one configuration, so that the
// command line, the experiments and the demo pick modes the same way and a
// mode added here joins all of them.
//
// # Who sees what
//
// The configuration holds the curator's hash list, which the provider holds
// in the clear in serverscan and clientscan (clientscan ships only a blinded
// table to devices). Nothing here adds a party or a view.
package modes

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/e2ee"
	"scanlab/hybrid"
	"scanlab/perceptual"
	"scanlab/serverscan"
)

// Names lists the modes in the order results list them.
var Names = []string{serverscan.Name, e2ee.Name, clientscan.Name}

// Config is what the modes are built from.
type Config struct {
	// List is the hash list the curator supplies; Labels[i], if present,
	// names entry i in detections.
	List   []perceptual.Hash
	Labels []string
	// Second, if set, holds the curator's second hash of each listed image
	// (clientscan.SecondHash), which clientscan's provider checks after the
	// threshold before human review; empty skips that check.
	Second []perceptual.Hash
	// Clientscan holds clientscan's knobs.
	Clientscan Clientscan
	// E2EE configures the end-to-end encryption of e2ee and clientscan
	// (identity policy, key checks, sealed sender, PQ); the zero value is
	// each mode's default.
	E2EE e2ee.Options
}

// Clientscan configures the clientscan mode beyond the list.
type Clientscan struct {
	// Threshold is t (0: the mode's default).
	Threshold int
	// Match is the PSI matching variant: "exact", "chunks=K" ("": default).
	Match string
	// Modified lists users whose client skips on-device scanning.
	Modified map[scanlab.UserID]bool
	// Seed drives the synthetic-voucher coin flips, so that runs repeat.
	Seed uint64
	// TableFactor is the cuckoo table's slots per list entry (0: default).
	TableFactor float64
}

// All returns every mode built from cfg, in the order of [Names].
func All(cfg Config) ([]scanlab.Mode, error) {
	var out []scanlab.Mode
	for _, n := range Names {
		m, err := New(n, cfg)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// New builds the mode called name.
func New(name string, cfg Config) (scanlab.Mode, error) {
	switch name {
	case serverscan.Name:
		return serverscan.New(serverscan.Options{Image: serverscan.NewPDQScanner(cfg.List, cfg.Labels)}), nil
	case e2ee.Name:
		return e2ee.New(cfg.E2EE), nil
	case clientscan.Name:
		o, err := clientscanOptions(cfg)
		if err != nil {
			return nil, err
		}
		return clientscan.New(o), nil
	}
	return nil, fmt.Errorf("unknown mode %q (have: %s)", name, strings.Join(Names, ", "))
}

// Hybrid builds the opt-in mode of package hybrid: conversations encrypt
// chooses are end-to-end encrypted as in e2ee (with sealed sender if
// sealed), the rest go to a serverscan server that matches images against
// cfg's list. It is not one of [Names]: experiments that compare the three
// modes never see it; the platforms experiment asks for it by this
// constructor.
func Hybrid(cfg Config, encrypt hybrid.Choose, sealed bool) *hybrid.Mode {
	return hybrid.New(hybrid.Options{Encrypt: encrypt, E2EE: e2ee.Options{SealedSender: sealed},
		Serverscan: serverscan.Options{Image: serverscan.NewPDQScanner(cfg.List, cfg.Labels)}})
}

func clientscanOptions(cfg Config) (clientscan.Options, error) {
	c := cfg.Clientscan
	o := clientscan.Options{List: cfg.List, Labels: cfg.Labels, Threshold: c.Threshold, Coins: coinsFor(c.Seed), TableFactor: c.TableFactor,
		Review: clientscan.Review{Hashes: cfg.Second, Seed: c.Seed}, E2EE: cfg.E2EE}
	if c.Match != "" {
		m, err := clientscan.ParseMatch(c.Match)
		if err != nil {
			return o, err
		}
		o.Match = m
	}
	if len(c.Modified) > 0 {
		mod := c.Modified
		o.Behaviour = func(u scanlab.UserID) clientscan.Behaviour {
			if mod[u] {
				return clientscan.SkipScan
			}
			return clientscan.Honest
		}
	}
	return o, nil
}

// coinsFor gives each account its own seeded stream of clientscan's coin
// flips (ChaCha8 keyed by the seed and the account), so that runs repeat and
// an account's synthetic vouchers do not depend on other accounts' traffic.
func coinsFor(seed uint64) func(scanlab.UserID) io.Reader {
	return func(u scanlab.UserID) io.Reader {
		var key [32]byte
		binary.LittleEndian.PutUint64(key[:8], seed)
		h := sha256.Sum256([]byte("scanlab synthetic coins\x00" + string(u)))
		copy(key[8:], h[:24])
		return rand.NewChaCha8(key)
	}
}
