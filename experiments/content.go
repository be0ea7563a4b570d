package experiments

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"sync"

	"scanlab"
	"scanlab/clientscan"
	"scanlab/corpus"
	"scanlab/perceptual"
)

// contentPools holds the content the coverage workload draws from: images of
// each class, the hash list built from the known ones, and labelled texts.
// Messages reuse pool items, as real traffic re-shares the same files.
type contentPools struct {
	list   []perceptual.Hash
	labels []string
	second []perceptual.Hash // the curator's second hash of each entry
	images map[corpus.ContentClass][][]byte
	texts  map[bool][]string // harmful → texts
	// attacks are the attack outputs behind the evasive and collision pools.
	attacks []corpus.AttackResult
}

// encodeJPEG encodes an image as a messaging app would upload it.
func encodeJPEG(img image.Image, quality int) []byte {
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: quality})
	return b.Bytes()
}

// poolCache keeps the pools of one seed and size: every cell of a sweep
// draws from the same content (and the attacks are run once).
var poolCache sync.Map // poolKey → *poolEntry

type poolKey struct {
	seed              uint64
	images, listExtra int
}

type poolEntry struct {
	once sync.Once
	c    *contentPools
	err  error
}

// newContentPools returns the pools for o and cfg, building them once.
func newContentPools(o Options, cfg coverageConfig) (*contentPools, error) {
	v, _ := poolCache.LoadOrStore(poolKey{o.Seed, cfg.images, cfg.listExtra}, &poolEntry{})
	e := v.(*poolEntry)
	e.once.Do(func() { e.c, e.err = buildContentPools(o, cfg) })
	return e.c, e.err
}

func buildContentPools(o Options, cfg coverageConfig) (*contentPools, error) {
	n := cfg.images
	r := o.rng("coverage-content")
	c := &contentPools{images: map[corpus.ContentClass][][]byte{}, texts: map[bool][]string{}}
	var known []image.Image
	for i := range n {
		img := corpus.GenerateImage(r, 256, 384)
		known = append(known, img)
		data := encodeJPEG(img, 90)
		c.images[corpus.ClassKnownImage] = append(c.images[corpus.ClassKnownImage], data)
		sc, err := perceptual.ScanImage(data)
		if err != nil {
			return nil, err
		}
		c.list = append(c.list, sc.Hash)
		c.second = append(c.second, clientscan.SecondHash(sc.Image))
		c.labels = append(c.labels, fmt.Sprintf("known-%03d", i))
	}
	for range n {
		c.images[corpus.ClassNovelImage] = append(c.images[corpus.ClassNovelImage], encodeJPEG(corpus.GenerateImage(r, 256, 384), 90))
		c.images[corpus.ClassBenignImage] = append(c.images[corpus.ClassBenignImage], encodeJPEG(corpus.GenerateImage(r, 256, 384), 90))
	}
	// Transformed: each known image through one of Thorn's benchmark
	// transforms in turn, as an ordinary re-share would alter it.
	names := []string{"blur2", "crop0.05", "gamma2", "jpeg95", "noise0.2", "pad0.2", "resize0.5", "rotate4", "watermark"}
	for i, img := range known {
		t := corpus.MustTransform(names[i%len(names)])
		c.images[corpus.ClassTransformedImage] = append(c.images[corpus.ClassTransformedImage], encodeJPEG(corpus.ThornApply(t, img, r), 90))
	}
	// Evasive: a black-box evasion attack on PDQ against some known images;
	// collision: benign images pushed towards a listed hash. The attacker
	// sends its best output whether or not the attack reached its goal.
	attacks := max(2, n/4)
	ac := corpus.AttackConfig{Hasher: corpus.PDQHasher, Threshold: 31, Budget: 300}
	for i := range attacks {
		res := corpus.Evade(known[i], c.list[i], ac, r)
		c.images[corpus.ClassEvasiveImage] = append(c.images[corpus.ClassEvasiveImage], encodeJPEG(res.Image, 95))
		c.attacks = append(c.attacks, res)
		benign := corpus.GenerateImage(r, 256, 384)
		res = corpus.Collide(benign, c.list[(i+1)%n], ac, r)
		c.images[corpus.ClassCollisionImage] = append(c.images[corpus.ClassCollisionImage], encodeJPEG(res.Image, 95))
		c.attacks = append(c.attacks, res)
	}
	// The list also holds entries for images this workload never sends.
	for range cfg.listExtra {
		c.list = append(c.list, randomHash(r))
		c.second = append(c.second, randomHash(r))
		c.labels = append(c.labels, "")
	}
	tc := corpus.DefaultTextConfig()
	tc.Seed = o.Seed
	tc.Conversations = 200
	texts, err := corpus.GenerateTexts(tc)
	if err != nil {
		return nil, err
	}
	for _, m := range texts.Messages() {
		c.texts[m.Label.Harmful] = append(c.texts[m.Label.Harmful], m.Text)
	}
	return c, nil
}

// draw picks the content of one message event.
func (c *contentPools) draw(ev corpus.MessageEvent, r *rand.Rand) scanlab.Content {
	if ev.Class.Image() {
		pool := c.images[ev.Class]
		return scanlab.Content{Kind: scanlab.Image, Image: pool[r.IntN(len(pool))]}
	}
	pool := c.texts[ev.Class == corpus.ClassHarmfulText]
	return scanlab.Content{Kind: scanlab.Text, Text: pool[r.IntN(len(pool))]}
}
