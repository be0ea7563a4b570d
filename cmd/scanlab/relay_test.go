package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"scanlab"
	"scanlab/kms"
	"scanlab/relay/store"
	"scanlab/relay/wire"
)

const testPassphrase = "test passphrase"

// copyFile copies src to dst (tests only).
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// rotationFixture makes a database of n records and its sealed key file
// in dir, and returns the plaintext of every mail record by key.
func rotationFixture(t *testing.T, dir string, n int) map[string]string {
	t.Helper()
	keys, err := kms.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(filepath.Join(dir, "relay.kms"), []byte(testPassphrase)); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(filepath.Join(dir, "relay.db"), keys, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(1, 14))
	want := map[string]string{}
	var envs []scanlab.Envelope
	for i := range n {
		u := scanlab.UserID(fmt.Sprint("user-", r.IntN(50)))
		e := scanlab.Envelope{ID: fmt.Sprint("m", i), From: "sender", To: u, Sent: time.Unix(int64(i), 0), Body: []byte(strings.Repeat("x", r.IntN(400)))}
		envs = append(envs, e)
		want[string(wire.EncodeEnvelope(e))] = string(u)
	}
	var wg sync.WaitGroup
	for w := range 64 { // concurrent writers share batched commits
		wg.Go(func() {
			for i := w; i < n; i += 64 {
				if _, err := s.Enqueue(envs[i].To, wire.EncodeEnvelope(envs[i])); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	return want
}

// readAll decrypts every record of the database in dir with the key file
// as it is on disk and returns the mail plaintexts and how many records
// did not open.
func readAll(dir string) (mail map[string]bool, unreadable int, err error) {
	keys, err := kms.Load(filepath.Join(dir, "relay.kms"), []byte(testPassphrase))
	if err != nil {
		return nil, 0, err
	}
	mail = map[string]bool{}
	err = store.Walk(filepath.Join(dir, "relay.db"), keys, func(r store.Record) error {
		if r.Bucket == store.Mail {
			mail[string(r.Data)] = true
		}
		return nil
	})
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		return mail, len(joined.Unwrap()), nil
	}
	if err != nil {
		return mail, 1, nil
	}
	return mail, 0, nil
}

// TestRotationKilledAtAnyMomentLosesNothing kills `scanlab relay
// --rotate-kek` with SIGKILL at 24 moments spread over its first 1.5 s, and
// after each kill reads every record with the key file as left on disk
// (issue: a kill about 250–300 ms in left 0 of 2,002 records readable).
func TestRotationKilledAtAnyMomentLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 24 relay processes")
	}
	pristine := t.TempDir()
	want := rotationFixture(t, pristine, 12000)
	t.Logf("an uninterrupted rotation of %d records listens after %v", len(want), timeRotation(t, pristine))
	r := rand.New(rand.NewPCG(1, 1))
	listening := 0
	for i := range 24 {
		at := time.Duration(float64(1500*time.Millisecond) * (float64(i) + r.Float64()) / 24)
		t.Run(fmt.Sprintf("kill=%d/at=%dms", i, at.Milliseconds()), func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, filepath.Join(pristine, "relay.db"), filepath.Join(dir, "relay.db"))
			copyFile(t, filepath.Join(pristine, "relay.kms"), filepath.Join(dir, "relay.kms"))
			if killRotation(t, dir, at) {
				listening++
			}
			mail, unreadable, err := readAll(dir)
			if err != nil || unreadable > 0 || len(mail) != len(want) {
				t.Fatalf("after a kill at %v: %d of %d mail records read, %d unreadable, err %v", at, len(mail), len(want), unreadable, err)
			}
			for body := range want {
				if !mail[body] {
					t.Fatalf("record %.20q lost", body)
				}
			}
			// The relay starts on what is left, its checks passing.
			cmd, _, _ := startRelayProcess(t, "--db", filepath.Join(dir, "relay.db"), "--kms", filepath.Join(dir, "relay.kms"), "--mode", "none")
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
	t.Logf("%d of 24 kills came after the relay was listening", listening)
}

// timeRotation runs a rotation of a copy of pristine to the end and returns
// how long the relay took to listen.
func timeRotation(t *testing.T, pristine string) time.Duration {
	dir := t.TempDir()
	copyFile(t, filepath.Join(pristine, "relay.db"), filepath.Join(dir, "relay.db"))
	copyFile(t, filepath.Join(pristine, "relay.kms"), filepath.Join(dir, "relay.kms"))
	t0 := time.Now()
	cmd, _, _ := startRelayProcess(t, "--db", filepath.Join(dir, "relay.db"), "--kms", filepath.Join(dir, "relay.kms"), "--rotate-kek", "--mode", "none")
	took := time.Since(t0)
	cmd.Process.Kill()
	cmd.Wait()
	return took
}

// killRotation starts a rotating relay on dir, SIGKILLs it after at, and
// says whether it was already listening.
func killRotation(t *testing.T, dir string, at time.Duration) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "relay", "--db", filepath.Join(dir, "relay.db"), "--kms", filepath.Join(dir, "relay.kms"), "--rotate-kek", "--mode", "none")
	cmd.Env = append(os.Environ(), "SCANLAB_RUN_MAIN=1", "SCANLAB_KMS_PASSPHRASE="+testPassphrase)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(at)
	cmd.Process.Kill()
	cmd.Wait()
	return strings.Contains(out.String(), "listening on")
}

// runRelayExpectingExit runs `scanlab relay` and returns its exit status
// and output, failing if it starts listening instead.
func runRelayExpectingExit(t *testing.T, env string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"relay"}, args...)...)
	cmd.Env = append(os.Environ(), "SCANLAB_RUN_MAIN=1", env)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), out.String()
		}
		return 0, out.String()
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("relay started: %s", out.String())
	}
	return 0, ""
}

// TestRelayRefusesKeysThatDoNotOpenItsDatabase: a misspelt --kms beside an
// existing database, or another key file, stops the relay with a clear
// error and a hint (issue: it started silently with new keys).
func TestRelayRefusesKeysThatDoNotOpenItsDatabase(t *testing.T) {
	dir := t.TempDir()
	db, keys := filepath.Join(dir, "relay.db"), filepath.Join(dir, "relay.kms")
	cmd, _, _ := startRelayProcess(t, "--db", db, "--kms", keys, "--mode", "none")
	cmd.Process.Kill()
	cmd.Wait()
	other, _ := kms.New()
	other.Save(filepath.Join(dir, "other.kms"), []byte(testPassphrase))
	cases := []struct {
		name, kms, want string
	}{
		{"misspelt", filepath.Join(dir, "relay.kmz"), "does not exist"},
		{"other-keys", filepath.Join(dir, "other.kms"), "do not open this database"},
	}
	for _, c := range cases {
		t.Run("kms="+c.name, func(t *testing.T) {
			code, out := runRelayExpectingExit(t, "SCANLAB_KMS_PASSPHRASE="+testPassphrase, "--db", db, "--kms", c.kms, "--mode", "none")
			if code != 1 || !strings.Contains(out, c.want) || !strings.Contains(out, "scanlab: hint:") {
				t.Fatalf("exit %d, output %q; want exit 1 with %q and a hint", code, out, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "relay.kmz")); err == nil {
				t.Fatal("a new key file was made beside an existing database")
			}
		})
	}
}

// TestRelayKeepsItsIdentityAcrossRestarts: with --kms the relay's CA is
// the same after a restart (issue: a new CA at every start), and the CA
// file beside the key file is sealed.
func TestRelayKeepsItsIdentityAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--db", filepath.Join(dir, "relay.db"), "--kms", filepath.Join(dir, "relay.kms"), "--ca-out", filepath.Join(dir, "ca.pem"), "--mode", "none"}
	var pems []string
	for range 2 {
		cmd, _, _ := startRelayProcess(t, args...)
		pems = append(pems, readFile(t, filepath.Join(dir, "ca.pem")))
		cmd.Process.Kill()
		cmd.Wait()
	}
	if pems[0] != pems[1] {
		t.Fatal("the relay's CA changed across a restart")
	}
	sealed := readFile(t, filepath.Join(dir, "relay.kms.ca"))
	if strings.Contains(sealed, "PRIVATE KEY") || !strings.HasPrefix(sealed, "scanlab-ca-1") {
		t.Fatalf("CA file is not sealed: %.40q", sealed)
	}
}

func TestRelayLimitFlags(t *testing.T) {
	cases := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"relay", "--max-frame", "0"}, 2, "must be positive"},
		{[]string{"relay", "--send-burst", "0"}, 2, "bursts at least 1"},
		{[]string{"relay", "--min-rate", "abc"}, 2, "invalid argument"},
	}
	for _, c := range cases {
		t.Run("args="+strings.Join(c.args[1:], "_"), func(t *testing.T) {
			_, e, code := runCLI(c.args...)
			if code != c.code || !strings.Contains(e, c.err) {
				t.Fatalf("exit %d, stderr %q", code, e)
			}
		})
	}
	o, _, _ := runCLI("help", "relay")
	for _, flag := range []string{"--max-frame", "--min-rate", "--max-conns-per-device", "--onetime-rate", "--repair"} {
		if !strings.Contains(o, flag) {
			t.Errorf("help relay does not mention %s", flag)
		}
	}
}
