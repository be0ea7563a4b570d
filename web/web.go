// Package web serves the educator's demo: a page on which a teacher picks
// a scenario (a harmless chat, a photo on the hash list, a grooming
// pattern, a data breach, a court order, a rogue employee), scanlab plays
// it through serverscan, e2ee and clientscan over the real TLS relay
// (package demo), and the page shows side by side who got what, what each
// provider caught and what it cost — every cell in words, measured by the
// visibility audit of the same run.
//
// The page works without JavaScript. A submitted scenario runs, its
// result is kept under an unguessable ID, and the browser is redirected
// to it (POST-redirect-GET), so a reload never runs it again.
//
// # Who sees what
//
// The audience's words go into the run's messages, which are searched for
// in every party's view, and stay in this server's memory with the result:
// at most [Options.Keep] results, none longer than [Options.MaxAge]. A
// result is shown only to whoever holds its ID; no page lists results, so
// visitors never see one another's messages. The server listens on
// loopback unless the command is told otherwise.
package web

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	texttemplate "text/template"

	"scanlab/demo"
)

//go:embed templates/*.html templates/*.css
var files embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"title": demo.Title,
	"join":  strings.Join,
	"dur":   demo.Duration,
	"clip":  clip,
}).ParseFS(files, "templates/*.html"))

var stylesheet = texttemplate.Must(texttemplate.ParseFS(files, "templates/style.css"))

// Limits of a request.
const (
	// MaxBody bounds a submitted form, in bytes: enough for MaxText
	// characters of four bytes each, percent-encoded, and the rest.
	MaxBody = 16 << 10
)

// Options configure [Handler]. Zero fields take the defaults given.
type Options struct {
	// Run plays a scenario; demo.Run by default. Tests may wrap it.
	Run func(context.Context, demo.Input) (*demo.Result, error)
	// Log receives server-side errors; nil discards them.
	Log *slog.Logger
	// Seed is every run's seed (default 1): the same scenario gives the
	// same story.
	Seed uint64
	// MaxRuns bounds the scenarios running at once: each starts six
	// relays (default 2).
	MaxRuns int
	// Wait is how long a request waits for a free run before the page
	// says the demo is busy (default 30 s).
	Wait time.Duration
	// Timeout bounds one run (default 2 minutes).
	Timeout time.Duration
	// Keep and MaxAge bound the results kept (default 64, one hour).
	Keep   int
	MaxAge time.Duration
}

func (o *Options) defaults() {
	if o.Run == nil {
		o.Run = demo.Run
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.MaxRuns <= 0 {
		o.MaxRuns = 2
	}
	if o.Wait <= 0 {
		o.Wait = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Keep <= 0 {
		o.Keep = 64
	}
	if o.MaxAge <= 0 {
		o.MaxAge = time.Hour
	}
}

// server is the demo's handler state.
type server struct {
	o     Options
	runs  chan struct{} // one token per running scenario
	store *store
}

// Handler returns the demo site.
func Handler(o Options) http.Handler { return newServer(o).handler() }

func newServer(o Options) *server {
	o.defaults()
	return &server{o: o, runs: make(chan struct{}, o.MaxRuns), store: newStore(o.Keep, o.MaxAge)}
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.landing)
	mux.HandleFunc("POST /run", s.run)
	mux.HandleFunc("GET /result/{id}", s.result)
	mux.HandleFunc("GET /glossary", s.glossary)
	mux.HandleFunc("GET /photo/{name}", s.photo)
	mux.HandleFunc("GET /style.css", s.style)
	return secure(mux)
}

// secure adds the headers every response carries: nothing is cached by
// others, no script runs, a result's ID never leaks in a referrer.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// landingView is the landing page's data.
type landingView struct {
	Modes       []demo.Explained
	Scenarios   []demo.Scenario
	Text        string
	Error       string
	Min, Max    int
	DefaultText string
}

func newLanding() landingView {
	return landingView{Modes: demo.ModeGlossary, Scenarios: demo.Scenarios, Min: demo.MinText, Max: demo.MaxText, DefaultText: demo.DefaultText}
}

func (s *server) landing(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "landing.html", newLanding())
}

// run plays the chosen scenario and redirects to its result.
func (s *server) run(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	v := newLanding()
	if err := r.ParseForm(); err != nil {
		v.Error = "The form could not be read (is the message longer than the limit?)."
		s.render(w, http.StatusBadRequest, "landing.html", v)
		return
	}
	v.Text = r.PostForm.Get("text")
	in := demo.Input{Scenario: r.PostForm.Get("scenario"), Text: v.Text, Seed: s.o.Seed}
	res, status, msg := s.play(r.Context(), in)
	if res == nil {
		v.Error = msg
		s.render(w, status, "landing.html", v)
		return
	}
	http.Redirect(w, r, "/result/"+s.store.put(res), http.StatusSeeOther)
}

// busy is what a visitor reads when every run slot stayed taken.
const busy = "The demo is busy running other scenarios; please try again in a moment."

// play runs one scenario once a run slot is free. When it cannot, it
// returns the status to answer with and what to tell the visitor.
func (s *server) play(ctx context.Context, in demo.Input) (*demo.Result, int, string) {
	if _, ok := demo.Lookup(in.Scenario); !ok {
		return nil, http.StatusBadRequest, "Choose one of the scenarios."
	}
	if t := strings.TrimSpace(in.Text); t != "" {
		if err := demo.CheckText(t); err != nil {
			return nil, http.StatusBadRequest, "Your message does not fit: " + strings.TrimPrefix(err.Error(), demo.ErrText.Error()+": ") + "."
		}
	}
	wait := time.NewTimer(s.o.Wait)
	defer wait.Stop()
	select {
	case s.runs <- struct{}{}:
		defer func() { <-s.runs }()
	case <-wait.C:
		return nil, http.StatusServiceUnavailable, busy
	case <-ctx.Done():
		return nil, http.StatusServiceUnavailable, busy
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	res, err := s.o.Run(ctx, in)
	if err != nil {
		s.o.Log.Error("demo run", "scenario", in.Scenario, "err", err)
		return nil, http.StatusInternalServerError, "The scenario could not run; the server's log says why."
	}
	return res, http.StatusOK, ""
}

// resultView is the result page's data.
type resultView struct {
	R         *demo.Result
	Rows      []demo.Row
	Steps     []stepRow
	Costs     []demo.CostRow
	CostLabel string
}

// stepRow is one message of the story with what it did in each mode.
type stepRow struct {
	Msg   demo.Message
	Photo demo.Photo
	Modes []demo.Step
}

func (s *server) result(w http.ResponseWriter, r *http.Request) {
	res, ok := s.store.get(r.PathValue("id"))
	if !ok {
		v := newLanding()
		v.Error = "That result is no longer kept (results are forgotten after an hour, or when many newer ones arrive). Choose a scenario to run it again."
		s.render(w, http.StatusNotFound, "landing.html", v)
		return
	}
	v := resultView{R: res, Rows: res.Rows(), Costs: res.Costs(0)}
	if len(res.Messages) > 0 {
		v.CostLabel = res.Messages[0].Label
	}
	for i, m := range res.Messages {
		row := stepRow{Msg: m}
		row.Photo, _ = demo.PhotoNamed(m.Photo)
		for _, mr := range res.Modes {
			row.Modes = append(row.Modes, mr.Steps[i])
		}
		v.Steps = append(v.Steps, row)
	}
	s.render(w, http.StatusOK, "result.html", v)
}

// glossaryView is the glossary's data.
type glossaryView struct {
	Modes, Parties []demo.Explained
	Levels         []demo.Level
	Threshold      int
}

func (s *server) glossary(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "glossary.html", glossaryView{Modes: demo.ModeGlossary, Parties: demo.PartyGlossary,
		Levels: []demo.Level{demo.Content, demo.Metadata, demo.Nothing}, Threshold: demo.Threshold})
}

func (s *server) photo(w http.ResponseWriter, r *http.Request) {
	b, err := demo.PhotoBytes(r.PathValue("name"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(b)
}

func (s *server) style(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	if err := stylesheet.Execute(w, palette); err != nil {
		s.o.Log.Error("render stylesheet", "err", err)
	}
}

func (s *server) render(w http.ResponseWriter, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, page, data); err != nil {
		s.o.Log.Error("render demo page", "page", page, "err", err)
	}
}

// clip shortens s to at most n characters, marking a cut with "…", so
// that a long message does not push the grid off a projector's screen.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
