package e2ee

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

type katFile struct {
	About    string `json:"about"`
	ChainKey []struct {
		Source       string `json:"source"`
		Seed         string `json:"seed"`
		CipherKey    string `json:"cipher_key"`
		MACKey       string `json:"mac_key"`
		NextChainKey string `json:"next_chain_key"`
	} `json:"chain_key"`
	RatchetingSession []map[string]string `json:"ratcheting_session"`
}

// loadJSON reads a vector file from testdata. Unknown fields are an error,
// so a renamed field cannot silently empty a vector list.
func loadJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// requireVectors fails the test when a vector list is empty: a
// known-answer test that checks nothing must not pass.
func requireVectors(t *testing.T, what string, n int) {
	t.Helper()
	if n == 0 {
		t.Fatalf("no %s vectors: the known-answer test would check nothing", what)
	}
}

func loadKAT(t *testing.T) katFile {
	t.Helper()
	var k katFile
	loadJSON(t, "libsignal-kat.json", &k)
	requireVectors(t, "chain-key", len(k.ChainKey))
	requireVectors(t, "ratcheting-session", len(k.RatchetingSession))
	return k
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChainKeyKAT checks KDF_CK and the message-key expansion under
// SignalProfile against libsignal's chain-key test: the AEAD key equals
// libsignal's cipher key and, because HKDF output is a prefix-stable stream,
// the 12-byte nonce equals the first 12 bytes of libsignal's MAC key.
func TestChainKeyKAT(t *testing.T) {
	for _, v := range loadKAT(t).ChainKey {
		t.Run("source=libsignal", func(t *testing.T) {
			var ck [32]byte
			copy(ck[:], unhex(t, v.Seed))
			mk := kdfCK(&ck)
			if got, want := ck[:], unhex(t, v.NextChainKey); !bytes.Equal(got, want) {
				t.Errorf("next chain key = %x, want %x (%s)", got, want, v.Source)
			}
			key, nonce := messageKeys(SignalProfile, &mk)
			if want := unhex(t, v.CipherKey); !bytes.Equal(key, want) {
				t.Errorf("cipher key = %x, want %x", key, want)
			}
			if want := unhex(t, v.MACKey)[:12]; !bytes.Equal(nonce, want) {
				t.Errorf("nonce = %x, want MAC key prefix %x", nonce, want)
			}
			// The default profile must give different keys.
			if k2, _ := messageKeys(DefaultProfile, &mk); bytes.Equal(k2, key) {
				t.Error("default profile derives the same key as the Signal profile")
			}
		})
	}
}

// TestRatchetingSessionKAT checks the X3DH key material and KDF (F prefix,
// zero salt, "WhisperText") against libsignal's ratcheting-session tests.
// libsignal derives 64 bytes (root key ‖ chain key) in one HKDF call and
// tests the chain key, bytes 32..64; SK of this package is bytes 0..32 of the
// same output.
func TestRatchetingSessionKAT(t *testing.T) {
	priv := func(s string) *ecdh.PrivateKey {
		k, err := x25519.NewPrivateKey(unhex(t, s))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	for _, v := range loadKAT(t).RatchetingSession {
		t.Run("role="+v["role"], func(t *testing.T) {
			var km []byte
			var err error
			switch v["role"] {
			case "responder":
				me := &Identity{DH: priv(v["bob_identity_private"])}
				spk := priv(v["bob_signed_prekey_private"])
				if !bytes.Equal(spk.PublicKey().Bytes(), unhex(t, v["bob_signed_prekey_public"])) ||
					!bytes.Equal(me.DH.PublicKey().Bytes(), unhex(t, v["bob_identity_public"])) {
					t.Fatal("vector's private keys do not match its public keys")
				}
				m := &InitMessage{SignedID: 1}
				copy(m.Identity.DH[:], unhex(t, v["alice_identity_public"]))
				copy(m.Ephemeral[:], unhex(t, v["alice_base_public"]))
				km, err = respondKM(me, &Prekeys{SignedID: 1, Signed: map[uint32]*ecdh.PrivateKey{1: spk}}, m)
			case "initiator":
				me := &Identity{DH: priv(v["alice_identity_private"]), Sign: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))}
				// In libsignal's vector the base private key does not
				// match the listed base public key (its test notes that
				// this vector "differs from the Java test"); only the
				// private key enters the initiator's DH computations.
				ek := priv(v["alice_base_private"])
				b := &Bundle{SignedID: 1}
				copy(b.Identity.DH[:], unhex(t, v["bob_identity_public"]))
				copy(b.Signed[:], unhex(t, v["bob_signed_prekey_public"]))
				km, _, err = initiateKM(me, ek, b)
			default:
				t.Fatalf("unknown role %q", v["role"])
			}
			if err != nil {
				t.Fatal(err)
			}
			out := x3dhKDF(km, SignalProfile.X3DHInfo, 64)
			if got, want := out[32:], unhex(t, v["expected_chain_key"]); !bytes.Equal(got, want) {
				t.Errorf("chain key = %x, want %x (%s)", got, want, v["source"])
			}
			if sk := x3dhKDF(km, SignalProfile.X3DHInfo, RootKeySize); !bytes.Equal(sk, out[:32]) {
				t.Error("SK is not the first 32 bytes of the 64-byte output")
			}
		})
	}
}
