// Package demo is the educator's demonstration: a short list of scenarios
// (a harmless chat, a photo on the hash list, a grooming pattern, a data
// breach, a court order, a rogue employee, and the provider swapping a
// key, with apps that accept it silently and with apps that warn) that a
// teacher runs through serverscan, e2ee and clientscan side by side.
//
// In the key-swap stories the provider acts in bad faith (package
// active): after a greeting each way, its directory hands Sam a key it
// holds for Alex and Alex one for Sam, and its server decrypts and
// re-encrypts every message on the way; the grid's "provider acting in
// bad faith" row comes from the same audit with that attack
// (audit.RunActive), the other rows from the audit without it.
//
// [Run] plays one scenario through the real pipeline: for each mode it
// starts the real TLS relay on loopback (package harness), sends the
// scenario's messages one by one, delivers each to its recipient, and
// records per message what the provider did (scanned, flagged, counted a
// safety voucher), what the provider's metadata detector (package
// behavior) concluded, what each stage cost and how many bytes crossed
// the wire. It then runs the visibility audit (package audit) on the same
// messages and turns its cells into one plain sentence per party. The
// [Result] is all there is: the web page (package web) and the terminal
// narration ([Narrate]) are two renderings of it.
//
// # Who sees what
//
// Nothing here decides who sees what: every cell comes from audit.Run,
// which searches each party's real holdings with only that party's keys,
// and every flag from the modes' own server logic or from behavior's
// detector fed with what the provider receives. The audience's words stay
// in the [Result], in memory, and in the relay's temporary state directory
// (removed when the run ends). The stand-in photos are drawn landscapes,
// on a list of the demo's own.
package demo
