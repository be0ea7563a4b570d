package e2ee

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"scanlab"
	"scanlab/keylog"
)

// Several devices per account (Signal, "The Sesame Algorithm", rev. 2,
// 2017, §2.1: a message from Alice to Bob is encrypted separately to each
// of Bob's devices). The directory serves an account's devices together,
// as Signal's server answers a fetch of an account's keys with a bundle
// per device; this package encodes that answer as an [Account].

// MaxDevices is the most devices an account may list.
const MaxDevices = 16

// DeviceName is the name under which device n of an account publishes its
// keys and connects to the provider: the account itself for the
// [PrimaryDevice], "account#n" for the others.
func DeviceName(user scanlab.UserID, device uint32) scanlab.UserID {
	if device == PrimaryDevice {
		return user
	}
	return user + "#" + scanlab.UserID(strconv.FormatUint(uint64(device), 10))
}

// SplitDeviceName is the inverse of [DeviceName] for devices other than
// the primary: it returns the account and device number of a name
// "account#n", and ok false for any other name.
func SplitDeviceName(name scanlab.UserID) (user scanlab.UserID, n uint32, ok bool) {
	i := strings.LastIndexByte(string(name), '#')
	if i <= 0 {
		return "", 0, false
	}
	v, err := strconv.ParseUint(string(name[i+1:]), 10, 32)
	if err != nil || v <= uint64(PrimaryDevice) || strconv.FormatUint(v, 10) != string(name[i+1:]) {
		return "", 0, false
	}
	return name[:i], uint32(v), true
}

// DeviceKeys is one device's published keys as a directory serves them:
// its Identity part and at most one one-time prekey set.
type DeviceKeys struct {
	Device uint32
	Keys   scanlab.KeyBundle
}

// Account is what a directory serves for an account with more than one
// device, or with a key-transparency proof: every device's keys, and the
// proof (a [keylog.Proof] encoding) that they are the account's logged
// keys. A directory serving an account with one device and no proof may
// serve that device's bundle alone, as before devices were modelled.
type Account struct {
	Devices []DeviceKeys
	Proof   []byte
}

const (
	accountVersion = 2
	// maxIdentityPart and maxOneTime bound a device's encodings.
	maxIdentityPart = bundleClassicLen + bundlePQLen
	maxOneTime      = oneTimePQLen
	// MaxAccount is the longest encoded account, in bytes.
	MaxAccount = 1 + 2 + keylog.MaxProof + 1 + MaxDevices*(4+2+maxIdentityPart+2+maxOneTime)
)

// ErrBadAccount is returned for an account encoding that does not parse.
var ErrBadAccount = errors.New("e2ee: invalid account encoding")

// Marshal encodes the account as a [scanlab.KeyBundle] whose Identity part
// is version 2 ‖ len(proof) ‖ proof ‖ count ‖ (device ‖ len ‖ identity
// part ‖ len ‖ one-time set)*, devices in ascending order.
func (a Account) Marshal() (scanlab.KeyBundle, error) {
	if len(a.Devices) == 0 || len(a.Devices) > MaxDevices || len(a.Proof) > keylog.MaxProof {
		return scanlab.KeyBundle{}, fmt.Errorf("%w: %d devices, proof of %d bytes", ErrBadAccount, len(a.Devices), len(a.Proof))
	}
	devs := slices.Clone(a.Devices)
	slices.SortFunc(devs, func(x, y DeviceKeys) int { return cmpUint32(x.Device, y.Device) })
	b := []byte{accountVersion}
	b = binary.BigEndian.AppendUint16(b, uint16(len(a.Proof)))
	b = append(append(b, a.Proof...), byte(len(devs)))
	for i, d := range devs {
		if i > 0 && devs[i-1].Device == d.Device {
			return scanlab.KeyBundle{}, fmt.Errorf("%w: device %d twice", ErrBadAccount, d.Device)
		}
		var ot []byte
		if len(d.Keys.OneTime) > 0 {
			ot = d.Keys.OneTime[0]
		}
		if len(d.Keys.Identity) > maxIdentityPart || len(ot) > maxOneTime {
			return scanlab.KeyBundle{}, fmt.Errorf("%w: device %d keys too long", ErrBadAccount, d.Device)
		}
		b = binary.BigEndian.AppendUint32(b, d.Device)
		b = binary.BigEndian.AppendUint16(b, uint16(len(d.Keys.Identity)))
		b = append(b, d.Keys.Identity...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(ot)))
		b = append(b, ot...)
	}
	return scanlab.KeyBundle{Identity: b}, nil
}

func cmpUint32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ParseAccount decodes what a directory served for an account: an
// [Account] encoding, or a single device's bundle (the primary, without a
// proof). It checks the encoding only; each device's bundle is checked by
// [ParseBundle].
func ParseAccount(kb scanlab.KeyBundle) (Account, error) {
	if len(kb.Identity) == 0 || kb.Identity[0] != accountVersion {
		return Account{Devices: []DeviceKeys{{Device: PrimaryDevice, Keys: kb}}}, nil
	}
	b := kb.Identity
	if len(b) > MaxAccount || len(b) < 4 || len(kb.OneTime) != 0 {
		return Account{}, fmt.Errorf("%w: header", ErrBadAccount)
	}
	pl := int(binary.BigEndian.Uint16(b[1:]))
	if pl > keylog.MaxProof || len(b) < 3+pl+1 {
		return Account{}, fmt.Errorf("%w: proof of %d bytes", ErrBadAccount, pl)
	}
	var a Account
	if pl > 0 {
		a.Proof = slices.Clone(b[3 : 3+pl])
	}
	n, r := int(b[3+pl]), b[4+pl:]
	if n == 0 || n > MaxDevices {
		return Account{}, fmt.Errorf("%w: %d devices", ErrBadAccount, n)
	}
	for range n {
		d, rest, err := parseDeviceKeys(r)
		if err != nil {
			return Account{}, err
		}
		if len(a.Devices) > 0 && a.Devices[len(a.Devices)-1].Device >= d.Device {
			return Account{}, fmt.Errorf("%w: devices out of order", ErrBadAccount)
		}
		a.Devices, r = append(a.Devices, d), rest
	}
	if len(r) != 0 {
		return Account{}, fmt.Errorf("%w: %d trailing bytes", ErrBadAccount, len(r))
	}
	return a, nil
}

// parseDeviceKeys reads device ‖ len ‖ identity part ‖ len ‖ one-time set.
func parseDeviceKeys(r []byte) (DeviceKeys, []byte, error) {
	if len(r) < 6 {
		return DeviceKeys{}, nil, fmt.Errorf("%w: truncated device", ErrBadAccount)
	}
	d := DeviceKeys{Device: binary.BigEndian.Uint32(r)}
	il := int(binary.BigEndian.Uint16(r[4:]))
	if il == 0 || il > maxIdentityPart || len(r) < 6+il+2 {
		return DeviceKeys{}, nil, fmt.Errorf("%w: identity part of %d bytes", ErrBadAccount, il)
	}
	d.Keys.Identity = slices.Clone(r[6 : 6+il])
	r = r[6+il:]
	ol := int(binary.BigEndian.Uint16(r))
	if ol > maxOneTime || len(r) < 2+ol {
		return DeviceKeys{}, nil, fmt.Errorf("%w: one-time set of %d bytes", ErrBadAccount, ol)
	}
	if ol > 0 {
		d.Keys.OneTime = [][]byte{slices.Clone(r[2 : 2+ol])}
	}
	return d, r[2+ol:], nil
}

// LogEntry is the key-transparency entry for an account's devices: each
// device's public identity, in the [PublicIdentity.Bytes] encoding.
func LogEntry(user scanlab.UserID, ids map[uint32]PublicIdentity) keylog.Entry {
	e := keylog.Entry{Account: string(user)}
	for dev, id := range ids {
		e.Keys = append(e.Keys, keylog.Key{Device: dev, Identity: id.Bytes()})
	}
	slices.SortFunc(e.Keys, func(a, b keylog.Key) int { return cmpUint32(a.Device, b.Device) })
	return e
}
