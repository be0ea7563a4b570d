package stats

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// vectorRow is one line of a tab-separated vector file, with parsers that
// collect their errors so that a bad line fails with its number.
type vectorRow struct {
	line   int
	fields []string
	errs   []error
}

func (r *vectorRow) int(i int) int {
	n, err := strconv.Atoi(r.fields[i])
	r.errs = append(r.errs, err)
	return n
}

func (r *vectorRow) float(i int) float64 {
	x, err := strconv.ParseFloat(r.fields[i], 64)
	r.errs = append(r.errs, err)
	return x
}

// readVectorFile reads testdata/name, skipping blank and # lines, and
// calls parse on every row of exactly fields fields; it fails the test on
// a malformed line, a parse error, or fewer than least rows.
func readVectorFile(t *testing.T, name string, fields, least int, parse func(*vectorRow)) {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		r := &vectorRow{line: line, fields: strings.Split(s, "\t")}
		if len(r.fields) != fields {
			t.Fatalf("%s line %d: %d fields, want %d", name, line, len(r.fields), fields)
		}
		parse(r)
		if err := errors.Join(r.errs...); err != nil {
			t.Fatalf("%s line %d: %v", name, line, err)
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows < least {
		t.Fatalf("%s: only %d vectors", name, rows)
	}
}
