package corpus

import (
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
)

// The content classes of the image workload. Each image item carries one of
// them as ground truth in its [ImageLabel]; they are the image classes of
// [ContentClass] as strings, plus the scope-creep class.
const (
	// KnownImage is a harmful image whose hash is on the list.
	KnownImage = string(ClassKnownImage)
	// TransformedImage is a known image after a benign edit ([Transform]):
	// the list should still match it.
	TransformedImage = string(ClassTransformedImage)
	// EvasiveImage is a known image after an evasion attack ([Evade]): made
	// to look the same while its hash moves away from the list entry.
	EvasiveImage = string(ClassEvasiveImage)
	// NovelImage is harmful but not on the list: hash matching cannot find
	// it by design.
	NovelImage = string(ClassNovelImage)
	// BenignImage is an ordinary image: any match is a false positive.
	BenignImage = string(ClassBenignImage)
	// CollisionImage is a benign-looking image crafted ([Collide]) so that
	// its hash falls within the threshold of a list entry: a match frames
	// its recipient.
	CollisionImage = string(ClassCollisionImage)
	// PoliticalMeme is lawful speech (a captioned picture) that a malicious
	// or coerced list curator could add to the list: "scope creep". Its
	// matches are correct hash matches of content that is not harmful.
	PoliticalMeme = "political-meme"
)

// ImageClasses lists the image classes in a stable order.
var ImageClasses = []string{KnownImage, TransformedImage, EvasiveImage, NovelImage, BenignImage, CollisionImage, PoliticalMeme}

// ImageLabel is the ground truth about one image item. It lives beside the
// image, never inside it.
type ImageLabel struct {
	// Class is one of [ImageClasses].
	Class string
	// Harmful is true for the known, transformed, evasive and novel
	// classes (synthetic stand-ins, see [SyntheticImages]).
	Harmful bool
	// Listed is true when the image's own hash was put on the list: known
	// images, and political memes added by the curator.
	Listed bool
	// Source is the ID of the item this one was derived from (the known
	// image a transformed or evasive image was made from, the list entry a
	// collision image targets), or empty.
	Source string
	// Transform names the benign edit of a transformed image (a
	// [Transform] name), or is empty.
	Transform string
	// Attack names the attack for evasive and collision images ("evade",
	// "collide"), or is empty.
	Attack string
	// Photo names the bundled or loaded photograph the image is, or was
	// derived from, or is empty for a generated image.
	Photo string
}

// ImageItem is one image of the workload and its label.
type ImageItem struct {
	ID    string
	Image *image.RGBA
	Label ImageLabel
}

// ImageConfig configures [GenerateImages].
type ImageConfig struct {
	// Seed makes the workload reproducible: equal configs give equal
	// images.
	Seed uint64
	// Known, Novel, Benign and Memes are the numbers of known (listed
	// harmful), novel (unlisted harmful), benign and political-meme images.
	Known, Novel, Benign, Memes int
	// Transforms are applied to every known image to make the transformed
	// images, one item per (known image, transform). Empty means none.
	Transforms []Transform
	// MinSide and MaxSide bound the generated sizes; zero means
	// [DefaultMinSide] and [DefaultMaxSide].
	MinSide, MaxSide int
	// Photos, when set, are used first, in order, as known images (a
	// researcher's own or [BundledPhotos]); generated images fill the rest.
	Photos []Photo
}

// ImageCorpus is a generated image workload. Items are ordered by class in
// the order of [ImageClasses], then by index. Evasive and collision images
// are not generated here: they need a hash and an attack budget, see
// [Evade], [Collide] and [AttackItem].
type ImageCorpus struct {
	Items []ImageItem
}

// Class returns the items of one class, in order.
func (c *ImageCorpus) Class(class string) []ImageItem {
	var out []ImageItem
	for _, it := range c.Items {
		if it.Label.Class == class {
			out = append(out, it)
		}
	}
	return out
}

// Listed returns the items whose hashes belong on the list (known images
// and political memes).
func (c *ImageCorpus) Listed() []ImageItem {
	var out []ImageItem
	for _, it := range c.Items {
		if it.Label.Listed {
			out = append(out, it)
		}
	}
	return out
}

// imageStream returns the random stream of one purpose of the image
// workload, derived from the seed and the purpose's name.
func imageStream(seed uint64, purpose string, i int) *rand.Rand {
	h := uint64(14695981039346656037) // FNV-1a
	for k := 0; k < len(purpose); k++ {
		h ^= uint64(purpose[k])
		h *= 1099511628211
	}
	return rand.New(rand.NewPCG(seed^h, uint64(i)*0x9e3779b97f4a7c15+h))
}

// ImageStream returns the random stream for item i of a named purpose
// ("known", "benign", a transform name...) under seed. Streams of
// different (purpose, i) pairs are independent, so items can be generated
// in any order or in parallel with identical results.
func ImageStream(seed uint64, purpose string, i int) *rand.Rand {
	return imageStream(seed, purpose, i)
}

// GenerateImages generates the known, transformed, novel, benign and
// political-meme images of cfg.
func GenerateImages(cfg ImageConfig) (*ImageCorpus, error) {
	if cfg.Known < 0 || cfg.Novel < 0 || cfg.Benign < 0 || cfg.Memes < 0 {
		return nil, errors.New("corpus: negative image count")
	}
	if cfg.MinSide == 0 {
		cfg.MinSide = DefaultMinSide
	}
	if cfg.MaxSide == 0 {
		cfg.MaxSide = DefaultMaxSide
	}
	if cfg.MinSide < 16 || cfg.MaxSide < cfg.MinSide {
		return nil, fmt.Errorf("corpus: bad image size range [%d, %d]", cfg.MinSide, cfg.MaxSide)
	}
	c := &ImageCorpus{}
	var known []ImageItem
	for i := range cfg.Known {
		it := ImageItem{ID: fmt.Sprintf("known-%04d", i), Label: ImageLabel{Class: KnownImage, Harmful: true, Listed: true}}
		if i < len(cfg.Photos) {
			it.Image = ToRGBA(cfg.Photos[i].Image)
			it.Label.Photo = cfg.Photos[i].Name
		} else {
			it.Image = GenerateImage(imageStream(cfg.Seed, "known", i), cfg.MinSide, cfg.MaxSide)
		}
		known = append(known, it)
	}
	c.Items = append(c.Items, known...)
	for _, k := range known {
		for _, t := range cfg.Transforms {
			r := imageStream(cfg.Seed, "transform/"+t.Name+"/"+k.ID, 0)
			c.Items = append(c.Items, ImageItem{
				ID:    k.ID + "/" + t.Name,
				Image: t.Apply(k.Image, r),
				Label: ImageLabel{Class: TransformedImage, Harmful: true, Source: k.ID, Transform: t.Name, Photo: k.Label.Photo},
			})
		}
	}
	for i := range cfg.Novel {
		c.Items = append(c.Items, ImageItem{
			ID:    fmt.Sprintf("novel-%04d", i),
			Image: GenerateImage(imageStream(cfg.Seed, "novel", i), cfg.MinSide, cfg.MaxSide),
			Label: ImageLabel{Class: NovelImage, Harmful: true},
		})
	}
	for i := range cfg.Benign {
		c.Items = append(c.Items, ImageItem{
			ID:    fmt.Sprintf("benign-%04d", i),
			Image: GenerateImage(imageStream(cfg.Seed, "benign", i), cfg.MinSide, cfg.MaxSide),
			Label: ImageLabel{Class: BenignImage},
		})
	}
	for i := range cfg.Memes {
		c.Items = append(c.Items, ImageItem{
			ID:    fmt.Sprintf("meme-%04d", i),
			Image: GenerateMeme(imageStream(cfg.Seed, "meme", i), cfg.MinSide, cfg.MaxSide),
			Label: ImageLabel{Class: PoliticalMeme, Listed: true},
		})
	}
	return c, nil
}

// GenerateMeme draws a captioned picture in the style of an image macro: a
// generated scene with a white caption band above and below, each holding
// a line of dark block "words". It stands for lawful political speech.
func GenerateMeme(r *rand.Rand, minSide, maxSide int) *image.RGBA {
	img := GenerateImage(r, minSide, maxSide)
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	band := max(6, h/7)
	for _, y0 := range []int{0, h - band} {
		fillRect(img, image.Rect(0, y0, w, y0+band), 250, 250, 250)
		x := w / 12
		lh := band / 2
		for x < w-w/12 {
			word := lh/2 + r.IntN(2*lh+1)
			if x+word > w-w/12 {
				break
			}
			// A word: a row of letter strokes of varying height.
			for lx := x; lx < x+word; lx += max(2, lh/3) {
				top := y0 + band/4 + r.IntN(max(1, lh/4))
				fillRect(img, image.Rect(lx, top, min(lx+max(1, lh/5), x+word), y0+band-band/4), 20, 20, 20)
			}
			x += word + lh/2
		}
	}
	return img
}

func fillRect(img *image.RGBA, rect image.Rectangle, r, g, b uint8) {
	rect = rect.Intersect(img.Bounds())
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = r, g, b, 255
		}
	}
}
