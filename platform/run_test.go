package platform_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"scanlab"
	"scanlab/hybrid"
	"scanlab/modes"
	"scanlab/platform"
)

func users(n int) []scanlab.UserID {
	out := make([]scanlab.UserID, n)
	for i := range out {
		out[i] = scanlab.UserID(fmt.Sprint("u", i))
	}
	return out
}

// encryptedShare returns the share of conversations among us that choose
// encrypts, and of those whose users satisfy both.
func encryptedShare(choose hybrid.Choose, us []scanlab.UserID, both func(scanlab.UserID) bool) (all, within float64) {
	var n, k, nw, kw float64
	for i := range us {
		for j := range i {
			enc := choose(us[i], us[j])
			n++
			if enc {
				k++
			}
			if both != nil && both(us[i]) && both(us[j]) {
				nw++
				if enc {
					kw++
				}
			}
		}
	}
	if nw > 0 {
		within = kw / nw
	}
	return k / n, within
}

func TestChooser(t *testing.T) {
	x, err := platform.Builtin("x")
	if err != nil {
		t.Fatal(err)
	}
	xr, err := x.Config(x.Baseline())
	if err != nil {
		t.Fatal(err)
	}
	us := users(200) // 19,900 conversations
	minor := func(u scanlab.UserID) bool { return strings.HasSuffix(string(u), "3") }
	for _, c := range []struct {
		name string
		run  platform.Run
		want float64
	}{
		{"platform=x", xr, 0.275},
		{"mode=e2ee", platform.Run{Mode: "e2ee"}, 1},
		{"mode=serverscan", platform.Run{Mode: "serverscan"}, 0},
		{"optin=adults", platform.Run{Mode: hybrid.Name, EncryptedShare: 1, OptIn: platform.OptInAdults}, 0.81},
	} {
		t.Run(c.name, func(t *testing.T) {
			choose, err := c.run.Chooser(platform.Truth{Minor: minor, Seed: 5, OffenderFactor: 1})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := encryptedShare(choose, us, nil)
			if tol := 0.02; math.Abs(got-c.want) > tol {
				t.Errorf("encrypted share %.4f, want %v ± %v", got, c.want, tol)
			}
		})
	}
	adults := platform.Run{Platform: "p", Mode: hybrid.Name, EncryptedShare: 1, OptIn: platform.OptInAdults}
	if _, err := adults.Chooser(platform.Truth{}); err == nil || !strings.Contains(err.Error(), "Minor") {
		t.Errorf("adults-only opt-in without Minor: error %v", err)
	}
	choose, _ := adults.Chooser(platform.Truth{Minor: minor})
	if _, within := encryptedShare(choose, us, minor); within != 0 {
		t.Errorf("%.3f of conversations between minors encrypted under adults-only opt-in", within)
	}
	if _, err := (platform.Run{Mode: "plaintext"}).Chooser(platform.Truth{}); err == nil {
		t.Error("unknown mode accepted")
	}
}

// TestPayingOptIn: when only paying users may opt in (at share 1), the
// encrypted conversations are exactly those between two payers, and about
// PayingShare of users pay.
func TestPayingOptIn(t *testing.T) {
	run := platform.Run{Mode: hybrid.Name, EncryptedShare: 1, OptIn: platform.OptInPaying, PayingShare: 0.5}
	choose, err := run.Chooser(platform.Truth{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	us := users(400)
	pays := map[scanlab.UserID]bool{}
	for i := range us {
		for j := range i {
			if choose(us[i], us[j]) {
				pays[us[i]], pays[us[j]] = true, true
			}
		}
	}
	for i := range us {
		for j := range i {
			if want := pays[us[i]] && pays[us[j]]; choose(us[i], us[j]) != want {
				t.Fatalf("%s–%s encrypted %v, but both pay: %v", us[i], us[j], !want, want)
			}
		}
	}
	share := float64(len(pays)) / float64(len(us))
	if sd := math.Sqrt(0.25 / float64(len(us))); math.Abs(share-0.5) > 4*sd {
		t.Errorf("%.3f of users pay, want 0.5 ± %.3f", share, 4*sd)
	}
}

// TestAdverseSelection: at factor 3 the conversations of offenders are
// encrypted three times as often as the others.
func TestAdverseSelection(t *testing.T) {
	run := platform.Run{Mode: hybrid.Name, EncryptedShare: 0.2, OptIn: platform.OptInAll}
	offender := func(u scanlab.UserID) bool { return strings.HasSuffix(string(u), "7") }
	choose, err := run.Chooser(platform.Truth{Offender: offender, OffenderFactor: 3, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	var n, k float64
	us := users(200)
	for i := range us {
		for j := range i {
			if offender(us[i]) != offender(us[j]) {
				n++
				if choose(us[i], us[j]) {
					k++
				}
			}
		}
	}
	if got := k / n; math.Abs(got-0.6) > 0.03 {
		t.Errorf("offender conversations encrypted %.3f of the time, want 0.6", got)
	}
}

// TestNewMode builds every built-in preset's baseline mode.
func TestNewMode(t *testing.T) {
	for _, p := range builtins(t) {
		r, err := p.Config(p.Baseline())
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.NewMode(modes.Config{}, platform.Truth{Seed: 1, OffenderFactor: 1})
		if err != nil {
			t.Fatalf("%s: %v", p.Slug, err)
		}
		if m.Name() != r.Mode {
			t.Errorf("%s: mode %q, run says %q", p.Slug, m.Name(), r.Mode)
		}
	}
}
