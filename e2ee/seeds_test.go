package e2ee

import (
	"encoding/binary"
	"flag"
	"fmt"
	"testing"

	"scanlab/internal/fuzzcorpus"
)

var writeSeeds = flag.Bool("write-fuzz-seeds", false, "write the fuzz seed corpora under testdata/fuzz")

func writeSeed(t *testing.T, target string, args ...any) { fuzzcorpus.Write(t, target, args...) }

// TestWriteFuzzSeeds regenerates testdata/fuzz when run with
// -write-fuzz-seeds. The decryption seeds come from fixedPair, so they
// still decrypt in later runs; the report seeds verify only under the fixed
// server key the fuzz targets use.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-fuzz-seeds to regenerate")
	}
	alice, _ := fixedPair(t)
	for i := range 5 {
		w, c, err := alice.Encrypt([]byte(fmt.Sprint("genuine ", i)), fuzzAD)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			continue // the fuzz target delivers its own first message
		}
		writeSeed(t, "FuzzDecrypt", w, c[:])
		writeSeed(t, "FuzzParseHeader", w)
		truncated := w[:HeaderSize+TagSize]
		writeSeed(t, "FuzzDecrypt", truncated, c[:])
		if i == 1 {
			bad := append([]byte{}, w...)
			bad[0] = 2
			writeSeed(t, "FuzzParseHeader", bad)
			far := append([]byte{}, w...)
			far[1+KeySize+4] = 0x7f
			writeSeed(t, "FuzzDecrypt", far, c[:])
		}
	}
	for _, pq := range []bool{false, true} {
		idA, _ := NewIdentity()
		idB, _ := NewIdentity()
		_, kb, _ := idB.NewPrekeys(1, pq)
		writeSeed(t, "FuzzParseBundle", kb.Identity, kb.OneTime[0])
		b, _ := ParseBundle(kb)
		_, _, m, _ := Initiate(idA, b, DefaultProfile)
		writeSeed(t, "FuzzParseInitMessage", m.Marshal())
	}
	cert := fuzzCertificate(t)
	writeSeed(t, "FuzzParseCertificate", cert)
	writeSeed(t, "FuzzParseCertificate", cert[:len(cert)-1])
	sw := newWorld(t, Options{SealedSender: true}, "alice", "bob")
	sw.seal(sw.msg("alice", "bob", "hello"))
	sender := sw.devs["alice"]
	pt := binary.BigEndian.AppendUint16(nil, uint16(len(sender.cert)))
	writeSeed(t, "FuzzSealedSenderBox", append(append(pt, sender.cert...), sender.peers["bob"].convs[0].init...))
	writeSeed(t, "FuzzSealedSenderBox", []byte{0xff, 0xff, 1})
	w := newWorld(t, Options{}, "alice", "bob")
	srv, err := NewServer(testEnv(fuzzServerKey))
	if err != nil {
		t.Fatal(err)
	}
	w.srv = srv
	for i := range 3 {
		m := w.send("alice", "bob", fmt.Sprint("report me ", i))
		r, err := w.devs["bob"].Report(m)
		if err != nil {
			t.Fatal(err)
		}
		writeSeed(t, "FuzzVerifyReport", r.Evidence)
	}
	r, err := w.devs["bob"].ReportLast("alice", 3)
	if err != nil {
		t.Fatal(err)
	}
	writeSeed(t, "FuzzVerifyReport", r.Evidence)
	writeSeed(t, "FuzzReportMutation", uint8(1), uint16(77), uint8(0x40))
}
