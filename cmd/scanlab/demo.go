package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"scanlab/experiments"
	"scanlab/web"
)

const demoUsage = `Usage:
    scanlab demo [--listen ADDR]

Serves the educator's demo page: type a message, and scanlab sends it
through serverscan, e2ee and clientscan over the real TLS relay, then
shows which party (provider, employee, law enforcement, eavesdropper,
database thief, ...) could read it and its metadata. It stops on SIGINT
or SIGTERM.

Options:
    -l, --listen ADDR   address to serve on (default "127.0.0.1:8080")

Example:
    $ scanlab demo
    scanlab demo: open http://127.0.0.1:8080/
`

func init() {
	register(command{
		name:    "demo",
		summary: "serve the educator's demo page on localhost",
		usage:   demoUsage,
		run:     runDemo,
	})
}

func runDemo(stdout, stderr io.Writer, args []string) error {
	c := commands["demo"]
	fs := newFlags("demo")
	listen := fs.StringP("listen", "l", "127.0.0.1:8080", "`address` to serve on")
	if err := parse(fs, c, stdout, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: "demo takes no arguments"}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return &hintError{err: err, hint: "choose another address with --listen"}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	srv := &http.Server{Handler: web.Handler(experiments.Demonstrate, log), ReadHeaderTimeout: 10 * time.Second}
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
