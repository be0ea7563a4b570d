package tap

import (
	"encoding/binary"
	"os"
	"sort"
	"strconv"

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
		for _, c := range chunks {
			if c.Dir == ToRelay {
				byConn[c.Conn] = append(byConn[c.Conn], c)
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
			evs = append(evs, bursts(stream, byConn[id])...)
		}
		return evs, nil
	})
}

// bursts splits a to-relay stream into TLS records and groups each run of
// full-size records plus the record that ends it (one write by the device)
// into one burst.
func bursts(stream []byte, chunks []Chunk) []observe.Evidence {
	timeAt := func(off int64) Chunk {
		i := sort.Search(len(chunks), func(i int) bool { return chunks[i].Offset+int64(chunks[i].Len) > off })
		if i == len(chunks) {
			i = len(chunks) - 1
		}
		return chunks[i]
	}
	var evs []observe.Evidence
	inner, start := 0, int64(-1)
	for off := 0; off+recordHeader <= len(stream); {
		typ := stream[off]
		n := int(binary.BigEndian.Uint16(stream[off+3:]))
		if n > maxRecordPayload || off+recordHeader+n > len(stream) {
			break
		}
		if typ == appData {
			if start < 0 {
				start = int64(off)
			}
			inner += n - aeadOverhead
			if n < maxRecordPayload-256+aeadOverhead { // not a full record: the write ends here
				c := timeAt(start)
				evs = append(evs, observe.Evidence{Route: RouteTraffic, Fields: map[string]string{
					"remote": c.Remote,
					"at":     strconv.FormatInt(c.At.UnixNano(), 10),
					"length": strconv.Itoa(inner),
				}})
				inner, start = 0, -1
			}
		}
		off += recordHeader + n
	}
	return evs
}
