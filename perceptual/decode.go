package perceptual

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"

	// The formats DecodeImage accepts.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"
)

// DefaultMaxPixels is the pixel limit [DecodeImage] applies when given a
// limit of 0 or less: 100 megapixels, about 400 MB of RGBA.
const DefaultMaxPixels = 100_000_000

// Errors returned (wrapped) by [DecodeImage], for callers that branch on the
// kind of bad input.
var (
	// ErrNotImage means the data is not in a supported format: JPEG, PNG,
	// GIF or WebP.
	ErrNotImage = errors.New("perceptual: not a JPEG, PNG, GIF or WebP image")
	// ErrTruncated means the data ends before the image does.
	ErrTruncated = errors.New("perceptual: truncated image")
	// ErrEmptyImage means the image has no pixels (a zero width or height).
	ErrEmptyImage = errors.New("perceptual: image has zero width or height")
	// ErrTooLarge means the header declares more pixels than allowed, or
	// a JPEG has more scans than maxJPEGScans.
	ErrTooLarge = errors.New("perceptual: image too large")
)

// DecodeImage decodes a JPEG, PNG, GIF (first frame) or WebP image.
//
// It reads the header first and refuses, with [ErrTooLarge], an image that
// declares more than maxPixels pixels (width × height), before allocating
// anything for the pixels: a few hundred bytes of PNG can declare a
// gigapixel image (a decompression bomb). maxPixels ≤ 0 means
// [DefaultMaxPixels]. A JPEG with more than 100 scans is refused the same
// way, as each scan costs a pass over the whole image.
//
// Other failures wrap [ErrNotImage], [ErrTruncated] or [ErrEmptyImage] when
// they are of that kind, or carry the decoder's own message ("invalid
// format: ..." and the like) otherwise. EXIF orientation is not applied,
// matching the PDQ reference.
func DecodeImage(data []byte, maxPixels int) (image.Image, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrNotImage)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, decodeError(err, "")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %s header says %d×%d", ErrEmptyImage, format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("%w: %s header says %d×%d = %d pixels, the limit is %d",
			ErrTooLarge, format, cfg.Width, cfg.Height, int64(cfg.Width)*int64(cfg.Height), maxPixels)
	}
	if format == "jpeg" {
		if n := jpegScans(data); n > maxJPEGScans {
			return nil, fmt.Errorf("%w: jpeg has %d scans, the limit is %d", ErrTooLarge, n, maxJPEGScans)
		}
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		if truncated(format, data) {
			return nil, fmt.Errorf("%w: %s image ends early (%v)", ErrTruncated, format, err)
		}
		return nil, decodeError(err, format)
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("%w: %s image is %d×%d", ErrEmptyImage, format, b.Dx(), b.Dy())
	}
	if int64(b.Dx())*int64(b.Dy()) > int64(maxPixels) {
		// The header and the decoded image disagree; never happens with
		// the standard decoders, checked all the same.
		return nil, fmt.Errorf("%w: %s image is %d×%d", ErrTooLarge, format, b.Dx(), b.Dy())
	}
	return img, nil
}

// maxJPEGScans is the most scans DecodeImage lets a JPEG have. A scan of a
// progressive JPEG may revisit every block of its component, and can be
// coded in a few bytes (an end-of-band run over the whole image), so a
// small file with thousands of scans could cost thousands of passes over an
// image within the pixel limit. Encoders write 1 scan (baseline) or about
// 10 (progressive); 100 leaves ample room. This is a precaution: the test
// file with many scans is refused before the decoder sees it.
const maxJPEGScans = 100

// jpegScans counts the start-of-scan (SOS) markers of a JPEG stream,
// walking its marker segments so that bytes inside other segments (an EXIF
// thumbnail, say) are not counted.
func jpegScans(data []byte) int {
	n := 0
	for i := 2; i+1 < len(data); { // data[0:2] is SOI
		if data[i] != 0xff { // entropy-coded data
			i++
			continue
		}
		switch m := data[i+1]; {
		case m == 0xff: // fill byte
			i++
		case m == 0x00, m == 0x01, m >= 0xd0 && m <= 0xd8: // stuffing, TEM, RSTn, SOI
			i += 2
		case m == 0xd9: // EOI
			return n
		default: // a segment with a length: skip it
			if i+3 >= len(data) {
				return n
			}
			if m == 0xda {
				n++
			}
			i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
		}
	}
	return n
}

// truncated reports whether data, which failed to decode as format, lacks
// the format's end: JPEG's EOI marker, PNG's IEND chunk, GIF's trailer byte,
// or the length a WebP file's RIFF header declares. Decoders report a
// missing end in many ways ("short Huffman data", "not enough pixel data",
// an unexpected EOF), so the file's end is checked instead.
func truncated(format string, data []byte) bool {
	switch format {
	case "jpeg":
		return !bytes.HasSuffix(bytes.TrimRight(data, "\x00"), []byte{0xff, 0xd9})
	case "png":
		return !bytes.HasSuffix(data, []byte("IEND\xaeB`\x82"))
	case "gif":
		return !bytes.HasSuffix(data, []byte{0x3b})
	case "webp":
		return len(data) < 8 || uint64(len(data)) < 8+uint64(binary.LittleEndian.Uint32(data[4:8]))
	}
	return false
}

// decodeError classifies a decoder error; format is empty while the header
// is being read.
func decodeError(err error, format string) error {
	what := "image header"
	if format != "" {
		what = format + " image"
	}
	switch {
	case errors.Is(err, image.ErrFormat):
		return ErrNotImage
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w: %s ends early", ErrTruncated, what)
	}
	return fmt.Errorf("perceptual: bad %s: %w", what, err)
}
