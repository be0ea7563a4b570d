package e2ee

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/curve25519"
)

// kdfKAT is testdata/kdf-kat.json; its "about" field says which vectors
// are published and which are cross-checks.
type kdfKAT struct {
	About  string `json:"about"`
	X25519 []struct {
		Source, Private, Public, Shared string
	} `json:"x25519"`
	RootHKDF []struct {
		Source    string `json:"source"`
		RootKey   string `json:"root_key"`
		DHOutput  string `json:"dh_output"`
		Info      string `json:"info"`
		OKMPrefix string `json:"okm_prefix"`
	} `json:"root_hkdf"`
	RootCrosscheck []struct {
		Source      string `json:"source"`
		Profile     string `json:"profile"`
		RootKey     string `json:"root_key"`
		Private     string `json:"private"`
		Public      string `json:"public"`
		NextRootKey string `json:"next_root_key"`
		ChainKey    string `json:"chain_key"`
	} `json:"root_crosscheck"`
	PQXDHCrosscheck []struct {
		Source  string `json:"source"`
		Profile string `json:"profile"`
		OneTime bool   `json:"one_time"`
		SK      string `json:"sk"`
	} `json:"pqxdh_crosscheck"`
	PQXDHKeys map[string]string `json:"pqxdh_keys"`
}

func loadKDFKAT(t *testing.T) kdfKAT {
	t.Helper()
	var k kdfKAT
	loadJSON(t, "kdf-kat.json", &k)
	requireVectors(t, "X25519", len(k.X25519))
	requireVectors(t, "root HKDF", len(k.RootHKDF))
	requireVectors(t, "KDF_RK cross-check", len(k.RootCrosscheck))
	requireVectors(t, "PQXDH cross-check", len(k.PQXDHCrosscheck))
	return k
}

var profiles = map[string]Profile{"default": DefaultProfile, "signal": SignalProfile}

func profileNamed(t *testing.T, name string) Profile {
	t.Helper()
	p, ok := profiles[name]
	if !ok {
		t.Fatalf("unknown profile %q", name)
	}
	return p
}

// TestKDFRootKAT checks KDF_RK's two parts against published answers: the
// X25519 step against RFC 7748 §6.1, and the HKDF step (root key as salt,
// DH output as input, profile info) against RFC 5869 test case 3.
func TestKDFRootKAT(t *testing.T) {
	k := loadKDFKAT(t)
	for _, v := range k.X25519 {
		t.Run("part=x25519", func(t *testing.T) {
			priv, err := x25519.NewPrivateKey(unhex(t, v.Private))
			if err != nil {
				t.Fatal(err)
			}
			got, err := dh(nil, priv, unhex(t, v.Public))
			if err != nil || !bytes.Equal(got, unhex(t, v.Shared)) {
				t.Fatalf("DH = %x, %v; want %s (%s)", got, err, v.Shared, v.Source)
			}
		})
	}
	for _, v := range k.RootHKDF {
		t.Run("part=hkdf", func(t *testing.T) {
			rk2, ck := rootStep(Profile{RootInfo: v.Info}, [32]byte(unhex(t, v.RootKey)), unhex(t, v.DHOutput))
			want := unhex(t, v.OKMPrefix)
			if got := append(rk2[:], ck[:]...)[:len(want)]; !bytes.Equal(got, want) {
				t.Fatalf("root key ‖ chain key = %x, want prefix %x (%s)", got, want, v.Source)
			}
		})
	}
}

// TestKDFRootCrosscheck runs KDF_RK on libsignal's root-key test inputs
// and compares with the stored outputs and with an independent computation
// (x/crypto's X25519, then HKDF Extract and Expand as separate calls).
func TestKDFRootCrosscheck(t *testing.T) {
	for _, v := range loadKDFKAT(t).RootCrosscheck {
		t.Run("profile="+v.Profile, func(t *testing.T) {
			p := profileNamed(t, v.Profile)
			priv, err := x25519.NewPrivateKey(unhex(t, v.Private))
			if err != nil {
				t.Fatal(err)
			}
			rk, ck, err := kdfRK(p, [32]byte(unhex(t, v.RootKey)), priv, unhex(t, v.Public))
			if err != nil {
				t.Fatal(err)
			}
			shared, err := curve25519.X25519(unhex(t, v.Private), unhex(t, v.Public))
			if err != nil {
				t.Fatal(err)
			}
			prk, _ := hkdf.Extract(sha256.New, shared, unhex(t, v.RootKey))
			indep, _ := hkdf.Expand(sha256.New, prk, p.RootInfo, 64)
			want := append(unhex(t, v.NextRootKey), unhex(t, v.ChainKey)...)
			if got := append(rk[:], ck[:]...); !bytes.Equal(got, want) || !bytes.Equal(indep, want) {
				t.Fatalf("KDF_RK = %x, independent %x, stored %x", got, indep, want)
			}
		})
	}
}

// TestPQXDHCrosscheck runs the responder's PQXDH key derivation on fixed
// keys and a derandomised ML-KEM-1024 encapsulation, and compares SK with
// the stored value and an independent computation of KDF(F ‖ DH1 ‖ DH2 ‖
// DH3 [‖ DH4] ‖ SS) (PQXDH, rev. 3, §3.3). It also checks the initiator
// agrees, with its own (random) encapsulation.
func TestPQXDHCrosscheck(t *testing.T) {
	k := loadKDFKAT(t)
	key := func(name string) []byte { return unhex(t, k.PQXDHKeys[name]) }
	dk, err := mlkem.NewDecapsulationKey1024(key("bob_kem_seed"))
	if err != nil {
		t.Fatal(err)
	}
	ss, ct, err := mlkemtest.Encapsulate1024(dk.EncapsulationKey(), key("kem_randomness"))
	if err != nil {
		t.Fatal(err)
	}
	if h := sha256.Sum256(ct); !bytes.Equal(h[:], key("ciphertext_sha256")) {
		t.Fatalf("ciphertext SHA-256 %x, want %s", h, k.PQXDHKeys["ciphertext_sha256"])
	}
	for _, v := range k.PQXDHCrosscheck {
		t.Run(fmt.Sprintf("profile=%s/opk=%t", v.Profile, v.OneTime), func(t *testing.T) {
			p := profileNamed(t, v.Profile)
			me, pk, m := pqxdhFixture(t, key, dk, ct, v.OneTime)
			km, err := respondKM(me, pk, m)
			if err != nil {
				t.Fatal(err)
			}
			got := x3dhKDF(km, p.PQXDHInfo, RootKeySize)
			indep := independentPQXDH(t, key, ss, v.OneTime, p.PQXDHInfo)
			if want := unhex(t, v.SK); !bytes.Equal(got, want) || !bytes.Equal(indep, want) {
				t.Fatalf("SK = %x, independent %x, stored %s", got, indep, v.SK)
			}
			checkInitiatorAgrees(t, key, me, pk, v.OneTime, p)
		})
	}
}

// pqxdhFixture builds Bob's identity and prekeys (signed prekey id 1,
// one-time prekey id 2, ML-KEM prekey id 3) and Alice's initial message.
func pqxdhFixture(t *testing.T, key func(string) []byte, dk *mlkem.DecapsulationKey1024, ct []byte, oneTime bool) (*Identity, *Prekeys, *InitMessage) {
	t.Helper()
	priv := func(name string) *ecdh.PrivateKey {
		k, err := x25519.NewPrivateKey(key(name))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	me := &Identity{DH: priv("bob_identity")}
	pk := &Prekeys{pq: true, SignedID: 1, Signed: map[uint32]*ecdh.PrivateKey{1: priv("bob_signed_prekey")},
		OneTime: map[uint32]*ecdh.PrivateKey{2: priv("bob_one_time_prekey")}, PQID: 3,
		PQ: map[uint32]*mlkem.DecapsulationKey1024{3: dk}, PQOneTime: map[uint32]*mlkem.DecapsulationKey1024{}}
	m := &InitMessage{SignedID: 1, HasOneTime: oneTime, OneTimeID: 2, PQID: 3, PQCiphertext: ct}
	copy(m.Identity.DH[:], priv("alice_identity").PublicKey().Bytes())
	copy(m.Ephemeral[:], priv("alice_ephemeral").PublicKey().Bytes())
	return me, pk, m
}

// independentPQXDH computes SK with x/crypto's X25519 and separate HKDF
// Extract (salt: 32 zero bytes) and Expand calls.
func independentPQXDH(t *testing.T, key func(string) []byte, ss []byte, oneTime bool, info string) []byte {
	t.Helper()
	x := func(priv []byte, pubOf string) []byte {
		pub, err := curve25519.X25519(key(pubOf), curve25519.Basepoint)
		if err != nil {
			t.Fatal(err)
		}
		out, err := curve25519.X25519(priv, pub)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	km := bytes.Repeat([]byte{0xff}, 32)
	km = append(km, x(key("alice_identity"), "bob_signed_prekey")...)
	km = append(km, x(key("alice_ephemeral"), "bob_identity")...)
	km = append(km, x(key("alice_ephemeral"), "bob_signed_prekey")...)
	if oneTime {
		km = append(km, x(key("alice_ephemeral"), "bob_one_time_prekey")...)
	}
	km = append(km, ss...)
	prk, _ := hkdf.Extract(sha256.New, km, make([]byte, sha256.Size))
	sk, _ := hkdf.Expand(sha256.New, prk, info, RootKeySize)
	return sk
}

// checkInitiatorAgrees runs the initiator's side against Bob's public keys
// with a fresh encapsulation and checks Bob derives the same SK.
func checkInitiatorAgrees(t *testing.T, key func(string) []byte, bob *Identity, pk *Prekeys, oneTime bool, p Profile) {
	t.Helper()
	alice, err := x25519.NewPrivateKey(key("alice_identity"))
	if err != nil {
		t.Fatal(err)
	}
	ek, err := x25519.NewPrivateKey(key("alice_ephemeral"))
	if err != nil {
		t.Fatal(err)
	}
	b := &Bundle{SignedID: 1, PQID: 3, PQ: pk.PQ[3].EncapsulationKey().Bytes()}
	copy(b.Identity.DH[:], bob.DH.PublicKey().Bytes())
	copy(b.Signed[:], pk.Signed[1].PublicKey().Bytes())
	if oneTime {
		b.OneTimeID, b.OneTime = 2, pk.OneTime[2].PublicKey().Bytes()
	}
	kmA, m, err := initiateKM(&Identity{DH: alice, Sign: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))}, ek, b)
	if err != nil {
		t.Fatal(err)
	}
	kmB, err := respondKM(bob, pk, m)
	if err != nil || !bytes.Equal(x3dhKDF(kmA, p.PQXDHInfo, 32), x3dhKDF(kmB, p.PQXDHInfo, 32)) {
		t.Fatalf("initiator and responder disagree: %v", err)
	}
}

// TestProfileInfoStrings: every profile's PQXDH info string is ASCII of at
// least 8 bytes, differs from its X3DH string, and names the curve, the
// hash and ML-KEM-1024, the KEM this package runs (PQXDH, rev. 3, §2.1).
func TestProfileInfoStrings(t *testing.T) {
	for name, p := range profiles {
		t.Run("profile="+name, func(t *testing.T) {
			info := p.PQXDHInfo
			for _, c := range info {
				if c > 0x7f {
					t.Fatalf("PQXDH info %q is not ASCII", info)
				}
			}
			if len(info) < 8 || info == p.X3DHInfo {
				t.Fatalf("PQXDH info %q: too short or the same as X3DH's", info)
			}
			up := strings.ToUpper(info)
			if !strings.Contains(up, "ML-KEM-1024") || strings.Contains(up, "KYBER") {
				t.Errorf("PQXDH info %q does not name ML-KEM-1024 alone", info)
			}
			if !strings.Contains(up, "25519") || !strings.Contains(up, "SHA-256") {
				t.Errorf("PQXDH info %q does not name the curve and hash", info)
			}
		})
	}
}
