// Package e2ee implements the harness's end-to-end encrypted mode: X3DH key
// agreement (Signal, "The X3DH Key Agreement Protocol", rev. 1, 2016) with
// optional PQXDH (Signal, "The PQXDH Key Agreement Protocol", rev. 3, 2024;
// ML-KEM-1024 from crypto/mlkem, with a signed last-resort and signed
// one-time ML-KEM prekeys), signed-prekey rotation, the Double Ratchet
// (Signal, "The Double Ratchet Algorithm", rev. 1, 2016) with
// ChaCha20-Poly1305 message encryption, message franking for verifiable
// abuse reports (Facebook, "Messenger Secret Conversations" technical
// whitepaper, 2016; Grubbs, Lu and Ristenpart, CRYPTO 2017), optional sealed
// sender with provider-signed sender certificates (RFC 9180 HPKE from
// crypto/hpke; Signal, "Technology preview: Sealed sender for Signal",
// 2018), identity pinning, and the "e2ee" [scanlab.Mode].
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
// also sees who fetches whose prekey bundle, and, under sealed sender, who
// asks for a sender certificate and when. It does not see content: texts
// and images are only ever in the ChaCha20-Poly1305 payload, under keys
// derived from X25519 (and ML-KEM) secrets the provider never holds.
//
// A recipient who reports reveals exactly the reported messages: the
// plaintext, its franking key and the relay's tag. The provider checks the
// tag (which it made when it relayed the message, binding sender, recipient
// and time) and the commitment, and so learns the reported messages and
// that the accused sent them, and nothing about any other message. It
// refuses a message reported twice, from a bounded memory it loses at a
// restart. With sealed sender the relay no longer knows the sender when it
// tags, so a report proves the content was delivered to the reporter but
// cannot prove who sent it (see [Options.SealedSender]).
//
// An account may have several devices (Sesame, rev. 2, §2.1): the
// directory serves every device's keys together ([Account]), and a sender
// encrypts a copy of each message to each device, all under one franking
// commitment ([AttachDevices]); the provider sees how many copies.
//
// An active provider can hand out keys it controls (key substitution) or
// list a device of its own under a user's account (a ghost device). A
// device pins the identity key it first saw for each device of each
// correspondent and never accepts a different key or a new device
// silently: it records an [IdentityEvent] ("safety number changed", "new
// device") and, by [Options.IdentityPolicy], either accepts it or refuses
// it. The first contact is trust on first use: pinning cannot detect a key
// substituted or a device added before it, which is what comparing safety
// numbers ([Device.SafetyNumber], over every device of both accounts) and
// key transparency ([Options.CheckKeys], package keylog) are for. A
// correspondent whose safety number the user verified gets no silent
// change at all: a changed key or new device is refused. The provider also signs sender certificates, so it
// can issue one for any name — but a recipient accepts a certificate only
// for the identity key its session with that sender was agreed with, so a
// certificate for a substituted key raises the same identity event. Other
// users cannot claim a name they do not hold: the certificate names the
// sender and binds its identity key.
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
//   - Sender certificates are signed directly by one provider key (no
//     server certificate under a trust root), and the sealed box is HPKE
//     base mode: the sender is authenticated by the ratchet session the
//     certificate's identity key must match, not by a static-static layer.
//   - A one-time X25519 prekey and a one-time ML-KEM prekey are published
//     and handed out as one set.
//   - Each device of an account has its own identity key (as in WhatsApp's
//     multi-device design; Signal's linked devices share the account's),
//     only the primary device sends, and a sender does not copy its own
//     messages to its account's other devices. A safety number covers
//     every device of both accounts, as WhatsApp's security code does.
//
// [SignalProfile] reproduces libsignal's key schedule strings, and the
// tests check it against libsignal's published known-answer values.
package e2ee
