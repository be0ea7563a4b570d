package falsematch

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"scanlab/perceptual"
)

// Photo is the PDQ hash of one real photograph, with where it came from.
// Only this derived record is committed; the photographs stay in the
// packages that ship them.
type Photo struct {
	Hash    perceptual.Hash
	Quality int    // PDQ quality, 0..100
	Width   int    // pixels
	Height  int    // pixels
	Scene   string // what the photo shows; files of one scene (re-encodings, crops, edits) share it
	Source  string // who ships the file, with version: "debian:mate-backgrounds 1.26.0-1"
	File    string // path inside the source
	Licence string // the file's licence as its source states it
	SHA256  string // first 16 hex digits of the SHA-256 of the file's bytes
}

// Usable reports whether the hash may be matched: quality at least
// [perceptual.MinQuality].
func (p Photo) Usable() bool { return p.Quality >= perceptual.MinQuality }

// Limits of [ReadPhotos].
const (
	MaxPhotoLine   = 4 << 10 // bytes per line
	MaxPhotoRecord = 100_000 // records per file
)

// photoFields is the number of tab-separated fields of a record.
const photoFields = 9

// ErrPhotoSyntax is returned (wrapped, with the line number) by
// [ReadPhotos] for a line that is not a record.
var ErrPhotoSyntax = errors.New("falsematch: bad photo hash file")

//go:embed realphotos.tsv
var realPhotosTSV string

// RealPhotos returns the hashes of every real photograph the project could
// find offline, as committed in realphotos.tsv (see README.md for how it
// was made and [HashSources] for how to make it again).
func RealPhotos() ([]Photo, error) {
	return ReadPhotos(strings.NewReader(realPhotosTSV))
}

// ReadPhotos reads a photo hash file: UTF-8 text, one record per line,
// nine tab-separated fields in the order of [Photo] (the hash as 64
// hexadecimal digits, quality, width, height, scene, source, file, licence,
// SHA-256 prefix). Lines starting with # and blank lines are skipped. Lines
// longer than [MaxPhotoLine] bytes, more than [MaxPhotoRecord] records, and
// any malformed field are errors naming the line.
func ReadPhotos(r io.Reader) ([]Photo, error) {
	br := bufio.NewReaderSize(r, MaxPhotoLine+2)
	var out []Photo
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrPhotoSyntax, n, err)
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(out) == MaxPhotoRecord {
			return nil, fmt.Errorf("%w: line %d: more than %d records", ErrPhotoSyntax, n, MaxPhotoRecord)
		}
		p, err := parsePhoto(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrPhotoSyntax, n, err)
		}
		out = append(out, p)
	}
}

// readLine returns the next line without its end (LF or CR LF), refusing
// lines over MaxPhotoLine bytes.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull || len(b) > MaxPhotoLine+1 {
		return "", fmt.Errorf("line longer than %d bytes", MaxPhotoLine)
	}
	if err == io.EOF && len(b) > 0 {
		err = nil
	}
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if !utf8.ValidString(s) {
		return "", errors.New("not UTF-8")
	}
	return s, nil
}

func parsePhoto(line string) (Photo, error) {
	f := strings.Split(line, "\t")
	if len(f) != photoFields {
		return Photo{}, fmt.Errorf("%d fields, want %d", len(f), photoFields)
	}
	var p Photo
	if err := p.Hash.UnmarshalText([]byte(f[0])); err != nil || len(f[0]) != 2*perceptual.Size {
		return Photo{}, fmt.Errorf("hash %q is not %d hexadecimal digits", f[0], 2*perceptual.Size)
	}
	var err error
	if p.Quality, err = intField("quality", f[1], 0, 100); err != nil {
		return Photo{}, err
	}
	if p.Width, err = intField("width", f[2], 1, 1<<20); err != nil {
		return Photo{}, err
	}
	if p.Height, err = intField("height", f[3], 1, 1<<20); err != nil {
		return Photo{}, err
	}
	p.Scene, p.Source, p.File, p.Licence, p.SHA256 = f[4], f[5], f[6], f[7], f[8]
	for i, s := range []string{p.Scene, p.Source, p.File, p.Licence} {
		if s == "" || strings.TrimSpace(s) != s || strings.ContainsFunc(s, isControl) {
			return Photo{}, fmt.Errorf("field %d (%s) is empty, padded or has control characters", 5+i, [...]string{"scene", "source", "file", "licence"}[i])
		}
	}
	if len(p.SHA256) != 16 || strings.ContainsFunc(p.SHA256, func(r rune) bool { return !strings.ContainsRune("0123456789abcdef", r) }) {
		return Photo{}, fmt.Errorf("sha256 %q is not 16 lowercase hexadecimal digits", p.SHA256)
	}
	return p, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func intField(name, s string, lo, hi int) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%s %q is not an integer in %d..%d", name, s, lo, hi)
	}
	return v, nil
}

// photoHeader opens every photo hash file [WritePhotos] writes.
const photoHeader = `# PDQ hashes of real photographs available offline to scanlab: derived data only.
# Made by falsematch.HashSources; see falsematch/README.md. Fields (tab-separated):
# hash	quality	width	height	scene	source	file	licence	sha256-prefix
`

// WritePhotos writes photos in the format [ReadPhotos] reads, after a
// comment header. Fields must not contain tabs or line ends.
func WritePhotos(w io.Writer, photos []Photo) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(photoHeader)
	for _, p := range photos {
		fmt.Fprintf(bw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", p.Hash, p.Quality, p.Width, p.Height, p.Scene, p.Source, p.File, p.Licence, p.SHA256)
	}
	return bw.Flush()
}
