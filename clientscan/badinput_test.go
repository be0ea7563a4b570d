package clientscan

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"maps"
	"testing"
	"time"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/e2ee"
	"scanlab/observe"
)

// bench is a mode, two devices on an in-memory directory and the provider
// logic, without a relay.
type bench struct {
	m          *Mode
	alice, bob *Device
	srv        *Server
	log        *observe.Log
	n          int
}

func newBench(t testing.TB, o Options) *bench {
	t.Helper()
	m := fullMode(t, o)
	dir := e2ee.NewMemoryDirectory()
	b := &bench{m: m, log: &observe.Log{}}
	b.alice, b.bob = deviceOf(t, m, "alice", dir), deviceOf(t, m, "bob", dir)
	b.srv = serverOf(t, m, b.log)
	return b
}

// serverOf makes a server of the mode outside a relay, recording into log.
func serverOf(t testing.TB, m *Mode, log *observe.Log) *Server {
	t.Helper()
	key := bytes.Repeat([]byte{7}, 32)
	env := scanlab.ServerEnv{Now: time.Now, Secret: func(string) ([]byte, error) { return key, nil }}
	if log != nil {
		env.Record = log.Record
	}
	l, err := m.NewServer(env)
	if err != nil {
		t.Fatal(err)
	}
	return l.(*Server)
}

func (b *bench) seal(t testing.TB, c scanlab.Content) scanlab.Envelope {
	t.Helper()
	b.n++
	e, err := b.alice.Seal(scanlab.Message{ID: fmt.Sprintf("b-%04d", b.n), From: "alice", To: "bob", Sent: time.Now(), Content: c})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// accept hands the server a copy of e (Accept strips attachments).
func (b *bench) accept(e scanlab.Envelope) ([]scanlab.Detection, error) {
	e.Attach = maps.Clone(e.Attach)
	return b.srv.Accept(&e)
}

// TestBadVouchers: every malformed voucher attachment is refused with
// ErrVoucher and counted, changes no account state, and the next valid
// envelope is processed normally.
func TestBadVouchers(t *testing.T) {
	f := newFixture(t, 1, 2)
	b := newBench(t, Options{List: f.hashes[:1], Threshold: 2, SyntheticRate: -1})
	good := b.seal(t, img(f.data[0]))
	other := b.seal(t, img(f.data[1]))
	voucher := good.Attach[AttachVoucher]
	mut := func(fn func([]byte) []byte) []byte { return fn(bytes.Clone(voucher)) }
	// Offsets in a serialised voucher: version, id length, 16-byte id, Q1.
	const q1 = 2 + 16
	rctLen := q1 + 2*(psi.PointSize+92)
	cases := []struct {
		name    string
		voucher []byte
	}{
		{"empty", nil},
		{"bad-version", mut(func(x []byte) []byte { x[0] = 9; return x })},
		{"truncated", mut(func(x []byte) []byte { return x[:len(x)-10] })},
		{"trailing", mut(func(x []byte) []byte { return append(x, 0) })},
		{"huge", make([]byte, psi.MaxVoucherSize+1)},
		{"id-length", mut(func(x []byte) []byte { x[1] = 0; return x })},
		{"bad-point", mut(func(x []byte) []byte { x[q1] = 0x05; return x })},
		{"short-ciphertext", mut(func(x []byte) []byte {
			binary.BigEndian.PutUint32(x[rctLen:], binary.BigEndian.Uint32(x[rctLen:])-1)
			return x[:len(x)-1]
		})},
		{"foreign-id", other.Attach[AttachVoucher]},
	}
	for i, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			e := good
			e.Attach = maps.Clone(good.Attach)
			e.Attach[AttachVoucher] = c.voucher
			_, err := b.accept(e)
			if !errors.Is(err, ErrVoucher) {
				t.Fatalf("err = %v, want ErrVoucher", err)
			}
			if st := b.srv.Stats(); st.Malformed != i+1 || st.Envelopes != 0 {
				t.Fatalf("stats %+v", st)
			}
			if v := b.srv.Account("alice"); v.Vouchers != 0 {
				t.Fatalf("refused voucher changed the account: %+v", v)
			}
		})
	}
	// Nothing was lost: the genuine envelope is processed, and its retry
	// (same ID, same voucher) is accepted and counted once.
	for range 2 {
		if _, err := b.accept(good); err != nil {
			t.Fatal(err)
		}
	}
	if st, v := b.srv.Stats(), b.srv.Account("alice"); st.Envelopes != 2 || st.Duplicates != 1 || v.Vouchers != 1 || v.Matches != 1 {
		t.Fatalf("after retry: stats %+v view %+v", st, v)
	}
}

// TestBadAttachments covers the other attachments and envelope shapes.
func TestBadAttachments(t *testing.T) {
	f := newFixture(t, 1)
	b := newBench(t, Options{List: f.hashes, Threshold: 2, SyntheticRate: -1})
	text := b.seal(t, txt("hello"))
	image := b.seal(t, img(f.data[0]))
	cases := []struct {
		name string
		env  func() scanlab.Envelope
		want error
	}{
		{"verdict-two-bytes", func() scanlab.Envelope {
			e := text
			e.Attach = maps.Clone(text.Attach)
			e.Attach[AttachTextVerdict] = []byte{0, 1}
			return e
		}, ErrVerdict},
		{"verdict-value", func() scanlab.Envelope {
			e := text
			e.Attach = maps.Clone(text.Attach)
			e.Attach[AttachTextVerdict] = []byte{2}
			return e
		}, ErrVerdict},
		{"plain-report-in-psi-mode", func() scanlab.Envelope {
			e := text
			e.Attach = maps.Clone(text.Attach)
			e.Attach[AttachPlainMatch] = make([]byte, adSize)
			return e
		}, ErrPlainReport},
		{"voucher-without-sender", func() scanlab.Envelope { e := image; e.Attach = maps.Clone(image.Attach); e.From = ""; return e }, ErrNoAccount},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := b.accept(c.env()); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	if st := b.srv.Stats(); st.BadVerdicts != 2 || st.BadPlain != 1 || st.Envelopes != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestUndecodableImages: the device still sends an image it cannot decode
// (or one over perceptual's pixel limit, or below its quality gate), with a
// voucher of the same size as any other, which never matches.
func TestUndecodableImages(t *testing.T) {
	f := newFixture(t, 1)
	b := newBench(t, Options{List: f.hashes, Threshold: 2, SyntheticRate: -1})
	flat := testImageFlat()
	normal := len(b.seal(t, img(f.data[0])).Attach[AttachVoucher])
	cases := []struct {
		name  string
		b     *bench
		image []byte
		stat  func(DeviceStats) int
	}{
		{"not-an-image", b, []byte("definitely not an image"), func(s DeviceStats) int { return s.Undecodable }},
		{"truncated-png", b, f.data[0][:len(f.data[0])/2], func(s DeviceStats) int { return s.Undecodable }},
		{"over-pixel-limit", b, pngDeclaring(20_000, 20_000), func(s DeviceStats) int { return s.Undecodable }},
		{"flat-low-quality", b, flat, func(s DeviceStats) int { return s.LowQuality }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := c.stat(c.b.alice.Stats())
			e := c.b.seal(t, img(c.image))
			if got := len(e.Attach[AttachVoucher]); got != normal {
				t.Fatalf("voucher attachment of %d bytes, a decodable image gets %d", got, normal)
			}
			if c.stat(c.b.alice.Stats()) != before+1 {
				t.Fatalf("not counted: %+v", c.b.alice.Stats())
			}
			if _, err := c.b.accept(e); err != nil {
				t.Fatal(err)
			}
			msg, err := c.b.bob.Open(e)
			if err != nil || !bytes.Equal(msg.Content.Image, c.image) {
				t.Fatalf("recipient: %v", err)
			}
		})
	}
	if v := b.srv.Account("alice"); v.Vouchers != 4 || v.Matches != 0 {
		t.Fatalf("undecodable images matched: %+v", v)
	}
}

// pngDeclaring returns a small PNG whose header declares w×h pixels: a
// 1×1 image with its IHDR rewritten (and its checksum recomputed), which
// perceptual refuses before decoding anything.
func pngDeclaring(w, h uint32) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	const ihdr = 8 // after the signature: length (4), "IHDR" (4), data (13), CRC (4)
	binary.BigEndian.PutUint32(b[ihdr+8:], w)
	binary.BigEndian.PutUint32(b[ihdr+12:], h)
	binary.BigEndian.PutUint32(b[ihdr+21:], crc32.ChecksumIEEE(b[ihdr+4:ihdr+21]))
	return b
}

// testImageFlat is a featureless image: PDQ quality 0.
func testImageFlat() []byte {
	g := image.NewGray(image.Rect(0, 0, 96, 96))
	for i := range g.Pix {
		g.Pix[i] = 128
	}
	var b bytes.Buffer
	png.Encode(&b, g)
	return b.Bytes()
}

// rootOf computes a table's root as psi does (SHA-256 over its domain label
// and the bytes), to model a provider that publishes the root of a bad
// table.
func rootOf(table []byte) [32]byte {
	return sha256.Sum256(append([]byte("scanlab psi table root v1\x00"), table...))
}

// TestVoucherOnText: the provider cannot tell a text from an image (the
// kind is encrypted), so a voucher a modified client attaches to a text is
// processed like any other; honest devices never attach one.
func TestVoucherOnText(t *testing.T) {
	f := newFixture(t, 1)
	b := newBench(t, Options{List: f.hashes, Threshold: 2, SyntheticRate: -1})
	if e := b.seal(t, txt("hello")); len(e.Attach[AttachVoucher]) != 0 {
		t.Fatal("honest device attached a voucher to a text")
	}
	m := scanlab.Message{ID: "text-with-voucher", From: "alice", To: "bob", Sent: time.Now(), Content: txt("hello")}
	extra, err := b.alice.scanImage(scanlab.Message{ID: m.ID, Content: img(f.data[0])}, Honest)
	if err != nil {
		t.Fatal(err)
	}
	e, err := b.alice.E2EE().SealWith(m, extra)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.accept(e); err != nil {
		t.Fatal(err)
	}
	if v := b.srv.Account("alice"); v.Vouchers != 1 || v.Matches != 1 {
		t.Fatalf("account %+v", v)
	}
}

// TestBadAssociatedData: opened associated data of the wrong shape (a
// modified client) is counted and raises nothing.
func TestBadAssociatedData(t *testing.T) {
	f := newFixture(t, 1)
	const th = 2
	b := newBench(t, Options{List: f.hashes, Threshold: th, SyntheticRate: -1})
	for i := range th + 1 {
		id := fmt.Sprintf("bad-ad-%d", i)
		v, err := b.alice.keys.Voucher(b.alice.pub.table, voucherID(id), f.hashes[0][:], []byte("short"))
		if err != nil {
			t.Fatal(err)
		}
		vb, _ := v.MarshalBinary()
		e, err := b.alice.E2EE().SealWith(scanlab.Message{ID: id, From: "alice", To: "bob", Content: img(f.data[0])},
			map[string][]byte{AttachVoucher: vb})
		if err != nil {
			t.Fatal(err)
		}
		if dets, err := b.accept(e); err != nil || len(dets) != 0 {
			t.Fatalf("%v %v", dets, err)
		}
	}
	if st := b.srv.Stats(); st.BadAD != th+1 || st.Detections != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestBadTable: a device refuses a table that does not decode or does not
// match the published root, including a table whose root a provider
// computed over bad points.
func TestBadTable(t *testing.T) {
	f := newFixture(t, 1, 2)
	m := New(Options{List: f.hashes})
	good, root := m.DeviceHoldings(), published(t, m).Root
	last := len(good) - psi.PointSize
	badPoint := bytes.Clone(good)
	badPoint[last] = 0x05
	repeated := bytes.Clone(good)
	copy(repeated[last:], good[last-psi.PointSize:last])
	cases := []struct {
		name  string
		table []byte
		root  [32]byte
		want  error
	}{
		{"empty", nil, root, psi.ErrBadTable},
		{"truncated", good[:len(good)-5], root, psi.ErrBadTable},
		{"flipped-point", func() []byte { x := bytes.Clone(good); x[len(x)-1] ^= 1; return x }(), root, psi.ErrTableRoot},
		{"other-table", New(Options{List: f.hashes[:1]}).DeviceHoldings(), root, psi.ErrTableRoot},
		{"bad-point", badPoint, rootOf(badPoint), psi.ErrBadPoint},
		{"repeated-point", repeated, rootOf(repeated), psi.ErrRepeatedPoint},
	}
	for _, c := range cases {
		t.Run("case="+c.name, func(t *testing.T) {
			if _, err := LoadTable(c.table, c.root); !errors.Is(err, ErrTable) || !errors.Is(err, c.want) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if _, err := LoadTable(good, root); err != nil {
		t.Fatalf("good table refused: %v", err)
	}
}

// FuzzAccept hands the provider arbitrary voucher, verdict and plain-report
// attachments on a genuine envelope: it must refuse or accept, never panic,
// and never count a refused voucher. Seeds come from testdata (see
// TestSeeds) and from a live envelope.
func FuzzAccept(f *testing.F) {
	fx := newFixture(f, 1)
	b := newBench(f, Options{List: fx.hashes, Threshold: 2, SyntheticRate: -1})
	e := b.seal(f, img(fx.data[0]))
	f.Add(e.Attach[AttachVoucher], []byte{1}, []byte(nil))
	f.Add(readSeed(f, "voucher.bin"), []byte(nil), readSeed(f, "plain-report.bin"))
	f.Fuzz(func(t *testing.T, voucher, verdict, plain []byte) {
		env := e
		env.Attach = maps.Clone(e.Attach)
		env.Attach[AttachVoucher] = voucher
		if verdict != nil {
			env.Attach[AttachTextVerdict] = verdict
		}
		if plain != nil {
			env.Attach[AttachPlainMatch] = plain
		}
		before := b.srv.Account("alice").Vouchers
		_, err := b.accept(env)
		if after := b.srv.Account("alice").Vouchers; err != nil && after != before {
			t.Fatalf("refused envelope changed the account: %v", err)
		}
	})
}

// FuzzPlainReport hands the plain variant's provider arbitrary match
// reports: a report of the wrong size is refused with ErrPlainReport, any
// other is judged, and nothing panics.
func FuzzPlainReport(f *testing.F) {
	fx := newFixture(f, 1)
	b := newBench(f, Options{List: fx.hashes, ListVariant: ListPlain})
	f.Add(readSeed(f, "plain-report.bin"))
	f.Add(make([]byte, adSize-1))
	e := b.seal(f, txt("hello"))
	f.Fuzz(func(t *testing.T, report []byte) {
		env := e
		env.Attach = maps.Clone(e.Attach)
		env.Attach[AttachPlainMatch] = report
		_, err := b.accept(env)
		if (err != nil) != (len(report) != adSize) || err != nil && !errors.Is(err, ErrPlainReport) {
			t.Fatalf("report of %d bytes: %v", len(report), err)
		}
	})
}
