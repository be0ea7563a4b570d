// Package e2ee implements the harness's end-to-end encrypted mode: X3DH key
// agreement (Signal, "The X3DH Key Agreement Protocol", rev. 1, 2016) with
// optional PQXDH (Signal, "The PQXDH Key Agreement Protocol", rev. 3, 2024;
// ML-KEM-1024 from crypto/mlkem), the Double Ratchet (Signal, "The Double
// Ratchet Algorithm", rev. 1, 2016) with ChaCha20-Poly1305 message
// encryption, message franking for verifiable abuse reports (Facebook,
// "Messenger Secret Conversations" technical whitepaper, 2016; Grubbs, Lu and
// Ristenpart, CRYPTO 2017), optional sealed sender (RFC 9180 HPKE from
// crypto/hpke) and the "e2ee" [scanlab.Mode].
//
// # Who sees what
//
// The provider relays and stores envelopes. It sees the routing metadata of
// every envelope (message ID, sender unless sealed sender is on, recipient,
// the sender's timestamp), the time it handled it, the envelope's size (the
// payload is padded to [DefaultPadBucket]-byte buckets, so only the bucket
// leaks), the ratchet header in the clear (the sender's current ratchet
// public key and two counters, which reveal how many messages were sent on
// a chain and when the conversation turned), the franking commitment (a
// 32-byte HMAC under a key it never learns) and, for a first message, the
// X3DH initial message (the sender's identity keys and which prekeys were
// used; under sealed sender it travels inside the sealed box instead). It
// also sees who fetches whose prekey bundle. It does not see
// content: texts and images are only ever in the ChaCha20-Poly1305 payload,
// under keys derived from X25519 secrets the provider never holds.
//
// A recipient who reports reveals exactly the reported messages: the
// plaintext, its franking key and the relay's tag. The provider checks the
// tag (which it made when it relayed the message, binding sender, recipient
// and time) and the commitment, and so learns the reported messages and
// that the accused sent them, and nothing about any other message. With
// sealed sender the relay no longer knows the sender when it tags, so a
// report proves the content was delivered to the reporter but cannot prove
// who sent it (see [Options.SealedSender]).
//
// The devices see everything they send and receive. A device keeps, per
// peer, the franking openings of the last [Options.ReportWindow] received
// messages, so that it can report them later.
//
// # Deviations from Signal
//
//   - Prekeys are signed with a separate Ed25519 key, not with XEdDSA under
//     the X25519 identity key; the public identity is the pair, 64 bytes,
//     and both halves are in the X3DH associated data.
//   - Messages are encrypted with ChaCha20-Poly1305 keyed by the first 32
//     bytes of HKDF(message key) and with the next 12 as the nonce, instead
//     of AES-256-CBC with HMAC-SHA-256; the header, the caller's associated
//     data and the franking commitment are the AEAD associated data.
//   - The wire format is this package's own (a version byte and fixed-size
//     fields), not libsignal's protobufs; keys carry no 0x05 type byte.
//   - Responder state starts as in the Double Ratchet specification (RK =
//     SK, no sending chain); libsignal instead derives a first sending chain
//     for the responder from the X3DH output.
//
// [SignalProfile] reproduces libsignal's key schedule strings, and the
// tests check it against libsignal's published known-answer values.
package e2ee
