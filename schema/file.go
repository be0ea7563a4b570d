package schema

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// MaxFileBytes bounds how much of one result file a reader takes in: 512
// MiB, far above the largest file a full study writes (latency samples at
// full size, about 2 MiB). A longer file is an error, not a partial read.
const MaxFileBytes = 512 << 20

// readLimit is MaxFileBytes, lowered by tests.
var readLimit int64 = MaxFileBytes

// A Column is one column of a CSV result file: its name and how it reads
// and writes one field of a row of type R.
type Column[R any] struct {
	// Name is the column's header.
	Name string
	// Optional columns may be absent from files written before the column
	// was added; a reader then leaves the field at its zero value (NaN for
	// floats, an unset [Opt]).
	Optional bool
	get      func(*R) string
	set      func(*R, string) error
}

// A File describes one CSV result file: where it lives, what one row is,
// and its columns in the order they are written. Its methods read and
// write it; the zero value is not useful.
type File[R any] struct {
	// Path is the file's path relative to the results directory, with
	// slashes: "coverage/coverage.csv".
	Path string
	// Doc says what one row is.
	Doc string
	// Columns are the columns in file order.
	Columns []Column[R]
	// Check, if set, validates a row after its fields are read (for
	// example detected ≤ items); its error is reported with the file and
	// line.
	Check func(*R) error
}

// Base returns the file's name without its directory: "coverage.csv".
func (f *File[R]) Base() string { return path.Base(f.Path) }

// Experiment returns the directory of the experiment that writes the file:
// "coverage".
func (f *File[R]) Experiment() string { return path.Dir(f.Path) }

// Header returns the column names in file order.
func (f *File[R]) Header() []string {
	h := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		h[i] = c.Name
	}
	return h
}

// Record formats one row as the file's fields, in header order.
func (f *File[R]) Record(r R) []string {
	rec := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		rec[i] = c.get(&r)
	}
	return rec
}

// present returns the columns Write writes: every column, except an
// optional one that is empty in every row (so a file whose rows use none
// of a column added later is written as it was before the column).
func (f *File[R]) present(rows []R) []int {
	var cols []int
	for i, c := range f.Columns {
		used := !c.Optional
		for j := 0; !used && j < len(rows); j++ {
			used = c.get(&rows[j]) != ""
		}
		if used {
			cols = append(cols, i)
		}
	}
	return cols
}

// Write writes the header and rows as CSV. An optional column that is
// empty in every row is left out.
func (f *File[R]) Write(w io.Writer, rows []R) error {
	cw := csv.NewWriter(w)
	cols := f.present(rows)
	pick := func(all []string) []string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = all[c]
		}
		return out
	}
	if err := cw.Write(pick(f.Header())); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	for _, r := range rows {
		if err := cw.Write(pick(f.Record(r))); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	return nil
}

// WriteFile writes rows to DIR/Path, creating the experiment's directory.
func (f *File[R]) WriteFile(dir string, rows []R) error {
	return writeFile(dir, f.Path, func(w io.Writer) error { return f.Write(w, rows) })
}

// ReadFile reads DIR/Path. A missing file gives an error wrapping
// fs.ErrNotExist.
func (f *File[R]) ReadFile(dir string) ([]R, error) {
	fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return f.Read(fh, f.Path)
}

// Read parses a file's contents; name is the file's name in errors. The
// header must hold every column that is not optional and no column the
// schema does not know, in any order; each row must have a field for every
// header column. Errors name the file and line.
func (f *File[R]) Read(r io.Reader, name string) ([]R, error) {
	lr := &limitReader{r: r, n: readLimit}
	cr := csv.NewReader(lr)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s:1: empty file, want a header: %s", name, strings.Join(f.Header(), ","))
	}
	if err != nil {
		return nil, csvError(name, err, lr)
	}
	cols, err := f.bind(header)
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w", name, err)
	}
	rows := []R{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, csvError(name, err, lr)
		}
		line, _ := cr.FieldPos(0)
		row, err := f.parse(cols, rec)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		rows = append(rows, row)
	}
}

// bind maps each header field to its column, refusing unknown, repeated
// and missing columns.
func (f *File[R]) bind(header []string) ([]*Column[R], error) {
	cols := make([]*Column[R], len(header))
	for i, h := range header {
		j := slices.IndexFunc(f.Columns, func(c Column[R]) bool { return c.Name == h })
		if j < 0 {
			return nil, fmt.Errorf("unknown column %q (want %s)", h, strings.Join(f.Header(), ","))
		}
		if slices.Contains(header[:i], h) {
			return nil, fmt.Errorf("column %q appears twice", h)
		}
		cols[i] = &f.Columns[j]
	}
	var missing []string
	for _, c := range f.Columns {
		if !c.Optional && !slices.Contains(header, c.Name) {
			missing = append(missing, c.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("header lacks column %s (have %s, want %s)",
			strings.Join(missing, ", "), strings.Join(header, ","), strings.Join(f.Header(), ","))
	}
	return cols, nil
}

// parse fills a row from one record; absent optional columns keep their
// zero value, set first so that floats read as NaN.
func (f *File[R]) parse(cols []*Column[R], rec []string) (R, error) {
	var row R
	// An optional column the file lacks reads as empty where the column
	// allows it (NaN, absent) and as its zero value otherwise (a count).
	for _, c := range f.Columns {
		if c.Optional {
			c.set(&row, "")
		}
	}
	for i, c := range cols {
		if err := c.set(&row, rec[i]); err != nil {
			return row, fmt.Errorf("column %s: %w", c.Name, err)
		}
	}
	if f.Check != nil {
		if err := f.Check(&row); err != nil {
			return row, err
		}
	}
	return row, nil
}

// csvError turns an encoding/csv error into one naming the file and line.
func csvError(name string, err error, lr *limitReader) error {
	if lr.exceeded {
		return fmt.Errorf("%s: longer than %d bytes, the most a result file may hold", name, readLimit)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %w", name, pe.StartLine, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// limitReader reads at most n bytes and then fails, remembering that it
// did, so that a reader can tell a truncated file from a long one.
type limitReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

var errTooLong = errors.New("file too long")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Probe one byte: a file of exactly n bytes is fine.
		var one [1]byte
		if k, _ := l.r.Read(one[:]); k > 0 {
			l.exceeded = true
			return 0, errTooLong
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// writeFile creates DIR/rel's directory and writes the file through fill,
// removing a partly written file on error.
func writeFile(dir, rel string, fill func(io.Writer) error) error {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	fh, err := os.Create(p)
	if err != nil {
		return err
	}
	if err := fill(fh); err != nil {
		fh.Close()
		os.Remove(p)
		return err
	}
	return fh.Close()
}
