package perceptual_test

import (
	"fmt"
	"log"
	"os"
	"strings"

	"scanlab/perceptual"
)

func ExamplePDQ() {
	data, err := os.ReadFile("testdata/pdq/decoded/misc-images/wee.png")
	if err != nil {
		log.Fatal(err)
	}
	img, err := perceptual.DecodeImage(data, 0)
	if err != nil {
		log.Fatal(err)
	}
	h, quality := perceptual.PDQ(img)
	fmt.Println(h, quality)
	// Output: 6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d 100
}

func ExampleIndex() {
	list, err := perceptual.ReadList(strings.NewReader(`# known images
d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22,bridge
6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d,wee
`))
	if err != nil {
		log.Fatal(err)
	}
	ix := perceptual.NewIndex(list.Hashes)
	// The hash of a copy of the bridge photo decoded by another JPEG decoder.
	q, _ := perceptual.ParseHash("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22")
	for _, m := range ix.Match(q, perceptual.MatchThreshold) {
		fmt.Println(list.Labels[m.Entry], m.Distance)
	}
	// Output: bridge 6
}

func ExampleDistance() {
	a, _ := perceptual.ParseHash("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22")
	b, _ := perceptual.ParseHash("d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b23")
	fmt.Println(perceptual.Distance(a, b), perceptual.Distance(a, b) <= perceptual.MatchThreshold)
	// Output: 1 true
}
