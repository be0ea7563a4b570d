package clientscan

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"image"
	"image/color"
	"image/png"
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
// voucher (decode a 512×512 PNG, PDQ, visual derivative, one voucher),
// without the e2ee encryption; "vouchers-only" leaves out decoding and
// hashing.
func BenchmarkDeviceImage(b *testing.B) {
	data := photo(1, 512)
	for _, v := range benchVariants {
		m := New(Options{List: randomList(1000), Match: v, SyntheticRate: -1})
		d := deviceOf(b, m, "alice", nopDirectory{})
		b.Run("match="+v.String(), func(b *testing.B) {
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
		b.Run("match="+v.String()+"/vouchers-only", func(b *testing.B) {
			var h perceptual.Hash
			rand.Read(h[:])
			ad := encodeAD(h, make([]byte, DerivativeSize))
			for i := 0; b.Loop(); i++ {
				if _, err := d.voucher(fmt.Sprint(i), h, ad, Honest); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkServerVoucher is the provider's cost per voucher (psi Process
// with α, plus this package's bookkeeping and records), for vouchers that
// do not match and for real matches below the threshold, with the voucher
// size and the table size for a list of 1000 entries.
func BenchmarkServerVoucher(b *testing.B) {
	list := randomList(1000)
	for _, v := range benchVariants {
		m := New(Options{List: list, Match: v, SyntheticRate: -1, Threshold: 30})
		d := deviceOf(b, m, "alice", nopDirectory{})
		for _, match := range []bool{false, true} {
			b.Run(fmt.Sprintf("match=%s/member=%v", v, match), func(b *testing.B) {
				// A pool of envelopes, each accepted by a fresh server
				// after every 30, so that no account passes the threshold
				// and no identifier repeats on one server.
				const pool = 30
				var envs []scanlab.Envelope
				for i := range pool {
					var h perceptual.Hash
					rand.Read(h[:])
					if match {
						h = list[i]
					}
					vb, err := d.voucher(fmt.Sprint(i), h, encodeAD(h, make([]byte, DerivativeSize)), Honest)
					if err != nil {
						b.Fatal(err)
					}
					envs = append(envs, scanlab.Envelope{ID: fmt.Sprint(i), From: "alice", To: "bob", Attach: map[string][]byte{AttachVoucher: vb}})
				}
				var srv *Server
				for i := 0; b.Loop(); i++ {
					if i%pool == 0 {
						b.StopTimer()
						srv = serverOf(b, m, nil)
						b.StartTimer()
					}
					e := envs[i%pool]
					if _, err := srv.voucher(&e, e.Attach[AttachVoucher]); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(envs[0].Attach[AttachVoucher])), "bytes/voucher")
				b.ReportMetric(float64(len(m.DeviceHoldings())), "table-bytes")
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
			b.Run(fmt.Sprintf("n=%d/match=%s", n, v), func(b *testing.B) {
				var size int
				for b.Loop() {
					size = len(New(Options{List: list, Match: v}).DeviceHoldings())
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

// nopDirectory is a directory for devices that never start a session.
type nopDirectory struct{}

func (nopDirectory) Publish(scanlab.UserID, scanlab.KeyBundle) error { return nil }
func (nopDirectory) Fetch(scanlab.UserID) (scanlab.KeyBundle, error) {
	return scanlab.KeyBundle{}, scanlab.ErrNoKeys
}
func (nopDirectory) Certificate(scanlab.UserID) ([]byte, error) { return nil, scanlab.ErrNoCertificate }
