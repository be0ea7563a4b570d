package clientscan

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"image"

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

// voucherID is the identifier of the voucher of a message: the first 16
// bytes of SHA-256 over a label and the message ID. Binding the identifier
// to the envelope lets the provider refuse a voucher copied from another
// message, and a retried envelope (same ID) counts once. Message IDs are
// visible to the provider anyway, so the identifier reveals nothing new
// (the paper's identifiers are non-secret).
func voucherID(messageID string) []byte {
	h := sha256.Sum256([]byte("scanlab clientscan voucher id v2\x00" + messageID))
	return h[:16]
}

// ErrVoucher reports a voucher attachment the provider refuses.
var ErrVoucher = errors.New("clientscan: malformed voucher attachment")

// ErrPlainReport reports a malformed plain-list match report.
var ErrPlainReport = errors.New("clientscan: malformed plain match report")
