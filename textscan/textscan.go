// Package textscan classifies message texts as harmful or not, for the
// server-text and device-text detection pathways. It has two classifiers
// behind one interface, [Classifier]:
//
//   - [Rules], keyword and regular-expression rules matched against a
//     [Normalize]d text that undoes common obfuscations (spacing tricks,
//     leetspeak, homoglyphs, invisible characters, repeated letters, emoji);
//   - [Model], a naive Bayes classifier that [Train] fits to labelled
//     examples.
//
// [Evaluate] scores any [Classifier] against labelled examples: precision,
// recall, F1 and false-positive rate, overall and per category.
//
// The categories are the harms the study follows in private messaging:
// [Grooming] (the stages described in the child-safety literature: rapport,
// isolation and secrecy, desensitisation, requests), [SelfHarm]
// (encouraging someone to hurt or kill themselves), [Threat] (threats of
// violence and harassment) and [Sextortion] (threats to spread intimate
// images, usually with a demand).
//
// # Who sees what
//
// A classifier sees the plaintext of the message it classifies, and nothing
// else: no sender, recipient or history. Where it runs decides who else sees
// that plaintext: in serverscan the provider runs it on every message, in
// clientscan the sender's device runs it and only the verdict may leave the
// device. This package keeps no state between calls and logs nothing.
package textscan

// The categories a [Verdict] can carry.
const (
	Grooming   = "grooming"
	SelfHarm   = "self-harm"
	Threat     = "threat"
	Sextortion = "sextortion"
)

// Categories lists every category in a stable order.
var Categories = []string{Grooming, SelfHarm, Threat, Sextortion}

// Verdict is a classifier's decision about one text. Category is one of
// [Categories] when Harmful is true and empty otherwise. Rule names what
// fired: a rule name such as "grooming/secrecy" for [RuleSet], the model's
// name for a trained model. Score is the classifier's confidence that the
// text is harmful, in [0, 1]; the rules only ever say 0 or 1.
type Verdict struct {
	Harmful  bool
	Category string
	Rule     string
	Score    float64
}

// Classifier decides whether a text is harmful. Implementations are safe for
// concurrent use.
type Classifier interface {
	// Name identifies the classifier in results, e.g. "rules".
	Name() string
	// Classify returns the verdict for one message text.
	Classify(text string) Verdict
}
