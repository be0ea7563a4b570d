package behavior

import (
	"cmp"
	"errors"
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
	// [CalibratedThreshold] (see [Calibrate] for how it was chosen).
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
		Threshold:      CalibratedThreshold,
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
	var reasons []string
	score := rulePoints(f, func(name string) { reasons = append(reasons, name) })
	return score, reasons
}

// rulePoints returns the rule score of f, calling fired (when not nil) with
// the name of each rule that adds points, in table order.
func rulePoints(f Features, fired func(string)) float64 {
	var score float64
	add := func(ok bool, points float64, name string) {
		if ok {
			score += points
			if fired != nil {
				fired(name)
			}
		}
	}
	add(f.StrangerMinors >= 5, 2, RuleStrangerMinors)
	add(f.DistantMinors >= 3, 1, RuleNoMutualFriends)
	add(f.StrangerMinors >= 3 && f.StrangerShare() >= 0.5, 1, RuleMostlyStrangers)
	add(f.MaxBurst >= 3, 1, RuleBurst)
	add(f.NewAccount && f.StrangerMinors >= 2, 1, RuleNewAccount)
	add(f.Reports >= 1, float64(min(f.Reports, 2)), RuleReported)
	return score
}

// account is the detector's state about one sender.
type account struct {
	f          Features
	recipients []int32     // interned IDs of accounts messaged, sorted
	contacts   []time.Time // stranger-minor first contacts, sorted
	flag       *Flag       // the flag at the configured threshold
	// peaks records each rise of the rule score: the score, the rules
	// behind it and the event's time (rules only; see [Detector.FlagsAt]).
	peaks []Flag
}

// Detector flags suspicious accounts from a stream of [Event]s, observed in
// the order the provider receives them. A Detector is not safe for
// concurrent use; its results depend only on the events, their order and
// the configuration.
//
// Its memory is one entry per account, per distinct pair of accounts that
// exchanged a message (8 bytes of key), per recipient of each adult sender
// and per stranger-minor first contact: about 60 MB for a 100,000-account
// month of the default workload.
type Detector struct {
	cfg      Config
	ids      map[scanlab.UserID]int32 // interned account IDs
	names    []scanlab.UserID
	accounts []*account // by interned ID; nil for accounts not scored
	pairs    map[uint64]struct{}
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
		cfg:   cfg,
		ids:   map[scanlab.UserID]int32{},
		pairs: map[uint64]struct{}{},
	}
}

// Config returns the detector's configuration with defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// intern returns the interned ID of account id.
func (d *Detector) intern(id scanlab.UserID) int32 {
	k, ok := d.ids[id]
	if !ok {
		k = int32(len(d.names))
		d.ids[id] = k
		d.names = append(d.names, id)
		d.accounts = append(d.accounts, nil)
	}
	return k
}

// Observe takes one message event. Events should arrive in time order, as
// the provider receives them; an event out of order is still counted, and
// burst sizes stay exact, but first contacts are decided in arrival order.
func (d *Detector) Observe(e Event) {
	from, to := d.intern(e.From), d.intern(e.To)
	pair := uint64(min(from, to))<<32 | uint64(max(from, to))
	_, seen := d.pairs[pair]
	if !seen {
		d.pairs[pair] = struct{}{}
	}
	if e.FromMinor {
		return // minors' accounts are not scored
	}
	a := d.accounts[from]
	if a == nil {
		a = &account{}
		d.accounts[from] = a
	}
	d.count(a, e, to, seen)
	if d.cfg.Model != nil {
		if a.flag == nil {
			if p := d.cfg.Model.Prob(a.f); p >= d.cfg.ModelThreshold {
				d.raise(a, Flag{Account: e.From, Score: p, Reasons: []string{RuleModel}, At: e.At})
			}
		}
		return
	}
	points := rulePoints(a.f, nil)
	if len(a.peaks) > 0 && points <= a.peaks[len(a.peaks)-1].Score {
		return
	}
	score, reasons := Score(a.f)
	peak := Flag{Account: e.From, Score: score, Reasons: reasons, At: e.At}
	a.peaks = append(a.peaks, peak)
	if a.flag == nil && score >= d.cfg.Threshold {
		d.raise(a, peak)
	}
}

// count updates a's features with event e to interned account to; seen
// says whether the pair had exchanged a message before.
func (d *Detector) count(a *account, e Event, to int32, seen bool) {
	f := &a.f
	if k, ok := slices.BinarySearch(a.recipients, to); !ok {
		a.recipients = slices.Insert(a.recipients, k, to)
		f.Recipients++
		if e.ToMinor {
			f.MinorRecipients++
		}
	}
	if !seen {
		f.FirstContacts++
		switch {
		case e.Connected:
		case !e.ToMinor:
			f.StrangerAdults++
		default:
			f.StrangerMinors++
			if e.Hops >= 3 {
				f.DistantMinors++
			}
			k, _ := slices.BinarySearchFunc(a.contacts, e.At, time.Time.Compare)
			a.contacts = slices.Insert(a.contacts, k, e.At)
			f.MaxBurst = max(f.MaxBurst, maxInWindow(a.contacts, d.cfg.BurstWindow))
		}
	}
	if e.Reported {
		f.Reports++
	}
	f.NewAccount = !e.FromCreated.IsZero() && e.At.Sub(e.FromCreated) < d.cfg.NewAccount
}

// raise records a's flag at the configured threshold.
func (d *Detector) raise(a *account, f Flag) {
	f.Reasons = slices.Clone(f.Reasons)
	a.flag = &f
	d.flags = append(d.flags, a.flag)
}

// Features returns the counters of an account, and false if the detector
// has seen no message from it (or only as a declared minor).
func (d *Detector) Features(id scanlab.UserID) (Features, bool) {
	if a := d.account(id); a != nil {
		return a.f, true
	}
	return Features{}, false
}

func (d *Detector) account(id scanlab.UserID) *account {
	k, ok := d.ids[id]
	if !ok {
		return nil
	}
	return d.accounts[k]
}

// PeakScore returns the highest rule score the account reached, and false
// if the detector has not scored it. With a [Model] it returns 0.
func (d *Detector) PeakScore(id scanlab.UserID) (float64, bool) {
	a := d.account(id)
	if a == nil {
		return 0, false
	}
	if len(a.peaks) == 0 {
		return 0, true
	}
	return a.peaks[len(a.peaks)-1].Score, true
}

// Accounts returns the scored accounts the detector has seen, sorted.
func (d *Detector) Accounts() []scanlab.UserID {
	var out []scanlab.UserID
	for k, a := range d.accounts {
		if a != nil {
			out = append(out, d.names[k])
		}
	}
	slices.Sort(out)
	return out
}

// Flagged returns the flags raised so far at the configured threshold, in
// the order they were raised (by time, then account).
func (d *Detector) Flagged() []Flag {
	out := make([]Flag, len(d.flags))
	for i, f := range d.flags {
		out[i] = *f
		out[i].Reasons = slices.Clone(f.Reasons)
	}
	sortFlags(out)
	return out
}

// FlagsAt returns the flags the rules would have raised at threshold
// instead of the configured one: for each account whose score reached it,
// the first event at which it did. One pass over the events thus gives the
// whole curve of recall against false flags. It returns an error for a
// detector that scores with a [Model].
func (d *Detector) FlagsAt(threshold float64) ([]Flag, error) {
	if d.cfg.Model != nil {
		return nil, errors.New("behavior: FlagsAt needs the rules, not a model")
	}
	var out []Flag
	for _, a := range d.accounts {
		if a == nil {
			continue
		}
		for _, p := range a.peaks {
			if p.Score >= threshold {
				p.Reasons = slices.Clone(p.Reasons)
				out = append(out, p)
				break
			}
		}
	}
	sortFlags(out)
	return out, nil
}

func sortFlags(fs []Flag) {
	slices.SortStableFunc(fs, func(a, b Flag) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(string(a.Account), string(b.Account)))
	})
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
