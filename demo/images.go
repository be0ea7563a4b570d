package demo

import (
	"embed"
	"fmt"
	"math/rand/v2"
	"strings"

	"scanlab/perceptual"
)

// The stand-in photos ship with the demo; TestStandIns regenerates them
// with -update and checks the properties the listed-image scenario relies
// on.
//
//go:embed images/*.jpg
var imageFS embed.FS

// Photo is one stand-in picture: a drawn landscape, harmless, standing in
// for an image on a real hash list.
type Photo struct {
	// Name is the file name, also the page's URL for it (/photo/Name).
	Name string
	// Label names it in the story: "photo 1", "photo 1 edited".
	Label string
	// Title is what the audience is told the picture is.
	Title string
	// Listed is true when the picture's hash is on the demo's list.
	Listed bool
	// Original names the listed photo an edited copy was made from.
	Original string
}

// Photos are the stand-in pictures, in the order the listed-image
// scenario sends them: a listed photo, a slightly edited copy of it
// (brightened and re-saved, so its hash moves by a few bits), and two more
// listed photos.
var Photos = []Photo{
	{Name: "photo-1.jpg", Label: "photo 1", Title: "a stand-in photo whose fingerprint is on the list", Listed: true},
	{Name: "photo-1-edited.jpg", Label: "photo 1 edited", Title: "photo 1, brightened a little and re-saved", Original: "photo-1.jpg"},
	{Name: "photo-2.jpg", Label: "photo 2", Title: "another stand-in photo on the list", Listed: true},
	{Name: "photo-3.jpg", Label: "photo 3", Title: "a third stand-in photo on the list", Listed: true},
}

// PhotoBytes returns the encoded bytes of the stand-in photo called name.
func PhotoBytes(name string) ([]byte, error) {
	if _, ok := PhotoNamed(name); !ok {
		return nil, fmt.Errorf("demo: no stand-in photo %q", name)
	}
	return imageFS.ReadFile("images/" + name)
}

// hashList is the demo's own hash list: the PDQ hash of every listed photo,
// preceded by a random entry nobody else knows (the visibility audit
// searches every party's view for it). It returns the list, its labels
// and the random entry.
func hashList(seed uint64) ([]perceptual.Hash, []string, perceptual.Hash, error) {
	r := rand.New(rand.NewPCG(seed, 0x6c697374))
	var planted perceptual.Hash
	for i := range planted {
		planted[i] = byte(r.Uint32())
	}
	list, labels := []perceptual.Hash{planted}, []string{"planted entry"}
	for _, p := range Photos {
		if !p.Listed {
			continue
		}
		b, err := PhotoBytes(p.Name)
		if err != nil {
			return nil, nil, planted, err
		}
		s, err := perceptual.ScanImage(b)
		if err != nil {
			return nil, nil, planted, fmt.Errorf("demo: stand-in %s: %w", p.Name, err)
		}
		list, labels = append(list, s.Hash), append(labels, strings.TrimSuffix(p.Name, ".jpg"))
	}
	return list, labels, planted, nil
}

// PhotoNamed returns the stand-in photo called name.
func PhotoNamed(name string) (Photo, bool) {
	for _, p := range Photos {
		if p.Name == name {
			return p, true
		}
	}
	return Photo{}, false
}
