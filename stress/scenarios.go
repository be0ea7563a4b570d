package stress

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/kms"
	"scanlab/relay/store"
	"scanlab/relay/wire"
)

type waitGroup = sync.WaitGroup

// times says "once", "twice" or "N times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// killMidTraffic SIGKILLs the relay at seeded moments while devices send
// and receive, restarting it on the same files each time.
func killMidTraffic(h *harness) (string, error) {
	d := h.sendDuration()
	moments := make([]time.Duration, h.cfg.Kills)
	for i := range moments {
		moments[i] = h.moment(d/10, d*9/10)
	}
	slices.Sort(moments)
	var err error
	h.traffic(func() {
		start := time.Now()
		for _, at := range moments {
			time.Sleep(time.Until(start.Add(at)))
			h.proc.kill()
			if err = h.start(); err != nil {
				return
			}
		}
	})
	return fmt.Sprintf("SIGKILLed %s mid-traffic; restarted on the same files each time", times(len(moments))), err
}

// killDuringRotation stores the whole plan, then rotates the KEK once to
// the end (to learn how long a rotating start takes) and kills further
// rotating starts at seeded moments within that time, restarting plainly
// after each; then delivers everything.
func killDuringRotation(h *harness) (string, error) {
	h.sendOnly()
	h.proc.stop()
	t0 := time.Now()
	if err := h.start("--rotate-kek"); err != nil {
		return "", err
	}
	full := time.Since(t0)
	for range h.cfg.Kills {
		h.proc.stop()
		at := h.moment(0, full)
		p, err := startOnly(h.cfg.Launch, h.args("--rotate-kek")...)
		if err != nil {
			return "", err
		}
		time.Sleep(at)
		p.Process.Kill()
		p.Wait()
		if err := h.start(); err != nil {
			h.recovered = false
			return fmt.Sprintf("relay refused to start after a rotation was killed: %v", err), nil
		}
	}
	h.drain()
	return fmt.Sprintf("one rotation run to the end, then %d rotating starts SIGKILLed at seeded moments within its duration; every restart passed the checks", h.cfg.Kills), nil
}

// startOnly starts a relay process without waiting for it.
func startOnly(l Launcher, args ...string) (*exec.Cmd, error) {
	cmd := l(args...)
	cmd.Env = append(os.Environ(), "SCANLAB_KMS_PASSPHRASE="+faultPassphrase, "SCANLAB_RUN_MAIN=1")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	return cmd, cmd.Start()
}

// rawDevice connects with a fresh credential and registers as user,
// speaking the wire protocol by hand (a misbehaving client).
func (h *harness) rawDevice(user scanlab.UserID) (*tls.Conn, error) {
	pem, err := os.ReadFile(h.path("ca.pem"))
	if err != nil {
		return nil, err
	}
	pool, err := pki.ParsePEM(pem)
	if err != nil {
		return nil, err
	}
	cert, err := pki.DeviceCert(string(user))
	if err != nil {
		return nil, err
	}
	c, err := tls.Dial("tcp", h.addr, &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool, ServerName: "127.0.0.1", Certificates: []tls.Certificate{cert}})
	if err != nil {
		return nil, err
	}
	if err := wire.WriteFrame(c, wire.Register, wire.EncodeString(string(user))); err != nil {
		c.Close()
		return nil, err
	}
	if f, err := wire.ReadFrame(c, 1<<16); err != nil || f.Type != wire.Registered {
		c.Close()
		return nil, fmt.Errorf("register %s: %v", user, err)
	}
	return c, nil
}

// clientCuts cuts connections mid-frame during traffic: misbehaving clients
// that send half a frame and hang up, and the devices' own connections
// dropped at seeded moments (mid-request, so sends are repeated).
func clientCuts(h *harness) (string, error) {
	cuts := 2 * h.cfg.Devices
	var err error
	h.traffic(func() {
		d := h.sendDuration()
		for i := range cuts {
			time.Sleep(d / time.Duration(cuts+1))
			dev := h.fleet.devices[h.rng.IntN(len(h.fleet.devices))]
			if h.rng.IntN(2) == 0 {
				dev.send.Drop()
			} else {
				dev.recv.Drop()
			}
			if i%4 == 0 {
				if err = h.halfFrame(scanlab.UserID(fmt.Sprint("cutter-", i))); err != nil {
					return
				}
			}
		}
	})
	return fmt.Sprintf("%d device connections dropped mid-traffic; %d clients hung up halfway through a frame", cuts, (cuts+3)/4), err
}

// halfFrame sends the first half of a Send frame and hangs up.
func (h *harness) halfFrame(user scanlab.UserID) error {
	c, err := h.rawDevice(user)
	if err != nil {
		return err
	}
	defer c.Close()
	payload := wire.EncodeEnvelope(scanlab.Envelope{ID: "half", From: user, To: h.plan.users[0], Body: make([]byte, 2000)})
	frame := append([]byte{wire.Version, byte(wire.Send), 0, 0, 0, 0}, payload...)
	binary.BigEndian.PutUint32(frame[2:], uint32(len(payload)))
	_, err = c.Write(frame[:len(frame)/2])
	return err
}

// stalledClients restarts the relay with a 1 s frame timeout, then, during
// traffic, has clients announce 32 MiB frames and stall; each must be cut
// off by the relay.
func stalledClients(h *harness) (string, error) {
	const stallers = 10
	h.proc.stop()
	h.extra = []string{"--frame-timeout", "1s"}
	if err := h.start(); err != nil {
		return "", err
	}
	var closed int
	var err error
	h.traffic(func() {
		var conns []*tls.Conn
		for i := range stallers {
			c, e := h.rawDevice(scanlab.UserID(fmt.Sprint("staller-", i)))
			if e != nil {
				err = e
				return
			}
			head := []byte{wire.Version, byte(wire.Send), 0, 0, 0, 0}
			binary.BigEndian.PutUint32(head[2:], wire.DefaultMaxFrame)
			c.Write(append(head, make([]byte, 1024)...))
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, e := io.Copy(io.Discard, c); e == nil {
				closed++
			}
			c.Close()
		}
	})
	if closed != stallers {
		h.recovered = false
	}
	return fmt.Sprintf("%d clients announced 32 MiB frames and stalled; the relay closed %d", stallers, closed), err
}

// storageFault runs traffic while fault is in force for 1.5 s at a seeded
// moment, and counts the sends the relay refused for want of storage.
func (h *harness) storageFault(apply func() error, lift func() error) (int, error) {
	var err error
	h.traffic(func() {
		time.Sleep(h.moment(h.sendDuration()/10, h.sendDuration()/3))
		if err = apply(); err != nil {
			return
		}
		time.Sleep(1500 * time.Millisecond)
		err = lift()
	})
	return refusedSends(h.proc.stderr.String()), err
}

// refusedLine is the relay's log line for a group of sends it could not
// store, with their number.
var refusedLine = regexp.MustCompile(`msg="envelope not stored".* n=(\d+)`)

// refusedSends counts the sends a relay's log says it could not store.
func refusedSends(log string) int {
	n := 0
	for _, m := range refusedLine.FindAllStringSubmatch(log, -1) {
		k, _ := strconv.Atoi(m[1])
		n += k
	}
	return n
}

// fullDisk limits the relay's file size below its database's size (its
// writes fail with EFBIG, as on a full disk) for 1.5 s during traffic.
func fullDisk(h *harness) (string, error) {
	pid := h.proc.cmd.Process.Pid
	refused, err := h.storageFault(func() error {
		st, err := os.Stat(h.path("relay.db"))
		if err != nil {
			return err
		}
		return setFileSizeLimit(pid, st.Size()/2)
	}, func() error { return setFileSizeLimit(pid, -1) })
	if err != nil {
		return "", err
	}
	h.refused = refused
	return "file-size limit below the database's size for 1.5 s: sends refused as storage failures and retried", nil
}

// readOnlyDatabase makes the database file immutable (chattr +i: even the
// relay's open descriptor cannot write) for 1.5 s during traffic.
func readOnlyDatabase(h *harness) (string, error) {
	db := h.path("relay.db")
	if err := exec.Command("chattr", "+i", db).Run(); err != nil {
		h.traffic(nil)
		return "skipped the fault: chattr +i is not permitted here; traffic ran without it", nil
	}
	exec.Command("chattr", "-i", db).Run()
	refused, err := h.storageFault(func() error { return exec.Command("chattr", "+i", db).Run() },
		func() error { return exec.Command("chattr", "-i", db).Run() })
	if err != nil {
		return "", err
	}
	h.refused = refused
	return "database file immutable for 1.5 s: sends refused as storage failures and retried", nil
}

// damageTarget finds a seeded mail record in the stopped relay's database:
// its message ID and the offsets of its stored bytes in the file. A record
// may appear more than once (bbolt copies pages on write and leaves the
// old copies in free pages): damaging every copy damages the live one.
func (h *harness) damageTarget() (id string, offs []int, pageSize int, err error) {
	keys, err := kms.Load(h.path("relay.kms"), []byte(faultPassphrase))
	if err != nil {
		return "", nil, 0, err
	}
	db, err := bolt.Open(h.path("relay.db"), 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return "", nil, 0, err
	}
	var key, val []byte
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(store.Mail))
		n := b.Stats().KeyN
		if n == 0 {
			return errors.New("no mail stored to damage")
		}
		c := b.Cursor()
		k, v := c.First()
		for range h.rng.IntN(n) {
			k, v = c.Next()
		}
		key, val = bytes.Clone(k), bytes.Clone(v)
		return nil
	})
	pageSize = db.Info().PageSize
	db.Close()
	if err != nil {
		return "", nil, 0, err
	}
	plain, err := store.Decrypt(keys, store.Mail, key, val)
	if err != nil {
		return "", nil, 0, err
	}
	e, err := wire.DecodeEnvelope(plain, len(plain))
	if err != nil {
		return "", nil, 0, err
	}
	raw, err := os.ReadFile(h.path("relay.db"))
	if err != nil {
		return "", nil, 0, err
	}
	for at := 0; ; {
		i := bytes.Index(raw[at:], val)
		if i < 0 {
			break
		}
		offs = append(offs, at+i)
		at += i + 1
	}
	if len(offs) == 0 {
		return "", nil, 0, errors.New("record bytes not found in the file")
	}
	return e.ID, offs, pageSize, nil
}

// flip XORs one byte of the database file.
func (h *harness) flip(off int, mask byte) error {
	f, err := os.OpenFile(h.path("relay.db"), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, int64(off)); err != nil {
		return err
	}
	b[0] ^= mask
	_, err = f.WriteAt(b, int64(off))
	return err
}

// restartDamaged restarts the relay on a damaged file: it must refuse;
// then with --repair it must start. It returns the refusal's words.
func (h *harness) restartDamaged() (string, error) {
	err := h.start()
	var se *startError
	if err == nil {
		h.recovered = false
		return "started on a damaged file without noticing", nil
	}
	if !errors.As(err, &se) || !strings.Contains(se.out, "damaged") {
		return "", err
	}
	if err := h.start("--repair"); err != nil {
		h.recovered = false
		return "refused to start, and --repair did not start it either", nil
	}
	if kept, _ := filepath.Glob(h.path("relay.db.damaged-*")); len(kept) > 0 {
		return "refused to start naming the damage; --repair salvaged the file", nil
	}
	return "refused to start naming the damage; started with --repair", nil
}

// corruptRecord stores the plan, stops the relay, flips a byte inside one
// stored message's ciphertext, and restarts.
func corruptRecord(h *harness) (string, error) {
	h.sendOnly()
	h.proc.stop()
	id, offs, _, err := h.damageTarget()
	if err != nil {
		return "", err
	}
	h.quarantID[id] = true
	h.ledger.excuse(h.plan.byID[id])
	at := h.rng.IntN(16) + 40
	for _, off := range offs {
		if err := h.flip(off+at, 0x01); err != nil {
			return "", err
		}
	}
	words, err := h.restartDamaged()
	if err != nil {
		return "", err
	}
	h.drain()
	return "one stored message's ciphertext flipped: " + words + "; the damaged message quarantined", nil
}

// corruptPage stores the plan, stops the relay, flips a byte in the header
// of the page holding one stored message, and restarts.
func corruptPage(h *harness) (string, error) {
	h.sendOnly()
	h.proc.stop()
	_, offs, pageSize, err := h.damageTarget()
	if err != nil {
		return "", err
	}
	for _, off := range offs {
		if err := h.flip(off/pageSize*pageSize+8, 0x40); err != nil { // the page type
			return "", err
		}
	}
	words, err := h.restartDamaged()
	if err != nil {
		return "", err
	}
	if h.recovered {
		h.drain()
	}
	return "the type byte of a page holding stored messages flipped: " + words, nil
}
