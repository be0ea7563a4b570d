// Package psi implements threshold private set intersection with associated
// data, following "The Apple PSI System" (Bhowmick, Boneh, Myers, Talwar,
// Tarbe, 29 July 2021), §3–§5, cited below as "the paper".
//
// A provider ([Provider]) holds a list of byte strings, for instance 32-byte
// PDQ hashes, and the blinding secret α. It publishes a blinded cuckoo table
// ([Table]) and a SHA-256 root committing to it; its voucher servers
// ([Server], one per relay, each with its own account state) process
// vouchers with α. Each account's devices share one [Account] and attach a
// safety voucher ([Voucher]) to every image: the voucher carries the image's
// associated data (for instance its hash and a low-resolution derivative)
// under two layers of encryption. The server learns whether each voucher
// matched, but a synthetic voucher matches too, and it can open associated
// data only once an account holds more than [Params.Threshold] real matches,
// and then only theirs.
//
// Building blocks (paper §3): NIST P-256 with RFC 9380 hash-to-curve
// (P256_XMD:SHA-256_SSWU_RO_) from github.com/cloudflare/circl/group;
// AES-128-GCM with random 96-bit nonces, made key-committing with an
// HKDF-derived commitment (see seal in aead.go) for the random-key robustness
// the paper requires; HKDF-SHA256 as the KDF H' from points to keys;
// HMAC-SHA256 (HKDF-Expand) as the PRF; Shamir secret sharing over
// F_p, p = 2^255 − 19; and the (s,t)-detectable hash function over
// F_ℓ, ℓ = 2^64 − 59, which tells real shares from synthetic ones once there
// are more than t real ones.
//
// # Protocol in brief
//
// Server setup (§4): deduplicate the list, insert it into a cuckoo table of
// n' slots with hash functions h1, h2 (entries that do not fit are dropped:
// false negatives by construction, [Provider.Dropped]), pick a secret α and
// publish P_i = α·H(T[i]) for filled slots, random points for empty ones, and
// L = α·G. Devices refuse a table whose root differs from the published one,
// or that holds a repeated or invalid point ([UnmarshalTable]).
//
// Voucher (§4): for element y with identifier id the device encrypts the
// associated data under the account key adkey, computes the Shamir share of
// adkey and the detectable-hash value at points derived from id, encrypts
// both with adct under a fresh rkey into rct, and for j = 1, 2 encrypts rkey
// under H'(S_j) where Q_j = β_j·H(y) + γ_j·G and S_j = β_j·P_(h_j(y)) + γ_j·L.
// The server computes α·Q_j: it equals S_j exactly when y is in the slot
// h_j(y), so a member opens exactly one pair and a non-member none. With
// probability [Params.SyntheticRate], while the account's secret budget
// lasts (uniform on {0, …, s}, drawn with its keys; see [Calibration]), a
// device sends instead a synthetic voucher whose first pair always opens
// and whose share and detectable-hash value are pseudorandom.
//
// Reveal: the Shamir polynomial has degree t and the detectable-hash
// polynomials degree t−1, so t real matches look uniformly random. With t+1
// real matches (and at most [Params.MaxSynthetic] synthetic ones) the server
// finds the real ones by linear algebra over F_ℓ, reconstructs adkey by
// Lagrange interpolation and opens the real matches' associated data
// ([Server.Revealed]). The threshold rule is therefore "more than t":
// [AccountFalseFlagProbability] computes P[Binomial(n, p) > t].
//
// # Who sees what
//
// The device learns nothing about the list beyond its size (the number of
// slots): the table's points are α·H(y) or random points, indistinguishable
// under DDH, and no message from the server depends on whether anything
// matched. It cannot tell whether any of its own images matched.
//
// The server sees every voucher identifier and, per voucher, whether it
// matched; real and synthetic matches look alike, so below the threshold it
// learns the number of vouchers and the number of real-plus-synthetic
// matches, and the order they came in. How well the count hides the real
// count depends on the calibration and the library size:
// [MatchCountDistance] gives the server's best advantage from the count and
// [BelowThreshold] tabulates it beside a simulation. With the default
// budget (s = 2t, about t synthetic vouchers: this project's calibration,
// since Apple published no rate) a library large enough to spend its
// budget hides k real matches up to an advantage of k/(2t+1) (0.016 for one
// match at t = 30, 0.49 for thirty); a small library, which sends few
// synthetic vouchers whatever the budget, hides little (0.17 for one match
// in 100 images at the rate 0.05). A fixed cap, as this package once had, hid nothing in large
// libraries (0.98 for one match in 5,000 images). A budget spent early makes
// late matches likelier to be real; the advantage from the order is not
// measured. Above the threshold it learns the associated data of the real
// matches only, which vouchers were synthetic, and the exact real count;
// non-matching vouchers stay doubly encrypted.
//
// The curator who supplies the list learns nothing from the protocol. A
// curator (or provider) that adds targets changes the root, but devices
// cannot see what was added: they see only that the root changed. A server
// can also overfit empty slots with extra targets (paper Remark 5,
// [NewOverfitProvider]); the table then still decodes and its root is
// internally consistent, so devices cannot notice. An auditor who holds the
// claimed list and the server's secrets can ([Provider.Audit]); anyone with
// only the root learns only whether two devices hold the same table.
//
// Nothing a device holds ([Table], [Account]) refers to the [Provider]: α
// never leaves it and the servers it makes.
//
// Correctness against a malicious client is not guaranteed (paper §4.4): a
// modified client can send only synthetic vouchers ([Account.Synthetic]) and
// is never revealed; once it holds more matches than an honest account can
// below the threshold, [View].Excess marks it.
package psi
