package platform

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"

	"scanlab/presets"
)

// Bounds of a preset file, so that a user's file cannot make the parser
// hold more than a few hundred kilobytes.
const (
	// MaxFileSize bounds a preset file, in bytes.
	MaxFileSize = 64 << 10
	// MaxSources bounds the sources a preset may cite.
	MaxSources = 64
	// MaxText bounds a title, URL, publisher, note or list item, in bytes.
	MaxText = 2000
	// MaxItems bounds a list value or a range.
	MaxItems = 32
)

// Slugs lists the built-in presets in the order results list them.
var Slugs = []string{"tiktok", "signal", "whatsapp", "messenger", "instagram", "x"}

// Builtin returns the built-in preset with the given slug.
func Builtin(slug string) (*Preset, error) {
	data, err := presets.FS.ReadFile(slug + ".toml")
	if err != nil {
		return nil, fmt.Errorf("platform: no built-in preset %q (have: %s)", slug, strings.Join(Slugs, ", "))
	}
	return Parse(slug, data)
}

// All returns the built-in presets in the order of [Slugs].
func All() ([]*Preset, error) {
	out := make([]*Preset, 0, len(Slugs))
	for _, s := range Slugs {
		p, err := Builtin(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Load reads a user's preset file (`--preset FILE`).
func Load(path string) (*Preset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("platform: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("platform: %s: %w", path, err)
	}
	p, err := Parse(strings.TrimSuffix(filepath.Base(path), ".toml"), data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse parses and checks a preset. slug names it in results and errors.
// Every problem is reported, each starting with the key it concerns.
func Parse(slug string, data []byte) (*Preset, error) {
	p, err := parse(slug, data)
	if err != nil {
		return nil, fmt.Errorf("platform: preset %s: %w", slug, err)
	}
	return p, nil
}

type rawField struct {
	Value  any    `toml:"value"`
	Range  []any  `toml:"range"`
	Source string `toml:"source"`
	Note   string `toml:"note"`
}

type rawSource struct {
	Title     string    `toml:"title"`
	URL       string    `toml:"url"`
	Publisher string    `toml:"publisher"`
	Read      time.Time `toml:"read"`
}

func parse(slug string, data []byte) (*Preset, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("file of more than %d bytes", MaxFileSize)
	}
	var top map[string]toml.Primitive
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&top)
	if err != nil {
		return nil, err
	}
	p := &Preset{Slug: slug, fields: make(map[string]Field, len(Fields))}
	var errs []error
	sources, err := decodeSources(md, top)
	if err != nil {
		errs = append(errs, err)
	}
	if err := decodeName(md, top, p); err != nil {
		errs = append(errs, err)
	}
	cited := map[string]bool{}
	for _, s := range Fields {
		f, err := decodeField(md, top, s, sources, cited)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.fields[s.Key] = f
	}
	errs = append(errs, unknownKeys(md, top)...)
	for _, k := range sortedKeys(sources) {
		if !cited[k] {
			errs = append(errs, fmt.Errorf("sources.%s: cited by no field", k))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, p.checkMoot()...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func decodeName(md toml.MetaData, top map[string]toml.Primitive, p *Preset) error {
	prim, ok := top["platform"]
	if !ok {
		return errors.New("platform: missing (the platform's name)")
	}
	if err := md.PrimitiveDecode(prim, &p.Name); err != nil {
		return fmt.Errorf("platform: %w", err)
	}
	if err := checkText(p.Name, 64); err != nil || p.Name == "" {
		return fmt.Errorf("platform: name %q: want 1 to 64 printable characters", p.Name)
	}
	return nil
}

var sourceKey = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

func decodeSources(md toml.MetaData, top map[string]toml.Primitive) (map[string]*Source, error) {
	out := map[string]*Source{}
	prim, ok := top["sources"]
	if !ok {
		return out, nil
	}
	var raw map[string]rawSource
	if err := md.PrimitiveDecode(prim, &raw); err != nil {
		return out, fmt.Errorf("sources: %w", err)
	}
	if len(raw) > MaxSources {
		return out, fmt.Errorf("sources: %d sources, at most %d", len(raw), MaxSources)
	}
	var errs []error
	for _, k := range sortedKeys(raw) {
		s := &Source{Key: k, Title: raw[k].Title, URL: raw[k].URL, Publisher: raw[k].Publisher, Read: raw[k].Read}
		if err := checkSource(s); err != nil {
			errs = append(errs, fmt.Errorf("sources.%s%w", k, err))
			continue
		}
		out[k] = s
	}
	return out, errors.Join(errs...)
}

// checkSource returns an error starting with the offending key (".url: …").
func checkSource(s *Source) error {
	if !sourceKey.MatchString(s.Key) {
		return errors.New(": name must be lowercase letters, digits and dashes")
	}
	for _, f := range []struct{ key, v string }{{"title", s.Title}, {"url", s.URL}, {"publisher", s.Publisher}} {
		if f.v == "" {
			return fmt.Errorf(".%s: missing", f.key)
		}
		if err := checkText(f.v, MaxText); err != nil {
			return fmt.Errorf(".%s: %w", f.key, err)
		}
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf(".url: %q is not an http(s) address", s.URL)
	}
	switch {
	case s.Read.IsZero():
		return errors.New(".read: missing (the date the page was read, as 2026-11-30)")
	case s.Read.Year() < 1990 || s.Read.After(time.Now().Add(48*time.Hour)):
		return fmt.Errorf(".read: %s is not a date a page could have been read", s.Read.Format(time.DateOnly))
	}
	return nil
}

func checkText(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%d bytes, at most %d", len(s), max)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) {
		return errors.New("control or invalid characters")
	}
	return nil
}

func decodeField(md toml.MetaData, top map[string]toml.Primitive, s Spec, sources map[string]*Source, cited map[string]bool) (Field, error) {
	prim, ok := top[s.Key]
	if !ok {
		return Field{}, fmt.Errorf("%s: missing (give a value and a source, %q with a range, or %q)", s.Key, UndocumentedValue, NotApplicableValue)
	}
	var raw rawField
	if err := md.PrimitiveDecode(prim, &raw); err != nil {
		return Field{}, fmt.Errorf("%s: %w", s.Key, err)
	}
	f := Field{Key: s.Key, Note: raw.Note}
	if err := checkText(raw.Note, MaxText); err != nil {
		return f, fmt.Errorf("%s.note: %w", s.Key, err)
	}
	if raw.Source != "" {
		src, ok := sources[raw.Source]
		if !ok {
			return f, fmt.Errorf("%s.source: %q is not in [sources]", s.Key, raw.Source)
		}
		f.Source, cited[raw.Source] = src, true
	}
	switch raw.Value {
	case nil:
		return f, fmt.Errorf("%s.value: missing", s.Key)
	case UndocumentedValue:
		f.State = Undocumented
		r, err := checkRange(s, raw.Range)
		f.Range = r
		return f, err
	case NotApplicableValue:
		f.State = NotApplicable
		if raw.Range != nil {
			return f, fmt.Errorf("%s.range: only an undocumented field has a range", s.Key)
		}
		return f, nil
	}
	f.State = Documented
	switch {
	case f.Source == nil:
		return f, fmt.Errorf("%s.source: a documented value needs a source", s.Key)
	case raw.Range != nil:
		return f, fmt.Errorf("%s.range: only an undocumented field has a range", s.Key)
	}
	v, err := checkValue(s, raw.Value)
	if err != nil {
		return f, fmt.Errorf("%s.value: %w", s.Key, err)
	}
	f.Value = v
	return f, nil
}

// checkValue returns v in its Go type for s's kind, or why it is impossible.
func checkValue(s Spec, v any) (any, error) {
	switch s.Kind {
	case Choice:
		str, ok := v.(string)
		if !ok || !slices.Contains(s.Values, str) {
			return nil, fmt.Errorf("%v is not one of %s", quote(v), strings.Join(s.Values, ", "))
		}
		return str, nil
	case Share:
		x, ok := number(v)
		if !ok || !(x >= 0 && x <= 1) {
			return nil, fmt.Errorf("%v is not a share in [0, 1]", quote(v))
		}
		return x, nil
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%v is not true or false", quote(v))
		}
		return b, nil
	case List:
		items, ok := v.([]any)
		if !ok || len(items) == 0 || len(items) > MaxItems {
			return nil, fmt.Errorf("want a list of 1 to %d descriptions", MaxItems)
		}
		out := make([]string, len(items))
		for i, it := range items {
			str, ok := it.(string)
			if !ok || str == "" || checkText(str, MaxText) != nil {
				return nil, fmt.Errorf("item %d: %v is not a short description", i, quote(it))
			}
			out[i] = str
		}
		return out, nil
	}
	return nil, fmt.Errorf("field of unknown kind %d", s.Kind)
}

// checkRange returns an undocumented field's range: as given, or every
// value of a Choice or Bool field when none is given.
func checkRange(s Spec, raw []any) ([]any, error) {
	switch {
	case s.Kind == List && raw != nil:
		return nil, fmt.Errorf("%s.range: a descriptive list is not swept; leave the range out", s.Key)
	case s.Kind == List:
		return nil, nil
	case raw == nil && s.Kind == Share:
		return nil, fmt.Errorf("%s.range: an undocumented share needs its plausible range [lo, hi]", s.Key)
	case raw == nil && s.Kind == Bool:
		return []any{false, true}, nil
	case raw == nil:
		out := make([]any, len(s.Values))
		for i, v := range s.Values {
			out[i] = v
		}
		return out, nil
	case len(raw) > MaxItems:
		return nil, fmt.Errorf("%s.range: %d values, at most %d", s.Key, len(raw), MaxItems)
	}
	out := make([]any, len(raw))
	for i, r := range raw {
		v, err := checkValue(s, r)
		if err != nil {
			return nil, fmt.Errorf("%s.range: %w", s.Key, err)
		}
		for _, prev := range out[:i] {
			if prev == v {
				return nil, fmt.Errorf("%s.range: %v given twice", s.Key, quote(v))
			}
		}
		out[i] = v
	}
	if s.Kind == Share && (len(out) != 2 || out[0].(float64) > out[1].(float64)) {
		return nil, fmt.Errorf("%s.range: want [lo, hi] with lo ≤ hi", s.Key)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s.range: empty", s.Key)
	}
	return out, nil
}

// number returns a TOML integer or float as a finite float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	}
	return 0, false
}

func quote(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}

func unknownKeys(md toml.MetaData, top map[string]toml.Primitive) []error {
	seen := map[string]bool{}
	for k := range top {
		if _, ok := SpecOf(k); !ok && k != "platform" && k != "sources" {
			seen[k] = true
		}
	}
	for _, k := range md.Undecoded() {
		seen[k.String()] = true
	}
	var errs []error
	for _, k := range sortedKeys(seen) {
		if !seen[parentOf(k)] {
			errs = append(errs, fmt.Errorf("%s: unknown key", k))
		}
	}
	return errs
}

// parentOf returns "a.b" for "a.b.c", "" for "a".
func parentOf(k string) string {
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		return k[:i]
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
