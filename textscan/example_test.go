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

func ExampleTrain() {
	model := textscan.Train([]textscan.Example{
		{Text: "just kill yourself", Harmful: true, Category: textscan.SelfHarm},
		{Text: "nobody would miss you, kill yourself", Harmful: true, Category: textscan.SelfHarm},
		{Text: "see you at practice tomorrow"},
		{Text: "practice moved to six"},
	})
	for _, text := range []string{"k1ll y0urs3lf", "see you at six"} {
		v := model.Classify(text)
		fmt.Printf("harmful=%v category=%q\n", v.Harmful, v.Category)
	}
	// Output:
	// harmful=true category="self-harm"
	// harmful=false category=""
}

func ExampleEvaluate() {
	m := textscan.Evaluate(textscan.Rules(), []textscan.Example{
		{Text: "don't tell your parents about us", Harmful: true, Category: textscan.Grooming},
		{Text: "this workout will kill me"},
	})
	fmt.Printf("recall=%.2f fpr=%.2f\n", m.Overall.Recall, m.Overall.FPR)
	// Output:
	// recall=1.00 fpr=0.00
}
