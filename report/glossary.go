package report

import (
	"scanlab"
	"scanlab/corpus"
	"scanlab/observe"
	"scanlab/schema"
)

// term is one glossary entry: the plain name plots and prose use, and what
// it means.
type term struct{ name, meaning string }

// Plain names for the vocabulary. A test requires an entry for every value
// of observe.Parties, observe.Items, scanlab.Pathways and
// corpus.ContentClasses, so that the vocabulary cannot grow without the
// report explaining it.
var (
	modeTerms = map[string]term{
		"serverscan": {"server-side scanning", "messages are encrypted only on the way to the provider (TLS); the provider decrypts and scans every message on its servers, as most e-mail and many messaging services do"},
		"e2ee":       {"end-to-end encryption", "messages are encrypted on the sender's phone and decrypted only on the recipient's (Signal protocol); the provider relays ciphertext and learns of abuse only when a recipient reports a message"},
		"clientscan": {"on-device scanning", "end-to-end encryption plus a scanner on the sender's phone that compares images with a list of known abuse images; the provider learns of matches only once an account passes a threshold of matches (Apple's 2021 design, threshold private set intersection)"},
	}
	partyTerms = map[observe.Party]term{
		observe.Sender:         {"sender", "the person who sends the message, on their own phone"},
		observe.Recipient:      {"recipient", "the person the message is for, on their own phone"},
		observe.Provider:       {"provider", "the company that runs the service: everything its servers handle, its database and its key-management keys"},
		observe.Employee:       {"provider's employee", "an insider with access to the database and the keys under the provider's policy"},
		observe.LawEnforcement: {"law enforcement", "what the provider can hand over on a lawful request: its stored data and metadata, decrypted as far as the provider can"},
		observe.Eavesdropper:   {"network eavesdropper", "someone who records every byte between the phones and the provider's servers (an internet provider, a state on the path)"},
		observe.DBThief:        {"database thief", "someone who steals a copy of the provider's database file, without the keys that protect it"},
		observe.DBThiefKMS:     {"database thief with the provider's keys", "someone who steals the database and the provider's key-management keys too: a full server breach"},
		observe.HashCurator:    {"hash-list curator", "the organisation that supplies the list of known abuse images (for example a child-protection charity)"},
		observe.ProviderActive: {"provider acting in bad faith", "the provider, turned against its users: everything the provider holds, plus what devices it controls decrypt after it hands out its own keys or adds a hidden device to an account"},
	}
	attackTerms = map[observe.Attack]term{
		observe.NoAttackNeeded:  {"no attack needed", "the provider already reads every message, since it decrypts them on its servers to scan them"},
		observe.KeySubstitution: {"swapped keys", "the provider's key directory hands each side a key the provider holds, and the provider decrypts and re-encrypts every message in the middle, so both still get their messages"},
		observe.GhostDevice:     {"ghost device", "the provider lists a device it holds under the recipient's account, so every sender encrypts a copy to it (the 2018 \"ghost\" proposal)"},
	}
	defenceTerms = map[observe.Defence]term{
		observe.NoDefence:             {"no defence", "apps accept any key and any new device silently"},
		observe.Pinning:               {"key-change notices", "apps remember each contact's keys and show \"safety number changed\" or \"new device\" when they change (Signal's and WhatsApp's default)"},
		observe.SafetyNumbers:         {"comparing safety numbers", "two users compare a number computed from both accounts' keys, in person or by scanning a code; only the share of users who do so can notice"},
		observe.KeyTransparency:       {"key transparency", "the provider publishes every account's keys in an append-only log; apps check each key they get against it, and each account's app checks the log for keys it never published (WhatsApp, 2023)"},
		observe.KeyTransparencyGossip: {"key transparency with auditors", "as key transparency, and apps pass the log versions they were shown to independent auditors, who check that everyone saw the same log"},
	}
	logTerms = map[observe.LogHandling]term{
		observe.NoLog:     {"–", "no key log"},
		observe.Unlogged:  {"keys left out of the log", "the provider hands out its keys without logging them"},
		observe.Logged:    {"keys logged", "the provider logs its keys like any other"},
		observe.SplitView: {"split view", "the provider logs its keys only in a copy of the log that it shows to the people it attacks"},
	}
	detectorTerms = map[observe.Detector]term{
		observe.BySender:    {"the sender", ""},
		observe.ByRecipient: {"the recipient", ""},
		observe.ByAuditor:   {"an auditor", ""},
	}
	stageTerms = map[observe.Stage]term{
		observe.BeforeSend:   {"before sending", ""},
		observe.OnReceipt:    {"on receipt", ""},
		observe.AtComparison: {"on comparing numbers", ""},
		observe.AtMonitoring: {"when checking the log", ""},
		observe.AtAudit:      {"when auditors compared", ""},
	}
	itemTerms = map[observe.Item]term{
		observe.Text:         {"message text", "what a text message says"},
		observe.Image:        {"photo", "an ordinary photo someone sends, or anything that shows what it depicts"},
		observe.ImageHash:    {"photo fingerprint", "the perceptual hash of a photo: a short code from which near-copies of the photo can be recognised"},
		observe.MatchVerdict: {"scan result", "whether a message matched the scanner (flagged or not)"},
		observe.SenderID:     {"who sent it", "the sender's account"},
		observe.RecipientID:  {"who received it", "the recipient's account"},
		observe.Timestamp:    {"when it was sent", "the time of sending"},
		observe.Size:         {"message size", "how long the encrypted message is"},
		observe.ContactGraph: {"who talks to whom", "that two accounts exchange messages"},
		observe.HashList:     {"the list of known images", "the scanner's list of fingerprints of known abuse images"},
		observe.ReportedText: {"reported text", "a text message its recipient reported to the provider: a disclosure by a party to the conversation"},
		observe.ListedImage:  {"listed photo", "a photo on the known-image list, sent by an account that crosses the reporting threshold"},
	}
	pathwayTerms = map[scanlab.Pathway]term{
		scanlab.ServerHash:     {"server image match", "the provider's server compares each photo's fingerprint with the list of known abuse images"},
		scanlab.ServerText:     {"server text classifier", "the provider's server runs a classifier over each text message"},
		scanlab.ServerMetadata: {"behaviour signals", "the provider flags accounts from what it sees in every design: who contacts whom, how often, account age, reports (no content)"},
		scanlab.DeviceHash:     {"on-device image match", "the sender's phone matches photos against the list; the provider learns of matches once an account passes the threshold"},
		scanlab.DeviceText:     {"on-device text classifier", "the sender's phone classifies text messages"},
		scanlab.UserReport:     {"user report", "a recipient reports a message and the provider verifies the report"},
		schema.AnyPathway:      {"any pathway", "at least one of the pathways above flagged the message"},
	}
	classTerms = map[corpus.ContentClass]term{
		corpus.ClassKnownImage:       {"known abuse image", "an image on the list of known abuse images, sent unchanged (synthetic stand-in)"},
		corpus.ClassTransformedImage: {"edited known image", "a known image cropped, resized, recompressed or filtered, as people do to dodge matching"},
		corpus.ClassEvasiveImage:     {"adversarially altered known image", "a known image altered by an attack designed to defeat the fingerprint"},
		corpus.ClassNovelImage:       {"new abuse image", "an abuse image on no list"},
		corpus.ClassCollisionImage:   {"harmless image forged to match", "a harmless image altered so that its fingerprint matches a listed one (framing or a prank); flagging it is a false alarm"},
		corpus.ClassHarmfulText:      {"harmful text", "grooming, sextortion or threats (synthetic templates)"},
		corpus.ClassBenignImage:      {"ordinary photo", "a harmless photo; flagging it is a false alarm"},
		corpus.ClassBenignText:       {"ordinary text", "a harmless text message; flagging it is a false alarm"},
	}
)

// plain returns the plain name of a vocabulary value, or the value itself
// when it has none.
func plain[K ~string](terms map[K]term, k K) string {
	if t, ok := terms[k]; ok {
		return t.name
	}
	return string(k)
}

func modeName(m string) string               { return plain(modeTerms, m) }
func partyName(p observe.Party) string       { return plain(partyTerms, p) }
func itemName(i observe.Item) string         { return plain(itemTerms, i) }
func pathwayName(p scanlab.Pathway) string   { return plain(pathwayTerms, p) }
func className(c corpus.ContentClass) string { return plain(classTerms, c) }
func modeNames(ms []string) []string         { return mapStrings(ms, modeName) }
func mapStrings[T any](xs []T, f func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// writeGlossary explains every mode, party, item, pathway and content
// class in plain words, with the identifier the CSV files use.
func (r *results) writeGlossary(d *doc) error {
	d.h(2, "Glossary")
	d.p("Plots and sentences use the plain names below; the CSV files use the identifiers in `code`.")
	section := func(title string, rows [][]string) {
		d.h(3, title)
		d.table([]string{"name", "identifier", "meaning"}, rows)
	}
	section("Designs compared", glossaryRows(r.modes(), modeTerms))
	section("Parties: who might read a message", glossaryRows(observe.Parties, partyTerms))
	section("Items: what a party might learn", glossaryRows(observe.Items, itemTerms))
	section("Attacks by a provider acting in bad faith", glossaryRows(observe.Attacks, attackTerms))
	section("Defences against it", glossaryRows(observe.Defences, defenceTerms))
	section("How the provider treats its key log", glossaryRows(observe.LogHandlings[1:], logTerms))
	section("Pathways: how abuse comes to the provider's attention", glossaryRows(schema.Pathways, pathwayTerms))
	section("Content classes", glossaryRows(corpus.ContentClasses, classTerms))
	return nil
}

func glossaryRows[K ~string](keys []K, terms map[K]term) [][]string {
	var rows [][]string
	for _, k := range keys {
		t, ok := terms[k]
		if !ok {
			t = term{string(k), "(no description)"}
		}
		rows = append(rows, []string{t.name, "`" + string(k) + "`", t.meaning})
	}
	return rows
}
