package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
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
	rc := Receipt{Seq: 3, Logic: time.Millisecond, Store: time.Second}
	gotRc, err := DecodeReceipt(EncodeReceipt(rc))
	if err != nil || gotRc != rc {
		t.Fatalf("receipt: %v %v", gotRc, err)
	}
	f, err := DecodeFetch(EncodeFetch(FetchRequest{"bob", 5}))
	if err != nil || f.Mailbox != "bob" || f.Max != 5 {
		t.Fatalf("fetch: %v %v", f, err)
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
	WriteFrame(&b, Fetch, EncodeFetch(FetchRequest{"bob", 1}))
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
	})
}
