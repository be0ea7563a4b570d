package clientscan

import (
	"fmt"
	"io"
	"sync"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/perceptual"
)

// provider is the provider's state for one database version: the blinding
// secret (inside psi.Provider), the list as the provider holds it with its
// matcher, and the review configuration. Devices never hold it; each
// [Server] refers to it.
type provider struct {
	opts     Options
	psi      *psi.Provider // nil for the plain variant
	matcher  *perceptual.Matcher
	listText []byte
}

// newProvider blinds the list (for the psi variant) and indexes it.
func newProvider(o Options) (*provider, error) {
	p := &provider{opts: o, matcher: perceptual.NewMatcherOf(o.List, o.Labels), listText: listText(o.List, o.Labels)}
	if o.ListVariant == ListPlain {
		return p, nil
	}
	elems := elements(o.List, o.Match)
	var err error
	if len(o.Overfit) > 0 {
		p.psi, err = psi.NewOverfitProvider(elems, elements(o.Overfit, o.Match), o.psiParams())
	} else {
		p.psi, err = psi.NewProvider(elems, o.psiParams())
	}
	if err != nil {
		return nil, fmt.Errorf("clientscan: blinding the list: %w", err)
	}
	return p, nil
}

// psiParams are the protocol parameters of the options.
func (o Options) psiParams() psi.Params {
	return psi.Params{
		Threshold:     o.Threshold,
		SyntheticRate: o.SyntheticRate,
		MaxSynthetic:  o.MaxSynthetic,
		ADSize:        adSize,
		TableFactor:   o.TableFactor,
	}
}

// publish returns what ships to devices. The table is decoded from its
// serialised bytes and checked against the root, as every device checks
// the table it downloads (the mode does it once and shares the result).
func (p *provider) publish() (*Published, error) {
	pub := &Published{Match: p.opts.Match, List: p.opts.ListVariant}
	if p.psi == nil {
		pub.plain, pub.data = p.matcher, p.listText
		return pub, nil
	}
	pub.Params = p.psi.Params()
	pub.Params.Coins, pub.Params.TableFactor = nil, 0 // the device's own, and the provider's
	pub.Root = p.psi.Root()
	var err error
	if pub.data, err = p.psi.Table().MarshalBinary(); err != nil {
		return nil, fmt.Errorf("clientscan: %w", err)
	}
	if pub.table, err = LoadTable(pub.data, pub.Root); err != nil {
		return nil, err
	}
	return pub, nil
}

// keychain holds each account's PSI keys (psi.Account), shared by all of
// the account's devices (paper §4, client setup: "all of the user's devices
// share (hkey, adkey, fkey, polynomial)"). In Apple's design the devices
// synchronise them end to end; the provider never holds them. A device
// receives only its own account's keys.
type keychain struct {
	params psi.Params
	coins  func(scanlab.UserID) io.Reader // per account; nil: crypto/rand

	mu   sync.Mutex
	keys map[scanlab.UserID]*psi.Account
}

func newKeychain(o Options) *keychain {
	return &keychain{params: o.psiParams(), coins: o.Coins, keys: map[scanlab.UserID]*psi.Account{}}
}

// account returns user's keys, creating them for the account's first
// device.
func (k *keychain) account(user scanlab.UserID) (*psi.Account, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if a := k.keys[user]; a != nil {
		return a, nil
	}
	p := k.params
	if k.coins != nil {
		p.Coins = k.coins(user)
	}
	a, err := psi.NewAccount(p)
	if err != nil {
		return nil, fmt.Errorf("clientscan: account keys: %w", err)
	}
	k.keys[user] = a
	return a, nil
}
