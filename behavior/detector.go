package behavior

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"scanlab"
)

// Event is one message as the provider sees it in every mode: routing
// metadata, facts about the two accounts that the platform holds, and
// whether the recipient reported the message. It carries no content and no
// ground truth.
type Event struct {
	// MessageID identifies the message; it is optional and only echoed.
	MessageID string
	From      scanlab.UserID
	To        scanlab.UserID
	At        time.Time
	// FromCreated is when the sender's account was created; the zero time
	// means unknown (never counted as new).
	FromCreated time.Time
	// FromMinor and ToMinor say whether each account declared an age under
	// 18.
	FromMinor, ToMinor bool
	// Connected is true when the two accounts are friends in the platform's
	// social graph.
	Connected bool
	// Hops is their distance in the social graph, capped at 3 (1 connected,
	// 2 a common friend, 3 further); 0 means unknown and is treated as
	// close, never as distant.
	Hops int
	// Reported is true when the recipient reported this message to the
	// provider (a verified report).
	Reported bool
}

// Config configures a [Detector]. The zero value of a field selects its
// default (see [DefaultConfig]).
type Config struct {
	// BurstWindow is the window in which first contacts to unconnected
	// minors count as one burst. Default 1 hour.
	BurstWindow time.Duration
	// NewAccount is the age under which an account counts as new. Default
	// 30 days.
	NewAccount time.Duration
	// Threshold is the rule score at which an account is flagged. Default
	// 5 (see the package comment for how it was chosen).
	Threshold float64
	// Model, when not nil, replaces the rules: an account is flagged when
	// the model's probability reaches ModelThreshold.
	Model *Model
	// ModelThreshold is the probability at which the model flags. Default
	// 0.5.
	ModelThreshold float64
}

// DefaultConfig returns the rule detector's configuration documented in the
// package comment.
func DefaultConfig() Config {
	return Config{
		BurstWindow:    time.Hour,
		NewAccount:     30 * 24 * time.Hour,
		Threshold:      5,
		ModelThreshold: 0.5,
	}
}

// Flag is one account the detector flagged: its score when first flagged
// (rule points, or the model's probability), the rules that contributed
// (or "model"), and the time of the event that raised it.
type Flag struct {
	Account scanlab.UserID
	Score   float64
	Reasons []string
	At      time.Time
}

// Features are the counters the detector keeps for one account. They are
// the inputs of both the rules and the [Model].
type Features struct {
	// Recipients is the number of distinct accounts messaged.
	Recipients int
	// FirstContacts is the number of accounts this account messaged first
	// (no earlier message between the two in either direction).
	FirstContacts int
	// MinorRecipients is the number of distinct declared minors messaged.
	MinorRecipients int
	// StrangerMinors is the number of minors first contacted while not
	// connected to them.
	StrangerMinors int
	// DistantMinors is the number of those three or more hops away.
	DistantMinors int
	// StrangerAdults is the number of adults first contacted while not
	// connected to them.
	StrangerAdults int
	// MaxBurst is the largest number of first contacts to unconnected
	// minors within one burst window.
	MaxBurst int
	// Reports is the number of reports received.
	Reports int
	// NewAccount is true when the account was younger than
	// Config.NewAccount at its latest message.
	NewAccount bool
}

// StrangerShare is the share of the account's minor recipients that were
// unconnected when first contacted (0 when it messaged no minor).
func (f Features) StrangerShare() float64 {
	if f.MinorRecipients == 0 {
		return 0
	}
	return float64(f.StrangerMinors) / float64(f.MinorRecipients)
}

// The rule names, as they appear in [Flag.Reasons] and [scanlab.Detection.Rule].
const (
	RuleStrangerMinors  = "stranger-minors"
	RuleNoMutualFriends = "no-mutual-friends"
	RuleMostlyStrangers = "mostly-strangers"
	RuleBurst           = "burst"
	RuleNewAccount      = "new-account"
	RuleReported        = "reported"
	RuleModel           = "model"
)

// Score applies the rules of the package comment to f and returns the score
// and the names of the rules that fired, in the order of the rule table.
func Score(f Features) (float64, []string) {
	var score float64
	var reasons []string
	add := func(ok bool, points float64, name string) {
		if ok {
			score += points
			reasons = append(reasons, name)
		}
	}
	add(f.StrangerMinors >= 5, 2, RuleStrangerMinors)
	add(f.DistantMinors >= 3, 1, RuleNoMutualFriends)
	add(f.StrangerMinors >= 3 && f.StrangerShare() >= 0.5, 1, RuleMostlyStrangers)
	add(f.MaxBurst >= 3, 1, RuleBurst)
	add(f.NewAccount && f.StrangerMinors >= 2, 1, RuleNewAccount)
	add(f.Reports >= 1, float64(min(f.Reports, 2)), RuleReported)
	return score, reasons
}

// account is the detector's state about one sender.
type account struct {
	f          Features
	recipients map[scanlab.UserID]struct{}
	contacts   []time.Time // stranger-minor first contacts, sorted
	flag       *Flag
}

// Detector flags suspicious accounts from a stream of [Event]s, observed in
// the order the provider receives them. A Detector is not safe for
// concurrent use; its results depend only on the events, their order and
// the configuration.
type Detector struct {
	cfg      Config
	accounts map[scanlab.UserID]*account
	pairs    map[[2]scanlab.UserID]struct{}
	flags    []*Flag
}

// New returns a detector with the given configuration; zero fields take
// their defaults.
func New(cfg Config) *Detector {
	def := DefaultConfig()
	if cfg.BurstWindow <= 0 {
		cfg.BurstWindow = def.BurstWindow
	}
	if cfg.NewAccount <= 0 {
		cfg.NewAccount = def.NewAccount
	}
	if cfg.Threshold <= 0 {
		cfg.Threshold = def.Threshold
	}
	if cfg.ModelThreshold <= 0 {
		cfg.ModelThreshold = def.ModelThreshold
	}
	return &Detector{
		cfg:      cfg,
		accounts: map[scanlab.UserID]*account{},
		pairs:    map[[2]scanlab.UserID]struct{}{},
	}
}

// Config returns the detector's configuration with defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// Observe takes one message event. Events should arrive in time order, as
// the provider receives them; an event out of order is still counted, and
// burst sizes stay exact, but first contacts are decided in arrival order.
func (d *Detector) Observe(e Event) {
	pair := [2]scanlab.UserID{min(e.From, e.To), max(e.From, e.To)}
	_, seen := d.pairs[pair]
	if !seen {
		d.pairs[pair] = struct{}{}
	}
	if e.FromMinor {
		return // minors' accounts are not scored
	}
	a := d.accounts[e.From]
	if a == nil {
		a = &account{recipients: map[scanlab.UserID]struct{}{}}
		d.accounts[e.From] = a
	}
	f := &a.f
	if _, ok := a.recipients[e.To]; !ok {
		a.recipients[e.To] = struct{}{}
		f.Recipients++
		if e.ToMinor {
			f.MinorRecipients++
		}
	}
	if !seen {
		f.FirstContacts++
		if !e.Connected {
			if !e.ToMinor {
				f.StrangerAdults++
			} else {
				f.StrangerMinors++
				if e.Hops >= 3 {
					f.DistantMinors++
				}
				k, _ := slices.BinarySearchFunc(a.contacts, e.At, time.Time.Compare)
				a.contacts = slices.Insert(a.contacts, k, e.At)
				f.MaxBurst = max(f.MaxBurst, maxInWindow(a.contacts, d.cfg.BurstWindow))
			}
		}
	}
	if e.Reported {
		f.Reports++
	}
	f.NewAccount = !e.FromCreated.IsZero() && e.At.Sub(e.FromCreated) < d.cfg.NewAccount

	if a.flag != nil {
		return
	}
	score, reasons, threshold := d.score(*f)
	if score >= threshold {
		a.flag = &Flag{Account: e.From, Score: score, Reasons: reasons, At: e.At}
		d.flags = append(d.flags, a.flag)
	}
}

func (d *Detector) score(f Features) (float64, []string, float64) {
	if d.cfg.Model != nil {
		return d.cfg.Model.Prob(f), []string{RuleModel}, d.cfg.ModelThreshold
	}
	s, r := Score(f)
	return s, r, d.cfg.Threshold
}

// Features returns the counters of an account, and false if the detector
// has seen no message from it (or only as a declared minor).
func (d *Detector) Features(account scanlab.UserID) (Features, bool) {
	a := d.accounts[account]
	if a == nil {
		return Features{}, false
	}
	return a.f, true
}

// Accounts returns the scored accounts the detector has seen, sorted.
func (d *Detector) Accounts() []scanlab.UserID {
	out := make([]scanlab.UserID, 0, len(d.accounts))
	for id := range d.accounts {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Flagged returns the flags raised so far, in the order they were raised
// (by time, then account).
func (d *Detector) Flagged() []Flag {
	out := make([]Flag, len(d.flags))
	for i, f := range d.flags {
		out[i] = *f
		out[i].Reasons = slices.Clone(f.Reasons)
	}
	slices.SortStableFunc(out, func(a, b Flag) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(string(a.Account), string(b.Account)))
	})
	return out
}

// Detections returns the flags as account-level detections on the pathway
// [scanlab.ServerMetadata]: no message ID, the reasons joined by "+" as the
// rule, and Distance −1.
func (d *Detector) Detections() []scanlab.Detection {
	flags := d.Flagged()
	out := make([]scanlab.Detection, len(flags))
	for i, f := range flags {
		out[i] = scanlab.Detection{
			Account:  f.Account,
			Pathway:  scanlab.ServerMetadata,
			At:       f.At,
			Rule:     strings.Join(f.Reasons, "+"),
			Distance: -1,
		}
	}
	return out
}

// maxInWindow returns the largest number of sorted times that fit in one
// window of length w (both ends included).
func maxInWindow(ts []time.Time, w time.Duration) int {
	best := 0
	for lo, hi := 0, 0; hi < len(ts); hi++ {
		for ts[hi].Sub(ts[lo]) > w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
