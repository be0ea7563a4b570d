package e2ee

// Profile holds the domain-separation strings of the key schedule. Every
// HKDF info string the package uses comes from a Profile, so the same code
// runs with the project's own strings ([DefaultProfile]) or with the strings
// libsignal uses ([SignalProfile]), which lets tests check the key schedule
// against libsignal's published known-answer values.
type Profile struct {
	// X3DHInfo is the HKDF info of the X3DH key derivation (X3DH §2.1
	// "info").
	X3DHInfo string
	// PQXDHInfo replaces X3DHInfo when the handshake includes an ML-KEM
	// encapsulation (PQXDH §2.1 "info").
	PQXDHInfo string
	// RootInfo is the HKDF info of KDF_RK (Double Ratchet §5.2).
	RootInfo string
	// MessageInfo is the HKDF info that expands a message key into an AEAD
	// key and nonce (Double Ratchet §5.2, "ENCRYPT").
	MessageInfo string
}

// DefaultProfile is the profile the mode uses. Its PQXDH info string
// follows PQXDH, rev. 3, §2.1: it identifies the application and names the
// curve, hash and KEM in the form of the specification's example.
var DefaultProfile = Profile{
	X3DHInfo:    "scanlab-e2ee-v1 X3DH X25519 SHA-256",
	PQXDHInfo:   "scanlab-e2ee-v1_CURVE25519_SHA-256_ML-KEM-1024",
	RootInfo:    "scanlab-e2ee-v1 ratchet root",
	MessageInfo: "scanlab-e2ee-v1 message keys",
}

// SignalProfile uses libsignal's info strings ("WhisperText",
// "WhisperRatchet", "WhisperMessageKeys"). It exists for known-answer tests
// of the key schedule; messages sealed with it still use this package's
// cipher and wire format, not libsignal's.
//
// One string differs: libsignal's PQXDH info,
// "WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024", names the round-3 Kyber
// KEM libsignal started with, while this package's KEM is ML-KEM-1024
// (FIPS 203), and PQXDH §2.1 asks the info string to name the KEM in use;
// so this profile names ML-KEM-1024 in libsignal's form.
var SignalProfile = Profile{
	X3DHInfo:    "WhisperText",
	PQXDHInfo:   "WhisperText_X25519_SHA-256_ML-KEM-1024",
	RootInfo:    "WhisperRatchet",
	MessageInfo: "WhisperMessageKeys",
}
