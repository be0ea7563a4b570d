package observe

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAuditCountsOnlyWhatAViewHolds(t *testing.T) {
	mem := &Log{}
	mem.Record("relay memory", []byte("hello tok-AAA and tok-BBB"), map[string]string{"message": "m1", "size": "5"})
	dir := t.TempDir()
	path := filepath.Join(dir, "db")
	os.WriteFile(path, []byte("opaque bytes tok-CCC"), 0o600)
	views := []View{
		{Party: Provider, Sources: []Source{mem}},
		{Party: DBThief, Sources: []Source{File(path, "raw database file")}},
		{Party: Eavesdropper},
	}
	canaries := []Canary{
		{Item: Text, Name: "a", Match: Contains([]byte("tok-AAA"))},
		{Item: Text, Name: "b", Match: Contains([]byte("tok-BBB"))},
		{Item: Text, Name: "c", Match: Contains([]byte("tok-CCC"))},
		{Item: Text, Name: "d", Match: Contains([]byte("tok-DDD"))},
		{Item: Size, Name: "m1", Match: All(Field("message", "m1"), Field("size", "5"))},
	}
	cells, err := Audit(views, canaries)
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != len(views)*len(Items) {
		t.Fatalf("%d cells", len(cells))
	}
	get := func(p Party, i Item) Cell {
		for _, c := range cells {
			if c.Party == p && c.Item == i {
				return c
			}
		}
		t.Fatalf("no cell %s/%s", p, i)
		return Cell{}
	}
	cases := []struct {
		p     Party
		i     Item
		frac  float64
		route string
	}{
		{Provider, Text, 0.5, "relay memory"},
		{DBThief, Text, 0.25, "raw database file"},
		{Eavesdropper, Text, 0, ""},
		{Provider, Size, 1, "relay memory"},
		{DBThief, Size, 0, ""},
		{Provider, Image, 0, ""}, // nothing planted
	}
	for _, c := range cases {
		got := get(c.p, c.i)
		if got.Fraction() != c.frac || got.Route() != c.route {
			t.Errorf("%s/%s = %v %q, want %v %q", c.p, c.i, got.Fraction(), got.Route(), c.frac, c.route)
		}
	}
	if _, err := Audit([]View{{Party: DBThief, Sources: []Source{File(filepath.Join(dir, "missing"), "x")}}}, canaries); err == nil {
		t.Error("a missing file audited without error")
	}
}
