package demo

import (
	"fmt"
	"slices"
	"time"

	"scanlab"
	"scanlab/active"
	"scanlab/harness"
	"scanlab/keylog"
	"scanlab/modes"
	"scanlab/observe"
	"scanlab/serverscan"
)

// prepareAttack sets up the provider acting in bad faith for a script
// with an attack, in a mode with end-to-end encryption: the apps'
// defence in cfg, the provider's directory in opts. It returns the mode
// to run, wrapped by the provider when it attacks.
func (st *story) prepareAttack(name string, cfg *modes.Config, opts *harness.Options) (scanlab.Mode, error) {
	if st.s.attack == nil || name == serverscan.Name {
		return modes.New(name, *cfg)
	}
	a := *st.s.attack
	st.recovered = &observe.Log{}
	var err error
	st.attacker, err = active.New(active.Config{Attack: a.Attack, Transparency: active.Transparent(a.Defence), Log: a.Log,
		Device: cfg.E2EE, Recovered: st.recovered.Record})
	if err != nil {
		return nil, err
	}
	st.clients = keylog.NewClients(st.attacker.LogKey())
	cfg.E2EE = active.Apps(cfg.E2EE, a.Defence, st.clients)
	m, err := modes.New(name, *cfg)
	if err != nil {
		return nil, err
	}
	opts.Directory = st.attacker
	return st.attacker.Mode(m), nil
}

// greetings are what each pair says before the provider turns.
var greetings = [2]string{"hi, it's me", "hey!"}

// startAttack has every pair of the script exchange a greeting, so that
// both apps hold each other's keys, then mounts the attack and has each
// sender's app re-read its recipient's keys (as the server's "mismatched
// devices" answer makes it).
func (st *story) startAttack() error {
	if st.attacker == nil {
		return nil
	}
	var pairs [][2]scanlab.UserID
	for _, m := range st.s.messages {
		if p := [2]scanlab.UserID{m.from, m.to}; !slices.Contains(pairs, p) {
			pairs = append(pairs, p)
		}
	}
	for i, p := range pairs {
		for j, dir := range [][2]scanlab.UserID{p, {p[1], p[0]}} {
			msg := scanlab.Message{ID: fmt.Sprintf("greeting-%d-%d", i, j), From: dir[0], To: dir[1], Sent: clock.Add(-time.Minute), Content: scanlab.Content{Kind: scanlab.Text, Text: greetings[j]}}
			if _, err := st.Send(msg); err != nil {
				return err
			}
			if _, err := st.Deliver(dir[1], 10); err != nil {
				return err
			}
		}
	}
	if err := st.attacker.Start(pairs); err != nil {
		return err
	}
	for _, p := range pairs {
		from, err := st.Device(p[0])
		if err != nil {
			return err
		}
		to, err := st.Device(p[1])
		if err != nil {
			return err
		}
		pr := active.Pair{From: active.E2EE(from), To: active.E2EE(to)}
		pr.RefreshErr = pr.From.RefreshDevices(p[1])
		st.pairs = append(st.pairs, pr)
	}
	return nil
}

// intercepted returns how the provider's devices decrypted message id, or
// "" if they did not.
func (st *story) intercepted(id string) string {
	if st.recovered == nil {
		return ""
	}
	evs, _ := st.recovered.Open()
	for _, e := range evs {
		if e.Fields["message"] == id {
			return routePhrase(e.Route)
		}
	}
	return ""
}

// noticed says who noticed the attack, one sentence per detection.
func (st *story) noticed() []string {
	if st.attacker == nil {
		return nil
	}
	var out []string
	for _, pr := range st.pairs {
		for _, d := range st.attacker.Detect(st.s.attack.Defence, pr, false, st.clients) {
			who := st.s.people[pr.From.User()]
			if d.By == observe.ByRecipient {
				who = st.s.people[pr.To.User()]
			}
			out = append(out, fmt.Sprintf("%s's app noticed %s: %s.", who.name, stageWords[d.At], d.How))
		}
	}
	return out
}

// stageWords say when an attack was noticed.
var stageWords = map[observe.Stage]string{
	observe.BeforeSend:   "before sending",
	observe.OnReceipt:    "when the message arrived",
	observe.AtComparison: "on comparing safety numbers",
	observe.AtMonitoring: "on checking the key log",
	observe.AtAudit:      "when auditors compared log versions",
}
