package relay

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"scanlab/kms"
	"scanlab/observe"
	"scanlab/relay/store"
	"scanlab/relay/wire"
)

// Routes by which parties read what the relay keeps.
const (
	RouteAtRest = "at-rest record decrypted with KMS keys"
	RouteRawDB  = "raw database file"
	RouteExport = "lawful-access export"
)

// DatabaseSource is a copy of the relay's database file read with the
// key-management keys k: what an insider or a thief holding both can read.
// Stored envelopes are decoded, so their routing fields are evidence too.
func DatabaseSource(path string, k *kms.Manager) observe.Source {
	return observe.SourceFunc(func() ([]observe.Evidence, error) {
		var evs []observe.Evidence
		err := store.Walk(path, k, func(r store.Record) error {
			ev := observe.Evidence{Route: RouteAtRest, Data: r.Data, Fields: map[string]string{"bucket": r.Bucket}}
			switch r.Bucket {
			case store.Mail:
				if e, err := wire.DecodeEnvelope(r.Data, wire.DefaultMaxFrame); err == nil {
					ev.Fields["message"] = e.ID
					ev.Fields["from"] = string(e.From)
					ev.Fields["to"] = string(e.To)
					ev.Fields["sent"] = strconv.FormatInt(e.Sent.UnixNano(), 10)
					ev.Fields["size"] = strconv.Itoa(len(e.Body))
				}
			case store.Detected:
				var d DetectionRecord
				if json.Unmarshal(r.Data, &d) == nil {
					ev.Fields["verdict-message"] = d.MessageID
				}
			}
			evs = append(evs, ev)
			return nil
		})
		if err != nil && evs == nil {
			return nil, err
		}
		return evs, nil
	})
}

// WriteExport writes an export as JSON to path.
func WriteExport(x Export, path string) error {
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// ExportSource is a lawful-access export file as law enforcement reads it.
func ExportSource(path string) observe.Source {
	return observe.SourceFunc(func() ([]observe.Evidence, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		var x Export
		if err := json.Unmarshal(b, &x); err != nil {
			return nil, fmt.Errorf("relay: export %s: %w", path, err)
		}
		evs := []observe.Evidence{{Route: RouteExport, Data: b}}
		for _, m := range x.Messages {
			evs = append(evs, observe.Evidence{Route: RouteExport, Data: m.Body, Fields: map[string]string{
				"message": m.ID, "from": m.From, "to": m.To,
				"sent": strconv.FormatInt(m.Sent.UnixNano(), 10), "size": strconv.Itoa(m.Size),
			}})
			for _, a := range m.Attach {
				evs = append(evs, observe.Evidence{Route: RouteExport, Data: a, Fields: map[string]string{"message": m.ID}})
			}
		}
		for _, r := range x.Reports {
			evs = append(evs, observe.Evidence{Route: RouteExport, Data: r})
		}
		for _, d := range x.Detections {
			evs = append(evs, observe.Evidence{Route: RouteExport, Fields: map[string]string{"verdict-message": d.MessageID}})
		}
		return evs, nil
	})
}
