package web

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"scanlab/demo"
	"scanlab/observe"
)

var update = flag.Bool("update", false, "rewrite the screenshots in docs/demo")

// Viewport is a classroom projector's: the main grid must fit it.
const viewW, viewH = 1280, 720

// browser returns the path of an installed Chromium, or "".
func browser() string {
	for _, name := range []string{"chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser drives the page in a real headless Chromium with scripts
// disabled: the landing page, every scenario (the first by keyboard), the
// glossary. For each result it checks the grid against the audit of the
// same run, that the grid fits 1280×720, and that a reload runs nothing;
// it saves a screenshot of each page (with -update, into docs/demo).
func TestBrowser(t *testing.T) {
	exe := browser()
	if exe == "" && os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found, and CI must run the browser test: .ci/run installs chromium-headless-shell")
	}
	if exe == "" {
		t.Skip("no Chromium found: install Debian's chromium-headless-shell (apt-get install -y chromium-headless-shell) to run the browser test")
	}
	s := newServer(Options{})
	srv := httptest.NewServer(s.handler())
	defer srv.Close()
	ctx := startBrowser(t, exe)
	shots := t.TempDir()
	if *update {
		shots = filepath.Join("..", "docs", "demo")
	}
	b := &session{t: t, ctx: ctx, s: s, base: srv.URL, shots: shots}
	b.do(chromedp.Navigate(b.base+"/"), chromedp.WaitVisible(chromedp.ID("text")))
	b.shot("landing")
	for i, sc := range demo.Scenarios {
		t.Run("scenario="+sc.Name, func(t *testing.T) {
			b.t = t
			b.play(sc, i == 0)
			b.shot(fmt.Sprintf("%d-%s", i+1, sc.Name))
			for _, part := range extraShots[sc.Name] {
				b.do(chromedp.ScrollIntoView(chromedp.ID(part)))
				b.shot(fmt.Sprintf("%d-%s-%s", i+1, sc.Name, part))
			}
		})
	}
	b.t = t
	b.do(chromedp.Navigate(b.base+"/glossary"), chromedp.WaitVisible(chromedp.ID("mode-e2ee")))
	b.shot("glossary")
}

// extraShots are the sections below the grid worth a screenshot of their
// own, by scenario.
var extraShots = map[string][]string{
	"harmless-chat": {"cost"},
	"listed-image":  {"story"},
	"grooming":      {"story"},
}

// startBrowser starts Chromium with a fresh profile and scripts disabled,
// at the projector's size.
func startBrowser(t *testing.T, exe string) context.Context {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(viewW, viewH),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelT)
	noScripts := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(viewW, viewH), noScripts); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return ctx
}

// session is one browser tab on the demo server.
type session struct {
	t     *testing.T
	ctx   context.Context
	s     *server
	base  string
	shots string
}

func (b *session) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// value runs one action that returns a value.
func value[T any](b *session, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// play chooses a scenario on the landing page, by keyboard or by click,
// and checks the result page it lands on.
func (b *session) play(sc demo.Scenario, keyboard bool) {
	b.t.Helper()
	text := "a message typed in the browser for " + sc.Name
	b.do(chromedp.Navigate(b.base+"/"), chromedp.WaitVisible(chromedp.ID("text")))
	if sc.TakesText {
		b.do(chromedp.SendKeys(chromedp.ID("text"), text))
	}
	if keyboard {
		// Tab from the message to the first scenario's button, Enter.
		b.do(chromedp.Focus(chromedp.ID("text")), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter))
	} else {
		b.do(chromedp.Click(chromedp.CSS(`button[value="` + sc.Name + `"]`)))
	}
	b.do(chromedp.WaitVisible(chromedp.ID("grid")))
	loc := value(b, chromedp.Location())
	grid := value(b, chromedp.OuterHTML(chromedp.ID("grid")))
	id := loc[strings.LastIndex(loc, "/")+1:]
	res, ok := b.s.store.get(id)
	if !ok || res.Scenario.Name != sc.Name {
		b.t.Fatalf("landed on %s, which holds no %s result", loc, sc.Name)
	}
	if sc.TakesText && res.Text != text {
		b.t.Errorf("the run sent %q, not what was typed", res.Text)
	}
	checkGrid(b.t, grid, res)
	b.checkFits("#grid")
	kept := len(b.s.store.order)
	b.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("grid")))
	if len(b.s.store.order) != kept {
		b.t.Error("reloading the result ran the scenario again")
	}
}

var cellRE = regexp.MustCompile(`(?s)<td class="lv-\w+" data-cell="([^"]+)" data-level="(\w+)">(.*?)</td>`)

// checkGrid compares the grid the browser shows with the visibility
// audit's own cells for the same run: the level of every cell, and the
// content it names.
func checkGrid(t *testing.T, grid string, res *demo.Result) {
	t.Helper()
	cells := cellRE.FindAllStringSubmatch(grid, -1)
	if len(cells) != len(res.Modes)*len(observe.Parties) {
		t.Fatalf("%d cells on the page, want %d", len(cells), len(res.Modes)*len(observe.Parties))
	}
	for _, c := range cells {
		mode, party, _ := strings.Cut(c[1], "/")
		m := res.Mode(mode)
		if m == nil {
			t.Fatalf("cell %s: no such mode", c[1])
		}
		want, says := auditLevel(m.Audit, observe.Party(strings.ReplaceAll(party, "&#43;", "+")))
		if c[2] != want {
			t.Errorf("cell %s shows %s, the audit says %s", c[1], c[2], want)
		}
		for phrase, recovered := range says {
			if strings.Contains(strings.ToLower(c[3]), phrase) != recovered {
				t.Errorf("cell %s: says %q is %v, the audit says %v:\n%s", c[1], phrase, !recovered, recovered, c[3])
			}
		}
	}
}

// auditLevel reads a party's level straight from the audit's cells, and
// which content phrases its cell must (and must not) say.
func auditLevel(cells []observe.Cell, p observe.Party) (string, map[string]bool) {
	level := "nothing"
	says := map[string]bool{"words": false, "the photos": false}
	for _, c := range cells {
		if c.Party != p || c.Recovered == 0 {
			continue
		}
		switch c.Item {
		case observe.Text:
			level, says["words"] = "content", true
		case observe.ListedImage, observe.Image, observe.ReportedText:
			level = "content"
			says["the photos"] = says["the photos"] || c.Item == observe.ListedImage
		case observe.SenderID, observe.RecipientID, observe.Timestamp, observe.Size, observe.ContactGraph, observe.ImageHash, observe.MatchVerdict:
			if level == "nothing" {
				level = "metadata"
			}
		}
	}
	return level, says
}

// checkFits checks the element lies inside the viewport at the top of
// the page, and the page does not scroll sideways.
func (b *session) checkFits(sel string) {
	b.t.Helper()
	model := value(b, chromedp.Dimensions(chromedp.CSS(sel)))
	metrics := value(b, func(ctx context.Context, t *chromedp.Target) (page.GetLayoutMetricsResult, error) {
		return cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
	})
	width := metrics.CSSContentSize.Width
	box := model.Border // x1 y1 x2 y2 x3 y3 x4 y4, clockwise from the top left
	bottom, right := max(box[5], box[7]), max(box[2], box[4])
	if bottom > viewH || right > viewW || width > viewW {
		b.t.Errorf("%s ends at %.0f×%.0f (page %.0f wide): it does not fit %d×%d", sel, right, bottom, width, viewW, viewH)
	}
}

// shot saves a screenshot of the viewport.
func (b *session) shot(name string) {
	b.t.Helper()
	png := value(b, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
