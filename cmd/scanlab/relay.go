package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"scanlab"
	"scanlab/kms"
	"scanlab/modes"
	"scanlab/relay"
)

const relayUsage = `Usage:
    scanlab relay [--listen ADDR] [--db FILE] [--mode MODE] [--ca-out FILE]
                  [--kms FILE] [--rotate-kek]

Runs the provider's relay as a process of its own: a TLS 1.3 listener with
per-device credentials, mailboxes kept until acknowledged, and an at-rest
store in which every record is sealed under its own data key.

The relay makes a new certificate authority at each start and writes its
certificate (public) to --ca-out; devices must trust it.

Options:
    -l, --listen ADDR    address to listen on (default "127.0.0.1:0")
    -d, --db FILE        database file (default "relay.db")
    -m, --mode MODE      server logic to run: %s,
                         or none (default "serverscan")
        --ca-out FILE    where to write the CA certificate
                         (default DB + ".ca.pem")
        --kms FILE       keep the key-management keys in FILE, sealed under
                         the passphrase in $SCANLAB_KMS_PASSPHRASE; without it
                         the keys live only in memory and the database is
                         unreadable after a restart
        --rotate-kek     at start, make a new key-encryption key, re-wrap
                         every record's data key under it, retire the old one

It prints "listening on ADDR" when ready and stops on SIGINT or SIGTERM.

Example:
    $ export SCANLAB_KMS_PASSPHRASE='a long passphrase'
    $ scanlab relay --listen 127.0.0.1:7443 --db r.db --kms r.kms
    scanlab relay: listening on 127.0.0.1:7443 (CA certificate in r.db.ca.pem)
`

func init() {
	register(command{
		name:    "relay",
		summary: "run the provider's TLS relay as a standalone process",
		usage:   fmt.Sprintf(relayUsage, strings.Join(modes.Names, ", ")),
		run:     runRelay,
	})
}

func runRelay(stdout, stderr io.Writer, args []string) error {
	c := commands["relay"]
	fs := newFlags("relay")
	listen := fs.StringP("listen", "l", "127.0.0.1:0", "listen `address`")
	db := fs.StringP("db", "d", "relay.db", "database `file`")
	modeName := fs.StringP("mode", "m", "serverscan", "server logic")
	caOut := fs.String("ca-out", "", "CA certificate `file`")
	kmsPath := fs.String("kms", "", "sealed key `file`")
	rotate := fs.Bool("rotate-kek", false, "rotate the key-encryption key at start")
	if err := parse(fs, c, stdout, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: "relay takes no arguments", hint: `run "scanlab help relay"`}
	}
	var logic func(scanlab.ServerEnv) (scanlab.ServerLogic, error)
	if *modeName != "none" {
		m, err := modes.New(*modeName, modes.Config{})
		if err != nil {
			return &usageError{msg: err.Error(), hint: "modes: " + strings.Join(modes.Names, ", ") + ", none"}
		}
		logic = m.NewServer
	}
	keys, err := loadKMS(*kmsPath)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	r, err := relay.Start(relay.Config{Addr: *listen, DBPath: *db, KMS: keys, Logic: logic, Log: log})
	if err != nil {
		return err
	}
	defer r.Close()
	if *rotate {
		n, err := r.Store().RotateKEK()
		if err != nil {
			return fmt.Errorf("rotate key-encryption key: %w", err)
		}
		if *kmsPath != "" {
			if err := keys.Save(*kmsPath, []byte(os.Getenv("SCANLAB_KMS_PASSPHRASE"))); err != nil {
				return err
			}
		}
		log.Info("key-encryption key rotated", "records", n, "kek", keys.Current())
	}
	if *caOut == "" {
		*caOut = *db + ".ca.pem"
	}
	if err := os.WriteFile(*caOut, r.CA().PEM(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scanlab relay: listening on %s (CA certificate in %s)\n", r.Addr(), *caOut)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	signal.Stop(sig)
	log.Info("relay stopping")
	return nil
}

// loadKMS returns the key manager: sealed in path if given (created there on
// first use), else in memory only.
func loadKMS(path string) (*kms.Manager, error) {
	if path == "" {
		return kms.New()
	}
	pass := os.Getenv("SCANLAB_KMS_PASSPHRASE")
	if pass == "" {
		return nil, &usageError{msg: "--kms needs a passphrase", hint: "set SCANLAB_KMS_PASSPHRASE"}
	}
	k, err := kms.Load(path, []byte(pass))
	if errors.Is(err, os.ErrNotExist) {
		if k, err = kms.New(); err != nil {
			return nil, err
		}
		return k, k.Save(path, []byte(pass))
	}
	if err != nil {
		return nil, &hintError{err: err, hint: "check SCANLAB_KMS_PASSPHRASE and the --kms file"}
	}
	return k, nil
}
