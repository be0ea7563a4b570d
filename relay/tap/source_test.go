package tap

import (
	"encoding/binary"
	"strconv"
	"testing"
	"time"
)

// record builds one TLS record of the given type with n payload bytes.
func record(typ byte, n int) []byte {
	r := make([]byte, recordHeader+n)
	r[0], r[1], r[2] = typ, 3, 3
	binary.BigEndian.PutUint16(r[3:], uint16(n))
	return r
}

// TestBurstsGroupRequests checks that records sent before the relay answers
// form one burst, whose inner length is the sum of the records' plaintexts.
func TestBurstsGroupRequests(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var stream []byte
	var chunks []Chunk
	add := func(rec []byte, at time.Time) {
		chunks = append(chunks, Chunk{Conn: 1, Dir: ToRelay, Remote: "dev", At: at, Offset: int64(len(stream)), Len: len(rec)})
		stream = append(stream, rec...)
	}
	add(record(22, 100), t0)                                            // handshake: not counted
	add(record(appData, 1000+aeadOverhead), t0.Add(1*time.Millisecond)) // request 1, two records
	add(record(appData, 500+aeadOverhead), t0.Add(2*time.Millisecond))
	add(record(appData, 70+aeadOverhead), t0.Add(10*time.Millisecond)) // request 2
	replies := []time.Time{t0.Add(5 * time.Millisecond), t0.Add(12 * time.Millisecond)}
	evs := bursts(stream, chunks, replies)
	if len(evs) != 2 {
		t.Fatalf("%d bursts, want 2: %+v", len(evs), evs)
	}
	for i, want := range []int{1500, 70} {
		if got := evs[i].Fields["length"]; got != strconv.Itoa(want) {
			t.Errorf("burst %d length %s, want %d", i, got, want)
		}
	}
}

// FuzzBursts: arbitrary capture bytes never make the analysis panic.
func FuzzBursts(f *testing.F) {
	f.Add(append(record(appData, 40), record(appData, 3)...))
	f.Add([]byte{23, 3, 3, 0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		chunks := []Chunk{{Conn: 1, Dir: ToRelay, At: time.Unix(1, 0), Offset: 0, Len: len(b)}}
		bursts(b, chunks, []time.Time{time.Unix(2, 0)})
	})
}
