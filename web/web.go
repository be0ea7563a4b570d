// Package web is the educator's demo: a local page where an audience types a
// message, scanlab sends it through each architecture over the real TLS
// relay, and the page shows which party recovered the message and its
// metadata — measured by the same audit as the visibility experiment.
//
// # Who sees what
//
// The typed message is handled exactly as in the study: each party's real
// view is searched for it. The page itself is served on loopback by default
// and keeps nothing after the response.
package web

import (
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"sync"

	"scanlab/experiments"
	"scanlab/modes"
	"scanlab/observe"
)

//go:embed templates/*.html
var files embed.FS

var page = template.Must(template.ParseFS(files, "templates/page.html"))

// Demonstrate is what the page calls to run a message through every mode;
// tests may replace it.
type Demonstrate func(text string, seed uint64) ([]experiments.DemoCell, error)

// Handler returns the demo page. Runs are serialised: one audience, one
// relay at a time.
func Handler(run Demonstrate, log *slog.Logger) http.Handler {
	h := &handler{run: run, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.form)
	mux.HandleFunc("POST /{$}", h.send)
	return mux
}

type handler struct {
	mu  sync.Mutex
	run Demonstrate
	log *slog.Logger
}

// view is the template's data.
type view struct {
	Text    string
	Error   string
	Modes   []string
	Parties []observe.Party
	Items   []observe.Item
	Cells   map[string]experiments.DemoCell // mode/party/item
	Min     int
	Max     int
}

func (v view) Cell(mode string, p observe.Party, it observe.Item) experiments.DemoCell {
	return v.Cells[mode+"/"+string(p)+"/"+string(it)]
}

func newView() view {
	return view{Parties: observe.Parties, Items: experiments.DemoItems, Min: experiments.MinDemoText, Max: experiments.MaxDemoText, Modes: modes.Names}
}

func (h *handler) form(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, newView())
}

func (h *handler) send(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	v := newView()
	if err := r.ParseForm(); err != nil {
		v.Error = "the form could not be read"
		h.render(w, http.StatusBadRequest, v)
		return
	}
	v.Text = r.PostForm.Get("text")
	h.mu.Lock()
	cells, err := h.run(v.Text, 1)
	h.mu.Unlock()
	if err != nil {
		v.Error = err.Error()
		h.render(w, http.StatusBadRequest, v)
		return
	}
	v.Cells = map[string]experiments.DemoCell{}
	for _, c := range cells {
		v.Cells[c.Mode+"/"+string(c.Party)+"/"+string(c.Item)] = c
	}
	h.render(w, http.StatusOK, v)
}

func (h *handler) render(w http.ResponseWriter, status int, v view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := page.Execute(w, v); err != nil && h.log != nil {
		h.log.Error("render demo page", "err", err)
	}
}
