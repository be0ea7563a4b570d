// Package presets embeds the platform presets — one TOML file per platform,
// every field with the public source it rests on and the date it was read,
// or "undocumented" with the range experiments sweep — so that a fresh
// clone runs them. Package platform parses and checks them; README.md
// describes the format.
//
// # Who sees what
//
// Nothing secret: the files hold public facts and ranges.
package presets

import "embed"

// FS holds the preset files, named SLUG.toml.
//
//go:embed *.toml
var FS embed.FS
