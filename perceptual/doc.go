// Package perceptual computes perceptual image hashes and matches them
// against hash lists, for the scanning modes of scanlab.
//
// The main hash is Meta's PDQ, implemented from the reference code in
// facebook/ThreatExchange (pdq/cpp, with the algorithm described in
// hashing/hashing.pdf there): on identical pixels [PDQ] and [PDQ512] give
// the reference's hash and quality bit for bit. Two flavours exist because
// the reference has two: [PDQ] hashes at full resolution, as Meta's
// production hashers do (python-threatexchange, Hasher-Matcher-Actioner,
// the Java hasher); [PDQ512] first squashes large images to 512×512 as the
// reference command-line tool does. [PDQDihedral] gives the eight hashes of
// the image's rotations and mirror images from one computation. [PHash] and
// [DHash] are 256-bit baselines, so all distances are out of 256 bits.
//
// [Distance] is the Hamming distance; Meta treats distances up to
// [MatchThreshold] (31) as a match and advises dropping hashes of quality
// below [MinQuality] (50). [Index] finds every list entry within a distance
// of a query, exactly, far faster than a linear scan; [List] reads and
// writes hash lists as text. [DecodeImage] decodes untrusted JPEG, PNG, GIF
// and WebP bytes with a pixel limit.
//
// # Who sees what
//
// A PDQ hash is a 256-bit summary of an image's coarse structure: which of
// the lowest spatial frequencies of a 64×64 grey thumbnail are above their
// median. It does not contain the image, but it is not a cryptographic
// hash either: whoever holds a hash can test any candidate image against it,
// can tell which hashed images are near-duplicates of each other, and can
// recover a blurry impression of the layout (hash inversion is published,
// e.g. Madden et al. 2024). Anyone can also craft an innocuous-looking image
// that lands near a chosen hash, or perturb an image until it no longer
// matches (Jain, Creţu and de Montjoye, USENIX Security 2022).
//
// So in each scanlab mode:
//
//   - whoever computes the hash (the server in server-side scanning, the
//     device in on-device scanning) sees the image itself;
//   - whoever receives a hash learns that coarse signature of the image, and
//     whether it is near any hash it holds;
//   - whoever holds the hash list learns, from each match, that a message
//     contained an image near a listed one, and which; the list itself
//     reveals coarse signatures of the listed images to anyone it is
//     shipped to, which is why on-device schemes blind it.
//
// This package only computes and compares hashes; it encrypts nothing and
// decides nothing about who may see a hash.
package perceptual
