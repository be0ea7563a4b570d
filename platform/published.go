package platform

import "time"

// PublishedRow is one row of the published one-word comparison the
// platforms report sets beside its measured table.
type PublishedRow struct {
	// Slug names the preset of the row's platform.
	Slug string
	// E2EE is the table's encryption column: "default", "optional" or
	// "not".
	E2EE string
	// Focus is the table's one word of "primary focus", or
	// "undocumented" where the sources read do not give it.
	Focus string
	// Source is a page that states the row's E2EE column as the table
	// does.
	Source Source
}

// Published is the widely read one-word comparison as issue 16 of this
// project quotes it: Signal, WhatsApp and Messenger end-to-end encrypted
// by default, TikTok not ("safety and content moderation"), Instagram
// optional or rolling out, X optional for paying users. The table itself
// was not found among the stored pages searched on 30 November 2026, so
// each row's E2EE column cites a page that says the same, and the "primary
// focus" words other than TikTok's are undocumented. Two rows were out of
// date by then: Instagram removed its opt-in on 8 May 2026, and X opened
// encrypted Chat to users who do not pay (see the presets).
var Published = []PublishedRow{
	{"tiktok", "not", "safety and content moderation", Source{Key: "techdigest-tiktok",
		Title: "TikTok rules out end-to-end encryption for direct messages", Publisher: "TechDigest",
		URL: "https://techdigest.ng/tiktok-rules-out-end-to-end-encryption-for-direct-messages", Read: readOn}},
	{"signal", "default", UndocumentedValue, defaultsSource},
	{"whatsapp", "default", UndocumentedValue, defaultsSource},
	{"messenger", "default", UndocumentedValue, defaultsSource},
	{"instagram", "optional", UndocumentedValue, Source{Key: "thenews-tiktok",
		Title: "TikTok says no to end-to-end encryption, citing user safety", Publisher: "The News International",
		URL: "https://www.thenews.com.pk/latest/1394536-tiktok-says-no-to-end-to-end-encryption-citing-user-safety", Read: readOn}},
	{"x", "optional", UndocumentedValue, Source{Key: "techwarrant-x",
		Title: "Encryption of Twitter DMs is only available to paid Blue subscribers", Publisher: "TechWarrant",
		URL: "https://techwarrant.com/encryption-of-twitter-dms-is-only-available-to-paid-blue-subscribers/amp", Read: readOn}},
}

var readOn = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// defaultsSource is a March 2026 report listing the apps that encrypt one-to-one
// messages end to end by default.
var defaultsSource = Source{Key: "engadget-tiktok",
	Title:     "TikTok won't add end-to-end encryption to direct messages, report says (copy of the Engadget report)",
	Publisher: "Pixegias", URL: "https://pixegias.com/?p=70467", Read: readOn}
