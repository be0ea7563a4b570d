package relay

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"scanlab/internal/pki"
)

// fdChildEnv makes the test binary run the relay of TestAcceptBacksOffAtTheFDLimit.
const fdChildEnv = "SCANLAB_RELAY_FD_CHILD"

// TestFDLimitChild is the child process of TestAcceptBacksOffAtTheFDLimit:
// a relay with a low file-descriptor limit, logging to stderr.
func TestFDLimitChild(t *testing.T) {
	dir := os.Getenv(fdChildEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestAcceptBacksOffAtTheFDLimit")
	}
	lim := syscall.Rlimit{Cur: 48, Max: 48}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	r, err := Start(Config{DBPath: filepath.Join(dir, "relay.db"), Log: slog.New(slog.NewTextHandler(os.Stderr, nil)), FrameTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "ca.pem"), r.CA().PEM(), 0o600)
	fmt.Println(r.Addr())
	os.Stdin.Read(make([]byte, 1)) // until the parent closes stdin
	fmt.Fprintf(os.Stderr, "accept_errors=%d\n", r.Stats().AcceptErrors)
	r.Close()
}

// TestAcceptBacksOffAtTheFDLimit: with its descriptors exhausted the relay
// backs off instead of spinning on accept errors (issue: 29 MiB of log in
// 5 s), and serves again once descriptors free up.
func TestAcceptBacksOffAtTheFDLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestFDLimitChild$")
	child.Env = append(os.Environ(), fdChildEnv+"="+dir)
	var stderr lockedLog
	child.Stderr = &stderr
	stdin, _ := child.StdinPipe()
	out, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); child.Wait() }() // idempotent with the close below
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v %s", err, stderr.b.String())
	}
	addr = strings.TrimSpace(addr)
	// Hold more connections than the child has descriptors (they never
	// complete a handshake), for two seconds.
	var held []net.Conn
	for range 80 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		held = append(held, c)
	}
	time.Sleep(2 * time.Second)
	stderr.mu.Lock()
	log := stderr.b.String()
	stderr.mu.Unlock()
	failures := strings.Count(log, "accept failed")
	t.Logf("%d connections held; %d accept-failure lines, %d bytes of log in 2 s", len(held), failures, len(log))
	if failures == 0 || failures > 10 || len(log) > 64<<10 {
		t.Fatalf("%d accept-failure lines and %d bytes of log in 2 s; want 1 to 10 lines", failures, len(log))
	}
	for _, c := range held {
		c.Close()
	}
	pem, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	pool, err := pki.ParsePEM(pem)
	if err != nil {
		t.Fatal(err)
	}
	c, err := DialWith(addr, pool, "after", ClientOptions{RetryFor: 10 * time.Second})
	if err != nil {
		t.Fatalf("relay does not serve once descriptors are free: %v", err)
	}
	c.Close()
	// The accept loop itself backed off: at most a few dozen failed accepts
	// (5 ms doubling to 1 s), not one per spin of the loop.
	stdin.Close()
	child.Wait()
	var errs int
	fmt.Sscanf(stderr.b.String()[strings.LastIndex(stderr.b.String(), "accept_errors="):], "accept_errors=%d", &errs)
	if errs == 0 || errs > 50 {
		t.Fatalf("%d failed accepts while descriptors ran out; want a backed-off handful", errs)
	}
}
