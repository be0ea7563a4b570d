package active

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"

	"scanlab"
	"scanlab/e2ee"
	"scanlab/keylog"
	"scanlab/observe"
)

// GhostNumber is the device number the provider gives a ghost device: the
// next free one in an account with one device, as a real new device gets.
const GhostNumber uint32 = 2

// Config says what the provider does.
type Config struct {
	// Attack is the attack to mount once [Provider.Start] is called:
	// observe.KeySubstitution or observe.GhostDevice; any other value
	// mounts none (an honest provider, with key transparency if set).
	Attack observe.Attack
	// Transparency makes the directory keep a key log and attach a proof
	// to every account it serves.
	Transparency bool
	// Log is how the attack keys are treated in the key log.
	Log observe.LogHandling
	// Device configures the provider's own devices (impostors and ghosts);
	// it must match the mode's PQ and sealed-sender settings.
	Device e2ee.Options
	// Recovered receives every plaintext the provider's devices decrypt,
	// with its route and the message's routing fields. Nil discards it.
	Recovered func(route string, data []byte, fields map[string]string)
}

// Routes under which the provider's decryptions are recorded.
const (
	RouteGhost      = "ghost device the provider added to the recipient's account"
	RouteSubstitute = "key the provider substituted (machine in the middle)"
)

// Provider is a provider's directory service, honest until [Provider.Start]
// and attacking after. It is safe for concurrent use.
type Provider struct {
	cfg    Config
	logKey ed25519.PrivateKey

	mu        sync.Mutex
	issuer    scanlab.CertificateIssuer
	certKey   ed25519.PublicKey
	honest    map[scanlab.UserID]scanlab.KeyBundle // Identity parts as published, by device name
	ids       map[scanlab.UserID]map[uint32]e2ee.PublicIdentity
	main      *keylog.Log
	fork      *keylog.Log // the split view's copy, shown to the attacked users
	shown     map[scanlab.UserID]uint64
	pairs     [][2]scanlab.UserID
	impostors map[[2]scanlab.UserID]*ownDevice // {shown to, impersonated}
	ghosts    map[scanlab.UserID]*ownDevice    // by recipient account
	started   bool
}

// New returns a provider with a fresh key-log key.
func New(cfg Config) (*Provider, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Provider{cfg: cfg, logKey: key, honest: map[scanlab.UserID]scanlab.KeyBundle{},
		ids: map[scanlab.UserID]map[uint32]e2ee.PublicIdentity{}, main: keylog.New(key),
		shown: map[scanlab.UserID]uint64{}, impostors: map[[2]scanlab.UserID]*ownDevice{},
		ghosts: map[scanlab.UserID]*ownDevice{}}, nil
}

// LogKey returns the key the log's heads are signed with, as apps ship it.
func (p *Provider) LogKey() ed25519.PublicKey { return p.main.PublicKey() }

// Published implements relay.KeyService: it remembers every device's
// published identity and, with key transparency, logs an account's device
// list whenever it changes.
func (p *Provider) Published(name scanlab.UserID, b scanlab.KeyBundle) {
	id, err := e2ee.ParseIdentity(b.Identity)
	if err != nil {
		return // not an e2ee bundle: nothing to log
	}
	account, dev := name, e2ee.PrimaryDevice
	if a, n, ok := e2ee.SplitDeviceName(name); ok {
		account, dev = a, n
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.honest[name] = scanlab.KeyBundle{Identity: b.Identity}
	if p.ids[account] == nil {
		p.ids[account] = map[uint32]e2ee.PublicIdentity{}
	}
	if old, ok := p.ids[account][dev]; ok && old == id {
		return
	}
	p.ids[account][dev] = id
	if p.cfg.Transparency {
		e := e2ee.LogEntry(account, p.ids[account])
		p.main.Append(e)
		if p.fork != nil {
			p.fork.Append(e)
		}
	}
}

// Start mounts the attack on pairs (sender, recipient): it makes the
// provider's devices, and logs their keys as [Config.Log] says.
func (p *Provider) Start(pairs [][2]scanlab.UserID) error {
	for _, pr := range pairs {
		if err := p.startPair(pr); err != nil {
			return fmt.Errorf("active: attack on %s → %s: %w", pr[0], pr[1], err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pairs = append(p.pairs, pairs...)
	p.started = true
	return nil
}

// startPair makes the devices attacking one pair and logs their keys.
func (p *Provider) startPair(pr [2]scanlab.UserID) error {
	from, to := pr[0], pr[1]
	var entries []keylog.Entry
	switch p.cfg.Attack {
	case observe.GhostDevice:
		g, err := p.newDevice(to, GhostNumber)
		if err != nil {
			return err
		}
		p.mu.Lock()
		p.ghosts[to] = g
		ids := map[uint32]e2ee.PublicIdentity{GhostNumber: g.d.Identity()}
		for dev, id := range p.ids[to] {
			ids[dev] = id
		}
		p.mu.Unlock()
		entries = append(entries, e2ee.LogEntry(to, ids))
	case observe.KeySubstitution:
		for _, side := range [][2]scanlab.UserID{{from, to}, {to, from}} {
			imp, err := p.newDevice(side[1], e2ee.PrimaryDevice)
			if err != nil {
				return err
			}
			p.mu.Lock()
			p.impostors[side] = imp
			p.mu.Unlock()
			entries = append(entries, e2ee.LogEntry(side[1], map[uint32]e2ee.PublicIdentity{e2ee.PrimaryDevice: imp.d.Identity()}))
		}
	default:
		return nil
	}
	p.logAttack(entries)
	return nil
}

// logAttack logs the attack's entries as Config.Log says.
func (p *Provider) logAttack(entries []keylog.Entry) {
	if !p.cfg.Transparency {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var into *keylog.Log
	switch p.cfg.Log {
	case observe.Logged:
		into = p.main
	case observe.SplitView:
		if p.fork == nil {
			p.fork = p.main.Clone()
		}
		into = p.fork
	}
	for _, e := range entries {
		if into != nil {
			into.Append(e)
		}
	}
}

// Serve implements relay.KeyService: the keys requester gets for user —
// the stored ones, or under attack the provider's own — with a key-log
// proof when key transparency is on.
func (p *Provider) Serve(requester, user scanlab.UserID, stored scanlab.KeyBundle, found bool) (scanlab.KeyBundle, error) {
	if _, _, ok := e2ee.SplitDeviceName(user); ok {
		return stored, nil // a single device's keys: the account fetch covers them
	}
	p.mu.Lock()
	imp, ghost := p.impostorFor(requester, user), p.ghostFor(requester, user)
	p.mu.Unlock()
	var devs []e2ee.DeviceKeys
	if found {
		devs = append(devs, e2ee.DeviceKeys{Device: e2ee.PrimaryDevice, Keys: stored})
	}
	if imp != nil {
		devs = []e2ee.DeviceKeys{{Device: e2ee.PrimaryDevice, Keys: imp.take()}}
	}
	if ghost != nil && len(devs) > 0 {
		devs = append(devs, e2ee.DeviceKeys{Device: GhostNumber, Keys: ghost.take()})
	}
	if len(devs) == 0 {
		return scanlab.KeyBundle{}, scanlab.ErrNoKeys
	}
	if !p.cfg.Transparency {
		if len(devs) == 1 {
			return devs[0].Keys, nil
		}
		return e2ee.Account{Devices: devs}.Marshal()
	}
	proof, err := p.proofFor(requester, user, devs)
	if err != nil {
		return scanlab.KeyBundle{}, err
	}
	return e2ee.Account{Devices: devs, Proof: proof}.Marshal()
}

// impostorFor returns the device impersonating user toward requester,
// once the substitution is under way. The caller holds p.mu.
func (p *Provider) impostorFor(requester, user scanlab.UserID) *ownDevice {
	if !p.started {
		return nil
	}
	return p.impostors[[2]scanlab.UserID{requester, user}]
}

// ghostFor returns the ghost listed in user's account for anyone but user.
// The caller holds p.mu.
func (p *Provider) ghostFor(requester, user scanlab.UserID) *ownDevice {
	if !p.started || requester == user {
		return nil
	}
	return p.ghosts[user]
}

// attacked reports whether u is party to an attacked pair. The caller
// holds p.mu.
func (p *Provider) attacked(u scanlab.UserID) bool {
	return slices.ContainsFunc(p.pairs, func(pr [2]scanlab.UserID) bool { return pr[0] == u || pr[1] == u })
}

// proofFor builds the key-log proof for the devices served: in the view of
// the log requester is shown (the split view's copy for attacked users),
// the latest entry equal to them — or, if they were never logged, the
// account's latest entry, whose proof then fails — and the consistency
// proof from the last head requester was shown.
func (p *Provider) proofFor(requester, user scanlab.UserID, devs []e2ee.DeviceKeys) ([]byte, error) {
	ids := map[uint32]e2ee.PublicIdentity{}
	for _, d := range devs {
		id, err := e2ee.ParseIdentity(d.Keys.Identity)
		if err != nil {
			return nil, err
		}
		ids[d.Device] = id
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	view := p.main
	if p.fork != nil && p.attacked(requester) {
		view = p.fork
	}
	idx, ok := view.Find(e2ee.LogEntry(user, ids))
	if !ok {
		if idx, _, ok = view.Latest(string(user)); !ok {
			return nil, nil // nothing logged for the account: no proof to give
		}
	}
	head, err := view.Head()
	if err != nil {
		return nil, err
	}
	pr := keylog.Proof{Head: head, Index: idx, FromSize: p.shown[requester]}
	if pr.Inclusion, err = view.Inclusion(idx, head.Size); err != nil {
		return nil, err
	}
	if pr.FromSize > 0 && pr.FromSize <= head.Size {
		if pr.Consistency, err = view.Consistency(pr.FromSize, head.Size); err != nil {
			return nil, err
		}
	}
	p.shown[requester] = head.Size
	return pr.Marshal(), nil
}

// Monitor runs an account owner's check of the log as the provider shows
// it to owners (the honest log; in a split view the attacked users are
// shown the copy only when they fetch keys): own are the identities the
// owner's devices published. It returns an error wrapping
// keylog.ErrUnknownKey if the log lists keys the owner never published.
func (p *Provider) Monitor(account scanlab.UserID, own map[uint32]e2ee.PublicIdentity) error {
	m := keylog.NewMonitor(p.LogKey(), string(account))
	for dev, id := range own {
		m.Published(keylog.Key{Device: dev, Identity: id.Bytes()})
	}
	h, err := p.main.Head()
	if err != nil {
		return err
	}
	entries, err := p.main.Entries(0, h.Size)
	if err != nil {
		return err
	}
	return m.Check(h, 0, nil, entries)
}

// Audit runs an independent auditor: it fetches the log's head as the
// provider shows it to auditors (the honest log), then checks every head
// gossiped to it against it. It returns an error wrapping
// keylog.ErrSplitView if two heads cannot belong to one log.
func (p *Provider) Audit(gossip []keylog.Head) error {
	a := keylog.NewAuditor(p.LogKey(), p.main.Consistency)
	h, err := p.main.Head()
	if err != nil {
		return err
	}
	err = a.Observe(h)
	for _, g := range gossip {
		err = errors.Join(err, a.Observe(g))
	}
	return err
}

// ClientCheck returns the key check an app with key transparency runs on
// every account it fetches: the named app's keylog client, from clients.
func ClientCheck(clients *keylog.Clients) e2ee.KeyCheck {
	return func(self scanlab.UserID, served keylog.Entry, proof []byte) error {
		return clients.Check(string(self), served, proof)
	}
}
