// Package corpus generates the workloads of the study: who talks to whom, what
// they send, and the ground truth about it.
//
// The text workload ([GenerateTexts]) produces conversations between two
// accounts, each message paired with a [TextLabel] that says whether it is
// harmful and in which category. Harmful conversations follow the patterns
// the child-safety literature describes: grooming in stages (rapport,
// isolation and secrecy, desensitisation, request), encouragement of
// self-harm, threats and harassment, and sextortion. Benign conversations
// cover family, school, sport, gaming banter and work, and include confusers:
// everyday sentences that share words with harmful ones ("this workout will
// kill me", "don't tell mom about the surprise party"). A configurable share
// of harmful messages is obfuscated the way people evade keyword filters
// (spacing, leetspeak, homoglyphs, invisible characters, emoji).
//
// [HeldOutTexts] is a second text set for evaluation only: single messages
// from templates written apart from the workload's templates and from package
// textscan's rules, with a seed and PCG streams of their own.
// [EvaluateHeldOut] scores a textscan classifier on it.
//
// The image workload ([GenerateImage], [GenerateImages]) draws photo-like
// scenes from the seed and labels each image with one of [ImageClasses]
// (known, transformed, evasive, novel, benign, collision, political-meme).
// Harmful classes are procedural stand-ins, never real abuse imagery
// ([SyntheticImages]). [BundledPhotos] adds eleven public-domain photographs
// and [LoadPhotos] a researcher's own. [Transform] reproduces Thorn's
// benchmark edits, and [Evade] and [Collide] are black-box attacks whose
// results are always checked by hashing the output again.
//
// The population workload ([GeneratePopulation], [Population.Events])
// generates accounts with a clustered social graph, direct-message policies
// and ground-truth roles (offenders, evaders, modified clients), and a
// time-ordered stream of message events that carry only a content-class
// label; [Allowed] applies a recipient's direct-message policy. Offenders
// follow archetypes ([DefaultArchetypes]: opportunistic strangers, slow
// groomers, adult rings trading known images, sextortion bursts) whose every
// parameter states its source or says it is an assumption, at a stealth
// ([StealthRange]) from "as the metadata rules expect" (0) to "distributed
// like a benign parent in every signal the rules read" (1). Events are
// generated one day at a time, so populations of 100,000 accounts over 90
// days fit in memory.
//
// # Synthetic data
//
// Every text, image and account is synthetic. Every text is filled in from templates written for this study
// ([SyntheticTexts] is true and every [TextCorpus] says so in its Synthetic
// field). No message comes from a real person or a real conversation. The
// templates paraphrase patterns reported in the literature; they are far more
// regular than real abuse, so detection rates measured on them are upper
// bounds for classifiers that were written or trained with the same
// templates in view, and experiments must print that the texts are synthetic
// beside any number computed from them.
//
// Generation is deterministic: the same [TextConfig] (including its Seed)
// gives the same corpus, byte for byte, on every platform. Randomness comes
// from math/rand/v2 PCG streams derived from the seed, never from the global
// generator.
//
// # Who sees what
//
// Labels are ground truth for the harness only. A label never enters a
// message text, a [scanlab.Message] or an envelope; it travels beside the
// message inside the experiment runner, which uses it to score detections
// after the fact. No simulated party (sender, recipient, provider, employee,
// law enforcement, eavesdropper, thief or hash curator) can see it, and a
// classifier under test receives the text alone.
package corpus
