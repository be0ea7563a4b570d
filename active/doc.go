// Package active is the provider acting in bad faith: the active attacks
// on end-to-end encryption that a provider can mount through its own key
// directory, and the directory service through which it mounts them and
// through which an honest provider offers key transparency.
//
//   - Key substitution (machine in the middle): the directory hands a
//     sender a key the provider holds in place of the recipient's, and the
//     recipient a provider key in place of the sender's; the provider's
//     server logic decrypts every message on the way and re-encrypts it to
//     the real recipient, franking and all, so nothing looks wrong.
//   - Ghost device: the directory lists a device the provider holds under
//     the recipient's account (Ian Levy and Crispin Robinson, "Principles
//     for a More Informed Exceptional Access Debate", Lawfare, 29 November
//     2018: "silently add a law enforcement participant"); senders encrypt
//     a copy of every message to it (Sesame fan-out).
//
// With key transparency on, the directory attaches a keylog proof to
// every account it serves, and the provider treats the attack keys as
// [Config.Log] says: unlogged (the proof fails), logged (the owner's
// monitor sees them) or split view (logged only in a copy of the log shown
// to the attacked users, which only auditors comparing heads can catch).
//
// A [Provider] plugs into the relay as its relay.KeyService (through
// harness.Options.Directory) and wraps the mode's server logic
// ([Provider.Mode]); everything its own devices decrypt goes to
// [Config.Recovered], which the visibility audit searches like any other
// view. Nothing is asserted: the provider recovers a message only if its
// device really decrypts it.
//
// # Who sees what
//
// The attacking provider sees what the honest provider sees, plus the
// plaintext of every message its devices can decrypt: all messages to a
// recipient with a ghost device, and all messages of a pair whose keys it
// substituted. Users see what their apps show — "safety number changed",
// "new device", a failed key-log check — and what they compare out of
// band; auditors see the log heads they fetch and those gossiped to them.
package active
