package schema

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Opt is a value that may be absent: an empty field in a file.
type Opt[T any] struct {
	V     T
	Valid bool
}

// Some returns a present value.
func Some[T any](v T) Opt[T] { return Opt[T]{V: v, Valid: true} }

// Text is a column holding a string that must not be empty.
func Text[R any](name string, field func(*R) *string) Column[R] {
	return Column[R]{
		Name: name,
		get:  func(r *R) string { return *field(r) },
		set: func(r *R, s string) error {
			if s == "" {
				return errors.New("empty")
			}
			*field(r) = s
			return nil
		},
	}
}

// OptText is a column holding a string that may be empty.
func OptText[R any](name string, field func(*R) *string) Column[R] {
	return Column[R]{
		Name: name,
		get:  func(r *R) string { return *field(r) },
		set:  func(r *R, s string) error { *field(r) = s; return nil },
	}
}

// Enum is a column holding one of values, in the order the vocabulary
// lists them.
func Enum[R any, T ~string](name string, field func(*R) *T, values []T) Column[R] {
	return Column[R]{
		Name: name,
		get:  func(r *R) string { return string(*field(r)) },
		set: func(r *R, s string) error {
			if !slices.Contains(values, T(s)) {
				return fmt.Errorf("%q is not one of %s", s, joinValues(values))
			}
			*field(r) = T(s)
			return nil
		},
	}
}

// OptEnum is [Enum] that may also be empty.
func OptEnum[R any, T ~string](name string, field func(*R) *T, values []T) Column[R] {
	c := Enum(name, field, values)
	set := c.set
	c.set = func(r *R, s string) error {
		if s == "" {
			*field(r) = ""
			return nil
		}
		return set(r, s)
	}
	return c
}

func joinValues[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Count is a column holding a non-negative integer.
func Count[R any](name string, field func(*R) *int) Column[R] {
	return Column[R]{
		Name: name,
		get:  func(r *R) string { return strconv.Itoa(*field(r)) },
		set: func(r *R, s string) error {
			v, err := parseCount(s)
			*field(r) = v
			return err
		},
	}
}

// Count64 is [Count] for 64-bit values such as nanoseconds.
func Count64[R any](name string, field func(*R) *int64) Column[R] {
	return Column[R]{
		Name: name,
		get:  func(r *R) string { return strconv.FormatInt(*field(r), 10) },
		set: func(r *R, s string) error {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || v < 0 {
				return fmt.Errorf("%q is not a count", s)
			}
			*field(r) = v
			return nil
		},
	}
}

// OptCount is a column holding a non-negative integer or nothing.
func OptCount[R any](name string, field func(*R) *Opt[int]) Column[R] {
	return Column[R]{
		Name: name,
		get: func(r *R) string {
			if o := *field(r); o.Valid {
				return strconv.Itoa(o.V)
			}
			return ""
		},
		set: func(r *R, s string) error {
			if s == "" {
				*field(r) = Opt[int]{}
				return nil
			}
			v, err := parseCount(s)
			*field(r) = Some(v)
			return err
		},
	}
}

func parseCount(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a count", s)
	}
	return v, nil
}

// Format says how a float column is written: strconv.FormatFloat's format
// byte and precision.
type Format struct {
	Fmt  byte
	Prec int
}

// Formats used by the result files.
var (
	Shortest  = Format{'f', -1} // as few digits as read back exactly, no exponent
	ShortestG = Format{'g', -1} // as few digits as read back exactly, exponent for large and small
	General6  = Format{'g', 6}  // six significant digits
)

// Fixed is a format with prec digits after the point.
func Fixed(prec int) Format { return Format{'f', prec} }

func (f Format) format(v float64) string { return strconv.FormatFloat(v, f.Fmt, f.Prec, 64) }

// Number is a column holding a finite number, written in format f.
func Number[R any](name string, f Format, field func(*R) *float64) Column[R] {
	return numberColumn(name, f, field, numberRange{lo: math.Inf(-1), hi: math.Inf(1)})
}

// NonNegative is a column holding a finite number ≥ 0 (a time, a size).
func NonNegative[R any](name string, f Format, field func(*R) *float64) Column[R] {
	return numberColumn(name, f, field, numberRange{lo: 0, hi: math.Inf(1)})
}

// Fraction is a column holding a number between 0 and 1.
func Fraction[R any](name string, f Format, field func(*R) *float64) Column[R] {
	return numberColumn(name, f, field, numberRange{lo: 0, hi: 1})
}

// Percent is a column holding a number between 0 and 100.
func Percent[R any](name string, f Format, field func(*R) *float64) Column[R] {
	return numberColumn(name, f, field, numberRange{lo: 0, hi: 100})
}

// OptNumber is a column holding a finite number or nothing; NaN stands for
// nothing in the row.
func OptNumber[R any](name string, f Format, field func(*R) *float64) Column[R] {
	return numberColumn(name, f, field, numberRange{lo: math.Inf(-1), hi: math.Inf(1), opt: true})
}

// OptDecibels is [OptNumber] for a signal-to-noise ratio in dB, which is
// +Inf for identical images.
func OptDecibels[R any](name string, f Format, field func(*R) *float64) Column[R] {
	return numberColumn(name, f, field, numberRange{lo: math.Inf(-1), hi: math.Inf(1), opt: true, inf: true})
}

// OptFraction is [OptNumber] for numbers between 0 and 1.
func OptFraction[R any](name string, f Format, field func(*R) *float64) Column[R] {
	return numberColumn(name, f, field, numberRange{lo: 0, hi: 1, opt: true})
}

// OptPercent is [OptNumber] for numbers between 0 and 100.
func OptPercent[R any](name string, f Format, field func(*R) *float64) Column[R] {
	return numberColumn(name, f, field, numberRange{lo: 0, hi: 100, opt: true})
}

// numberRange is what a number column accepts: values in [lo, hi], an
// empty field (read as NaN) when opt, and ±Inf when inf.
type numberRange struct {
	lo, hi   float64
	opt, inf bool
}

func numberColumn[R any](name string, f Format, field func(*R) *float64, rng numberRange) Column[R] {
	return Column[R]{
		Name: name,
		get: func(r *R) string {
			v := *field(r)
			if rng.opt && math.IsNaN(v) {
				return ""
			}
			return f.format(v)
		},
		set: func(r *R, s string) error {
			if rng.opt && s == "" {
				*field(r) = math.NaN()
				return nil
			}
			v, err := rng.parse(s)
			*field(r) = v
			return err
		},
	}
}

func (rng numberRange) parse(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(v):
		return 0, fmt.Errorf("%q is not a number", s)
	case math.IsInf(v, 0) && rng.inf:
		return v, nil
	case math.IsInf(v, 0):
		return 0, fmt.Errorf("%q is not a finite number", s)
	case v < rng.lo || v > rng.hi:
		return 0, fmt.Errorf("%v is outside [%v, %v]", v, rng.lo, rng.hi)
	}
	return v, nil
}

// Optional marks c as a column that older files may lack.
func Optional[R any](c Column[R]) Column[R] {
	c.Optional = true
	return c
}
