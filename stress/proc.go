package stress

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// Launcher makes the command that runs `scanlab relay` with args (the
// relay's own flags, without the subcommand) as a process of its own.
type Launcher func(args ...string) *exec.Cmd

// Executable returns a Launcher that runs the scanlab binary at path; a
// program that is itself scanlab passes os.Executable().
func Executable(path string) Launcher {
	return func(args ...string) *exec.Cmd {
		return exec.Command(path, append([]string{"relay"}, args...)...)
	}
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// relayProc is one running relay process.
type relayProc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
	exited chan struct{}
	err    error // the exit status, once exited is closed
}

var listeningLine = regexp.MustCompile(`listening on (\S+) `)

// startTimeout bounds how long a relay may take to start listening.
const startTimeout = 2 * time.Minute

// launch starts a relay process and waits until it listens (returning its
// address) or exits (returning its error output).
func launch(l Launcher, passphrase string, args ...string) (*relayProc, error) {
	cmd := l(args...)
	cmd.Env = append(os.Environ(), "SCANLAB_KMS_PASSPHRASE="+passphrase, "SCANLAB_RUN_MAIN=1")
	p := &relayProc{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("stress: start relay: %w", err)
	}
	lines := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			select {
			case lines <- s.Text():
			default:
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	select {
	case l := <-lines:
		m := listeningLine.FindStringSubmatch(l)
		if m == nil {
			p.kill()
			return nil, fmt.Errorf("stress: relay printed %q", l)
		}
		p.addr = m[1]
		return p, nil
	case <-p.exited:
		return nil, &startError{out: lastLines(p.stderr.String(), 3), err: p.err}
	case <-time.After(startTimeout):
		p.kill()
		return nil, errors.New("stress: relay did not start listening")
	}
}

// startError is a relay that exited instead of listening.
type startError struct {
	out string
	err error
}

func (e *startError) Error() string { return fmt.Sprintf("relay exited (%v): %s", e.err, e.out) }

// kill ends the process with SIGKILL: no cleanup of any kind.
func (p *relayProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop ends the process with SIGTERM and waits for its orderly exit.
func (p *relayProc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.kill()
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}
