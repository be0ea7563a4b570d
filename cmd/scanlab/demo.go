package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"scanlab/demo"
	"scanlab/web"
)

const demoUsage = `Usage:
    scanlab demo [--listen ADDR] [--public]
    scanlab demo --terminal [--scenario NAME] [--text WORDS] [--step]

Serves the educator's demo page, or tells the same story on the terminal.
A scenario plays through serverscan, e2ee and clientscan over the real TLS
relay on this machine: a harmless chat, a photo on the hash list, a grooming
pattern, a data breach, a court order, a rogue employee. The page and the
narration show who got what (the visibility audit of the same run), what
each provider caught, and what each stage cost.

The page listens on loopback only unless --public is given. It stops on
SIGINT or SIGTERM.

Options:
    -l, --listen ADDR      address to serve on (default "127.0.0.1:8080")
        --public           allow an address other than loopback
        --terminal         narrate on the terminal instead of serving a page
    -s, --scenario NAME    the scenario to narrate (default: all, in turn):
%s
        --text WORDS       the message to send, for scenarios that take one
        --step             wait for Enter after each step
        --seed N           seed of the run (default 1)

Examples:
    $ scanlab demo
    scanlab demo: open http://127.0.0.1:8080/
    $ scanlab demo --terminal --scenario listed-image --step
`

func init() {
	register(command{
		name:    "demo",
		summary: "the educator's demo, on a local page or the terminal",
		usage:   fmt.Sprintf(demoUsage, listLines(scenarioNames(), 27, 80)),
		run:     runDemo,
	})
}

func scenarioNames() []string {
	var names []string
	for _, s := range demo.Scenarios {
		names = append(names, s.Name)
	}
	return names
}

// listLines lists names separated by commas, in lines of at most width
// columns indented by indent spaces.
func listLines(names []string, indent, width int) string {
	pad := strings.Repeat(" ", indent)
	var lines []string
	line := pad
	for i, n := range names {
		if i < len(names)-1 {
			n += ","
		}
		if line != pad && len(line)+1+len(n) > width {
			lines = append(lines, line)
			line = pad
		}
		if line != pad {
			line += " "
		}
		line += n
	}
	return strings.Join(append(lines, line), "\n")
}

// demoStdin is where --step reads its Enter key presses.
var demoStdin io.Reader = os.Stdin

// demoFlags are the demo command's options.
type demoFlags struct {
	listen, scenario, text string
	public, terminal, step bool
	seed                   uint64
}

func runDemo(stdout, stderr io.Writer, args []string) error {
	c := commands["demo"]
	fs := newFlags("demo")
	var f demoFlags
	fs.StringVarP(&f.listen, "listen", "l", "127.0.0.1:8080", "`address` to serve on")
	fs.BoolVar(&f.public, "public", false, "allow a non-loopback address")
	fs.BoolVar(&f.terminal, "terminal", false, "narrate on the terminal")
	fs.StringVarP(&f.scenario, "scenario", "s", "", "scenario to narrate")
	fs.StringVar(&f.text, "text", "", "message to send")
	fs.BoolVar(&f.step, "step", false, "wait for Enter after each step")
	fs.Uint64Var(&f.seed, "seed", 1, "seed")
	if err := parse(fs, c, stdout, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: "demo takes no arguments"}
	}
	if f.terminal {
		return narrate(stdout, f)
	}
	if f.scenario != "" || f.step || f.text != "" {
		return &usageError{msg: "--scenario, --text and --step go with --terminal", hint: "the page lets the audience choose"}
	}
	return serveDemo(stdout, stderr, f)
}

// narrate runs the chosen scenarios and tells each on stdout.
func narrate(stdout io.Writer, f demoFlags) error {
	names := scenarioNames()
	if f.scenario != "" {
		if _, ok := demo.Lookup(f.scenario); !ok {
			return &usageError{msg: fmt.Sprintf("unknown scenario %q", f.scenario), hint: "choose one of: " + strings.Join(names, ", ")}
		}
		names = []string{f.scenario}
	}
	if f.text != "" {
		if err := demo.CheckText(f.text); err != nil {
			return &usageError{msg: err.Error()}
		}
	}
	style := demo.Style{Colour: isTerminal(stdout) && os.Getenv("NO_COLOR") == ""}
	if f.step {
		in := bufio.NewReader(demoStdin)
		style.Pause = func() error {
			fmt.Fprint(stdout, "\n[press Enter to go on]")
			_, err := in.ReadString('\n')
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, name := range names {
		res, err := demo.Run(ctx, demo.Input{Scenario: name, Text: f.text, Seed: f.seed})
		if err != nil {
			return err
		}
		if err := demo.Narrate(stdout, res, style); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// serveDemo serves the page until SIGINT or SIGTERM.
func serveDemo(stdout, stderr io.Writer, f demoFlags) error {
	if err := checkLoopback(f.listen, f.public); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return &hintError{err: err, hint: "choose another address with --listen"}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	srv := &http.Server{Handler: web.Handler(web.Options{Log: log, Seed: f.seed}),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 5 * time.Minute,
		IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	fmt.Fprintf(stdout, "scanlab demo: open http://%s/\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkLoopback refuses an address other than loopback unless public.
func checkLoopback(addr string, public bool) error {
	if public {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return &usageError{msg: fmt.Sprintf("--listen %q: %v", addr, err)}
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return &usageError{msg: fmt.Sprintf("--listen %s is not a loopback address", addr), hint: "add --public to serve the demo to other machines"}
}
