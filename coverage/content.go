package coverage

import (
	"bytes"
	"errors"
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

// ContentConfig sizes the content pools. Messages reuse pool items, as real
// traffic re-shares the same files; results report how many distinct items
// each rate rests on.
type ContentConfig struct {
	// Images is the number of distinct known (listed), novel and benign
	// images, each; transformed images are one per known image.
	Images int
	// Attacks is the number of distinct evasive and of collision images,
	// each: the outputs of black-box attacks on PDQ, which cost hundreds
	// of hash queries apiece.
	Attacks int
	// ListExtra is the number of entries the list holds for images the
	// workload never sends.
	ListExtra int
	// Texts is the number of synthetic conversations the text pools are
	// drawn from.
	Texts int
}

func (c ContentConfig) check() error {
	if c.Images < 1 || c.Attacks < 1 || c.ListExtra < 0 || c.Texts < 1 {
		return fmt.Errorf("coverage: content pools %+v: need at least one image, attack and text", c)
	}
	return nil
}

// Pools holds the content a workload draws from: images of each class, the
// hash list built from the known ones (with the curator's second hashes),
// and labelled texts.
type Pools struct {
	List   []perceptual.Hash
	Labels []string
	Second []perceptual.Hash
	images map[corpus.ContentClass][][]byte
	texts  map[bool][]string // harmful → texts
}

// poolCache keeps the pools of one seed and size: every cell of a sweep
// draws from the same content, and the attacks run once.
var poolCache sync.Map // poolKey → *poolEntry

type poolKey struct {
	seed uint64
	cfg  ContentConfig
}

type poolEntry struct {
	once sync.Once
	p    *Pools
	err  error
}

// NewPools returns the pools for a seed and size, built once per process.
func NewPools(seed uint64, cfg ContentConfig) (*Pools, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	v, _ := poolCache.LoadOrStore(poolKey{seed, cfg}, &poolEntry{})
	e := v.(*poolEntry)
	e.once.Do(func() { e.p, e.err = buildPools(seed, cfg) })
	return e.p, e.err
}

func buildPools(seed uint64, cfg ContentConfig) (*Pools, error) {
	r := rand.New(rand.NewPCG(seed, 0xc0de))
	p := &Pools{images: map[corpus.ContentClass][][]byte{}, texts: map[bool][]string{}}
	known, err := p.addKnown(r, cfg.Images)
	if err != nil {
		return nil, err
	}
	for range cfg.Images {
		p.add(corpus.ClassNovelImage, corpus.GenerateImage(r, 256, 384), 90)
		p.add(corpus.ClassBenignImage, corpus.GenerateImage(r, 256, 384), 90)
	}
	// Transformed: each known image through one of Thorn's benchmark
	// transforms in turn, as an ordinary re-share would alter it.
	names := []string{"blur2", "crop0.05", "gamma2", "jpeg95", "noise0.2", "pad0.2", "resize0.5", "rotate4", "watermark"}
	for i, img := range known {
		p.add(corpus.ClassTransformedImage, corpus.ThornApply(corpus.MustTransform(names[i%len(names)]), img, r), 90)
	}
	p.addAttacks(r, known, cfg.Attacks)
	// The list also holds entries for images this workload never sends.
	for range cfg.ListExtra {
		p.List = append(p.List, randomHash(r))
		p.Second = append(p.Second, randomHash(r))
		p.Labels = append(p.Labels, "")
	}
	return p, p.addTexts(seed, cfg.Texts)
}

// addKnown makes the known images and lists them.
func (p *Pools) addKnown(r *rand.Rand, n int) ([]image.Image, error) {
	var known []image.Image
	for i := range n {
		img := corpus.GenerateImage(r, 256, 384)
		known = append(known, img)
		data := p.add(corpus.ClassKnownImage, img, 90)
		s, err := perceptual.ScanImage(data)
		if err != nil {
			return nil, err
		}
		p.List = append(p.List, s.Hash)
		p.Second = append(p.Second, clientscan.SecondHash(s.Image))
		p.Labels = append(p.Labels, fmt.Sprintf("known-%03d", i))
	}
	return known, nil
}

// addAttacks makes the evasive images (a black-box evasion attack on PDQ
// against known images) and the collision images (benign images pushed
// towards a listed hash). The attacker sends its best output whether or
// not the attack reached its goal.
func (p *Pools) addAttacks(r *rand.Rand, known []image.Image, n int) {
	ac := corpus.AttackConfig{Hasher: corpus.PDQHasher, Threshold: perceptual.MatchThreshold, Budget: 300}
	for i := range n {
		k := i % len(known)
		p.add(corpus.ClassEvasiveImage, corpus.Evade(known[k], p.List[k], ac, r).Image, 95)
		target := p.List[(k+1)%len(known)]
		p.add(corpus.ClassCollisionImage, corpus.Collide(corpus.GenerateImage(r, 256, 384), target, ac, r).Image, 95)
	}
}

// add encodes img as a messaging app would upload it and pools it.
func (p *Pools) add(c corpus.ContentClass, img image.Image, quality int) []byte {
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: quality})
	p.images[c] = append(p.images[c], b.Bytes())
	return b.Bytes()
}

func (p *Pools) addTexts(seed uint64, conversations int) error {
	tc := corpus.DefaultTextConfig()
	tc.Seed = seed
	tc.Conversations = conversations
	texts, err := corpus.GenerateTexts(tc)
	if err != nil {
		return err
	}
	for _, m := range texts.Messages() {
		p.texts[m.Label.Harmful] = append(p.texts[m.Label.Harmful], m.Text)
	}
	if len(p.texts[true]) == 0 || len(p.texts[false]) == 0 {
		return errors.New("coverage: the text pools need harmful and benign texts")
	}
	return nil
}

// item names one distinct piece of content: its class and index in its
// pool (texts: class harmful-text or benign-text).
type item struct {
	class corpus.ContentClass
	index int
}

// pick chooses the content of one message: a function of the seed and the
// message ID only, so every pass and every mode draws the same content for
// the same message, in any order.
func (p *Pools) pick(seed uint64, ev *corpus.MessageEvent) item {
	// FNV-1a of the seed's 8 bytes and the ID.
	h := uint64(14695981039346656037)
	for i := range 8 {
		h = (h ^ (seed >> (8 * i) & 0xff)) * 1099511628211
	}
	for i := 0; i < len(ev.ID); i++ {
		h = (h ^ uint64(ev.ID[i])) * 1099511628211
	}
	return item{ev.Class, int(h % uint64(p.poolSize(ev.Class)))}
}

func (p *Pools) poolSize(c corpus.ContentClass) int {
	if c.Image() {
		return len(p.images[c])
	}
	return len(p.texts[c == corpus.ClassHarmfulText])
}

// content returns the bytes of a pooled item.
func (p *Pools) content(it item) scanlab.Content {
	if it.class.Image() {
		return scanlab.Content{Kind: scanlab.Image, Image: p.images[it.class][it.index]}
	}
	return scanlab.Content{Kind: scanlab.Text, Text: p.texts[it.class == corpus.ClassHarmfulText][it.index]}
}

// Distinct returns how many distinct items a class's pool holds.
func (p *Pools) Distinct(c corpus.ContentClass) int { return p.poolSize(c) }

func randomHash(r *rand.Rand) perceptual.Hash {
	var h perceptual.Hash
	for i := range h {
		h[i] = byte(r.Uint32())
	}
	return h
}
