package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"scanlab"
	"scanlab/modes"
	"scanlab/observe"
)

// results caches one real run per scenario: the runs are the expensive
// part, the checks are many.
var results sync.Map

func run(t *testing.T, scenario string) *Result {
	t.Helper()
	if r, ok := results.Load(scenario); ok {
		return r.(*Result)
	}
	r, err := Run(context.Background(), Input{Scenario: scenario, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	results.Store(scenario, r)
	return r
}

// level returns the level of party p's cell in mode m.
func level(r *Result, m string, p observe.Party) Level { return r.Mode(m).Cell(p).Level }

// TestScenarios plays every scenario through the real pipeline and checks
// the story each must tell.
func TestScenarios(t *testing.T) {
	checks := map[string]func(t *testing.T, r *Result){
		"harmless-chat":       checkChat,
		"listed-image":        checkListed,
		"grooming":            checkGrooming,
		"data-breach":         checkBreach,
		"court-order":         checkParty(observe.LawEnforcement),
		"rogue-employee":      checkParty(observe.Employee),
		"swapped-key":         checkAttack(false),
		"swapped-key-noticed": checkAttack(true),
	}
	for _, sc := range Scenarios {
		t.Run("scenario="+sc.Name, func(t *testing.T) {
			check, ok := checks[sc.Name]
			if !ok {
				t.Fatalf("scenario %s has no check", sc.Name)
			}
			r := run(t, sc.Name)
			if len(r.Modes) != len(modes.Names) || r.Happened == "" {
				t.Fatalf("%d modes, happened %q", len(r.Modes), r.Happened)
			}
			for _, m := range r.Modes {
				if len(m.Steps) != len(r.Messages) || len(m.Grid) != len(observe.Parties) {
					t.Fatalf("%s: %d steps for %d messages, %d cells", m.Mode, len(m.Steps), len(r.Messages), len(m.Grid))
				}
				for _, st := range m.Steps {
					if st.SendBytes <= int64(st.EnvelopeBytes) || st.FetchBytes <= 0 || st.RoundTrip <= 0 || len(st.Says) == 0 {
						t.Errorf("%s: implausible step %+v", m.Mode, st)
					}
				}
				// Sender and recipient read their own messages everywhere.
				if level(r, m.Mode, observe.Sender) != Content || level(r, m.Mode, observe.Recipient) != Content {
					t.Errorf("%s: the two ends do not read their messages", m.Mode)
				}
			}
			check(t, r)
		})
	}
}

func checkChat(t *testing.T, r *Result) {
	want := map[string]Level{"serverscan": Content, "e2ee": Metadata, "clientscan": Metadata}
	for m, l := range want {
		if got := level(r, m, observe.Provider); got != l {
			t.Errorf("%s provider: %s, want %s", m, got, l)
		}
	}
	if !strings.Contains(r.Happened, "nobody but the two of them in e2ee and clientscan") {
		t.Errorf("happened: %s", r.Happened)
	}
}

func checkListed(t *testing.T, r *Result) {
	if r.Threshold != Threshold || len(r.Messages) != len(Photos) {
		t.Fatalf("t = %d, %d messages", r.Threshold, len(r.Messages))
	}
	server := r.Mode("serverscan")
	for i, st := range server.Steps {
		if len(st.Detections) != 1 || st.Detections[0].Pathway != scanlab.ServerHash {
			t.Errorf("serverscan %s: %+v", r.Messages[i].Label, st.Detections)
		}
	}
	for _, st := range r.Mode("e2ee").Steps {
		if len(st.Detections) > 0 || st.Vouchers.Counted {
			t.Errorf("e2ee flagged or counted: %+v", st)
		}
	}
	// The edited copy does not match exactly: three real matches, the
	// third (the last photo) crosses t = 2 and opens all three.
	cs := r.Mode("clientscan")
	at, opened := crossing(*cs)
	if at != len(Photos)-1 || opened != Threshold+1 {
		t.Errorf("clientscan crossed at step %d opening %d; want step %d opening %d", at, opened, len(Photos)-1, Threshold+1)
	}
	for i, st := range cs.Steps {
		if !st.Vouchers.Counted || st.Vouchers.Vouchers != i+1 || st.Vouchers.Bytes == 0 {
			t.Errorf("clientscan step %d vouchers: %+v", i, st.Vouchers)
		}
	}
	if level(r, "clientscan", observe.Provider) != Content || level(r, "e2ee", observe.Provider) != Metadata {
		t.Errorf("provider levels: clientscan %s, e2ee %s", level(r, "clientscan", observe.Provider), level(r, "e2ee", observe.Provider))
	}
	if len(r.Notes) != 1 || !strings.Contains(r.Happened, "t = 2") {
		t.Errorf("notes %q, happened %q", r.Notes, r.Happened)
	}
}

func checkGrooming(t *testing.T, r *Result) {
	// The same detector, fed the same metadata, flags at the same message.
	for _, m := range r.Modes {
		var at []int
		for i, st := range m.Steps {
			if st.Flag != nil {
				at = append(at, i)
			}
		}
		if len(at) != 1 || at[0] != 4 {
			t.Errorf("%s: metadata flags at steps %v, want [4]", m.Mode, at)
		}
	}
	if len(labelsWith(*r.Mode("serverscan"), r.Messages, scanlab.ServerText)) == 0 {
		t.Error("serverscan's text scanner flagged nothing")
	}
	for _, m := range []string{"e2ee", "clientscan"} {
		if n := len(labelsWith(*r.Mode(m), r.Messages, scanlab.ServerText)); n > 0 {
			t.Errorf("%s read %d texts", m, n)
		}
	}
}

func checkBreach(t *testing.T, r *Result) {
	for _, m := range r.Modes {
		if l := level(r, m.Mode, observe.DBThief); l != Nothing {
			t.Errorf("%s: the thief without keys got %s", m.Mode, l)
		}
	}
	checkParty(observe.DBThiefKMS)(t, r)
}

// checkParty: p reads the words in serverscan only, and metadata in the
// end-to-end modes.
func checkParty(p observe.Party) func(*testing.T, *Result) {
	return func(t *testing.T, r *Result) {
		want := map[string]Level{"serverscan": Content, "e2ee": Metadata, "clientscan": Metadata}
		for m, l := range want {
			if got := level(r, m, p); got != l {
				t.Errorf("%s %s: %s, want %s", m, p, got, l)
			}
		}
		if !strings.Contains(r.Happened, Title(string(p))[1:]) {
			t.Errorf("happened does not name %s: %s", p, r.Happened)
		}
	}
}

// checkAttack: the provider acting in bad faith reads the words in every
// mode (in serverscan without an attack) while the passive provider of
// e2ee and clientscan does not; its devices decrypted the message in
// e2ee and clientscan; and with warning apps both ends noticed, without
// them nobody did.
func checkAttack(warned bool) func(*testing.T, *Result) {
	return func(t *testing.T, r *Result) {
		for _, m := range r.Modes {
			if got := level(r, m.Mode, observe.ProviderActive); got != Content {
				t.Errorf("%s: the provider acting in bad faith got %s", m.Mode, got)
			}
			if m.Mode == "serverscan" {
				continue
			}
			if got := level(r, m.Mode, observe.Provider); got != Metadata {
				t.Errorf("%s: the passive provider got %s", m.Mode, got)
			}
			if m.Steps[0].Intercepted == "" {
				t.Errorf("%s: the message was not intercepted", m.Mode)
			}
			if noticed := len(m.Noticed) == 2; noticed != warned {
				t.Errorf("%s: noticed %q, want both ends noticing: %t", m.Mode, m.Noticed, warned)
			}
		}
		want := "nobody noticed"
		if warned {
			want = `Sam's app noticed before sending: the app showed "safety number changed".`
		}
		if !strings.Contains(r.Happened, want) || !strings.Contains(r.Happened, "needed no attack") {
			t.Errorf("happened: %s", r.Happened)
		}
	}
}

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		ok   bool
	}{
		{"min", strings.Repeat("a", MinText), true},
		{"short", strings.Repeat("a", MinText-1), false},
		{"max-multibyte", strings.Repeat("é", MaxText), true},
		{"long", strings.Repeat("é", MaxText+1), false},
		{"invalid-utf8", strings.Repeat("a", MinText) + "\xff", false},
	} {
		t.Run("text="+tc.name, func(t *testing.T) {
			err := CheckText(tc.text)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrText)) {
				t.Fatalf("CheckText: %v", err)
			}
		})
	}
}

func TestRunRefuses(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		in   Input
		want error
	}{
		{"unknown-scenario", context.Background(), Input{Scenario: "nope"}, ErrScenario},
		{"short-text", context.Background(), Input{Scenario: "harmless-chat", Text: "hi"}, ErrText},
		{"cancelled", cancelled, Input{Scenario: "harmless-chat"}, context.Canceled},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			if _, err := Run(tc.ctx, tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("Run: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestGlossary checks every mode and party has its sentence, in order.
func TestGlossary(t *testing.T) {
	if len(ModeGlossary) != len(modes.Names) || len(PartyGlossary) != len(observe.Parties) {
		t.Fatalf("%d mode and %d party sentences for %d modes and %d parties", len(ModeGlossary), len(PartyGlossary), len(modes.Names), len(observe.Parties))
	}
	for i, m := range modes.Names {
		if ModeGlossary[i].Name != m || ModeGlossary[i].Sentence == "" {
			t.Errorf("mode %d: %+v", i, ModeGlossary[i])
		}
	}
	for i, p := range observe.Parties {
		if PartyGlossary[i].Name != string(p) || holds[p] == "" {
			t.Errorf("party %d: %+v", i, PartyGlossary[i])
		}
	}
}

var timing = regexp.MustCompile(`\d+(\.\d)? (ms|µs) *`)

// TestNarrate tells a real run of listed-image on a plain writer: it names
// every mode and party and the crossing, and matches the golden file with
// measured times masked (-update rewrites it).
func TestNarrate(t *testing.T) {
	r := run(t, "listed-image")
	var plain, colour bytes.Buffer
	if err := Narrate(&plain, r, Style{}); err != nil {
		t.Fatal(err)
	}
	if err := Narrate(&colour, r, Style{Colour: true}); err != nil {
		t.Fatal(err)
	}
	out := plain.String()
	for _, want := range append(append([]string{"Threshold crossed", "t = 2"}, modes.Names...), partyTitles()...) {
		if !strings.Contains(out, want) {
			t.Errorf("the narration does not say %q", want)
		}
	}
	if strings.Contains(out, "\x1b[") || !strings.Contains(colour.String(), ansiRed) {
		t.Error("colour on a plain writer, or none on a terminal")
	}
	golden(t, filepath.Join("testdata", "listed-image.golden"), timing.ReplaceAllString(out, "N ms "))
}

func partyTitles() []string {
	var out []string
	for _, p := range PartyGlossary {
		out = append(out, p.Title)
	}
	return out
}

func TestNarratePauses(t *testing.T) {
	r := run(t, "harmless-chat")
	pauses := 0
	stop := errors.New("stop")
	err := Narrate(&bytes.Buffer{}, r, Style{Pause: func() error {
		pauses++
		if pauses == 2 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) || pauses != 2 {
		t.Fatalf("Narrate: %v after %d pauses", err, pauses)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs; got:\n%s", path, diffLines(string(want), got))
	}
}

// diffLines shows the first differing line.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return fmt.Sprintf("line %d:\nwant %s\ngot  %s", i+1, w[i], g[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}
