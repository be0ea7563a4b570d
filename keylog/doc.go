// Package keylog is key transparency for the provider's key directory: an
// append-only Merkle log of every account's device keys (RFC 6962/RFC 9162
// tree hashing and proofs, from github.com/transparency-dev/merkle), signed
// tree heads, and the three parties that check it:
//
//   - a [Client] (a messaging app) checks that the keys the directory handed
//     it are those of a logged [Entry] (an inclusion proof) and that the log
//     it sees only ever grew since the last head it saw (a consistency
//     proof);
//   - a [Monitor] (an account's own device) reads every entry of the log,
//     recomputes the head and looks for entries of its account with keys
//     it never published;
//   - an [Auditor] collects heads — its own, and, when clients gossip, the
//     heads clients were shown — and checks that all of them are
//     consistent with one another.
//
// The design follows Certificate Transparency (RFC 9162 §2.1 for the tree,
// §2.1.3–2.1.4 for inclusion and consistency proofs) and the key
// transparency WhatsApp deployed in 2023 (the Auditable Key Directory) and
// Apple's Contact Key Verification, in their simplest form: a log, not a
// verifiable map, so a monitor reads the whole log rather than a per-account
// proof of absence.
//
// # Who sees what
//
// The log is public by design: anyone the provider answers sees every
// account name and every device's public identity key ever published,
// and when each changed. That is the price of key transparency. The log
// holds no private key and no message. The provider signs heads with its
// log key and may sign different heads for different askers (a split
// view); this package detects that only when an [Auditor] is given heads
// from more than one view — it cannot detect it otherwise, and neither can
// anyone else.
package keylog
