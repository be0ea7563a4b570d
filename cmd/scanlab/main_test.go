package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"scanlab"
	"scanlab/experiments"
	"scanlab/internal/pki"
	"scanlab/observe"
	"scanlab/relay"
)

// TestMain lets tests run the real binary: when SCANLAB_RUN_MAIN is set the
// test binary behaves as the scanlab command.
func TestMain(m *testing.M) {
	if os.Getenv("SCANLAB_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func runCLI(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = exitStatus(&e, run(&o, &e, args))
	return o.String(), e.String(), code
}

func TestUsageAndExitCodes(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"--help"}, 0, "Usage:", ""},
		{[]string{"help", "run"}, 0, "--keep-state", ""},
		{[]string{"help", "relay"}, 0, "--rotate-kek", ""},
		{[]string{"run", "--help"}, 0, "Experiments:", ""},
		{[]string{"version"}, 0, "scanlab ", ""},
		{[]string{}, 2, "", "scanlab: error: no command given"},
		{[]string{"frobnicate"}, 2, "", "scanlab: hint:"},
		{[]string{"help", "frobnicate"}, 2, "", "unknown command"},
		{[]string{"run", "--seeed", "3"}, 2, "", `scanlab: hint: run "scanlab help run"`},
		{[]string{"run", "nosuchexperiment"}, 2, "", "unknown experiment"},
		{[]string{"relay", "--mode", "nosuchmode"}, 2, "", "unknown mode"},
		{[]string{"run", "coverage", "--preset", "mine.toml"}, 2, "", "--preset applies to the platforms experiment only"},
		{[]string{"run", "--preset", "mine.toml"}, 2, "", "--preset applies to the platforms experiment only"},
	}
	for _, c := range cases {
		t.Run("args="+strings.Join(c.args, "_"), func(t *testing.T) {
			o, e, code := runCLI(c.args...)
			if code != c.code || !strings.Contains(o, c.out) || !strings.Contains(e, c.err) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout ∋ %q, stderr ∋ %q", code, o, e, c.code, c.out, c.err)
			}
		})
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestVisibilityStudy runs the visibility experiment end to end through the
// CLI and checks the measured matrix, determinism, and that no planted token
// is in a kept database file or wire capture.
func TestVisibilityStudy(t *testing.T) {
	if testing.Short() {
		t.Skip("study-sized: runs without -short")
	}
	dir := t.TempDir()
	out1, out2, state := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "state")
	if _, e, code := runCLI("run", "visibility", "--quick", "--seed", "1", "--out", out1, "--keep-state", state); code != 0 {
		t.Fatalf("run failed: %s", e)
	}
	if _, e, code := runCLI("run", "visibility", "--quick", "--seed", "1", "--out", out2); code != 0 {
		t.Fatalf("second run failed: %s", e)
	}
	for _, f := range []string{"visibility.csv", "active.csv", "canaries.txt"} {
		a, _ := os.ReadFile(filepath.Join(out1, "visibility", f))
		b, _ := os.ReadFile(filepath.Join(out2, "visibility", f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
	}
	rows := readCSV(t, filepath.Join(out1, "visibility", "visibility.csv"))
	if strings.Join(rows[0], ",") != "mode,party,item,recovered,route,attack,defence,log" {
		t.Fatalf("header %v", rows[0])
	}
	got := map[string]string{}
	passive := 0
	for _, r := range rows[1:] {
		if r[5] == "" {
			got[r[0]+"/"+r[1]+"/"+r[2]] = r[3]
			passive++
		} else {
			got[r[0]+"/"+r[1]+"/"+r[5]+"/"+r[6]+"/"+r[7]+"/"+r[2]] = r[3]
		}
	}
	want := map[string]string{
		"serverscan/provider/text": "1", "serverscan/employee/text": "1", "serverscan/law-enforcement/text": "1",
		"serverscan/db-thief+kms/text": "1", "serverscan/recipient/text": "1",
		"serverscan/eavesdropper/text": "0", "serverscan/db-thief/text": "0",
		"serverscan/provider/sender-id": "1", "serverscan/provider/recipient-id": "1", "serverscan/provider/timestamp": "1",
		"serverscan/provider/size": "1", "serverscan/provider/contact-graph": "1",
		"serverscan/provider/match-verdict": "1", "serverscan/db-thief/sender-id": "0",
		"e2ee/provider/text": "0", "e2ee/employee/text": "0", "e2ee/law-enforcement/text": "0",
		"e2ee/eavesdropper/text": "0", "e2ee/db-thief/text": "0", "e2ee/db-thief+kms/text": "0",
		"e2ee/hash-curator/text": "0", "e2ee/recipient/text": "1",
		"e2ee/provider/recipient-id": "1", "e2ee/provider/timestamp": "1", "e2ee/provider/size": "1",
		"e2ee/provider/sender-id": "1", "e2ee/provider/reported-text": "1",
		"serverscan/provider/image": "1", "serverscan/provider/image-hash": "1", "serverscan/provider/hash-list": "1",
		"serverscan/db-thief/image": "0", "serverscan/eavesdropper/image": "0", "serverscan/hash-curator/hash-list": "1",
		"e2ee/provider/image": "0", "e2ee/provider/image-hash": "0", "e2ee/provider/hash-list": "0",
		"e2ee/recipient/image": "1", "e2ee/db-thief+kms/image": "0",
		// clientscan: nobody but the two ends reads content; one account
		// crosses the threshold and only its listed images are opened.
		"clientscan/provider/text": "0", "clientscan/employee/text": "0", "clientscan/law-enforcement/text": "0",
		"clientscan/eavesdropper/text": "0", "clientscan/db-thief/text": "0", "clientscan/db-thief+kms/text": "0",
		"clientscan/provider/image": "0", "clientscan/employee/image": "0", "clientscan/law-enforcement/image": "0",
		"clientscan/eavesdropper/image": "0", "clientscan/db-thief/image": "0", "clientscan/db-thief+kms/image": "0",
		"clientscan/recipient/text": "1", "clientscan/recipient/image": "1",
		"clientscan/provider/listed-image": "1", "clientscan/provider/match-verdict": "1",
		"clientscan/sender/hash-list": "0", "serverscan/eavesdropper/size": "1",
		// The provider acting in bad faith reads texts unless apps refuse
		// keys missing from the key log; serverscan needs no attack.
		"serverscan/provider-active/none-needed/none//text":                               "1",
		"e2ee/provider-active/ghost-device/none//text":                                    "1",
		"e2ee/provider-active/key-substitution/identity-pinning//text":                    "1",
		"e2ee/provider-active/ghost-device/key-transparency/unlogged/text":                "0",
		"clientscan/provider-active/key-substitution/none//text":                          "1",
		"clientscan/provider-active/ghost-device/key-transparency+gossip/split-view/text": "1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// A row for every mode × party × item, the provider acting in bad
	// faith's once per attack and defence.
	if passive != 3*(len(observe.Parties)-1)*len(observe.Items) || len(rows)-1-passive != (1+2*14)*len(observe.Items) {
		t.Errorf("%d passive and %d active rows, want 3 modes × parties × items and 29 runs × items", passive, len(rows)-1-passive)
	}
	tokens := strings.Fields(readFile(t, filepath.Join(out1, "visibility", "canaries.txt")))
	if len(tokens) == 0 {
		t.Fatal("no canaries written")
	}
	kept, _ := filepath.Glob(filepath.Join(state, "*", "relay*.db"))
	wire, _ := filepath.Glob(filepath.Join(state, "*", "wire*"))
	if len(kept) == 0 || len(wire) == 0 {
		t.Fatalf("kept state: db %v wire %v", kept, wire)
	}
	for _, f := range append(kept, wire...) {
		b, _ := os.ReadFile(f)
		for _, tok := range tokens {
			if bytes.Contains(b, []byte(tok)) {
				t.Errorf("%s contains canary %s", f, tok)
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// startRelayProcess runs `scanlab relay` as a separate process and returns
// its address and CA file once it is listening.
func startRelayProcess(t *testing.T, args ...string) (*exec.Cmd, string, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"relay"}, args...)...)
	cmd.Env = append(os.Environ(), "SCANLAB_RUN_MAIN=1", "SCANLAB_KMS_PASSPHRASE=test passphrase")
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	select {
	case l, ok := <-lines:
		if !ok {
			cmd.Wait()
			t.Fatalf("relay exited: %s", stderr.String())
		}
		m := regexp.MustCompile(`listening on (\S+) `).FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected first line %q", l)
		}
		return cmd, m[1], stderr
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("relay did not start: %s", stderr.String())
	}
	return nil, "", nil
}

// TestRelayProcessSurvivesCrash kills a standalone relay process with
// SIGKILL and checks that a restarted one, with the same database and sealed
// key file, still delivers every acknowledged-pending message.
func TestRelayProcessSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	db, keys, caFile := filepath.Join(dir, "relay.db"), filepath.Join(dir, "relay.kms"), filepath.Join(dir, "ca.pem")
	cmd, addr, _ := startRelayProcess(t, "--db", db, "--kms", keys, "--ca-out", caFile, "--mode", "serverscan")
	pool, err := pki.ParsePEM([]byte(readFile(t, caFile)))
	if err != nil {
		t.Fatal(err)
	}
	bobCert, _ := pki.DeviceCert("bob")
	alice, err := relay.Dial(addr, pool, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := relay.Dial(addr, pool, "bob", &bobCert)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"m1", "m2", "m3"} {
		e := scanlab.Envelope{ID: id, From: "alice", To: "bob", Sent: time.Now(), Body: append([]byte{1}, "hello "+id...)}
		if _, err := alice.Send(e); err != nil {
			t.Fatal(err)
		}
	}
	ds, _ := bob.Fetch(10)
	if len(ds) != 3 {
		t.Fatalf("before crash: %d messages", len(ds))
	}
	bob.Ack(ds[0].Seq)
	cmd.Process.Kill()
	cmd.Wait()
	alice.Close()
	bob.Close()

	// Restart with the wrong passphrase: a clear error, exit status 1.
	bad := exec.Command(os.Args[0], "relay", "--db", db, "--kms", keys)
	bad.Env = append(os.Environ(), "SCANLAB_RUN_MAIN=1", "SCANLAB_KMS_PASSPHRASE=wrong")
	outb, err := bad.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(outb), "scanlab: error:") {
		t.Fatalf("wrong passphrase: %v %s", err, outb)
	}

	cmd2, addr2, stderr := startRelayProcess(t, "--db", db, "--kms", keys, "--ca-out", caFile, "--rotate-kek")
	defer func() { cmd2.Process.Kill(); cmd2.Wait() }()
	pool2, _ := pki.ParsePEM([]byte(readFile(t, caFile)))
	bob2, err := relay.Dial(addr2, pool2, "bob", &bobCert)
	if err != nil {
		t.Fatalf("bob reconnects with his credential: %v", err)
	}
	defer bob2.Close()
	ds, err = bob2.Fetch(10)
	if err != nil || len(ds) != 2 || ds[0].Envelope.ID != "m2" {
		t.Fatalf("after crash and KEK rotation: %+v %v\n%s", ds, err, stderr)
	}
	if !strings.Contains(stderr.String(), "key-encryption key rotated") {
		t.Fatalf("no rotation logged: %s", stderr)
	}
	if strings.Contains(stderr.String(), "hello") {
		t.Fatal("relay log holds message content")
	}
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHelpFitsEightyColumns checks every command's help, and the command
// list, for lines wider than 80 columns. Lines that show a PDQ hash (64 hex
// digits) cannot be broken and are exempt.
func TestHelpFitsEightyColumns(t *testing.T) {
	hash := regexp.MustCompile(`[0-9a-f]{64}`)
	texts := map[string]string{"": mainHelp()}
	for name, c := range commands {
		texts[name] = c.usage
	}
	for name, text := range texts {
		for i, line := range strings.Split(text, "\n") {
			if len([]rune(line)) > 80 && !hash.MatchString(line) {
				t.Errorf("help %q line %d is %d columns: %q", name, i+1, len([]rune(line)), line)
			}
		}
	}
}

// TestRunHelpNamesEverySweepKey checks that "scanlab help run" names every
// key a sweep file takes, so a key added to the options cannot stay hidden.
func TestRunHelpNamesEverySweepKey(t *testing.T) {
	help := strings.Join(strings.Fields(commands["run"].usage), " ")
	help = help[strings.LastIndex(help, "--config FILE")+len("--config FILE"):]
	help, _, _ = strings.Cut(help, " --") // the option's own paragraph
	for _, typ := range []reflect.Type{reflect.TypeFor[experiments.Config](), reflect.TypeFor[experiments.CoverageOptions]()} {
		for f := range typ.Fields() {
			key, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if key != "" && !regexp.MustCompile(`\b`+regexp.QuoteMeta(key)+`\b`).MatchString(help) {
				t.Errorf("help for run does not name the sweep key %q (%s.%s)", key, typ.Name(), f.Name)
			}
		}
	}
}
