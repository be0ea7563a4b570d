package clientscan

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync/atomic"
	"testing"

	"scanlab"
	"scanlab/perceptual"
)

// photo draws a deterministic n×n picture of overlapping rectangles.
func photo(seed, n int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	r := uint32(seed*7919 + 1)
	next := func(m int) int { r = r*1664525 + 1013904223; return int(r>>8) % m }
	for range 60 {
		x0, y0 := next(n), next(n)
		w, h := n/16+next(n/3), n/16+next(n/3)
		c := color.RGBA{uint8(next(256)), uint8(next(256)), uint8(next(256)), 255}
		for y := y0; y < min(n, y0+h); y++ {
			for x := x0; x < min(n, x0+w); x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// randomList returns n random hashes (a list of that size costs the same to
// blind as a real one).
func randomList(n int) []perceptual.Hash {
	l := make([]perceptual.Hash, n)
	for i := range l {
		rand.Read(l[i][:])
	}
	return l
}

var benchVariants = []MatchVariant{{}, {Chunks: 8}, {Chunks: 16}}

// BenchmarkDeviceImage is the device's cost per image message, scan plus
// vouchers (decode a 512×512 PNG, PDQ, visual derivative, one voucher per PSI
// position), without the e2ee encryption; "vouchers-only" leaves out
// decoding and hashing.
func BenchmarkDeviceImage(b *testing.B) {
	data := photo(1, 512)
	for _, v := range benchVariants {
		m := NewMode(Options{List: randomList(1000), Match: v, SyntheticRate: -1})
		d, err := m.NewClient("alice", nopDirectory{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(v.String(), func(b *testing.B) {
			var size int
			for i := 0; b.Loop(); i++ {
				att, err := d.scanImage(scanlab.Message{ID: fmt.Sprint(i), Content: img(data)}, Honest)
				if err != nil {
					b.Fatal(err)
				}
				size = len(att[AttachVoucher])
			}
			b.ReportMetric(float64(size), "attach-bytes/image")
		})
		b.Run(v.String()+"/vouchers-only", func(b *testing.B) {
			var h perceptual.Hash
			rand.Read(h[:])
			ad := encodeAD(h, make([]byte, DerivativeSize))
			for i := 0; b.Loop(); i++ {
				for pos, a := range d.accounts {
					elem := h[:]
					if v.Chunks > 0 {
						elem = chunkElement(h, pos, v.Chunks)
					}
					if _, err := a.Voucher(d.table, voucherID(fmt.Sprint(i), pos), elem, ad); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkServerVoucher is the provider's cost per voucher (psi Process
// with α only, plus this package's bookkeeping), for vouchers that do not
// match and for real matches below the threshold, with the voucher size and
// the table size for a list of 1000 entries.
func BenchmarkServerVoucher(b *testing.B) {
	list := randomList(1000)
	for _, v := range benchVariants {
		m := NewMode(Options{List: list, Match: v, SyntheticRate: -1, Threshold: 30})
		d, err := m.NewClient("alice", nopDirectory{})
		if err != nil {
			b.Fatal(err)
		}
		for _, match := range []bool{false, true} {
			name := v.String() + "/nonmatch"
			if match {
				name = v.String() + "/match"
			}
			b.Run(name, func(b *testing.B) {
				// A pool of vouchers, replayed under a fresh account each
				// round so that none is a duplicate.
				const pool = 64
				var vs [][]byte
				for i := range pool {
					var h perceptual.Hash
					rand.Read(h[:])
					if match {
						h = list[i]
					}
					vb, err := d.accounts[0].Voucher(d.table, voucherID(fmt.Sprint(i), 0), m.elements([]perceptual.Hash{h})[0], encodeAD(h, make([]byte, DerivativeSize)))
					if err != nil {
						b.Fatal(err)
					}
					enc, _ := vb.MarshalBinary()
					vs = append(vs, enc)
				}
				run := benchRuns.Add(1)
				srv := m.prov.NewServer()
				for i := 0; b.Loop(); i++ {
					// Below the threshold: at most 30 matches per account.
					acct := fmt.Sprintf("bench/%d/%d", run, i/30)
					if _, err := srv.Process(acct, vs[i%pool]); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(vs[0])), "bytes/voucher")
				b.ReportMetric(float64(m.TableBytes()), "table-bytes")
			})
		}
	}
}

// BenchmarkTableSetup is the provider's cost to blind a list of n entries,
// with the table size that ships to every device.
func BenchmarkTableSetup(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		list := randomList(n)
		for _, v := range []MatchVariant{{}, {Chunks: 8}} {
			b.Run(fmt.Sprintf("n=%d/%s", n, v), func(b *testing.B) {
				var size int
				for b.Loop() {
					m := NewMode(Options{List: list, Match: v})
					if err := m.Setup(); err != nil {
						b.Fatal(err)
					}
					size = m.TableBytes()
				}
				b.ReportMetric(float64(size), "table-bytes")
			})
		}
	}
}

// BenchmarkVisualDerivative is the derivative of a decoded 512×512 image.
func BenchmarkVisualDerivative(b *testing.B) {
	im, err := perceptual.DecodeImage(photo(2, 512), 0)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		VisualDerivative(im)
	}
}

// benchRuns numbers benchmark runs, so that each uses fresh PSI accounts.
var benchRuns atomic.Int64

// nopDirectory is a directory for devices that never start a session.
type nopDirectory struct{}

func (nopDirectory) Publish(scanlab.UserID, scanlab.KeyBundle) error { return nil }
func (nopDirectory) Fetch(scanlab.UserID) (scanlab.KeyBundle, error) {
	return scanlab.KeyBundle{}, scanlab.ErrNoKeys
}
