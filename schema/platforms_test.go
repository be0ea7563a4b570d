package schema

import (
	"strings"
	"testing"
)

// TestPlatformsRefused: a platforms row with an unknown measure or party,
// or a value outside its interval, is refused naming the line.
func TestPlatformsRefused(t *testing.T) {
	head := strings.Join(Platforms.Header(), ",") + "\n"
	for _, c := range []struct{ name, row, want string }{
		{"measure=unknown", "X,baseline,recovered-everything,provider,1,,,8\n", "measure"},
		{"party=unknown", "X,baseline,recovered-text,neighbour,1,,,8\n", "party"},
		{"value=outside-interval", "X,baseline,recovered-text,provider,0.9,0.1,0.5,8\n", "outside its interval"},
		{"value=negative", "X,baseline,wire-bytes-text-clear,,-3,,,8\n", "outside"},
		{"coverage=with-party", "X,baseline,harmful-caught,provider,0.4,0.3,0.5,80\n", "without a party"},
		{"coverage=above-one", "X,baseline,innocent-flagged,,1.5,0.2,1.6,80\n", "share"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Platforms.Read(strings.NewReader(head+c.row), "platforms.csv")
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "platforms.csv:2") {
				t.Errorf("error %v, want one at platforms.csv:2 about %q", err, c.want)
			}
		})
	}
}
