package demo

import (
	"scanlab/active"
	"strings"

	"scanlab/observe"
	"scanlab/relay"
	"scanlab/relay/tap"
)

// Explained is a name with one plain sentence saying what it is: a row of
// the glossary.
type Explained struct {
	Name     string // as results spell it: "e2ee", "db-thief"
	Title    string // as the audience reads it: "End-to-end encryption"
	Sentence string
}

// ModeGlossary explains each mode, in the order of modes.Names.
var ModeGlossary = []Explained{
	{"serverscan", "Server-side scanning", "Messages travel encrypted to the company's server, which decrypts them, checks every text and photo against its rules and hash list, and stores them encrypted with its own keys — the model of most social media DMs."},
	{"e2ee", "End-to-end encryption", "Only the two phones hold the keys (as in Signal or WhatsApp): the server passes on ciphertext it cannot read, and learns of abuse only when a recipient reports a message."},
	{"clientscan", "Scanning on the phone", "End-to-end encryption plus a scanner on the sender's phone that seals a \"safety voucher\" onto every photo; the company can open an account's vouchers only once more than t of its photos match the hash list (Apple's 2021 design)."},
}

// PartyGlossary explains each party, in the order of observe.Parties.
var PartyGlossary = []Explained{
	{string(observe.Sender), "Sender", "The person who wrote the message, on their own phone."},
	{string(observe.Recipient), "Recipient", "The person it was sent to, on their own phone."},
	{string(observe.Provider), "Provider", "The company running the service: what its servers hold in memory, its scanners' logs and its database."},
	{string(observe.Employee), "Rogue employee", "Someone working for the provider with access to the database and the keys that decrypt it."},
	{string(observe.LawEnforcement), "Law enforcement", "Police with a court order: they receive the provider's lawful-access export of what it stores."},
	{string(observe.Eavesdropper), "Eavesdropper", "Someone watching the network between a phone and the server, for example on the school Wi-Fi."},
	{string(observe.DBThief), "Database thief", "A criminal who stole a copy of the provider's database file, but not its keys."},
	{string(observe.DBThiefKMS), "Thief with the keys", "A criminal who stole the database and the provider's encryption keys as well."},
	{string(observe.HashCurator), "Hash-list curator", "The organisation that keeps the list of fingerprints (perceptual hashes) of known abuse images."},
	{string(observe.ProviderActive), "Provider acting in bad faith", "The same company turned against its users: it hands out encryption keys it holds, or adds a hidden device to an account, and reads whatever its own devices decrypt."},
}

// holds says what a party holds when it recovers nothing of the
// messages: the plain reason its cell is empty.
var holds = map[observe.Party]string{
	observe.Sender:         "their own phone",
	observe.Recipient:      "their own phone",
	observe.Provider:       "only ciphertext passes through it",
	observe.Employee:       "the database and its keys hold only ciphertext",
	observe.LawEnforcement: "the export holds only ciphertext",
	observe.Eavesdropper:   "only encrypted traffic",
	observe.DBThief:        "the database file is encrypted at rest",
	observe.DBThiefKMS:     "the database holds only ciphertext",
	observe.HashCurator:    "holds the hash list, never messages",
	observe.ProviderActive: "in this story the provider does not attack",
}

// Title returns the audience's name for a mode or party, or name itself.
func Title(name string) string {
	for _, g := range append(append([]Explained(nil), ModeGlossary...), PartyGlossary...) {
		if g.Name == name {
			return g.Title
		}
	}
	return name
}

// itemWords name what a party recovered, in the order a cell lists them:
// content first, then metadata, then what concerns the list.
var itemWords = []struct {
	item  observe.Item
	words string
	level Level
}{
	{observe.Text, "your words", Content},
	{observe.ReportedText, "the reported message", Content},
	{observe.Image, "the photo", Content},
	{observe.ListedImage, "the photos", Content},
	{observe.SenderID, "sender", Metadata},
	{observe.RecipientID, "recipient", Metadata},
	{observe.ContactGraph, "who talks to whom", Metadata},
	{observe.Timestamp, "time", Metadata},
	{observe.Size, "size", Metadata},
	{observe.ImageHash, "photo fingerprints", Metadata},
	{observe.MatchVerdict, "which matched", Metadata},
	{observe.HashList, "the hash list", Nothing},
}

// routeWords turn the audit's routes into the plain reason a party got
// something. A route not listed here is shown as the audit names it.
var routeWords = map[string]string{
	"TLS-terminated envelope in relay memory":               "TLS ended at the server",
	relay.RouteAtRest:                                       "the database, decrypted with the provider's keys",
	relay.RouteRawDB:                                        "the raw database file",
	relay.RouteExport:                                       "the lawful-access export",
	tap.RouteRaw:                                            "raw bytes on the wire",
	tap.RouteTraffic:                                        "timing and size from TLS record lengths",
	"sender's own device":                                   "their own phone",
	"recipient's device after decryption":                   "decrypted on their phone",
	"matching data shipped to the device":                   "the matching table every phone holds",
	"hash list the curator supplies":                        "the list they keep",
	"server scan log":                                       "the server's scan log",
	"hash list loaded by the server's scanner":              "the scanner's hash list",
	"abuse report in relay memory":                          "a user's report",
	"safety vouchers received (opaque below the threshold)": "counted safety vouchers",
	"safety voucher opened after threshold":                 "vouchers opened past the threshold: low-resolution copies",
	"hash list the provider blinded":                        "the list it blinded for phones",
	active.RouteSubstitute:                                  "keys it swapped in: it decrypted every message and re-encrypted it for the recipient",
	active.RouteGhost:                                       "a hidden device it added to the recipient's account",
}

// noAttack is how the audit marks the routes of a provider that needed no
// attack to read messages.
const noAttack = "no attack needed: "

// routePhrase returns the plain words for one route.
func routePhrase(route string) string {
	if w, ok := routeWords[route]; ok {
		return w
	}
	if rest, ok := strings.CutPrefix(route, noAttack); ok {
		return noAttack + routePhrase(rest)
	}
	return route
}

// joinWords joins phrases as a sentence would: "a", "a and b", "a, b and c".
func joinWords(ws []string) string {
	switch len(ws) {
	case 0:
		return ""
	case 1:
		return ws[0]
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}
