package perceptual

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// List is a hash list: the hashes a scanner matches against, each with an
// optional label (for example a case or file name) and quality.
//
// # Text format
//
// One entry per line, UTF-8:
//
//	HASH
//	HASH,LABEL
//	HASH,QUALITY,LABEL
//
// HASH is 64 hexadecimal digits as printed by [Hash.String] (either case).
// QUALITY is an integer 0..100 or empty. LABEL is the rest of the line and
// may itself contain commas; a label that begins with digits and a comma
// must be written after an empty quality field (HASH,,LABEL) to be read
// back as a label, which [List.WriteTo] does. The third form is the output
// of "scanlab hash" (hash, quality, file name), and of the PDQ reference
// tool, so its output can be used as a list as it is. Space around fields
// is ignored; blank lines and lines starting with # are skipped; a line
// may end in CR LF.
type List struct {
	Hashes    []Hash
	Labels    []string // "" for none
	Qualities []int    // -1 for none
}

// Len returns the number of entries.
func (l *List) Len() int { return len(l.Hashes) }

// Add appends an entry; quality is -1 when unknown.
func (l *List) Add(h Hash, quality int, label string) {
	l.Hashes = append(l.Hashes, h)
	l.Qualities = append(l.Qualities, quality)
	l.Labels = append(l.Labels, label)
}

// maxLine is the longest line ReadList accepts, in bytes.
const maxLine = 64 * 1024

// ErrListSyntax is returned (wrapped, with the line number) by [ReadList]
// for a line that is not a list entry.
var ErrListSyntax = errors.New("perceptual: bad hash list")

// ReadList reads a hash list in the text format of [List]. Every line is
// checked; the error for a bad one names its line number (from 1), e.g.
// "perceptual: bad hash list: line 7: quality 140 is not in 0..100".
func ReadList(r io.Reader) (*List, error) {
	l := &List{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	n := 0
	for sc.Scan() {
		n++
		if err := l.parseLine(sc.Text()); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrListSyntax, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w: line %d: longer than %d bytes", ErrListSyntax, n+1, maxLine)
		}
		return nil, fmt.Errorf("perceptual: reading hash list: %w", err)
	}
	return l, nil
}

func (l *List) parseLine(line string) error {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return nil
	}
	if !validText(line) {
		return errors.New("not valid UTF-8 text")
	}
	hexPart, rest, _ := strings.Cut(line, ",")
	h, err := ParseHash(strings.TrimSpace(hexPart))
	if err != nil {
		// Inside a list error the package prefix would appear twice.
		return errors.New(strings.TrimPrefix(err.Error(), "perceptual: "))
	}
	quality := -1
	label := strings.TrimSpace(rest)
	if q, lab, ok := strings.Cut(rest, ","); ok && isQualityField(q) {
		label = strings.TrimSpace(lab)
		if q = strings.TrimSpace(q); q != "" {
			quality, _ = strconv.Atoi(q)
			if quality > 100 {
				return fmt.Errorf("quality %d is not in 0..100", quality)
			}
		}
	}
	l.Add(h, quality, label)
	return nil
}

// isQualityField reports whether s (space aside) is empty or 1–3 decimal
// digits.
func isQualityField(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) > 3 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validText reports whether s is valid UTF-8 without control characters
// other than tab.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// WriteTo writes the list in the text format of [List], one entry per
// line, so that [ReadList] reads back the same list. It fails without
// writing anything if a label cannot be written (it contains a line break
// or a control character, or has space at either end, which reading would
// drop) or a quality is not in -1..100.
func (l *List) WriteTo(w io.Writer) (int64, error) {
	if len(l.Labels) != len(l.Hashes) || len(l.Qualities) != len(l.Hashes) {
		return 0, errors.New("perceptual: list has hashes, labels and qualities of different lengths")
	}
	for i, lab := range l.Labels {
		if lab != strings.TrimSpace(lab) || !validText(lab) {
			return 0, fmt.Errorf("perceptual: entry %d: label %q cannot be written to a list", i, lab)
		}
		if q := l.Qualities[i]; q < -1 || q > 100 {
			return 0, fmt.Errorf("perceptual: entry %d: quality %d is not in -1..100", i, q)
		}
	}
	bw := bufio.NewWriter(w)
	var n int64
	for i, h := range l.Hashes {
		var line string
		q, lab := l.Qualities[i], l.Labels[i]
		switch {
		case q >= 0:
			line = fmt.Sprintf("%v,%d,%s\n", h, q, lab)
		case lab == "":
			line = h.String() + "\n"
		case strings.Contains(lab, ",") && isQualityField(lab[:strings.Index(lab, ",")]):
			line = fmt.Sprintf("%v,,%s\n", h, lab) // keep "12,x" a label
		default:
			line = fmt.Sprintf("%v,%s\n", h, lab)
		}
		m, err := bw.WriteString(line)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}
