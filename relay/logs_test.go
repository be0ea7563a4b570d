package relay

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"scanlab"
	"scanlab/internal/pki"
	"scanlab/relay/wire"
)

// lockedLog is a log destination safe for concurrent writers.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// flaggingLogic raises a detection on every envelope and panics on one.
type flaggingLogic struct{}

func (flaggingLogic) Accept(e *scanlab.Envelope) ([]scanlab.Detection, error) {
	if strings.HasPrefix(e.ID, "panic") {
		panic("scanner failed on " + string(e.Body))
	}
	return []scanlab.Detection{{MessageID: e.ID, Account: e.From, Pathway: scanlab.ServerText, Rule: "rule"}}, nil
}

func (flaggingLogic) Verify(r scanlab.Report) ([]scanlab.Detection, error) {
	return nil, errors.New("unverified report about " + r.MessageID)
}

// TestLogHoldsNoSecretsOrIDs runs every kind of request, refused ones
// included, with the log at debug level, then searches the whole log for
// every user ID, message ID, attachment name, body and key the run made,
// raw, in hex and in base64 (issue: logs carried user IDs and
// sender-chosen attachment names).
func TestLogHoldsNoSecretsOrIDs(t *testing.T) {
	var log lockedLog
	r := startRelay(t, Config{
		Log:         slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Logic:       func(scanlab.ServerEnv) (scanlab.ServerLogic, error) { return flaggingLogic{}, nil },
		MaxFrame:    1 << 20,
		SendRate:    Rate{Per: 0.001, Burst: 30},
		OneTimeRate: Rate{Per: 0.001, Burst: 1},
		NoSync:      true,
	})
	secrets := runEveryRequest(t, r)
	k := r.KMS().Export()
	keys := [][]byte{k.Root, r.logKey}
	for _, v := range k.KEKs {
		keys = append(keys, v)
	}
	for _, s := range []string{"relay log tag", "mailbox-index", "relay CA sealing key"} {
		v, _ := r.KMS().Secret(s)
		keys = append(keys, v)
	}
	r.Close()
	text := log.b.String()
	if testing.Verbose() {
		t.Log(text)
	}
	if len(text) < 500 {
		t.Fatalf("log suspiciously short: %q", text)
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("log holds %q", s)
		}
	}
	for _, key := range keys {
		for _, form := range []string{string(key), hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key), base64.RawStdEncoding.EncodeToString(key)} {
			if strings.Contains(text, form) {
				t.Errorf("log holds key material %x", key[:4])
			}
		}
	}
	if !strings.Contains(text, r.LogTag("eve-user-4b1d")) {
		t.Error("log does not correlate users by their tag")
	}
}

// runEveryRequest drives r through accepted and refused requests of every
// kind and returns the strings the log must not contain.
func runEveryRequest(t *testing.T, r *Relay) []string {
	users := []scanlab.UserID{"alice-user-7c3e", "bob-user-9a0f", "eve-user-4b1d"}
	ids := []string{"msg-id-5e5e1", "msg-id-5e5e2", "panic-id-0c0c"}
	names := []string{"attach-name-d00d", "attach-name-f00f"}
	bodies := []string{"body-text-cafe", "body-text-beef"}
	alice, bob := dial(t, r, users[0]), dial(t, r, users[1])
	eveCert, _ := pki.DeviceCert(string(users[2]))
	eve, _ := DialWith(r.Addr(), r.CA().Pool(), users[2], ClientOptions{Cert: &eveCert, RetryFor: -1})
	defer eve.Close()
	e := scanlab.Envelope{ID: ids[0], From: users[0], To: users[1], Body: []byte(bodies[0]), Attach: map[string][]byte{names[0]: []byte(bodies[1]), names[1]: nil}}
	alice.Send(e)
	alice.Send(e)                                                                                   // duplicate
	eve.Send(scanlab.Envelope{ID: ids[1], From: users[0], To: users[1]})                            // spoofed sender
	eve.Send(scanlab.Envelope{ID: ids[2], From: users[2], To: users[1], Body: []byte(bodies[1])})   // panics
	eve.Send(scanlab.Envelope{ID: ids[1], From: users[2], To: users[1], Body: make([]byte, 1<<20)}) // undeliverable
	eve.FetchMailbox(users[1], 10)                                                                  // not hers
	if _, err := DialWith(r.Addr(), r.CA().Pool(), users[0], ClientOptions{Cert: &eveCert, RetryFor: -1}); err == nil {
		t.Error("second user on a credential")
	}
	bob.Publish(users[1], scanlab.KeyBundle{Identity: []byte(bodies[0]), OneTime: [][]byte{[]byte(bodies[1]), []byte(bodies[1] + "2")}})
	eve.FetchKeys(users[1])
	eve.FetchKeys(users[1])
	eve.Report(scanlab.Report{MessageID: ids[0], Reporter: users[2], Accused: users[0], Evidence: []byte(bodies[0])})
	for i := range 40 { // past the send rate
		eve.Send(scanlab.Envelope{ID: fmt.Sprint(ids[1], i), From: users[2], To: users[1]})
	}
	// A frame whose attachments are out of order names one of them.
	raw := rawDevice(t, r, "raw-user-1234")
	bad := wire.AppendEnvelope(nil, scanlab.Envelope{ID: ids[1], From: "raw-user-1234", To: users[1]})
	bad = append(bad[:len(bad)-1], 2, 0, 0, 0, byte(len(names[1])))
	bad = append(append(bad, names[1]...), 0, 0, 0, 0, 0, 0, 0, byte(len(names[0])))
	bad = append(append(bad, names[0]...), 0, 0, 0, 0)
	wire.WriteFrame(raw, wire.Send, bad)
	wire.ReadFrame(raw, 1<<16)
	r.Store().Enqueue(users[1], []byte("not an envelope "+bodies[1])) // quarantined at fetch
	ds, _ := bob.Receive(10, 0)
	for _, d := range ds {
		bob.Ack(d.Seq)
	}
	return append(append(append(append([]string{"raw-user-1234"}, toStrings(users)...), ids...), names...), bodies...)
}

func toStrings(us []scanlab.UserID) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = string(u)
	}
	return out
}
