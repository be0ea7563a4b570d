// Package schema owns scanlab's result files: for every file an experiment
// writes, its path under the results directory, its header, the Go type of
// one row, and a writer and a reader. Experiments write through it and the
// report reads through it, so neither spells a file name, a column or a
// value list of its own.
//
// It follows the layering of golang.org/x/perf's benchfmt: this package
// parses and formats, nothing more; package report computes findings from
// the typed rows and renders them.
//
// Value orders come from the vocabulary, never from here: parties and items
// from [observe.Parties] and [observe.Items], pathways from
// [scanlab.Pathways] (plus [AnyPathway], the union), content classes from
// [corpus.ContentClasses]. Modes are listed in the order the experiments
// wrote them, which is the order of the mode registry. The stages of a
// message's trip ([Stages]) and the names of scaling measurements are
// declared here because the files are their only home.
//
// Every file is a [File] of its row type, a list of [Column]s built with
// the helpers ([Text], [Enum], [Count], [Number], [Fraction], ...). To add
// a file, declare its row type and a File beside the others and add it to
// [Files]; to add a column to an existing file, append a Column marked
// [Optional] so that files written before it still read, and say in its
// doc what an absent value means.
//
// Readers are strict and bounded: a file longer than [MaxFileBytes], a
// header with an unknown or missing column, a row of the wrong width, a
// value outside its range or vocabulary, or a row that contradicts itself
// (more detected than items) is an error naming the file and line. Writers
// format every number the same way every time, so the same rows give
// byte-identical files, and reading a file and writing it back gives the
// same bytes.
//
// # Who sees what
//
// Result files hold counts, rates, timings and sizes; the one exception is
// visibility/canaries.txt, the random tokens planted as canaries, which is
// what lets anyone search a kept database or wire capture for them. No file
// holds message content or key material.
package schema

import (
	"scanlab"
	"scanlab/corpus"
	"scanlab/observe"
)

// Spec is what every result file, whatever its row type, tells about
// itself.
type Spec interface {
	// Name is the file's path relative to the results directory.
	Name() string
	// Columns is its header (nil for files that are not CSV).
	ColumnNames() []string
	// Description says what one row (or the file) holds.
	Description() string
}

// Name implements [Spec].
func (f *File[R]) Name() string { return f.Path }

// ColumnNames implements [Spec].
func (f *File[R]) ColumnNames() []string { return f.Header() }

// Description implements [Spec].
func (f *File[R]) Description() string { return f.Doc }

// Files lists every result file in the order of the experiments' names,
// then the order each experiment writes them.
func Files() []Spec {
	return []Spec{
		Coverage, CoverageSweeps, Accounts, Prevention, Sensitivity, Texts, Pooled,
		Evasion, ThornMetric,
		ImageRate, Distances, DistanceSummary, TailFits, TailChecks, Curve, SafeRates,
		Faults, FaultTimings,
		Latency, LatencySamples, Bytes,
		Load, LoadTimings,
		BelowThreshold,
		Scaling,
		Visibility, Active, Canaries,
		Platforms, PlatformTimings,
		manifestSpec{},
	}
}

// Vocabulary the files draw their values from.
var (
	// Classes are the content classes, in the corpus's order.
	Classes = corpus.ContentClasses
	// Parties are the rows of the visibility matrix.
	Parties = observe.Parties
	// Items are the columns of the visibility matrix.
	Items = observe.Items
	// Pathways are the values of a coverage file's pathway column: every
	// detection pathway, then [AnyPathway].
	Pathways = append(append([]scanlab.Pathway(nil), scanlab.Pathways...), AnyPathway)
	// Kinds are the kinds of content a latency file distinguishes.
	Kinds = []string{scanlab.Text.String(), scanlab.Image.String()}
)

// AnyPathway is the union of every pathway: an item counts once if at
// least one pathway flagged it.
const AnyPathway scanlab.Pathway = "any"
