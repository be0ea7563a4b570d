package web

// swatch is one pair of colours the page draws text with: every colour of
// the stylesheet comes from here, so the contrast test sees them all.
type swatch struct {
	Name   string // CSS custom property prefix: --Name-fg, --Name-bg
	FG, BG string // #rrggbb
}

// palette is the page's colours. Each level of a grid cell has its own
// swatch, and says its level in words too: colour is never alone.
var palette = []swatch{
	{"page", "#1b1b1b", "#ffffff"},
	{"rule", "#6b6b6b", "#ffffff"}, // table rules: drawn in FG
	{"muted", "#4d4d4d", "#ffffff"},
	{"link", "#0a4fb5", "#ffffff"},
	{"content", "#7a1111", "#fde2de"},
	{"metadata", "#5a4100", "#fff1bf"},
	{"nothing", "#14502b", "#e2f3e6"},
	{"focus", "#1b1b1b", "#e4ebfb"},
	{"head", "#ffffff", "#243b63"},
	{"button", "#ffffff", "#1f4f96"},
	{"error", "#8f0000", "#fff0f0"},
}
