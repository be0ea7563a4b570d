// Package falsematch measures how often a benign image falsely matches a
// list of perceptual hashes, and what that means for an account at the
// threshold of on-device scanning.
//
// # What it measures
//
// The list is made of real photographs: [RealPhotos] holds the PDQ hashes
// of every photograph available offline (scikit-image's sample photos, the
// photographs of Debian's mate-backgrounds, plasma-workspace-wallpapers,
// palapeli-data and jigzo-data, Meta's PDQ test images, and the Go
// toolchain's and golang.org/x/image's test photos), one entry per scene.
// The benign images are distinct images from corpus.GenerateImage
// (QuickImages, DefaultImages or FullImages of them, by [Size]),
// regenerated from the seed at run time on every CPU, and,
// separately, the listed photographs themselves with their own scene left
// out. [Run] reports:
//
//   - the distributions of nearest distances (benign image → list) and of
//     all per-pair distances, and, for contrast, of the distances between
//     files of one scene (re-encodings and edits: true matches);
//   - p(image): the share of benign images whose nearest entry is within
//     perceptual.MatchThreshold (31 bits), both hashes of quality ≥ 50,
//     with the exact Clopper–Pearson interval and one-sided 95% bound;
//   - separately labelled, tail fits of the per-pair distance (five
//     models, see [Models]) extrapolated to lists of 10³ to 10⁶ entries;
//   - the account-level curve: P[account revealed] for per-image
//     probabilities from 1e−9 to 1e−2, every threshold t from 1 to 50 and
//     libraries of 1,000 to 100,000 images, with the measured bound and
//     Apple's figures marked ([Curve], [RevealProbability]).
//
// # Assumptions
//
// The measured p(image) assumes the benign images are independent draws of
// what users send; generated images are not photographs, and the real
// photographs are few (tens of scenes), so the bound says "no false match
// among n such images", not that user photos behave alike. The tail fits
// assume further that (1) the per-pair distance keeps the fitted shape from
// the observed range (about 90 bits and up) down to 31 bits, some twelve
// standard deviations further, where no pair was seen; (2) pairs are
// independent across list entries, so a list of L entries gives
// 1 − (1 − p_pair)^L; (3) the list's photographs are unrelated to the
// benign ones. Real false matches come mostly from what breaks (1) and
// (3): near-duplicates of the same scene, shared templates and backgrounds,
// and crafted collisions, none of which a tail of unrelated pairs sees. The
// account curve assumes each image of a library is a false match
// independently with the same p.
//
// # Compared with Apple's figures
//
// Apple's "Security Threat Model Review of Apple's Child Safety Features"
// (August 2021) states an account-level target below one in a trillion per
// year, a NeuralHash false-positive rate measured at 3 in 100 million
// images against NCMEC's list, and a per-image rate of one in a million
// assumed as a margin. Those are per-image rates of a different hash
// (NeuralHash, a neural embedding, not PDQ's DCT signs), on about 10⁸ real
// photographs, against a list of millions of entries, with matches
// confirmed by people. Here: PDQ, thousands of images by default (millions
// at the full size, the fewest that can bound p near 10⁻⁶), tens
// of real list entries, and no human review; the per-pair tail is a model
// and the per-image bound is limited by n (about 3/n when nothing matches).
package falsematch
