package keylog

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"sync"

	"github.com/transparency-dev/merkle/proof"
)

// Client is one app's key-transparency state: the log key it ships with
// and the last head it was shown. It is safe for concurrent use.
type Client struct {
	mu   sync.Mutex
	pub  ed25519.PublicKey
	last *Head
	seen []Head
}

// NewClient returns a client that trusts heads signed by pub.
func NewClient(pub ed25519.PublicKey) *Client { return &Client{pub: pub} }

// Check verifies that want — the keys the directory served, as an entry —
// is in the tree the proof's head commits to (an inclusion proof), and
// that this tree extends the last head the client saw (a consistency
// proof). On success it remembers the head; on failure it changes nothing
// and the error wraps [ErrSignature], [ErrInclusion] or [ErrConsistency].
//
// A log is not a map: Check shows the keys were logged for the account,
// not that they are its latest entry. A [Monitor] run by the account's
// owner catches keys logged in its name.
func (c *Client) Check(want Entry, p Proof) error {
	leaf, err := want.Marshal()
	if err != nil {
		return err
	}
	if err := p.Head.Verify(c.pub); err != nil {
		return err
	}
	if err := proof.VerifyInclusion(hasher, p.Index, p.Head.Size, hasher.HashLeaf(leaf), p.Inclusion, p.Head.Root[:]); err != nil {
		return fmt.Errorf("%w: %s at %d of %d: %v", ErrInclusion, want.Account, p.Index, p.Head.Size, err)
	}
	return c.extend(p.Head, p.FromSize, p.Consistency)
}

// extend checks that h extends the last head seen, with a consistency
// proof from the size the directory claims the client last saw, and
// remembers h.
func (c *Client) extend(h Head, fromSize uint64, consistency [][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil {
		if h.Size < c.last.Size || fromSize != c.last.Size {
			return fmt.Errorf("%w: head of size %d after one of %d (proof from %d)", ErrConsistency, h.Size, c.last.Size, fromSize)
		}
		if err := proof.VerifyConsistency(hasher, c.last.Size, h.Size, consistency, c.last.Root[:], h.Root[:]); err != nil {
			return fmt.Errorf("%w: sizes %d → %d: %v", ErrConsistency, c.last.Size, h.Size, err)
		}
	}
	c.last = &h
	if !slices.Contains(c.seen, h) {
		c.seen = append(c.seen, h)
	}
	return nil
}

// Last returns the last head the client accepted (size 0 if none).
func (c *Client) Last() Head {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		return Head{}
	}
	return *c.last
}

// Heads returns every head the client accepted, oldest first: what it
// gossips to auditors.
func (c *Client) Heads() []Head {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seen)
}

// Monitor is an account owner's check of the log: it reads every entry,
// recomputes the head, and flags entries of its account holding keys it
// never published.
type Monitor struct {
	c         *Client
	account   string
	published map[uint32][][]byte
}

// NewMonitor returns the monitor of account for a log signed by pub.
func NewMonitor(pub ed25519.PublicKey, account string) *Monitor {
	return &Monitor{c: NewClient(pub), account: account, published: map[uint32][][]byte{}}
}

// Published records a key the owner published for one of its devices.
func (m *Monitor) Published(k Key) {
	m.published[k.Device] = append(m.published[k.Device], slices.Clone(k.Identity))
}

// Check verifies the head the log showed the monitor (and its consistency
// with the last one), checks that entries are exactly the tree it commits
// to, and that every entry of the account lists only published keys. The
// error wraps [ErrSignature], [ErrConsistency] or [ErrUnknownKey].
func (m *Monitor) Check(h Head, fromSize uint64, consistency [][]byte, entries [][]byte) error {
	if err := h.Verify(m.c.pub); err != nil {
		return err
	}
	if uint64(len(entries)) != h.Size {
		return fmt.Errorf("%w: %d entries for a head of %d", ErrConsistency, len(entries), h.Size)
	}
	rng := factory.NewEmptyRange(0)
	for _, b := range entries {
		if err := rng.Append(hasher.HashLeaf(b), nil); err != nil {
			return err
		}
	}
	root, err := rng.GetRootHash(nil)
	if err != nil {
		return err
	}
	if string(root) != string(h.Root[:]) {
		return fmt.Errorf("%w: entries do not hash to the head", ErrConsistency)
	}
	if err := m.c.extend(h, fromSize, consistency); err != nil {
		return err
	}
	for i, b := range entries {
		e, err := ParseEntry(b)
		if err != nil || e.Account != m.account {
			continue
		}
		for _, k := range e.Keys {
			if !slices.ContainsFunc(m.published[k.Device], func(id []byte) bool { return string(id) == string(k.Identity) }) {
				return fmt.Errorf("%w: %s device %d at entry %d", ErrUnknownKey, m.account, k.Device, i)
			}
		}
	}
	return nil
}

// Prover answers an auditor's request for a consistency proof between two
// tree sizes, as the log chooses to answer it.
type Prover func(size1, size2 uint64) ([][]byte, error)

// Auditor checks that every head it is given belongs to one log: its own
// fetches, and heads clients gossip to it. It is safe for concurrent use.
type Auditor struct {
	mu    sync.Mutex
	pub   ed25519.PublicKey
	prove Prover
	heads []Head
}

// NewAuditor returns an auditor of the log signed by pub that asks prove
// for consistency proofs.
func NewAuditor(pub ed25519.PublicKey, prove Prover) *Auditor {
	return &Auditor{pub: pub, prove: prove}
}

// Observe checks h against every head the auditor holds — two heads of the
// same size must be equal, and the smaller of two must have a consistency
// proof into the larger — and then holds it. The error wraps
// [ErrSignature] or [ErrSplitView].
func (a *Auditor) Observe(h Head) error {
	if err := h.Verify(a.pub); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if slices.Contains(a.heads, h) {
		return nil
	}
	var first error
	for _, g := range a.heads {
		if err := a.consistent(g, h); err != nil && first == nil {
			first = err
		}
	}
	a.heads = append(a.heads, h)
	return first
}

// consistent checks one pair of heads.
func (a *Auditor) consistent(g, h Head) error {
	if g.Size > h.Size {
		g, h = h, g
	}
	if g.Size == h.Size {
		if g.Root != h.Root {
			return fmt.Errorf("%w: two heads of size %d with different roots", ErrSplitView, g.Size)
		}
		return nil
	}
	p, err := a.prove(g.Size, h.Size)
	if err == nil {
		err = proof.VerifyConsistency(hasher, g.Size, h.Size, p, g.Root[:], h.Root[:])
	}
	if err != nil {
		return fmt.Errorf("%w: sizes %d and %d: %v", ErrSplitView, g.Size, h.Size, err)
	}
	return nil
}

// Clients holds the key-transparency state of many apps, one [Client] per
// app, all trusting one log key: what each app would keep on its own. It
// is safe for concurrent use.
type Clients struct {
	mu      sync.Mutex
	pub     ed25519.PublicKey
	clients map[string]*Client
}

// NewClients returns apps that trust heads signed by pub.
func NewClients(pub ed25519.PublicKey) *Clients {
	return &Clients{pub: pub, clients: map[string]*Client{}}
}

// Client returns the named app's client, making it on first use.
func (cs *Clients) Client(app string) *Client {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.clients[app]
	if c == nil {
		c = NewClient(cs.pub)
		cs.clients[app] = c
	}
	return c
}

// Check is [Client.Check] for the named app, with the proof in its
// encoding; a missing or malformed proof fails with [ErrInclusion].
func (cs *Clients) Check(app string, want Entry, proof []byte) error {
	if len(proof) == 0 {
		return fmt.Errorf("%w: no proof served", ErrInclusion)
	}
	p, err := ParseProof(proof)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInclusion, err)
	}
	return cs.Client(app).Check(want, p)
}
