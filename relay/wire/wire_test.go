package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"runtime"
	"testing"
	"time"

	"scanlab"
)

func sample() scanlab.Envelope {
	return scanlab.Envelope{
		ID: "m-1", From: "alice", To: "bob",
		Sent:   time.Unix(1700000000, 123456789).UTC(),
		Body:   []byte("hello"),
		Attach: map[string][]byte{"voucher": {1, 2, 3}, "frank": {4}},
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	e := sample()
	got, err := DecodeEnvelope(EncodeEnvelope(e), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("got %+v\nwant %+v", got, e)
	}
	// Limits are enforced.
	if _, err := DecodeEnvelope(EncodeEnvelope(e), 2); !errors.Is(err, ErrMalformed) {
		t.Fatalf("body over limit: %v", err)
	}
	enc := EncodeEnvelope(e)
	for n := range len(enc) {
		if _, err := DecodeEnvelope(enc[:n], 1<<20); err == nil {
			t.Fatalf("truncated to %d bytes decoded", n)
		}
	}
	if _, err := DecodeEnvelope(append(enc, 0), 1<<20); err == nil {
		t.Fatal("trailing byte accepted")
	}
}

func TestReadFrameRejects(t *testing.T) {
	var good bytes.Buffer
	WriteFrame(&good, Send, []byte("payload"))
	cases := []struct {
		name string
		in   []byte
		max  int
		want error
	}{
		{"version=2", append([]byte{2, byte(Send), 0, 0, 0, 1}, 'x'), 100, ErrVersion},
		{"type=0", []byte{Version, 0, 0, 0, 0, 0}, 100, ErrMalformed},
		{"type=99", []byte{Version, 99, 0, 0, 0, 0}, 100, ErrMalformed},
		{"oversized", []byte{Version, byte(Send), 0xff, 0xff, 0xff, 0xff}, 100, ErrTooLarge},
		{"over-limit", good.Bytes(), 3, ErrTooLarge},
		{"truncated-payload", good.Bytes()[:8], 100, io.ErrUnexpectedEOF},
		{"truncated-header", good.Bytes()[:3], 100, io.ErrUnexpectedEOF},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(c.in), c.max)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	f, err := ReadFrame(bytes.NewReader(good.Bytes()), 100)
	if err != nil || f.Type != Send || string(f.Payload) != "payload" {
		t.Fatalf("good frame: %+v %v", f, err)
	}
}

func TestComplete(t *testing.T) {
	var two bytes.Buffer
	WriteFrame(&two, Send, []byte("payload"))
	WriteFrame(&two, Fetch, nil)
	one := two.Bytes()[:HeaderSize+7]
	cases := []struct {
		name string
		in   []byte
		typ  Type
		ok   bool
	}{
		{"whole", one, Send, true},
		{"whole-and-more", two.Bytes(), Send, true},
		{"payload-short-by-one", one[:len(one)-1], Send, false},
		{"header-only", one[:HeaderSize], Send, false},
		{"partial-header", one[:HeaderSize-1], 0, false},
		{"empty", nil, 0, false},
		{"empty-payload", two.Bytes()[len(one):], Fetch, true},
		{"other-version", append([]byte{2}, one[1:]...), 0, false},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			typ, ok := Complete(c.in)
			if ok != c.ok || (ok && typ != c.typ) {
				t.Fatalf("Complete = %v, %v; want %v, %v", typ, ok, c.typ, c.ok)
			}
		})
	}
}

// TestReadFrameGrowsWithArrivals checks a frame that announces more than
// it sends never holds a buffer sized to the announcement, and the hook
// sees every chunk before it is read.
func TestReadFrameGrowsWithArrivals(t *testing.T) {
	const announced = 32 << 20
	head := []byte{Version, byte(Send), 0, 0, 0, 0}
	binary.BigEndian.PutUint32(head[2:], announced)
	sent := 3*ChunkSize + 17
	in := io.MultiReader(bytes.NewReader(head), bytes.NewReader(make([]byte, sent)))
	calls, last := 0, 0
	_, err := ReadFrameWith(in, announced, func(have, next int) error {
		if have < last || have > sent || next > ChunkSize {
			t.Fatalf("hook saw have=%d next=%d after have=%d", have, next, last)
		}
		calls++
		last = have
		return nil
	})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want a truncated frame", err)
	}
	if calls < 4 || last < 3*ChunkSize {
		t.Fatalf("%d hook calls, last saw %d bytes of %d sent", calls, last, sent)
	}
	stop := errors.New("over budget")
	_, err = ReadFrameWith(bytes.NewReader(append(head, make([]byte, 10)...)), announced, func(int, int) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("hook error not returned: %v", err)
	}
}

// TestAllocationFollowsArrivals: reading a stalled 32 MiB announcement
// allocates about what arrived, not what was announced.
func TestAllocationFollowsArrivals(t *testing.T) {
	head := []byte{Version, byte(Send), 0x02, 0, 0, 0} // 32 MiB
	var ms1, ms2 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	ReadFrame(io.MultiReader(bytes.NewReader(head), bytes.NewReader(make([]byte, 1000))), 64<<20)
	runtime.ReadMemStats(&ms2)
	if grown := ms2.TotalAlloc - ms1.TotalAlloc; grown > 1<<20 {
		t.Fatalf("a stalled 32 MiB frame allocated %d bytes", grown)
	}
}

func TestOtherRoundTrips(t *testing.T) {
	ds := []Delivery{{7, sample()}, {9, sample()}}
	got, err := DecodeBatch(EncodeBatch(ds), 1<<20)
	if err != nil || !reflect.DeepEqual(got, ds) {
		t.Fatalf("batch: %v %v", got, err)
	}
	seqs, err := DecodeSeqs(EncodeSeqs([]uint64{1, 5}))
	if err != nil || !reflect.DeepEqual(seqs, []uint64{1, 5}) {
		t.Fatalf("seqs: %v %v", seqs, err)
	}
	kb := scanlab.KeyBundle{Identity: []byte("id"), OneTime: [][]byte{[]byte("a"), []byte("b")}}
	gotKB, err := DecodeBundle(EncodeBundle(kb))
	if err != nil || !reflect.DeepEqual(gotKB, kb) {
		t.Fatalf("bundle: %v %v", gotKB, err)
	}
	r := scanlab.Report{MessageID: "m", Reporter: "b", Accused: "a", Evidence: []byte("e")}
	gotR, err := DecodeReport(EncodeReport(r), 100)
	if err != nil || !reflect.DeepEqual(gotR, r) {
		t.Fatalf("report: %v %v", gotR, err)
	}
	for _, rc := range []Receipt{{Seq: 3, Logic: time.Millisecond, Store: time.Second}, {Seq: 4, Dup: true}} {
		gotRc, err := DecodeReceipt(EncodeReceipt(rc))
		if err != nil || gotRc != rc {
			t.Fatalf("receipt: %v %v", gotRc, err)
		}
	}
	f, err := DecodeFetch(EncodeFetch(FetchRequest{"bob", 5, 1500 * time.Millisecond, []uint64{3, 9}}))
	if err != nil || f.Mailbox != "bob" || f.Max != 5 || f.Wait != 1500*time.Millisecond || !reflect.DeepEqual(f.Ack, []uint64{3, 9}) {
		t.Fatalf("fetch: %v %v", f, err)
	}
	if f, _ := DecodeFetch(EncodeFetch(FetchRequest{"bob", 5, 100 * time.Hour, nil})); f.Wait != MaxWait {
		t.Fatalf("fetch wait not capped: %v", f.Wait)
	}
	h, err := DecodeHello(EncodeHello(Hello{MaxFrame: 1 << 20}))
	if err != nil || h.MaxFrame != 1<<20 {
		t.Fatalf("hello: %v %v", h, err)
	}
	if _, err := DecodeHello(EncodeHello(Hello{MaxFrame: 3})); err == nil {
		t.Fatal("hello with a useless frame limit accepted")
	}
	er, err := DecodeError(EncodeError(ErrorReply{Code: Retry, Closing: true, Msg: "later"}))
	if err != nil || er != (ErrorReply{Retry, true, "later"}) {
		t.Fatalf("error reply: %v %v", er, err)
	}
	if _, err := DecodeError(EncodeError(ErrorReply{Code: 9, Msg: "x"})); err == nil {
		t.Fatal("unknown error code accepted")
	}
	raw := []RawDelivery{{7, EncodeEnvelope(sample())}, {9, EncodeEnvelope(sample())}}
	if !bytes.Equal(EncodeRawBatch(raw), EncodeBatch(ds)) {
		t.Fatal("raw batch encoding differs from the batch encoding")
	}
	if n := len(EncodeRawBatch(raw[:1])); n != DeliverySize(len(raw[0].Envelope)) {
		t.Fatalf("one-delivery batch is %d bytes, DeliverySize says %d", n, DeliverySize(len(raw[0].Envelope)))
	}
	if _, err := DecodeSeqs(builder(nil).u32(MaxBatch + 1)); err == nil {
		t.Fatal("oversized ack accepted")
	}
}

// FuzzDecodeEnvelope: decoding never panics, and whatever decodes re-encodes
// to the same bytes (one encoding per envelope).
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(EncodeEnvelope(sample()))
	f.Add([]byte{0, 0, 0, 1, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEnvelope(b, 1<<16)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeEnvelope(e), b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func FuzzReadFrame(f *testing.F) {
	var b bytes.Buffer
	WriteFrame(&b, Fetch, EncodeFetch(FetchRequest{"bob", 1, time.Second, []uint64{1}}))
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		fr, err := ReadFrame(bytes.NewReader(in), 1<<16)
		if err != nil {
			return
		}
		DecodeFetch(fr.Payload)
		DecodeBatch(fr.Payload, 1<<16)
		DecodeSeqs(fr.Payload)
		DecodeBundle(fr.Payload)
		DecodeReport(fr.Payload, 1<<16)
		DecodeReceipt(fr.Payload)
		DecodeHello(fr.Payload)
		DecodeError(fr.Payload)
	})
}
