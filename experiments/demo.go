package experiments

import (
	"fmt"
	"unicode/utf8"

	"scanlab/audit"
	"scanlab/modes"
	"scanlab/observe"
	"scanlab/perceptual"
)

// MinDemoText and MaxDemoText bound the text [Demonstrate] accepts, in
// bytes. A shorter text could turn up by chance in random bytes (a
// ciphertext, a database page) and be counted as recovered.
const (
	MinDemoText = 16
	MaxDemoText = 2000
)

// DemoCell is what one party recovered of a demonstrated message.
type DemoCell struct {
	Mode      string
	Party     observe.Party
	Item      observe.Item
	Recovered bool
	Route     string
}

// DemoItems are the items a demonstrated text can reveal.
var DemoItems = []observe.Item{observe.Text, observe.SenderID, observe.RecipientID, observe.Timestamp, observe.Size, observe.ContactGraph}

// Demonstrate sends text from one new account to another through each mode
// over a real relay, exactly as the visibility experiment does, and reports
// which party recovered the text itself and its metadata. It is the
// educator's version of the visibility audit: the canary is whatever the
// audience typed.
func Demonstrate(text string, seed uint64) ([]DemoCell, error) {
	if len(text) < MinDemoText || len(text) > MaxDemoText || !utf8.ValidString(text) {
		return nil, fmt.Errorf("the message must be %d to %d bytes of text", MinDemoText, MaxDemoText)
	}
	o := Options{Seed: seed}
	planted := randomHash(o.rng("demo-list"))
	cfg := modes.Config{List: []perceptual.Hash{planted}, Clientscan: modes.Clientscan{Seed: seed, TableFactor: 16}}
	plan := audit.Plan{Pairs: 1, PlantedHash: planted, Texts: []string{text},
		Curated: observe.Evidence{Route: "hash list the curator supplies", Data: []byte(planted.String() + "\n")}}
	var cells []DemoCell
	for _, name := range modes.Names {
		res, err := auditMode(o, name, cfg, plan)
		if err != nil {
			return nil, fmt.Errorf("mode %s: %w", name, err)
		}
		for _, c := range res.Cells {
			for _, it := range DemoItems {
				if c.Item == it {
					cells = append(cells, DemoCell{Mode: name, Party: c.Party, Item: c.Item, Recovered: c.Recovered > 0, Route: c.Route()})
				}
			}
		}
	}
	return cells, nil
}
