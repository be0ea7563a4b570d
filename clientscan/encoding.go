package clientscan

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"image"

	"scanlab/clientscan/psi"
	"scanlab/perceptual"
)

// DerivativeSide is the side of the visual derivative in pixels, and
// DerivativeSize its length in bytes (one grey byte per pixel).
const (
	DerivativeSide = 32
	DerivativeSize = DerivativeSide * DerivativeSide
)

// VisualDerivative returns the image's "visual derivative": a 32×32 grey
// thumbnail, row by row, one byte per pixel, each the rounded mean luma of
// its cell (cell boundaries ⌊W·i/32⌋, ⌊H·j/32⌋; an image narrower or shorter
// than 32 pixels repeats pixels). Luma is Go's color.GrayModel formula
// (ITU-R BT.601 weights on 16-bit RGB values): on the stored RGB values of an
// *image.RGBA or *image.NRGBA (alpha ignored, as PDQ ignores it), on At's
// values for other types; for a *image.YCbCr the Y plane is used as is and for
// a *image.Gray its pixels. It is deterministic: the same
// decoded pixels always give the same bytes, so the visibility audit can
// compute it on a canary image (after perceptual.DecodeImage) and search a
// party's view for it. It is what a human reviewer would look at after the
// threshold: enough to judge the picture, far less than the picture.
func VisualDerivative(img image.Image) []byte {
	out := make([]byte, DerivativeSize)
	if img == nil {
		return out
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return out
	}
	plane := lumaPlane(img)
	for cy := range DerivativeSide {
		y0, y1 := cellRange(cy, h)
		for cx := range DerivativeSide {
			x0, x1 := cellRange(cx, w)
			var sum uint64
			for y := y0; y < y1; y++ {
				for _, v := range plane[y*w+x0 : y*w+x1] {
					sum += uint64(v)
				}
			}
			n := uint64((y1 - y0) * (x1 - x0))
			out[cy*DerivativeSide+cx] = byte((sum + n/2) / n)
		}
	}
	return out
}

// cellRange returns the pixel range [lo, hi) of cell i along a side of n
// pixels, never empty.
func cellRange(i, n int) (int, int) {
	lo, hi := n*i/DerivativeSide, n*(i+1)/DerivativeSide
	if lo >= n {
		lo = n - 1
	}
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi
}

// lumaPlane returns the image's 8-bit luma, row by row, reading the pixel
// buffers of common decoded types directly.
func lumaPlane(img image.Image) []uint8 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]uint8, w*h)
	switch im := img.(type) {
	case *image.Gray:
		for y := range h {
			i := im.PixOffset(b.Min.X, b.Min.Y+y)
			copy(out[y*w:], im.Pix[i:i+w])
		}
	case *image.YCbCr:
		for y := range h {
			i := im.YOffset(b.Min.X, b.Min.Y+y)
			copy(out[y*w:], im.Y[i:i+w])
		}
	case *image.RGBA:
		rgbPlane(out, im.Pix, im.Stride, im.PixOffset(b.Min.X, b.Min.Y), w, h)
	case *image.NRGBA:
		rgbPlane(out, im.Pix, im.Stride, im.PixOffset(b.Min.X, b.Min.Y), w, h)
	default:
		for y := range h {
			for x := range w {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				out[y*w+x] = grey(r, g, bl)
			}
		}
	}
	return out
}

// rgbPlane fills out with the luma of 8-bit RGBA or NRGBA pixels; alpha is
// ignored, as PDQ ignores it.
func rgbPlane(out, pix []uint8, stride, off, w, h int) {
	for y := range h {
		row := pix[off+y*stride : off+y*stride+4*w]
		o := out[y*w : (y+1)*w]
		for x := range o {
			p := row[4*x : 4*x+3 : 4*x+3]
			o[x] = grey(uint32(p[0])*0x101, uint32(p[1])*0x101, uint32(p[2])*0x101)
		}
	}
}

// grey is the formula of color.GrayModel on 16-bit channels.
func grey(r, g, b uint32) uint8 {
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 24)
}

// encodeAD lays out a voucher's associated data: PDQ hash ‖ derivative.
func encodeAD(h perceptual.Hash, derivative []byte) []byte {
	out := make([]byte, 0, adSize)
	out = append(out, h[:]...)
	return append(out, derivative...)
}

// ErrAD reports opened associated data of the wrong shape.
var ErrAD = errors.New("clientscan: malformed associated data")

// decodeAD splits opened associated data into hash and derivative.
func decodeAD(ad []byte) (perceptual.Hash, []byte, error) {
	if len(ad) != adSize {
		return perceptual.Hash{}, nil, fmt.Errorf("%w: %d bytes, want %d", ErrAD, len(ad), adSize)
	}
	return perceptual.Hash(ad[:perceptual.Size]), ad[perceptual.Size:], nil
}

// voucherID is the identifier of the voucher for PSI position pos of the
// message: the first 16 bytes of SHA-256 over a label, the message ID and the
// position. Binding the identifier to the envelope lets the provider refuse a
// voucher copied from another message, and a retried envelope (same ID) counts
// once. Message IDs are visible to the provider anyway, so the identifier
// reveals nothing new (the paper's identifiers are non-secret).
func voucherID(messageID string, pos int) []byte {
	h := sha256.New()
	h.Write([]byte("scanlab clientscan voucher id v1\x00"))
	h.Write([]byte(messageID))
	h.Write([]byte{0, byte(pos)})
	return h.Sum(nil)[:16]
}

// bundleVersion starts every voucher attachment.
const bundleVersion = 1

// encodeBundle lays out a voucher attachment: version (1) ‖ count (1) ‖ for
// each voucher its length (uint32, big-endian) and bytes.
func encodeBundle(vs [][]byte) []byte {
	n := 2
	for _, v := range vs {
		n += 4 + len(v)
	}
	out := make([]byte, 0, n)
	out = append(out, bundleVersion, byte(len(vs)))
	for _, v := range vs {
		out = binary.BigEndian.AppendUint32(out, uint32(len(v)))
		out = append(out, v...)
	}
	return out
}

// ErrVoucher reports a voucher attachment the provider refuses.
var ErrVoucher = errors.New("clientscan: malformed voucher attachment")

// decodeBundle splits a voucher attachment into exactly want vouchers,
// each at most psi.MaxVoucherSize bytes. The returned slices alias b.
func decodeBundle(b []byte, want int) ([][]byte, error) {
	if len(b) < 2 || b[0] != bundleVersion {
		return nil, fmt.Errorf("%w: bad header", ErrVoucher)
	}
	if int(b[1]) != want {
		return nil, fmt.Errorf("%w: %d vouchers, want %d", ErrVoucher, b[1], want)
	}
	b = b[2:]
	out := make([][]byte, 0, want)
	for range want {
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: truncated", ErrVoucher)
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if n == 0 || n > psi.MaxVoucherSize || uint64(n) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: voucher of %d bytes", ErrVoucher, n)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrVoucher, len(b))
	}
	return out, nil
}

// plainReportSize is the size of a plain-list match report: entry (uint32)
// ‖ distance (1) ‖ hash ‖ derivative.
const plainReportSize = 4 + 1 + adSize

func encodePlainReport(entry, dist int, h perceptual.Hash, derivative []byte) []byte {
	out := make([]byte, 0, plainReportSize)
	out = binary.BigEndian.AppendUint32(out, uint32(entry))
	out = append(out, byte(dist))
	return append(out, encodeAD(h, derivative)...)
}

// ErrPlainReport reports a malformed plain-list match report.
var ErrPlainReport = errors.New("clientscan: malformed plain match report")

func decodePlainReport(b []byte) (entry int, h perceptual.Hash, ad []byte, err error) {
	if len(b) != plainReportSize {
		return 0, h, nil, fmt.Errorf("%w: %d bytes, want %d", ErrPlainReport, len(b), plainReportSize)
	}
	entry = int(binary.BigEndian.Uint32(b))
	ad = b[5:]
	h, _, err = decodeAD(ad)
	return entry, h, ad, err
}
