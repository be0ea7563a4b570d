package falsematch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"scanlab/perceptual"
)

// Roots says where [HashSources] finds each source of real photographs. An
// empty root, or a folder that is not there, skips the sources under it.
type Roots struct {
	Repo   string // the scanlab module's root (corpus/testdata, perceptual/testdata)
	GOROOT string // the Go toolchain's root (src/image/testdata)
	XImage string // the golang.org/x/image module's folder (its testdata)
	Shared string // the project's shared PDQ data folder (shared/data/pdq, Meta's pdq/data)
	Debian string // where the Debian packages are installed ("/") or extracted (dpkg -x)
}

// source is one place real photographs come from.
type source struct {
	name    string                   // source name; Debian versions are read from the package's changelog
	deb     string                   // Debian package name, or ""
	root    func(Roots) string       // the root the folder is under
	dir     string                   // folder, relative to the root
	pattern []string                 // file name patterns (path.Match) relative to dir
	scene   func(file string) string // the file's scene, or "" for a file that is not a photograph
	licence func(file string) string
	extract func([]byte) ([]byte, error) // nil when the file is the image itself
}

func stem(file string) string {
	base := path.Base(file)
	return base[:strings.IndexByte(base+".", '.')]
}

func prefixed(p string) func(string) string { return func(f string) string { return p + stem(f) } }
func constant(s string) func(string) string { return func(string) string { return s } }

// scikit-image's sample photographs: the licence its skimage/data/_fetchers.py
// states for each (images with none stated, and drawings, are left out).
var skimageLicence = map[string]string{
	"astronaut":         "public domain (NASA)",
	"brick":             "CC0 (CC0Textures)",
	"camera":            "CC0 (Lav Varshney)",
	"cell":              "CC0 (Paul Müller et al.)",
	"chelsea":           "CC0 (Stefan van der Walt)",
	"clock_motion":      "public domain (Stefan van der Walt)",
	"coffee":            "CC0 (Rachel Michetti)",
	"coins":             "no known copyright restrictions (Brooklyn Museum)",
	"grass":             "CC0 (linolafett)",
	"gravel":            "CC0 (CC0Textures)",
	"hubble_deep_field": "public domain (NASA)",
	"ihc":               "no known copyright restrictions (immunohistochemistry, Wikimedia Commons)",
	"microaneurysms":    "CC0 (Andreas Maier)",
	"retina":            "CC0 (Wikimedia Commons)",
	"rocket":            "public domain (SpaceX)",
	"text":              "public domain (Wikipedia)",
}

func skimageScene(f string) string {
	if _, ok := skimageLicence[stem(f)]; ok {
		return "skimage/" + stem(f)
	}
	return ""
}

func skimageLicenceOf(f string) string { return skimageLicence[stem(f)] }

// threatExchangeScene groups Meta's PDQ test images: one bridge photograph
// in many edits and encodings, a coaster photographed twice, and single
// photographs.
func threatExchangeScene(f string) string {
	switch s := stem(f); {
	case strings.Contains(f, "bridge") || strings.Contains(f, "/modes/"):
		return "threatexchange/bridge"
	case s == "c" || s == "pen-and-coaster":
		return "threatexchange/coaster"
	case strings.HasPrefix(s, "exif-rotn"):
		return "threatexchange/exif-rotn"
	default:
		return "threatexchange/" + s
	}
}

const threatExchangeLicence = "BSD (facebook/ThreatExchange; no per-image licence stated)"

func goScene(f string) string {
	switch s := stem(f); {
	case strings.HasPrefix(s, "video-001"):
		return "go/video-001"
	case strings.HasPrefix(s, "video-005"):
		return "go/video-005"
	case strings.HasPrefix(s, "blue-purple-pink"):
		return "go/gopher-plush-trio"
	case strings.HasPrefix(s, "go-turns-two"):
		return "go/gopher-plush"
	case strings.HasPrefix(s, "yellow_rose"):
		return "go/yellow-rose"
	}
	return ""
}

func goLicence(f string) string {
	if strings.Contains(f, "pink") || strings.Contains(f, "go-turns-two") {
		return "BSD-3-Clause (Go); gopher design by Renée French, CC BY"
	}
	return "BSD-3-Clause (Go)"
}

// The photographs among the wallpapers of plasma-workspace-wallpapers (the
// others are renders), by folder.
var plasmaPhotos = []string{"BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow",
	"FallenLeaf", "Grey", "Kite", "OneStandsOut", "Path", "summer_1am"}

var palapeliLicence = map[string]string{
	"castle-maintenon":         "GFDL (Eric Pouhier)",
	"cincinnati-bridge":        "public domain (Derek Jensen)",
	"citrus-fruits":            "public domain (US Department of Agriculture)",
	"european-honey-bee":       "public domain (John Severns)",
	"panther-chameleon-female": "GFDL (B. Navez and others)",
}

func jigzoLicence(f string) string {
	switch stem(f) {
	case "heli-4x3":
		return "GPL-2 (Joana Clotet)"
	case "penguin-3x2":
		return "CC-BY-NC-SA-1.0 (Jon Sullivan)"
	}
	return "GPL-2+ (Maarten de Boer)"
}

// sources lists every offline source of real photographs, in the order
// [HashSources] visits them; a file whose bytes an earlier source already
// gave is not hashed twice.
var sources = []source{
	{name: "scanlab:corpus/testdata/photos", root: func(r Roots) string { return r.Repo }, dir: "corpus/testdata/photos",
		pattern: []string{"*.jpg"}, scene: skimageScene, licence: skimageLicenceOf},
	{name: "scanlab:perceptual/testdata", root: func(r Roots) string { return r.Repo }, dir: "perceptual/testdata/pdq/images",
		pattern: []string{"*/*.jpg", "*/*/*.jpg", "*/*/*/*.jpg"}, scene: threatExchangeScene, licence: constant(threatExchangeLicence)},
	{name: "go:src/image/testdata", root: func(r Roots) string { return r.GOROOT }, dir: "src/image/testdata",
		pattern: []string{"*.jpeg", "*.png", "*.gif"}, scene: goScene, licence: goLicence},
	{name: "gomod:golang.org/x/image/testdata", root: func(r Roots) string { return r.XImage }, dir: "testdata",
		pattern: []string{"*.jpeg", "*.png", "*.webp"}, scene: goScene, licence: goLicence},
	{name: "threatexchange:pdq/data", root: func(r Roots) string { return r.Shared }, dir: "images",
		pattern: []string{"*/*.jpg", "*/*.png", "*/*/*.jpg", "*/*/*.png"}, scene: threatExchangeScene, licence: constant(threatExchangeLicence)},
	{name: "debian:python3-skimage", deb: "python3-skimage", root: debianRoot, dir: "usr/lib/python3/dist-packages/skimage/data",
		pattern: []string{"*.png", "*.jpg"}, scene: skimageScene, licence: skimageLicenceOf},
	{name: "debian:mate-backgrounds", deb: "mate-backgrounds", root: debianRoot, dir: "usr/share/backgrounds/mate/nature",
		pattern: []string{"*.jpg"}, scene: prefixed("mate/"), licence: constant("GPL-2+ (mate-backgrounds)")},
	{name: "debian:plasma-workspace-wallpapers", deb: "plasma-workspace-wallpapers", root: debianRoot, dir: "usr/share/wallpapers",
		pattern: []string{"*/contents/images/*.jpg"}, scene: plasmaScene, licence: constant("GPL-2+ (KDE Visual Design Group)")},
	{name: "debian:palapeli-data", deb: "palapeli-data", root: debianRoot, dir: "usr/share/palapeli/collection",
		pattern: []string{"*.jpg"}, scene: prefixed("palapeli/"), licence: func(f string) string { return palapeliLicence[stem(f)] }},
	{name: "debian:jigzo-data", deb: "jigzo-data", root: debianRoot, dir: "usr/share/games/jigzo/puzzles/00_default",
		pattern: []string{"*.pzl"}, scene: jigzoScene, licence: jigzoLicence, extract: embeddedJPEG},
}

func debianRoot(r Roots) string { return r.Debian }

func plasmaScene(f string) string {
	dir := strings.SplitN(f, "/", 2)[0]
	if slices.Contains(plasmaPhotos, dir) {
		return "plasma/" + dir
	}
	return ""
}

func jigzoScene(f string) string {
	s := stem(f)
	if i := strings.LastIndexByte(s, '-'); i > 0 {
		s = s[:i] // "horse-4x3" → "horse"
	}
	return "jigzo/" + s
}

// MaxPuzzleBytes bounds the jigzo puzzle files [embeddedJPEG] reads.
const MaxPuzzleBytes = 16 << 20

// embeddedJPEG returns the JPEG image inside a jigzo puzzle file: a short
// text header starting "PzlF", the JPEG, then a PNG piece map. It returns
// the bytes from the JPEG's start-of-image marker to the PNG signature (or
// to the end).
func embeddedJPEG(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte("PzlF\n")) || len(data) > MaxPuzzleBytes {
		return nil, errors.New("not a jigzo puzzle file")
	}
	start := bytes.Index(data, []byte{0xff, 0xd8, 0xff})
	if start < 0 {
		return nil, errors.New("puzzle file holds no JPEG")
	}
	jpg := data[start:]
	if end := bytes.Index(jpg, []byte("\x89PNG\r\n\x1a\n")); end >= 0 {
		jpg = jpg[:end]
	}
	return jpg, nil
}

// Skipped is a source or a file [HashSources] could not use, and why.
type Skipped struct {
	Source, File, Reason string
}

// HashSources hashes, with [perceptual.ScanImage] (the decoder and PDQ
// flavour every scanlab scanner uses), every real photograph it finds
// under roots, and returns the records in source order, files sorted
// within a source. A file whose bytes an earlier file already had is left
// out. Sources that are missing are listed in skipped, not errors, so a
// machine without the Debian packages still hashes what it has.
func HashSources(roots Roots) (photos []Photo, skipped []Skipped, err error) {
	seen := map[[sha256.Size]byte]bool{}
	for _, src := range sources {
		ps, sk, err := src.hash(roots, seen)
		if err != nil {
			return nil, nil, err
		}
		photos, skipped = append(photos, ps...), append(skipped, sk...)
	}
	return photos, skipped, nil
}

func (src source) hash(roots Roots, seen map[[sha256.Size]byte]bool) ([]Photo, []Skipped, error) {
	root := src.root(roots)
	dir := filepath.Join(root, filepath.FromSlash(src.dir))
	if st, err := os.Stat(dir); root == "" || err != nil || !st.IsDir() {
		return nil, []Skipped{{Source: src.name, Reason: "not found under " + strings.TrimSuffix(dir, "/")}}, nil
	}
	name := src.name
	if src.deb != "" {
		v, err := debianVersion(root, src.deb)
		if err != nil {
			return nil, nil, fmt.Errorf("falsematch: %s: %w", src.deb, err)
		}
		name += " " + v
	}
	files, err := src.files(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("falsematch: %s: %w", src.name, err)
	}
	var photos []Photo
	var skipped []Skipped
	for _, f := range files {
		p, reason := src.hashFile(dir, f, seen)
		switch {
		case reason != "":
			skipped = append(skipped, Skipped{Source: name, File: f, Reason: reason})
		case p != nil:
			p.Source = name
			photos = append(photos, *p)
		}
	}
	return photos, skipped, nil
}

// files returns the photographs in dir matching the source's patterns,
// relative to dir, sorted.
func (src source) files(dir string) ([]string, error) {
	var out []string
	for _, pat := range src.pattern {
		m, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pat)))
		if err != nil {
			return nil, err
		}
		for _, f := range m {
			rel, _ := filepath.Rel(dir, f)
			rel = filepath.ToSlash(rel)
			if src.scene(rel) != "" {
				out = append(out, rel)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// maxFileBytes bounds every file HashSources reads.
const maxFileBytes = 64 << 20

// hashFile hashes one file; it returns nil and no reason for a file whose
// bytes were seen already.
func (src source) hashFile(dir, f string, seen map[[sha256.Size]byte]bool) (*Photo, string) {
	data, err := readBounded(filepath.Join(dir, filepath.FromSlash(f)), maxFileBytes)
	if err != nil {
		return nil, err.Error()
	}
	sum := sha256.Sum256(data)
	if seen[sum] {
		return nil, ""
	}
	seen[sum] = true
	img := data
	if src.extract != nil {
		if img, err = src.extract(data); err != nil {
			return nil, err.Error()
		}
	}
	sc, err := perceptual.ScanImage(img)
	if err != nil {
		return nil, err.Error()
	}
	b := sc.Image.Bounds()
	return &Photo{Hash: sc.Hash, Quality: sc.Quality, Width: b.Dx(), Height: b.Dy(),
		Scene: src.scene(f), File: f, Licence: src.licence(f), SHA256: hex.EncodeToString(sum[:8])}, ""
}

func readBounded(name string, limit int64) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("file larger than %d bytes", limit)
	}
	return data, err
}

// debianVersion reads a package's version from the first line of its
// changelog.Debian.gz: "source-name (version) suite; urgency=…".
func debianVersion(root, pkg string) (string, error) {
	fh, err := os.Open(filepath.Join(root, "usr/share/doc", pkg, "changelog.Debian.gz"))
	if err != nil {
		return "", fmt.Errorf("package version: %w", err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return "", fmt.Errorf("package version: %w", err)
	}
	line, err := bufio.NewReader(io.LimitReader(zr, 4096)).ReadString('\n')
	open, end := strings.IndexByte(line, '('), strings.IndexByte(line, ')')
	if err != nil || open <= 0 || end < open {
		return "", fmt.Errorf("package version: changelog starts %q", line)
	}
	return line[open+1 : end], nil
}
