package main

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"slices"
	"strings"

	"scanlab/perceptual"
)

const hashUsage = `Usage:
    scanlab hash [--algo ALGO] [--dihedral] [--max-pixels N] FILE...
    scanlab hash --match LIST [--threshold BITS] [--min-quality Q]
                 [--algo ALGO] [--dihedral] [--max-pixels N] FILE...

Hashes image files (JPEG, PNG, GIF or WebP) and prints one line per file,
in the format of Meta's reference tool pdq-photo-hasher:

    HASH,QUALITY,FILE

HASH is 64 hex digits (256 bits), QUALITY is PDQ's quality from 0
(featureless) to 100; Meta advises not to match hashes of quality below 50.
pHash and dHash have no quality, so the field is empty for them. The output
can be used as a hash list as it is.

With --match, each file's hash is compared with every hash in LIST, and one
line is printed per list entry within the threshold, nearest first:

    DISTANCE,XFORM,LIST-HASH,LABEL,FILE

DISTANCE is the Hamming distance in bits, XFORM the dihedral transform of
the file that matched ("orig" without --dihedral), LABEL the entry's label
(the file name, for a list made by this command). Files with no match print
nothing.

A file that cannot be read or decoded is reported on stderr and the others
are still hashed; the exit status is then 1.

Options:
    -a, --algo ALGO         pdq (default): PDQ at full resolution, as Meta's
                            production hashers compute it;
                            pdq-512: PDQ as the reference tool computes it,
                            images over 512 px squashed to 512×512 first;
                            phash, dhash: 256-bit baselines
    -d, --dihedral          PDQ only: print the 8 dihedral hashes of each
                            file, one per line, in the reference's order
                            (orig, rot90, rot180, rot270, flipx, flipy,
                            flipplus1, flipminus1); with --match, match all 8
    -m, --match LIST        match against the hash list in file LIST: one
                            hash per line, optionally ",LABEL" or
                            ",QUALITY,LABEL"; # starts a comment
    -t, --threshold BITS    largest distance that is a match (default 31,
                            Meta's recommendation)
        --min-quality Q     with --match, skip files of quality below Q
                            (default 0: match everything)
        --max-pixels N      refuse images larger than N pixels before
                            decoding them (default 100000000)

Example:
    $ scanlab hash photo.jpg
    f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,100,photo.jpg
    $ scanlab hash *.jpg > known.txt
    $ scanlab hash --match known.txt --dihedral upload.png
    6,rot90,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,photo.jpg,upload.png
`

func init() {
	register(command{
		name:    "hash",
		summary: "print PDQ (or pHash, dHash) hashes of image files, or match them against a list",
		usage:   hashUsage,
		run:     runHash,
	})
}

// hashAlgos maps --algo names to the hashes they compute. quality is false
// for hashes without a quality measure.
var hashAlgos = map[string]struct {
	hash     func(image.Image) (perceptual.Hash, int)
	dihedral func(image.Image) (perceptual.Dihedral, int)
	quality  bool
}{
	"pdq":     {perceptual.PDQ, perceptual.PDQDihedral, true},
	"pdq-512": {perceptual.PDQ512, perceptual.PDQ512Dihedral, true},
	"phash":   {func(img image.Image) (perceptual.Hash, int) { return perceptual.PHash(img), -1 }, nil, false},
	"dhash":   {func(img image.Image) (perceptual.Hash, int) { return perceptual.DHash(img), -1 }, nil, false},
}

func runHash(stdout, stderr io.Writer, args []string) error {
	c := commands["hash"]
	fs := newFlags("hash")
	algoName := fs.StringP("algo", "a", "pdq", "hash `algorithm`")
	dihedral := fs.BoolP("dihedral", "d", false, "all 8 dihedral hashes")
	listPath := fs.StringP("match", "m", "", "hash list `file`")
	threshold := fs.IntP("threshold", "t", perceptual.MatchThreshold, "match threshold in `bits`")
	minQuality := fs.Int("min-quality", 0, "minimum `quality` to match")
	maxPixels := fs.Int("max-pixels", perceptual.DefaultMaxPixels, "pixel `limit`")
	if err := parse(fs, c, stdout, args); err != nil {
		return err
	}
	algo, ok := hashAlgos[*algoName]
	switch {
	case !ok:
		return &usageError{msg: fmt.Sprintf("unknown hash algorithm %q", *algoName), hint: "algorithms: pdq, pdq-512, phash, dhash"}
	case *dihedral && algo.dihedral == nil:
		return &usageError{msg: "--dihedral works only with PDQ", hint: "use --algo pdq or --algo pdq-512"}
	case fs.NArg() == 0:
		return &usageError{msg: "no image files given", hint: `run "scanlab help hash" for its usage`}
	case *threshold < 0 || *threshold > perceptual.Bits:
		return &usageError{msg: fmt.Sprintf("--threshold %d is not in 0..%d", *threshold, perceptual.Bits)}
	case *maxPixels <= 0:
		return &usageError{msg: fmt.Sprintf("--max-pixels %d is not positive", *maxPixels)}
	case fs.Changed("threshold") && *listPath == "", fs.Changed("min-quality") && *listPath == "":
		return &usageError{msg: "--threshold and --min-quality need --match"}
	}

	var matcher *perceptual.Matcher
	if *listPath != "" {
		l, err := readHashList(*listPath)
		if err != nil {
			return err
		}
		matcher = perceptual.NewMatcher(l)
	}

	failed := 0
	for _, file := range fs.Args() {
		hashes, quality, err := hashFile(file, algo.hash, algo.dihedral, *dihedral, *maxPixels)
		if err != nil {
			fmt.Fprintf(stderr, "scanlab: error: %s: %v\n", file, err)
			failed++
			continue
		}
		q := ""
		if algo.quality {
			q = fmt.Sprint(quality)
		}
		if matcher == nil {
			for _, h := range hashes {
				fmt.Fprintf(stdout, "%v,%s,%s\n", h, q, file)
			}
			continue
		}
		if algo.quality && quality < *minQuality {
			continue
		}
		// Best distance per list entry over the file's hashes.
		best := map[int]perceptual.Hit{}
		for t, h := range hashes {
			for _, hit := range matcher.All(h, *threshold) {
				if b, seen := best[hit.Entry]; !seen || hit.Distance < b.Distance {
					hit.Transform = perceptual.Transform(t)
					best[hit.Entry] = hit
				}
			}
		}
		for _, m := range sortedHits(best) {
			fmt.Fprintf(stdout, "%d,%v,%v,%s,%s\n", m.Distance, m.Transform, m.Hash, m.Label, file)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be hashed", failed, fs.NArg())
	}
	return nil
}

// sortedHits orders a file's hits by distance, then list position.
func sortedHits(m map[int]perceptual.Hit) []perceptual.Hit {
	out := make([]perceptual.Hit, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b perceptual.Hit) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.Entry, b.Entry))
	})
	return out
}

// hashFile reads, decodes and hashes one file: one hash, or the eight
// dihedral hashes if all is set.
func hashFile(path string, hash func(image.Image) (perceptual.Hash, int),
	dihedral func(image.Image) (perceptual.Dihedral, int), all bool, maxPixels int) ([]perceptual.Hash, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is printed already
		}
		return nil, 0, err
	}
	img, err := perceptual.DecodeImage(data, maxPixels)
	if err != nil {
		// The package prefix adds nothing in a command's message.
		return nil, 0, errors.New(strings.TrimPrefix(err.Error(), "perceptual: "))
	}
	if all {
		d, q := dihedral(img)
		return d[:], q, nil
	}
	h, q := hash(img)
	return []perceptual.Hash{h}, q, nil
}

// readHashList loads and checks a hash list file.
func readHashList(path string) (*perceptual.List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &hintError{err: fmt.Errorf("hash list: %w", err), hint: "--match takes a file of hashes, such as the output of scanlab hash"}
	}
	defer f.Close()
	l, err := perceptual.ReadList(f)
	if err != nil {
		return nil, &hintError{
			err:  fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "perceptual: ")),
			hint: "a hash list has one 64-hex-digit hash per line, optionally followed by ,LABEL or ,QUALITY,LABEL",
		}
	}
	return l, nil
}
