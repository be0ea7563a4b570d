package behavior_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"scanlab"
	"scanlab/behavior"
	"scanlab/corpus"
)

func TestScore(t *testing.T) {
	for _, tc := range []struct {
		name    string
		f       behavior.Features
		score   float64
		reasons []string
	}{
		{"nothing", behavior.Features{Recipients: 40, MinorRecipients: 3}, 0, nil},
		{"four-strangers", behavior.Features{MinorRecipients: 20, StrangerMinors: 4}, 0, nil},
		{"five-strangers", behavior.Features{MinorRecipients: 20, StrangerMinors: 5}, 2, []string{behavior.RuleStrangerMinors}},
		{"mostly-strangers", behavior.Features{MinorRecipients: 6, StrangerMinors: 3}, 1, []string{behavior.RuleMostlyStrangers}},
		{"distant", behavior.Features{MinorRecipients: 6, StrangerMinors: 3, DistantMinors: 3}, 2,
			[]string{behavior.RuleNoMutualFriends, behavior.RuleMostlyStrangers}},
		{"teacher-recruiting", behavior.Features{MinorRecipients: 80, StrangerMinors: 6, MaxBurst: 5}, 3,
			[]string{behavior.RuleStrangerMinors, behavior.RuleBurst}},
		{"new-account-one-stranger", behavior.Features{MinorRecipients: 1, StrangerMinors: 1, NewAccount: true}, 0, nil},
		{"new-account-two-strangers", behavior.Features{MinorRecipients: 9, StrangerMinors: 2, NewAccount: true}, 1,
			[]string{behavior.RuleNewAccount}},
		{"reported-once", behavior.Features{Reports: 1}, 1, []string{behavior.RuleReported}},
		{"reported-often", behavior.Features{Reports: 7}, 2, []string{behavior.RuleReported}},
		{"all", behavior.Features{MinorRecipients: 10, StrangerMinors: 10, DistantMinors: 9, MaxBurst: 4, NewAccount: true, Reports: 2}, 8,
			[]string{behavior.RuleStrangerMinors, behavior.RuleNoMutualFriends, behavior.RuleMostlyStrangers,
				behavior.RuleBurst, behavior.RuleNewAccount, behavior.RuleReported}},
	} {
		t.Run("features="+tc.name, func(t *testing.T) {
			score, reasons := behavior.Score(tc.f)
			if score != tc.score || !slices.Equal(reasons, tc.reasons) {
				t.Errorf("Score = %v %v, want %v %v", score, reasons, tc.score, tc.reasons)
			}
		})
	}
}

var t0 = time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)

// contact is an adult's first message to an unconnected minor, min minutes
// after t0.
func contact(from, to string, minutes int, hops int, created time.Time) behavior.Event {
	return behavior.Event{
		From: scanlab.UserID(from), To: scanlab.UserID(to),
		At: t0.Add(time.Duration(minutes) * time.Minute), FromCreated: created,
		ToMinor: true, Hops: hops,
	}
}

func TestObserveFeatures(t *testing.T) {
	old := t0.AddDate(-3, 0, 0)
	fresh := t0.AddDate(0, 0, -3)
	for _, tc := range []struct {
		name   string
		events []behavior.Event
		who    string
		want   behavior.Features
		flag   bool
	}{
		{
			name: "reply-is-no-first-contact",
			events: []behavior.Event{
				{From: "kid", To: "adult", At: t0, FromMinor: true},
				{From: "adult", To: "kid", At: t0.Add(time.Minute), ToMinor: true, FromCreated: old},
			},
			who:  "adult",
			want: behavior.Features{Recipients: 1, MinorRecipients: 1},
		},
		{
			name: "connected-minor-no-stranger",
			events: []behavior.Event{
				{From: "coach", To: "kid", At: t0, ToMinor: true, Connected: true, Hops: 1, FromCreated: old},
				{From: "coach", To: "kid", At: t0.Add(time.Hour), ToMinor: true, Connected: true, Hops: 1, FromCreated: old},
			},
			who:  "coach",
			want: behavior.Features{Recipients: 1, MinorRecipients: 1, FirstContacts: 1},
		},
		{
			name: "burst-within-window",
			events: []behavior.Event{
				contact("x", "a", 0, 3, fresh), contact("x", "b", 20, 3, fresh),
				contact("x", "c", 60, 2, fresh), contact("x", "d", 61, 0, fresh),
			},
			who: "x",
			want: behavior.Features{Recipients: 4, MinorRecipients: 4, FirstContacts: 4,
				StrangerMinors: 4, DistantMinors: 2, MaxBurst: 3, NewAccount: true},
			flag: true, // mostly-strangers + burst + new-account = 3
		},
		{
			name: "spread-out-no-burst",
			events: []behavior.Event{
				contact("x", "a", 0, 3, old), contact("x", "b", 61, 3, old),
				contact("x", "c", 122, 3, old), contact("x", "d", 183, 3, old),
			},
			who: "x",
			want: behavior.Features{Recipients: 4, MinorRecipients: 4, FirstContacts: 4,
				StrangerMinors: 4, DistantMinors: 4, MaxBurst: 1},
			flag: false, // no-mutual-friends + mostly-strangers = 2
		},
		{
			name: "adult-strangers-and-reports",
			events: []behavior.Event{
				{From: "seller", To: "buyer1", At: t0, FromCreated: old, Hops: 3},
				{From: "seller", To: "buyer2", At: t0.Add(time.Minute), FromCreated: old, Hops: 3, Reported: true},
				{From: "seller", To: "buyer2", At: t0.Add(2 * time.Minute), FromCreated: old, Hops: 3, Reported: true},
			},
			who:  "seller",
			want: behavior.Features{Recipients: 2, FirstContacts: 2, StrangerAdults: 2, Reports: 2},
		},
		{
			name: "account-ages-past-new",
			events: []behavior.Event{
				contact("x", "a", 0, 3, t0.AddDate(0, 0, -29)),
				contact("x", "b", 2*24*60, 3, t0.AddDate(0, 0, -29)),
			},
			who: "x",
			want: behavior.Features{Recipients: 2, MinorRecipients: 2, FirstContacts: 2,
				StrangerMinors: 2, DistantMinors: 2, MaxBurst: 1},
		},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			d := run(behavior.Config{Threshold: 3}, tc.events)
			got, ok := d.Features(scanlab.UserID(tc.who))
			if !ok || got != tc.want {
				t.Errorf("features of %s = %+v (%v)\nwant %+v", tc.who, got, ok, tc.want)
			}
			if flagged := len(d.Flagged()) > 0; flagged != tc.flag {
				t.Errorf("flagged %v, want %v: %+v", flagged, tc.flag, d.Flagged())
			}
		})
	}
}

func TestMinorsNotScored(t *testing.T) {
	var evs []behavior.Event
	for i := range 20 {
		evs = append(evs, behavior.Event{
			From: "teen", To: scanlab.UserID(fmt.Sprintf("kid%02d", i)), At: t0.Add(time.Duration(i) * time.Minute),
			FromMinor: true, ToMinor: true, Hops: 3, FromCreated: t0, Reported: true,
		})
	}
	d := run(behavior.Config{}, evs)
	if _, ok := d.Features("teen"); ok || len(d.Flagged()) != 0 || len(d.Accounts()) != 0 {
		t.Errorf("a declared minor was scored: %v", d.Flagged())
	}
}

func TestFlagAndDetections(t *testing.T) {
	var evs []behavior.Event
	for i := range 6 {
		evs = append(evs, contact("x", fmt.Sprintf("kid%d", i), i*5, 3, time.Time{}))
	}
	d := run(behavior.Config{Threshold: 3}, evs)
	flags := d.Flagged()
	// Third contact: no-mutual-friends (1) + mostly-strangers (1) + burst (1).
	want := []behavior.Flag{{Account: "x", Score: 3, At: evs[2].At,
		Reasons: []string{behavior.RuleNoMutualFriends, behavior.RuleMostlyStrangers, behavior.RuleBurst}}}
	if !reflect.DeepEqual(flags, want) {
		t.Fatalf("flags = %+v, want %+v", flags, want)
	}
	flags[0].Reasons[0] = "changed"
	if d.Flagged()[0].Reasons[0] == "changed" {
		t.Error("Flagged shares its reasons with the detector")
	}
	dets := d.Detections()
	if len(dets) != 1 || dets[0] != (scanlab.Detection{
		Account: "x", Pathway: scanlab.ServerMetadata, At: evs[2].At, Distance: -1,
		Rule: "no-mutual-friends+mostly-strangers+burst",
	}) {
		t.Errorf("detections = %+v", dets)
	}
}

func TestOutOfOrderBurst(t *testing.T) {
	in := []behavior.Event{contact("x", "a", 0, 3, time.Time{}), contact("x", "b", 100, 3, time.Time{}), contact("x", "c", 30, 3, time.Time{})}
	f, _ := run(behavior.Config{}, in).Features("x")
	if f.MaxBurst != 2 {
		t.Errorf("max burst %d over contacts at 0, 100 and 30 minutes, want 2", f.MaxBurst)
	}
}

func TestEvaluate(t *testing.T) {
	truth := behavior.Truth{
		"o1": {Offender: true, Group: "offender"},
		"o2": {Offender: true, Group: "offender"},
		"t1": {LookAlike: true, Group: "teacher"},
		"t2": {LookAlike: true, Group: "teacher"},
		"a1": {Group: "adult"},
		"a2": {Group: "adult"},
		"a3": {Group: "adult"},
		"a4": {Group: "adult"},
	}
	flags := func(ids ...string) []behavior.Flag {
		var out []behavior.Flag
		for _, id := range ids {
			out = append(out, behavior.Flag{Account: scanlab.UserID(id)})
		}
		return out
	}
	for _, tc := range []struct {
		name                           string
		flags                          []behavior.Flag
		precision, recall, ffr, lookFF float64
	}{
		{"none", nil, math.NaN(), 0, 0, 0},
		{"perfect", flags("o1", "o2"), 1, 1, 0, 0},
		{"half", flags("o1", "t1"), 0.5, 0.5, 1.0 / 6, 0.5},
		{"outside-truth-ignored", flags("o1", "zz", "zz"), 1, 0.5, 0, 0},
		{"twice-counts-once", flags("o1", "o1", "a1"), 0.5, 0.5, 1.0 / 6, 0},
		{"all", flags("o1", "o2", "t1", "t2", "a1", "a2", "a3", "a4"), 0.25, 1, 1, 1},
	} {
		t.Run("flags="+tc.name, func(t *testing.T) {
			ev := behavior.Evaluate(tc.flags, truth)
			eq := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) < 1e-12 }
			if !eq(ev.Precision, tc.precision) || !eq(ev.Recall, tc.recall) ||
				!eq(ev.FalseFlagRate, tc.ffr) || !eq(ev.LookAlikeFalseFlagRate, tc.lookFF) {
				t.Errorf("got %v, want precision %v recall %v ffr %v look-alike %v", ev, tc.precision, tc.recall, tc.ffr, tc.lookFF)
			}
			if ev.Accounts != 8 || ev.Offenders != 2 || ev.Benign != 6 || ev.LookAlikes != 2 {
				t.Errorf("counts %+v", ev)
			}
			var names []string
			sum := 0
			for _, g := range ev.Groups {
				names = append(names, g.Group)
				sum += g.Flagged
			}
			if !slices.Equal(names, []string{"adult", "offender", "teacher"}) || sum != ev.OffendersFlagged+ev.BenignFlagged {
				t.Errorf("groups %+v", ev.Groups)
			}
		})
	}
}

func TestSplitDisjoint(t *testing.T) {
	w := newWorld(t, smallPopulation(11), smallTraffic())
	train, test := behavior.Split(w.truth, 0.5, 11)
	if len(train)+len(test) != len(w.truth) {
		t.Fatalf("split %d + %d of %d accounts", len(train), len(test), len(w.truth))
	}
	for id := range test {
		if _, ok := train[id]; ok {
			t.Fatalf("account %s in both parts", id)
		}
		if _, ok := w.truth[id]; !ok {
			t.Fatalf("account %s not in the truth", id)
		}
	}
	count := func(tr behavior.Truth) (off, look int) {
		for _, a := range tr {
			if a.Offender {
				off++
			}
			if a.LookAlike {
				look++
			}
		}
		return off, look
	}
	o1, l1 := count(train)
	o2, l2 := count(test)
	if o1 == 0 || o2 == 0 || abs(o1-o2) > 1 || abs(l1-l2) > 1 {
		t.Errorf("offenders %d/%d, look-alikes %d/%d: not stratified", o1, o2, l1, l2)
	}
	train2, test2 := behavior.Split(w.truth, 0.5, 11)
	if !reflect.DeepEqual(train, train2) || !reflect.DeepEqual(test, test2) {
		t.Error("split not deterministic")
	}

	// The model sees only training accounts.
	d := run(behavior.Config{}, w.events)
	examples := d.Examples(train)
	if len(examples) == 0 {
		t.Fatal("no training examples")
	}
	for _, ex := range examples {
		if _, ok := test[ex.Account]; ok {
			t.Fatalf("test account %s among the training examples", ex.Account)
		}
		if ex.Offender != train[ex.Account].Offender {
			t.Fatalf("example %s labelled %v, truth %v", ex.Account, ex.Offender, train[ex.Account].Offender)
		}
	}
}

func abs(x int) int { return max(x, -x) }

func TestTrain(t *testing.T) {
	if _, err := behavior.Train([]behavior.Example{{Offender: true}}, behavior.TrainConfig{}); !errors.Is(err, behavior.ErrOneClass) {
		t.Errorf("one class: error %v", err)
	}
	if _, err := behavior.Train(nil, behavior.TrainConfig{L2: -1}); err == nil {
		t.Error("negative L2: no error")
	}
	// Offenders differ only in the number of unconnected minors.
	var ex []behavior.Example
	for i := range 200 {
		off := i%10 == 0
		f := behavior.Features{Recipients: 20 + i%7, MinorRecipients: 2 + i%3, StrangerMinors: i % 2}
		if off {
			f.StrangerMinors, f.MinorRecipients = 8+i%5, 10+i%5
		}
		ex = append(ex, behavior.Example{Account: scanlab.UserID(fmt.Sprint(i)), Features: f, Offender: off})
	}
	m, err := behavior.Train(ex, behavior.TrainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ex {
		if p := m.Prob(e.Features); (p >= 0.5) != e.Offender {
			t.Fatalf("example %s (offender %v): probability %.3f", e.Account, e.Offender, p)
		}
	}
	if m.Weights[0] <= 0 {
		t.Errorf("weight of %s = %v, want positive", behavior.InputNames[0], m.Weights[0])
	}
}

func TestDetectorDeterministic(t *testing.T) {
	w := newWorld(t, smallPopulation(12), smallTraffic())
	a := run(behavior.Config{}, w.events)
	b := run(behavior.Config{}, w.events)
	if !reflect.DeepEqual(a.Flagged(), b.Flagged()) || !reflect.DeepEqual(a.Detections(), b.Detections()) {
		t.Fatal("same events, different flags")
	}
	if len(a.Flagged()) == 0 {
		t.Fatal("no flags on a population with offenders")
	}
	for _, f := range a.Flagged() {
		if f.Score < a.Config().Threshold || len(f.Reasons) == 0 || strings.Contains(strings.Join(f.Reasons, ""), behavior.RuleModel) {
			t.Fatalf("flag %+v", f)
		}
	}
}

func smallPopulation(seed uint64) corpus.PopulationConfig {
	cfg := corpus.DefaultPopulationConfig()
	cfg.Seed = seed
	cfg.Users = 2000
	cfg.OffenderShare = 0.02
	return cfg
}

func smallTraffic() corpus.ConversationConfig {
	cfg := corpus.DefaultConversationConfig()
	cfg.Days = 7
	return cfg
}

func BenchmarkObserve(b *testing.B) {
	w := newWorld(b, smallPopulation(13), smallTraffic())
	for b.Loop() {
		run(behavior.DefaultConfig(), w.events)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(w.events)), "ns/event")
}
