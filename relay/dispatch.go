package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"scanlab"
	"scanlab/relay/store"
	"scanlab/relay/wire"
)

func (r *Relay) dispatch(s *session, f wire.Frame) (wire.Type, []byte, error) {
	if f.Type == wire.Register {
		return r.register(s, f.Payload)
	}
	if s.user == "" {
		return 0, nil, ErrNotRegistered
	}
	switch f.Type {
	case wire.Send:
		return r.send(s, f.Payload)
	case wire.Fetch:
		return r.fetch(s, f.Payload)
	case wire.Ack:
		return r.ack(s, f.Payload)
	case wire.Publish:
		return r.publish(s, f.Payload)
	case wire.KeysFor:
		return r.keysFor(s, f.Payload)
	case wire.ReportMsg:
		return r.report(s, f.Payload)
	case wire.CertFor:
		return r.certificate(s, f.Payload)
	}
	return 0, nil, fmt.Errorf("relay: unexpected frame type %d from a device", f.Type)
}

// certificate asks the server logic, if it is a [scanlab.CertificateIssuer],
// for a sender certificate binding the connection's authenticated account
// to the identity bundle its device presents (the device may present only
// for its own account, as it may publish keys only for it).
func (r *Relay) certificate(s *session, identity []byte) (wire.Type, []byte, error) {
	issuer, ok := r.logic.(scanlab.CertificateIssuer)
	if !ok {
		return 0, nil, fmt.Errorf("relay: %w", scanlab.ErrNoCertificate)
	}
	r.observe("sender certificate request in relay memory", identity, map[string]string{"device": string(s.user)})
	cert, err := issuer.IssueCertificate(s.user, identity)
	if err != nil {
		return 0, nil, fmt.Errorf("relay: sender certificate: %w", err)
	}
	return wire.Cert, cert, nil
}

// register binds the connection to a user: the credential's user on first
// use, and only that user after (one user per credential, one credential
// per user).
func (r *Relay) register(s *session, payload []byte) (wire.Type, []byte, error) {
	user, err := wire.DecodeString(payload, wire.MaxID)
	if err != nil || user == "" {
		return 0, nil, fmt.Errorf("relay: register: bad user ID: %v", err)
	}
	if s.user != "" && s.user != scanlab.UserID(user) {
		return 0, nil, errors.New("relay: connection already registered to another user")
	}
	if err := r.store.BindDevice(scanlab.UserID(user), []byte(s.device)); err != nil {
		if errors.Is(err, store.ErrCredential) || errors.Is(err, store.ErrCredentialInUse) {
			return 0, nil, fmt.Errorf("relay: %w", err)
		}
		r.log.Error("device binding failed", "user", r.LogTag(scanlab.UserID(user)), "err", err)
		return 0, nil, ErrStorage
	}
	s.user = scanlab.UserID(user)
	s.tag = r.LogTag(s.user)
	return wire.Registered, wire.EncodeHello(wire.Hello{MaxFrame: r.cfg.MaxFrame}), nil
}

// allow applies one of the device's rate limits.
func (r *Relay) allow(s *session, kind string, rate Rate) error {
	if r.limits.allow(kind+"\x00"+s.device, rate) {
		return nil
	}
	r.stats.rateLimited.Add(1)
	r.warn("rate-"+kind, "rate limit hit", "user", s.tag, "limit", kind)
	return ErrRateLimited
}

// send stores one envelope ([Relay.sends]).
func (r *Relay) send(s *session, payload []byte) (wire.Type, []byte, error) {
	a := r.sends(s, [][]byte{payload})[0]
	return a.typ, a.payload, a.err
}

// sends stores a device's pipelined envelopes once each, in order, in one
// transaction, and answers each: a resend of a (sender, message ID) already
// stored gets the first copy's receipt. An envelope whose delivery frame
// would exceed the frame limit is refused: stored, it could never be
// fetched.
func (r *Relay) sends(s *session, payloads [][]byte) []answer {
	out := make([]answer, len(payloads))
	var recs []store.Outgoing
	var rcs []wire.Receipt
	var at []int // out index of each record
	for i, p := range payloads {
		rec, rc, done := r.accept(s, p)
		if done != nil {
			out[i] = *done
			continue
		}
		recs, rcs, at = append(recs, rec), append(rcs, rc), append(at, i)
	}
	if len(recs) == 0 {
		return out
	}
	t0 := time.Now()
	stored, err := r.store.EnqueueAll(recs)
	took := time.Since(t0)
	for j, i := range at {
		if err != nil {
			out[i] = answer{err: ErrStorage}
			continue
		}
		rc := rcs[j]
		rc.Store, rc.Seq, rc.Dup = took, stored[j].Seq, stored[j].Dup
		if rc.Dup {
			r.stats.duplicates.Add(1)
		} else {
			r.hub.notify(string(recs[j].To))
		}
		out[i] = answer{typ: wire.Sent, payload: wire.EncodeReceipt(rc)}
	}
	if err != nil {
		r.log.Error("envelope not stored", "user", s.tag, "n", len(recs), "err", err)
	}
	return out
}

// accept runs a send up to storing: decoding, the sender and rate checks,
// the server logic and the size check. It returns the record to store and
// its receipt so far, or the answer when nothing is to be stored.
func (r *Relay) accept(s *session, payload []byte) (store.Outgoing, wire.Receipt, *answer) {
	var rc wire.Receipt
	refuse := func(err error) (store.Outgoing, wire.Receipt, *answer) {
		return store.Outgoing{}, rc, &answer{err: err}
	}
	e, err := wire.DecodeEnvelope(payload, r.cfg.MaxFrame)
	if err != nil {
		return refuse(err)
	}
	if e.From != s.user && !(e.From == "" && r.cfg.AllowSealedSender) {
		return refuse(ErrSpoofedSender)
	}
	if err := r.allow(s, "send", r.cfg.SendRate); err != nil {
		return refuse(err)
	}
	if r.cfg.Observe != nil {
		r.observe("TLS-terminated envelope in relay memory", payload, envelopeFields(e, s))
	}
	if seq, ok, err := r.store.Seen(s.user, e.ID); err == nil && ok {
		r.stats.duplicates.Add(1)
		return store.Outgoing{}, rc, &answer{typ: wire.Sent, payload: wire.EncodeReceipt(wire.Receipt{Seq: seq, Dup: true})}
	}
	if r.logic != nil {
		t0 := time.Now()
		dets, err := r.logic.Accept(&e)
		rc.Logic = time.Since(t0)
		r.record(dets)
		if err != nil {
			return refuse(&logicError{"relay: refused by server logic", err})
		}
	}
	enc := wire.EncodeEnvelope(e)
	if n := wire.DeliverySize(len(enc)); n > r.cfg.MaxFrame {
		return refuse(fmt.Errorf("%w: its delivery frame would be %d bytes, limit %d", ErrUndeliverable, n, r.cfg.MaxFrame))
	}
	return store.Outgoing{Sender: s.user, ID: e.ID, To: e.To, Data: enc}, rc, nil
}

// fetch deletes the records the request acknowledges, then answers with the
// oldest deliverable records of the device's own mailbox, within the frame
// limit, waiting up to the request's Wait (capped at MaxWait) for mail if
// there is none. Woken by new mail, it lingers FetchLinger for more, so a
// steady stream is fetched in batches.
func (r *Relay) fetch(s *session, payload []byte) (wire.Type, []byte, error) {
	req, err := wire.DecodeFetch(payload)
	if err != nil {
		return 0, nil, err
	}
	if req.Mailbox != s.user {
		return 0, nil, ErrNotYours
	}
	if len(req.Ack) > 0 {
		if _, err := r.store.Ack(s.user, req.Ack...); err != nil {
			r.log.Error("ack not stored", "user", s.tag, "err", err)
			return 0, nil, ErrStorage
		}
	}
	deadline := time.Now().Add(min(req.Wait, r.cfg.MaxWait))
	for {
		woken, done := r.hub.watch(string(s.user))
		batch, n, err := r.pending(s, req.Max)
		if err != nil || n > 0 || !time.Now().Before(deadline) {
			done()
			return wire.Batch, batch, err
		}
		r.release(s)
		if err := r.flush(s); err != nil { // answers to earlier requests go out before the wait
			done()
			return 0, nil, err
		}
		r.await(woken, deadline)
		done()
		if r.isClosed() {
			return wire.Batch, batch, nil
		}
	}
}

// await waits for woken, deadline or the relay's end; woken, it lingers.
func (r *Relay) await(woken <-chan struct{}, deadline time.Time) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-woken:
		if linger := min(r.cfg.FetchLinger, time.Until(deadline)); linger > 0 {
			timer.Reset(linger)
			select {
			case <-timer.C:
			case <-r.done:
			}
		}
	case <-timer.C:
	case <-r.done:
	}
}

// pending builds one batch: it sizes it first, charges that to the
// in-flight budget, then reads and checks the records, quarantining those
// that cannot be delivered. It returns the encoded batch and its length.
func (r *Relay) pending(s *session, maxCount int) ([]byte, int, error) {
	lim := store.Limit{Count: maxCount, Bytes: r.cfg.MaxFrame - wire.BatchHeader, Overhead: wire.DeliveryHeader}
	for {
		size, err := r.store.PendingSize(s.user, lim)
		if err != nil {
			r.log.Error("mailbox not readable", "user", s.tag, "err", err)
			return nil, 0, ErrStorage
		}
		if err := r.hold(s, size+wire.BatchHeader); err != nil {
			return nil, 0, err
		}
		items, bad, err := r.store.Pending(s.user, store.Limit{Count: maxCount, Bytes: size, ItemBytes: lim.Bytes, Overhead: wire.DeliveryHeader})
		if err != nil {
			r.log.Error("mailbox not readable", "user", s.tag, "err", err)
			return nil, 0, ErrStorage
		}
		ds := make([]wire.RawDelivery, 0, len(items))
		for _, it := range items {
			if _, err := wire.DecodeEnvelope(it.Data, r.cfg.MaxFrame); err != nil {
				bad = append(bad, &store.RecordError{Bucket: store.Mail, Key: r.store.MailKey(s.user, it.Seq), Err: err})
				continue
			}
			ds = append(ds, wire.RawDelivery{Seq: it.Seq, Envelope: it.Data})
		}
		if !r.quarantine(s, bad) {
			return nil, 0, ErrStorage
		}
		if len(ds) > 0 || len(bad) == 0 {
			return wire.EncodeRawBatch(ds), len(ds), nil
		}
		r.release(s) // every record read was set aside: look again
	}
}

// quarantine sets undeliverable records aside and reports them. It says
// whether every one was set aside.
func (r *Relay) quarantine(s *session, bad []*store.RecordError) bool {
	ok := true
	for _, b := range bad {
		if err := r.store.Quarantine(b.Bucket, b.Key, b.Err.Error()); err != nil {
			r.log.Error("undeliverable record not quarantined", "user", s.tag, "err", err)
			ok = false
			continue
		}
		r.stats.quarantined.Add(1)
		r.log.Error("undeliverable record quarantined", "user", s.tag, "record", fmt.Sprintf("%x", b.Key), "reason", b.Err)
	}
	return ok
}

func (r *Relay) ack(s *session, payload []byte) (wire.Type, []byte, error) {
	seqs, err := wire.DecodeSeqs(payload)
	if err != nil {
		return 0, nil, err
	}
	n, err := r.store.Ack(s.user, seqs...)
	if err != nil {
		r.log.Error("ack not stored", "user", s.tag, "err", err)
		return 0, nil, ErrStorage
	}
	return wire.Acked, wire.EncodeCount(n), nil
}

func (r *Relay) publish(s *session, payload []byte) (wire.Type, []byte, error) {
	b, err := wire.DecodeBundle(payload)
	if err != nil {
		return 0, nil, err
	}
	if err := r.allow(s, "directory", r.cfg.DirectoryRate); err != nil {
		return 0, nil, err
	}
	if err := r.store.PutKeys(s.user, b.Identity, b.OneTime); err != nil {
		r.log.Error("keys not stored", "user", s.tag, "err", err)
		return 0, nil, ErrStorage
	}
	if r.cfg.Keys != nil {
		r.cfg.Keys.Published(s.user, b)
	}
	return wire.Published, nil, nil
}

// keysFor hands out a user's bundle, with a one-time prekey only while that
// user's one-time rate allows: no one can drain them faster.
func (r *Relay) keysFor(s *session, payload []byte) (wire.Type, []byte, error) {
	user, err := wire.DecodeString(payload, wire.MaxID)
	if err != nil {
		return 0, nil, err
	}
	if err := r.allow(s, "directory", r.cfg.DirectoryRate); err != nil {
		return 0, nil, err
	}
	target := scanlab.UserID(user)
	oneTime := r.limits.allow("onetime\x00"+string(r.store.Index(target)), r.cfg.OneTimeRate)
	id, ot, err := r.store.TakeKeys(target, oneTime)
	found := !errors.Is(err, store.ErrNotFound)
	if !found && r.cfg.Keys == nil {
		return 0, nil, fmt.Errorf("relay: %w", scanlab.ErrNoKeys)
	}
	if found && err != nil {
		r.log.Error("keys not readable", "user", s.tag, "err", err)
		return 0, nil, ErrStorage
	}
	b := scanlab.KeyBundle{Identity: id}
	if ot != nil {
		b.OneTime = [][]byte{ot}
	}
	if r.cfg.Keys != nil {
		// The provider's directory service decides what is served.
		if b, err = r.cfg.Keys.Serve(s.user, target, b, found); err != nil {
			return 0, nil, fmt.Errorf("relay: %w", err)
		}
	}
	return wire.Keys, wire.EncodeBundle(b), nil
}

func (r *Relay) report(s *session, payload []byte) (wire.Type, []byte, error) {
	rep, err := wire.DecodeReport(payload, r.cfg.MaxFrame)
	if err != nil {
		return 0, nil, err
	}
	if rep.Reporter != s.user {
		return 0, nil, errors.New("relay: a report must come from its reporter's device")
	}
	if err := r.allow(s, "send", r.cfg.SendRate); err != nil {
		return 0, nil, err
	}
	r.observe("abuse report in relay memory", rep.Evidence, map[string]string{"report-message": rep.MessageID, "reporter": string(rep.Reporter), "accused": string(rep.Accused)})
	if err := r.store.Append(store.Reports, payload); err != nil {
		r.log.Error("report not stored", "user", s.tag, "err", err)
		return 0, nil, ErrStorage
	}
	if r.logic == nil {
		return wire.Reported, wire.EncodeCount(0), nil
	}
	dets, err := r.logic.Verify(rep)
	r.record(dets)
	if err != nil {
		return 0, nil, &logicError{"relay: report not verified", err}
	}
	return wire.Reported, wire.EncodeCount(len(dets)), nil
}

// logicError is a refusal by the mode's server logic. Its text, which the
// device sees, is the mode's and may quote message IDs or content, so the
// relay's log records only what kind of refusal it was ([loggable]).
type logicError struct {
	what string
	err  error
}

func (e *logicError) Error() string { return e.what + ": " + e.err.Error() }
func (e *logicError) Unwrap() error { return e.err }

// loggable returns what of err may go into the log.
func loggable(err error) string {
	var le *logicError
	if errors.As(err, &le) {
		return le.what
	}
	return err.Error()
}

func envelopeFields(e scanlab.Envelope, s *session) map[string]string {
	return map[string]string{
		"message": e.ID,
		"from":    string(e.From),
		"to":      string(e.To),
		"sent":    strconv.FormatInt(e.Sent.UnixNano(), 10),
		"size":    strconv.Itoa(len(e.Body)),
		"device":  string(s.user),
	}
}

func (r *Relay) observe(route string, data []byte, fields map[string]string) {
	if r.cfg.Observe != nil {
		r.cfg.Observe(route, data, fields)
	}
}

// DetectionRecord is how a detection is written to the store's log and to a
// lawful-access export.
type DetectionRecord struct {
	MessageID string          `json:"message_id,omitempty"`
	Account   scanlab.UserID  `json:"account"`
	Pathway   scanlab.Pathway `json:"pathway"`
	At        time.Time       `json:"at"`
	Rule      string          `json:"rule,omitempty"`
	Distance  int             `json:"distance"`
}

func (r *Relay) record(dets []scanlab.Detection) {
	if len(dets) == 0 {
		return
	}
	r.detMu.Lock()
	r.detections = append(r.detections, dets...)
	r.detMu.Unlock()
	for _, d := range dets {
		b, _ := json.Marshal(DetectionRecord(d))
		if err := r.store.Append(store.Detected, b); err != nil {
			r.log.Error("detection not stored", "account", r.LogTag(d.Account), "err", err)
		}
		r.observe("detection log in relay memory", b, map[string]string{"verdict-message": d.MessageID, "account": string(d.Account), "pathway": string(d.Pathway)})
	}
}
