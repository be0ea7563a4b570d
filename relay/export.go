package relay

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"scanlab/relay/store"
	"scanlab/relay/wire"
)

// Export is a lawful-access export: everything the provider stores, decrypted
// as far as the provider can decrypt it (the at-rest layer only; an
// end-to-end encrypted body stays ciphertext).
type Export struct {
	Produced   time.Time         `json:"produced"`
	Messages   []ExportedMessage `json:"messages"`
	Reports    [][]byte          `json:"reports"`
	Detections []DetectionRecord `json:"detections"`
	Unreadable int               `json:"unreadable_records"`
}

// ExportedMessage is one stored envelope in an [Export].
type ExportedMessage struct {
	ID     string            `json:"id"`
	From   string            `json:"from"`
	To     string            `json:"to"`
	Sent   time.Time         `json:"sent"`
	Size   int               `json:"size"`
	Body   []byte            `json:"body"`
	Attach map[string][]byte `json:"attachments,omitempty"`
}

// Export builds a lawful-access export of everything stored now.
func (r *Relay) Export() (Export, error) {
	return BuildExport(r.store.ForEach, r.cfg.MaxFrame, r.cfg.Now())
}

// BuildExport builds an export from a walk over decrypted store records.
// Records that do not decrypt are counted, not dropped silently.
func BuildExport(walk func(func(store.Record) error) error, maxFrame int, now time.Time) (Export, error) {
	x := Export{Produced: now.UTC()}
	err := walk(func(rec store.Record) error {
		switch rec.Bucket {
		case store.Mail:
			e, err := wire.DecodeEnvelope(rec.Data, maxFrame)
			if err != nil {
				x.Unreadable++
				return nil
			}
			x.Messages = append(x.Messages, ExportedMessage{ID: e.ID, From: string(e.From), To: string(e.To), Sent: e.Sent, Size: len(e.Body), Body: e.Body, Attach: e.Attach})
		case store.Reports:
			x.Reports = append(x.Reports, rec.Data)
		case store.Detected:
			var d DetectionRecord
			if err := json.Unmarshal(rec.Data, &d); err != nil {
				x.Unreadable++
				return nil
			}
			x.Detections = append(x.Detections, d)
		}
		return nil
	})
	if err != nil {
		// Unreadable records are reported by the walk; the rest is exported.
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			x.Unreadable += len(j.Unwrap())
		} else {
			x.Unreadable++
		}
	}
	sort.Slice(x.Messages, func(i, j int) bool { return x.Messages[i].ID < x.Messages[j].ID })
	if x.Messages == nil && x.Reports == nil && x.Detections == nil && err != nil {
		return x, fmt.Errorf("relay: export: %w", err)
	}
	return x, nil
}
