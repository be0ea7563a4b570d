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
	// ErrTooLarge means the header declares more pixels than allowed.
	ErrTooLarge = errors.New("perceptual: image too large")
)

// DecodeImage decodes a JPEG, PNG, GIF (first frame) or WebP image.
//
// It reads the header first and refuses, with [ErrTooLarge], an image that
// declares more than maxPixels pixels (width × height), before allocating
// anything for the pixels: a few hundred bytes of PNG can declare a
// gigapixel image (a decompression bomb). maxPixels ≤ 0 means
// [DefaultMaxPixels].
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
