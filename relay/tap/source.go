package tap

import (
	"encoding/binary"
	"os"
	"sort"
	"strconv"
	"time"

	"scanlab/observe"
)

// Routes by which the eavesdropper reads a capture.
const (
	RouteRaw     = "raw TCP bytes on the wire"
	RouteTraffic = "TLS record lengths and timing"
)

// TLS record layer constants (RFC 8446 §5.1, §5.2).
const (
	recordHeader     = 5
	appData          = 23
	maxRecordPayload = 1<<14 + 256 // ciphertext bound of TLSCiphertext.length
	aeadOverhead     = 17          // content-type byte + 16-byte tag
)

// Source returns the eavesdropper's view of everything the recorder
// captured: the raw bytes of each stream, and traffic analysis of the
// to-relay direction — each burst of TLS application-data records with its
// time, connection and inner length. Nothing is decrypted.
func (r *Recorder) Source() observe.Source {
	return observe.SourceFunc(func() ([]observe.Evidence, error) {
		if err := r.Flush(); err != nil {
			return nil, err
		}
		var evs []observe.Evidence
		r.mu.Lock()
		paths := make([]string, len(r.files))
		for i, s := range r.files {
			paths[i] = s.path
		}
		chunks := append([]Chunk(nil), r.chunks...)
		r.mu.Unlock()
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			evs = append(evs, observe.Evidence{Route: RouteRaw, Data: b})
		}
		byConn := map[int][]Chunk{}
		replies := map[int][]time.Time{}
		for _, c := range chunks {
			if c.Dir == ToRelay {
				byConn[c.Conn] = append(byConn[c.Conn], c)
			} else {
				replies[c.Conn] = append(replies[c.Conn], c.At)
			}
		}
		ids := make([]int, 0, len(byConn))
		for id := range byConn {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		for _, id := range ids {
			stream, err := r.Stream(id, ToRelay)
			if err != nil {
				return nil, err
			}
			evs = append(evs, bursts(stream, byConn[id], replies[id])...)
		}
		return evs, nil
	})
}

// bursts splits a to-relay stream into TLS records and groups them into
// requests: the records a device sends before the relay next answers on the
// same connection. (TLS splits one write into several records of varying
// size, so record boundaries alone do not mark a message.)
func bursts(stream []byte, chunks []Chunk, replies []time.Time) []observe.Evidence {
	if len(chunks) == 0 {
		return nil
	}
	chunkAt := func(off int64) Chunk {
		i := sort.Search(len(chunks), func(i int) bool { return chunks[i].Offset+int64(chunks[i].Len) > off })
		if i == len(chunks) {
			i = len(chunks) - 1
		}
		return chunks[i]
	}
	// replyBetween reports whether the relay wrote anything in (a, b].
	replyBetween := func(a, b time.Time) bool {
		i := sort.Search(len(replies), func(i int) bool { return replies[i].After(a) })
		return i < len(replies) && !replies[i].After(b)
	}
	var evs []observe.Evidence
	var first Chunk
	var last time.Time
	inner, open := 0, false
	flush := func() {
		if open {
			evs = append(evs, observe.Evidence{Route: RouteTraffic, Fields: map[string]string{
				"remote": first.Remote,
				"at":     strconv.FormatInt(first.At.UnixNano(), 10),
				"length": strconv.Itoa(inner),
			}})
		}
		inner, open = 0, false
	}
	for off := 0; off+recordHeader <= len(stream); {
		typ := stream[off]
		n := int(binary.BigEndian.Uint16(stream[off+3:]))
		if n > maxRecordPayload || off+recordHeader+n > len(stream) {
			break
		}
		if typ == appData {
			c := chunkAt(int64(off))
			if open && replyBetween(last, c.At) {
				flush()
			}
			if !open {
				first, open = c, true
			}
			last = chunkAt(int64(off + recordHeader + n - 1)).At
			inner += n - aeadOverhead
		}
		off += recordHeader + n
	}
	flush()
	return evs
}
