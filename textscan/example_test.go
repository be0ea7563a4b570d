package textscan_test

import (
	"fmt"

	"scanlab/textscan"
)

func ExampleNormalize() {
	fmt.Println(textscan.Normalize("K.i.l.l   y-0-u-r-s-e-l-f!!"))
	fmt.Println(textscan.Normalize("ｄ０ｎｔ t3ll ur m\u200bum 🤫"))
	// Output:
	// kil yourself
	// dont tel ur mum secret
}

func ExampleRules() {
	rules := textscan.Rules()
	for _, text := range []string{
		"this workout will kill me",
		"d0nt t3ll y0ur m0m ab0ut us",
	} {
		v := rules.Classify(text)
		fmt.Printf("harmful=%v rule=%q\n", v.Harmful, v.Rule)
	}
	// Output:
	// harmful=false rule=""
	// harmful=true rule="grooming/secrecy"
}
