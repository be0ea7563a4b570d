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

	"github.com/spf13/pflag"

	"scanlab/kms"
	"scanlab/modes"
	"scanlab/relay"
	"scanlab/relay/store"
	"scanlab/relay/wire"
)

const relayUsage = `Usage:
    scanlab relay [--listen ADDR] [--db FILE] [--mode MODE] [--ca-out FILE]
                  [--kms FILE] [--rotate-kek] [--repair] [limits]

Runs the provider's relay as a process of its own: a TLS 1.3 listener with
per-device credentials, mailboxes kept until acknowledged, and an at-rest
store in which every record is sealed under its own data key.

At start the relay checks the database (meta pages, page structure, every
record) and refuses a damaged one, or keys that do not open it. With --kms
its certificate authority is kept beside the key file (FILE.ca, sealed), so
devices keep trusting it across restarts; without, a new one is made at
each start. The CA certificate (public) is written to --ca-out.

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
                         unreadable after a restart. A missing FILE is made
                         only for a new database.
        --rotate-kek     before listening, make a new key-encryption key,
                         re-wrap every record's data key under it, retire the
                         old one (safe to interrupt at any moment)
        --repair         start on a damaged database, setting aside the
                         records that do not open (kept in a quarantine)

Limits (defaults in brackets):
        --max-frame BYTES          largest frame, both ways [33554432]
        --frame-timeout DURATION   time a frame may take beyond --min-rate [10s]
        --min-rate BYTES           minimum transfer rate per second [65536]
        --idle-timeout DURATION    close connections idle this long [2m]
        --max-inflight BYTES       bytes of requests held at once [268435456]
        --max-conns N              open connections [1024]
        --max-conns-per-device N   open connections per credential [8]
        --send-rate N              sends per second per device [1000]
        --send-burst N             [2000]
        --directory-rate N         key requests per second per device [20]
        --directory-burst N        [200]
        --onetime-rate N           one-time prekeys per second per user [1]
        --onetime-burst N          [20]
        --max-wait DURATION        longest wait of a fetch for mail [30s]
        --dedup-window DURATION    how long a message ID is remembered [24h]

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

// relayFlags are the relay command's options.
type relayFlags struct {
	listen, db, mode, caOut, kms *string
	rotate, repair               *bool
	limits                       relay.Config
}

func newRelayFlags(fs *pflag.FlagSet) *relayFlags {
	f := &relayFlags{
		listen: fs.StringP("listen", "l", "127.0.0.1:0", "listen `address`"),
		db:     fs.StringP("db", "d", "relay.db", "database `file`"),
		mode:   fs.StringP("mode", "m", "serverscan", "server logic"),
		caOut:  fs.String("ca-out", "", "CA certificate `file`"),
		kms:    fs.String("kms", "", "sealed key `file`"),
		rotate: fs.Bool("rotate-kek", false, "rotate the key-encryption key at start"),
		repair: fs.Bool("repair", false, "quarantine damaged records and start"),
	}
	l := &f.limits
	fs.IntVar(&l.MaxFrame, "max-frame", wire.DefaultMaxFrame, "")
	fs.DurationVar(&l.FrameTimeout, "frame-timeout", relay.DefaultFrameTimeout, "")
	fs.IntVar(&l.MinRate, "min-rate", relay.DefaultMinRate, "")
	fs.DurationVar(&l.IdleTimeout, "idle-timeout", relay.DefaultIdleTimeout, "")
	fs.Int64Var(&l.MaxInFlight, "max-inflight", relay.DefaultMaxInFlight, "")
	fs.IntVar(&l.MaxConns, "max-conns", relay.DefaultMaxConns, "")
	fs.IntVar(&l.MaxConnsPerDevice, "max-conns-per-device", relay.DefaultMaxConnsPerDevice, "")
	fs.Float64Var(&l.SendRate.Per, "send-rate", relay.DefaultSendRate.Per, "")
	fs.IntVar(&l.SendRate.Burst, "send-burst", relay.DefaultSendRate.Burst, "")
	fs.Float64Var(&l.DirectoryRate.Per, "directory-rate", relay.DefaultDirectoryRate.Per, "")
	fs.IntVar(&l.DirectoryRate.Burst, "directory-burst", relay.DefaultDirectoryRate.Burst, "")
	fs.Float64Var(&l.OneTimeRate.Per, "onetime-rate", relay.DefaultOneTimeRate.Per, "")
	fs.IntVar(&l.OneTimeRate.Burst, "onetime-burst", relay.DefaultOneTimeRate.Burst, "")
	fs.DurationVar(&l.MaxWait, "max-wait", relay.DefaultMaxWait, "")
	fs.DurationVar(&l.DedupWindow, "dedup-window", relay.DefaultDedupWindow, "")
	return f
}

// check refuses limits that make no sense (zero would silently mean the
// default).
func (f *relayFlags) check() error {
	l := f.limits
	if l.MaxFrame < wire.MinDeliveryCost || l.MinRate <= 0 || l.MaxInFlight <= 0 || l.MaxConns <= 0 || l.MaxConnsPerDevice <= 0 ||
		l.FrameTimeout <= 0 || l.IdleTimeout <= 0 || l.MaxWait <= 0 || l.DedupWindow <= 0 {
		return &usageError{msg: "relay limits must be positive", hint: `run "scanlab help relay" for the defaults`}
	}
	for _, r := range []relay.Rate{l.SendRate, l.DirectoryRate, l.OneTimeRate} {
		if r.Per <= 0 || r.Burst < 1 {
			return &usageError{msg: "rates must be positive and bursts at least 1", hint: `run "scanlab help relay" for the defaults`}
		}
	}
	return nil
}

func runRelay(stdout, stderr io.Writer, args []string) error {
	c := commands["relay"]
	fs := newFlags("relay")
	f := newRelayFlags(fs)
	if err := parse(fs, c, stdout, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{msg: "relay takes no arguments", hint: `run "scanlab help relay"`}
	}
	if err := f.check(); err != nil {
		return err
	}
	cfg := f.limits
	if *f.mode != "none" {
		m, err := modes.New(*f.mode, modes.Config{})
		if err != nil {
			return &usageError{msg: err.Error(), hint: "modes: " + strings.Join(modes.Names, ", ") + ", none"}
		}
		cfg.Logic = m.NewServer
	}
	keys, save, err := loadKMS(*f.kms, *f.db)
	if err != nil {
		return err
	}
	cfg.Addr, cfg.DBPath, cfg.KMS, cfg.SaveKeys = *f.listen, *f.db, keys, save
	cfg.RotateKEK, cfg.Repair = *f.rotate, *f.repair
	if *f.kms != "" {
		cfg.CAPath = *f.kms + ".ca"
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	r, err := relay.Start(cfg)
	if err != nil {
		return relayStartError(err)
	}
	defer r.Close()
	return serveRelay(stdout, cfg.Log, r, *f.caOut, *f.db)
}

// serveRelay writes the CA certificate, announces the address and waits
// for SIGINT or SIGTERM.
func serveRelay(stdout io.Writer, log *slog.Logger, r *relay.Relay, caOut, db string) error {
	if caOut == "" {
		caOut = db + ".ca.pem"
	}
	if err := kms.WriteFileDurable(caOut, r.CA().PEM(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scanlab relay: listening on %s (CA certificate in %s)\n", r.Addr(), caOut)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	signal.Stop(sig)
	log.Info("relay stopping")
	return nil
}

// relayStartError adds advice to the errors an operator can fix.
func relayStartError(err error) error {
	switch {
	case errors.Is(err, store.ErrWrongKeys):
		return &hintError{err: err, hint: "check --kms names the key file this database was made with"}
	case errors.Is(err, store.ErrDamaged):
		return &hintError{err: err, hint: "restore the database from a copy, or start with --repair to set damaged records aside"}
	}
	return err
}

// loadKMS returns the key manager and a function that saves it durably:
// sealed in path if given, else in memory only. A missing key file is
// created only for a database that does not exist yet: a misspelt --kms
// beside an existing database must not start with new keys.
func loadKMS(path, db string) (*kms.Manager, func() error, error) {
	if path == "" {
		k, err := kms.New()
		return k, nil, err
	}
	pass := os.Getenv("SCANLAB_KMS_PASSPHRASE")
	if pass == "" {
		return nil, nil, &usageError{msg: "--kms needs a passphrase", hint: "set SCANLAB_KMS_PASSPHRASE"}
	}
	save := func(k *kms.Manager) func() error { return func() error { return k.Save(path, []byte(pass)) } }
	k, err := kms.Load(path, []byte(pass))
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(db); serr == nil {
			return nil, nil, &hintError{err: fmt.Errorf("key file %s does not exist, but database %s does", path, db), hint: "check the --kms path: new keys would not open the existing database"}
		}
		if k, err = kms.New(); err != nil {
			return nil, nil, err
		}
		return k, save(k), save(k)()
	}
	if err != nil {
		return nil, nil, &hintError{err: err, hint: "check SCANLAB_KMS_PASSPHRASE and the --kms file"}
	}
	return k, save(k), nil
}
