package kms

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// sealedMagic starts a sealed key file; the digit is the format version.
const sealedMagic = "scanlab-kms-1\n"

// scrypt parameters for sealing (RFC 7914 §2: N=2^15, r=8, p=1 is the
// interactive-login recommendation of "The scrypt Password-Based Key
// Derivation Function").
const (
	scryptN    = 1 << 15
	scryptR    = 8
	scryptP    = 1
	saltSize   = 16
	maxKeyFile = 1 << 20
)

// ErrPassphrase means a sealed key file did not open with the passphrase.
var ErrPassphrase = errors.New("kms: sealed key file did not open (wrong passphrase or corrupted file)")

// Save writes the manager's keys to path, sealed under a key derived from
// passphrase with scrypt: keys are never written in the clear. The file is
// replaced durably ([WriteFileDurable]): after a crash at any moment it holds
// either the old or the new keys, and once Save returns the new keys are on
// disk.
func (m *Manager) Save(path string, passphrase []byte) error {
	if len(passphrase) == 0 {
		return errors.New("kms: empty passphrase")
	}
	k := m.Export()
	plain, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("kms: encode keys: %w", err)
	}
	defer clear(plain)
	salt := make([]byte, saltSize)
	rand.Read(salt)
	key, err := scrypt.Key(passphrase, salt, scryptN, scryptR, scryptP, KeySize)
	if err != nil {
		return fmt.Errorf("kms: derive sealing key: %w", err)
	}
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	out.WriteString(sealedMagic)
	out.Write(salt)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	out.Write(nonce)
	out.Write(aead.Seal(nil, nonce, plain, []byte(sealedMagic)))
	return WriteFileDurable(path, out.Bytes(), 0o600)
}

// WriteFileDurable replaces the file at path with data so that after a crash
// at any moment the file holds either its old or its new contents, and once
// it returns the new contents survive a machine crash: it writes a temporary
// file, fsyncs it, renames it over path and fsyncs the directory.
func WriteFileDurable(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("kms: write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kms: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("kms: write %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a directory, making a rename in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("kms: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("kms: sync %s: %w", dir, err)
	}
	return nil
}

// Load reads keys sealed by [Manager.Save].
func Load(path string, passphrase []byte) (*Manager, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}
	n := len(data)
	if n > maxKeyFile {
		return nil, fmt.Errorf("kms: %s: sealed key file larger than %d bytes", path, maxKeyFile)
	}
	return open(data, passphrase)
}

func open(data, passphrase []byte) (*Manager, error) {
	nonceSize := chacha20poly1305.NonceSizeX
	if !bytes.HasPrefix(data, []byte(sealedMagic)) {
		return nil, errors.New("kms: not a sealed key file (bad header or unknown version)")
	}
	data = data[len(sealedMagic):]
	if len(data) < saltSize+nonceSize+chacha20poly1305.Overhead {
		return nil, errors.New("kms: sealed key file truncated")
	}
	salt, nonce, ct := data[:saltSize], data[saltSize:saltSize+nonceSize], data[saltSize+nonceSize:]
	key, err := scrypt.Key(passphrase, salt, scryptN, scryptR, scryptP, KeySize)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, nonce, ct, []byte(sealedMagic))
	if err != nil {
		return nil, ErrPassphrase
	}
	defer clear(plain)
	var k Keys
	if err := json.Unmarshal(plain, &k); err != nil {
		return nil, fmt.Errorf("kms: decode keys: %w", err)
	}
	return FromKeys(k)
}
