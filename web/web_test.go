package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"scanlab/demo"
)

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// counting wraps demo.Run and counts the runs.
func counting(n *atomic.Int32) func(context.Context, demo.Input) (*demo.Result, error) {
	return func(ctx context.Context, in demo.Input) (*demo.Result, error) {
		n.Add(1)
		return demo.Run(ctx, in)
	}
}

// TestPostRedirectGet runs a scenario once: the POST answers 303 to a
// result page under an unguessable ID, and reloading it runs nothing.
func TestPostRedirectGet(t *testing.T) {
	var runs atomic.Int32
	srv := httptest.NewServer(Handler(Options{Run: counting(&runs)}))
	defer srv.Close()
	text := "see you at the station at six <b>bring snacks</b>"
	resp, _ := post(t, noRedirect, srv.URL+"/run", url.Values{"scenario": {"harmless-chat"}, "text": {text}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/result/[A-Z2-7]{26}$`).MatchString(loc) {
		t.Fatalf("POST: %d, Location %q", resp.StatusCode, loc)
	}
	for range 2 {
		code, page := get(t, http.DefaultClient, srv.URL+loc)
		if code != http.StatusOK || strings.Contains(page, "<b>bring snacks</b>") || !strings.Contains(page, "&lt;b&gt;bring snacks&lt;/b&gt;") {
			t.Fatalf("GET %s: %d (text escaped: %v)", loc, code, !strings.Contains(page, "<b>"))
		}
		for _, want := range []string{`data-cell="serverscan/provider" data-level="content"`, `data-cell="e2ee/provider" data-level="metadata"`, `id="story"`, `id="cost"`, `href="/"`} {
			if !strings.Contains(page, want) {
				t.Errorf("result page lacks %s", want)
			}
		}
	}
	if runs.Load() != 1 {
		t.Fatalf("%d runs for one POST and two GETs", runs.Load())
	}
}

// TestVisitorsApart sends six visitors' messages at once: each result page
// shows its own message and no one else's.
func TestVisitorsApart(t *testing.T) {
	srv := httptest.NewServer(Handler(Options{MaxRuns: 2}))
	defer srv.Close()
	const visitors = 6
	pages := make([]string, visitors)
	var wg sync.WaitGroup
	for i := range visitors {
		wg.Go(func() {
			scenario := []string{"harmless-chat", "data-breach", "court-order"}[i%3]
			resp, err := http.PostForm(srv.URL+"/run", url.Values{"scenario": {scenario}, "text": {secret(i)}})
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("visitor %d: %d", i, resp.StatusCode)
			}
			pages[i] = string(b)
		})
	}
	wg.Wait()
	for i, page := range pages {
		for j := range visitors {
			if strings.Contains(page, secret(j)) != (i == j) {
				t.Errorf("visitor %d's page shows visitor %d's message: %v", i, j, i != j)
			}
		}
	}
}

func secret(i int) string { return fmt.Sprintf("visitor number %d says a private thing", i) }

// TestBadInput: every refusal is a clear page with a status, never a run.
func TestBadInput(t *testing.T) {
	var runs atomic.Int32
	srv := httptest.NewServer(Handler(Options{Run: counting(&runs)}))
	defer srv.Close()
	for _, tc := range []struct {
		name, body string
		status     int
		says       string
	}{
		{"no-scenario", "text=", 400, "Choose one of the scenarios"},
		{"unknown-scenario", "scenario=nope", 400, "Choose one of the scenarios"},
		{"short-text", "scenario=harmless-chat&text=too+short", 400, "has 9 characters; write 16 to 500"},
		{"long-text", "scenario=harmless-chat&text=" + strings.Repeat("%C3%A9", demo.MaxText+1), 400, "has 501 characters"},
		{"invalid-utf8", "scenario=harmless-chat&text=" + strings.Repeat("a", 20) + "%FF", 400, "not valid text"},
		{"oversized-form", "scenario=harmless-chat&text=" + strings.Repeat("y", MaxBody), 400, "could not be read"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+"/run", "application/x-www-form-urlencoded", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(b), `id="error"`) || !strings.Contains(string(b), tc.says) {
				t.Fatalf("status %d, want %d saying %q:\n%s", resp.StatusCode, tc.status, tc.says, b)
			}
		})
	}
	if code, _ := get(t, http.DefaultClient, srv.URL+"/result/NOSUCHRESULT"); code != http.StatusNotFound {
		t.Errorf("unknown result: %d", code)
	}
	if code, _ := get(t, http.DefaultClient, srv.URL+"/photo/..%2Fweb.go"); code != http.StatusNotFound {
		t.Errorf("photo outside the set: %d", code)
	}
	if runs.Load() != 0 {
		t.Errorf("%d runs for bad input", runs.Load())
	}
}

// TestBusy: with every run slot taken, a visitor is told so after the wait.
func TestBusy(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	block := func(ctx context.Context, in demo.Input) (*demo.Result, error) {
		started <- struct{}{}
		<-release
		return nil, errors.New("released")
	}
	srv := httptest.NewServer(Handler(Options{Run: block, MaxRuns: 1, Wait: 50 * time.Millisecond}))
	defer srv.Close()
	done := make(chan int)
	go func() {
		resp, err := http.PostForm(srv.URL+"/run", url.Values{"scenario": {"grooming"}})
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-started
	resp, body := post(t, http.DefaultClient, srv.URL+"/run", url.Values{"scenario": {"grooming"}})
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "busy") {
		t.Errorf("second run: %d", resp.StatusCode)
	}
	close(release)
	if code := <-done; code != http.StatusInternalServerError {
		t.Errorf("failed run: %d, want 500", code)
	}
}

// TestStoreBounds: results beyond the count or the age are forgotten.
func TestStoreBounds(t *testing.T) {
	now := time.Unix(0, 0)
	s := newStore(2, time.Hour)
	s.now = func() time.Time { return now }
	a, b := s.put(&demo.Result{}), s.put(&demo.Result{})
	c := s.put(&demo.Result{})
	if _, ok := s.get(a); ok {
		t.Error("the oldest of three results is kept with room for two")
	}
	now = now.Add(time.Hour)
	for _, id := range []string{b, c} {
		if _, ok := s.get(id); ok {
			t.Errorf("result %s is kept after an hour", id)
		}
	}
	if a == b || len(a) != 26 {
		t.Errorf("IDs %q and %q", a, b)
	}
}

// TestPages: every page has labels, captions and header scopes where it
// needs them, and no script.
func TestPages(t *testing.T) {
	s := newServer(Options{})
	r, err := demo.Run(context.Background(), demo.Input{Scenario: "listed-image", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	id := s.store.put(r)
	srv := httptest.NewServer(s.handler())
	defer srv.Close()
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/", []string{`<label for="text">`, `id="text-help"`, `maxlength="500"`, `16 to 500 characters`, `name="scenario" value="listed-image"`, `<legend>`}},
		{"/result/" + id, []string{`<caption>`, `scope="col"`, `scope="row"`, `t = 2`, `<img src="/photo/photo-1.jpg" alt=`, `Threshold crossed`, `Try another`}},
		{"/glossary", []string{`id="mode-clientscan"`, `id="party-db-thief+kms"`, `metadata only`}},
	} {
		t.Run("page="+tc.path, func(t *testing.T) {
			code, page := get(t, http.DefaultClient, srv.URL+tc.path)
			if code != 200 || strings.Contains(strings.ToLower(page), "<script") {
				t.Fatalf("status %d, or a script", code)
			}
			page = html.UnescapeString(page)
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("lacks %s", w)
				}
			}
		})
	}
}

// TestContrast checks every text colour pair of the page against WCAG
// 2's 4.5:1, and that the stylesheet draws no colour outside the palette.
func TestContrast(t *testing.T) {
	for _, sw := range palette {
		t.Run("swatch="+sw.Name, func(t *testing.T) {
			if r := contrast(t, sw.FG, sw.BG); r < 4.5 {
				t.Errorf("%s on %s: %.2f:1", sw.FG, sw.BG, r)
			}
		})
	}
	css, err := files.ReadFile("templates/style.css")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?i)#[0-9a-f]{3,8}\b|rgba?\(|hsla?\(|:\s*(white|black|red|green|blue|gray|grey|yellow)\b`).Find(css); m != nil {
		t.Errorf("the stylesheet has a colour of its own: %s", m)
	}
	names := map[string]bool{}
	for _, sw := range palette {
		names[sw.Name] = true
	}
	for _, m := range regexp.MustCompile(`var\(--([a-z]+)-(fg|bg)\)`).FindAllSubmatch(css, -1) {
		if !names[string(m[1])] {
			t.Errorf("the stylesheet uses --%s-%s, which the palette lacks", m[1], m[2])
		}
	}
}

// contrast returns WCAG 2's contrast ratio of two #rrggbb colours.
func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func luminance(t *testing.T, hex string) float64 {
	if len(hex) != 7 || hex[0] != '#' {
		t.Fatalf("colour %q is not #rrggbb", hex)
	}
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l
}

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"ééééé", 3, "éé…"},
	} {
		t.Run("in="+tc.in, func(t *testing.T) {
			if got := clip(tc.in, tc.n); got != tc.want {
				t.Fatalf("clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}
