package corpus

import (
	"embed"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"scanlab/perceptual"
)

// Photo is one real photograph.
type Photo struct {
	Name  string // file name, without the directory
	Image image.Image
}

//go:embed testdata/photos/*.jpg
var bundledPhotos embed.FS

// BundledPhotos returns the eleven public-domain and CC0 photographs
// committed with the package (scikit-image's sample photographs, long side
// at most 512 px; provenance and licences in testdata/photos/README.md),
// sorted by name.
func BundledPhotos() ([]Photo, error) {
	set, err := loadPhotos(bundledPhotos, "testdata/photos", "bundled photos")
	if err != nil {
		return nil, err
	}
	if len(set.Skipped) > 0 {
		return nil, fmt.Errorf("corpus: bundled photo unreadable: %s", set.Skipped[0])
	}
	return set.Photos, nil
}

// Limits of [LoadPhotos]: larger files or images are skipped.
const (
	MaxPhotoBytes  = 64 << 20   // 64 MiB per file
	MaxPhotoPixels = 50_000_000 // 50 megapixels per image
)

// ErrNoPhotos is returned (wrapped) by [LoadPhotos] when the folder holds
// no readable image.
var ErrNoPhotos = errors.New("corpus: no readable photos")

// SkippedPhoto is a file [LoadPhotos] could not use.
type SkippedPhoto struct {
	Name   string // file name
	Reason string
}

// String reads as a warning: "skipped NAME: REASON".
func (s SkippedPhoto) String() string { return "skipped " + s.Name + ": " + s.Reason }

// PhotoSet is what [LoadPhotos] found in a folder.
type PhotoSet struct {
	Photos  []Photo        // decoded photographs, sorted by name
	Skipped []SkippedPhoto // files that were not used, sorted by name
}

// LoadPhotos decodes every JPEG, PNG, GIF and WebP file directly in dir (not
// in subfolders; files whose names start with "." are ignored). A file that
// cannot be read or decoded, is larger than [MaxPhotoBytes] or declares
// more than [MaxPhotoPixels] pixels is skipped and listed in Skipped, with
// the reason, and the others are still loaded. A folder with no readable
// image is an error wrapping [ErrNoPhotos], which says how many files were
// skipped and why the first one was.
func LoadPhotos(dir string) (*PhotoSet, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("corpus: photo folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("corpus: photo folder %s is not a directory", dir)
	}
	return loadPhotos(os.DirFS(dir), ".", dir)
}

func loadPhotos(fsys fs.FS, dir, display string) (*PhotoSet, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("corpus: photo folder: %w", err)
	}
	set := &PhotoSet{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		if !photoExt(name) {
			continue
		}
		skip := func(format string, a ...any) {
			set.Skipped = append(set.Skipped, SkippedPhoto{Name: name, Reason: fmt.Sprintf(format, a...)})
		}
		info, err := e.Info()
		if err != nil {
			skip("%v", err)
			continue
		}
		if !info.Mode().IsRegular() && info.Mode()&fs.ModeSymlink == 0 {
			skip("not a regular file")
			continue
		}
		if info.Size() > MaxPhotoBytes {
			skip("file is %d bytes, the limit is %d", info.Size(), MaxPhotoBytes)
			continue
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			skip("%v", err)
			continue
		}
		if len(data) > MaxPhotoBytes {
			skip("file is %d bytes, the limit is %d", len(data), MaxPhotoBytes)
			continue
		}
		img, err := perceptual.DecodeImage(data, MaxPhotoPixels)
		if err != nil {
			skip("%v", err)
			continue
		}
		set.Photos = append(set.Photos, Photo{Name: name, Image: img})
	}
	slices.SortFunc(set.Photos, func(a, b Photo) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(set.Skipped, func(a, b SkippedPhoto) int { return strings.Compare(a.Name, b.Name) })
	if len(set.Photos) == 0 {
		if len(set.Skipped) > 0 {
			return set, fmt.Errorf("%w in %s: %d image files skipped, the first: %s", ErrNoPhotos, display, len(set.Skipped), set.Skipped[0])
		}
		return set, fmt.Errorf("%w in %s: the folder has no .jpg, .jpeg, .png, .gif or .webp file", ErrNoPhotos, display)
	}
	return set, nil
}

func photoExt(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp":
		return true
	}
	return false
}
