package schema

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"scanlab/observe"
)

// VisibilityRow is one row of visibility/visibility.csv: in one mode, the
// share of one item's planted canaries one party recovered, and the routes
// (the sources in its view) that yielded them. Rows of the provider acting
// in bad faith (observe.ProviderActive) also name the attack, the defence
// and how the provider treated its key log; other rows leave them empty.
type VisibilityRow struct {
	Mode      string
	Party     observe.Party
	Item      observe.Item
	Recovered float64 // share of canaries, between 0 and 1
	Route     string  // "; "-separated routes, empty when nothing was recovered
	Attack    observe.Attack
	Defence   observe.Defence
	Log       observe.LogHandling
}

// Visibility is visibility/visibility.csv.
var Visibility = &File[VisibilityRow]{
	Path: "visibility/visibility.csv",
	Doc:  "the share of one item's canaries one party recovered in one mode, and how",
	Columns: []Column[VisibilityRow]{
		Text("mode", func(r *VisibilityRow) *string { return &r.Mode }),
		Enum("party", func(r *VisibilityRow) *observe.Party { return &r.Party }, Parties),
		Enum("item", func(r *VisibilityRow) *observe.Item { return &r.Item }, Items),
		Fraction("recovered", Shortest, func(r *VisibilityRow) *float64 { return &r.Recovered }),
		OptText("route", func(r *VisibilityRow) *string { return &r.Route }),
		// Added with the active provider; absent (and read as empty) in
		// files written before, and left out when no row uses them.
		Optional(OptEnum("attack", func(r *VisibilityRow) *observe.Attack { return &r.Attack }, observe.Attacks)),
		Optional(OptEnum("defence", func(r *VisibilityRow) *observe.Defence { return &r.Defence }, observe.Defences)),
		Optional(OptEnum("log", func(r *VisibilityRow) *observe.LogHandling { return &r.Log }, observe.LogHandlings)),
	},
}

// LinesFile is a text file of one non-empty token per line.
type LinesFile struct {
	// Path is the file's path relative to the results directory.
	Path string
	// Doc says what a line is.
	Doc string
}

// Canaries is visibility/canaries.txt: the text canaries the visibility
// audit planted, one per line, for searching kept state with grep -F -f.
var Canaries = &LinesFile{Path: "visibility/canaries.txt", Doc: "one planted text canary per line"}

// Name implements [Spec].
func (f *LinesFile) Name() string { return f.Path }

// ColumnNames implements [Spec]: a lines file has no header.
func (f *LinesFile) ColumnNames() []string { return nil }

// Description implements [Spec].
func (f *LinesFile) Description() string { return f.Doc }

// Write writes each token on a line of its own; a token that is empty or
// holds a line break is an error.
func (f *LinesFile) Write(w io.Writer, tokens []string) error {
	var b bytes.Buffer
	for i, t := range tokens {
		if t == "" || strings.ContainsAny(t, "\r\n") {
			return fmt.Errorf("%s: token %d is empty or spans lines", f.Path, i+1)
		}
		b.WriteString(t + "\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteFile writes tokens to DIR/Path, creating the experiment's directory.
func (f *LinesFile) WriteFile(dir string, tokens []string) error {
	return writeFile(dir, f.Path, func(w io.Writer) error { return f.Write(w, tokens) })
}

// maxLine bounds one line of a lines file.
const maxLine = 4096

// Read parses a lines file; name is the file's name in errors.
func (f *LinesFile) Read(r io.Reader, name string) ([]string, error) {
	lr := &limitReader{r: r, n: readLimit}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 256), maxLine)
	tokens := []string{}
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSuffix(sc.Text(), "\r")
		if t == "" {
			return nil, fmt.Errorf("%s:%d: empty line", name, line)
		}
		tokens = append(tokens, t)
	}
	switch err := sc.Err(); {
	case lr.exceeded:
		return nil, fmt.Errorf("%s: longer than %d bytes, the most a result file may hold", name, readLimit)
	case err == bufio.ErrTooLong:
		return nil, fmt.Errorf("%s:%d: line longer than %d bytes", name, len(tokens)+1, maxLine)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return tokens, nil
}

// ReadFile reads DIR/Path.
func (f *LinesFile) ReadFile(dir string) ([]string, error) {
	fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return f.Read(fh, f.Path)
}
