package keylog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Key is one device's public identity key as an [Entry] logs it.
type Key struct {
	Device   uint32
	Identity []byte
}

// Entry is one leaf of the log: an account's complete device list at one
// time. A new entry is appended whenever the list or a device's identity
// key changes; the latest entry for an account is its current keys.
type Entry struct {
	Account string
	Keys    []Key // sorted by Device, no device twice
}

// Limits on an encoded entry, so that a decoder of untrusted bytes is
// bounded.
const (
	// MaxAccount is the longest account name an entry may hold, in bytes.
	MaxAccount = 255
	// MaxDevices is the most devices an entry may list.
	MaxDevices = 64
	// MaxIdentity is the longest identity key an entry may hold, in bytes.
	MaxIdentity = 1024
	// MaxEntry is the longest encoded entry.
	MaxEntry = 2 + 1 + MaxAccount + 1 + MaxDevices*(4+2+MaxIdentity)
)

const entryVersion = 1

// ErrMalformed is returned for bytes that do not decode.
var ErrMalformed = errors.New("keylog: malformed encoding")

// Marshal encodes the entry: version ‖ len(account) ‖ account ‖ count ‖
// (device ‖ len(identity) ‖ identity)*. Keys are written sorted by device,
// so two entries with the same keys encode the same.
func (e Entry) Marshal() ([]byte, error) {
	if len(e.Account) == 0 || len(e.Account) > MaxAccount || len(e.Keys) > MaxDevices {
		return nil, fmt.Errorf("%w: account of %d bytes with %d devices", ErrMalformed, len(e.Account), len(e.Keys))
	}
	keys := slices.Clone(e.Keys)
	slices.SortFunc(keys, func(a, b Key) int { return int(int64(a.Device) - int64(b.Device)) })
	b := []byte{entryVersion, byte(len(e.Account))}
	b = append(b, e.Account...)
	b = append(b, byte(len(keys)))
	for i, k := range keys {
		if i > 0 && keys[i-1].Device == k.Device {
			return nil, fmt.Errorf("%w: device %d listed twice", ErrMalformed, k.Device)
		}
		if len(k.Identity) == 0 || len(k.Identity) > MaxIdentity {
			return nil, fmt.Errorf("%w: identity of %d bytes", ErrMalformed, len(k.Identity))
		}
		b = binary.BigEndian.AppendUint32(b, k.Device)
		b = binary.BigEndian.AppendUint16(b, uint16(len(k.Identity)))
		b = append(b, k.Identity...)
	}
	return b, nil
}

// ParseEntry decodes an entry, refusing anything [Entry.Marshal] would not
// write.
func ParseEntry(b []byte) (Entry, error) {
	if len(b) > MaxEntry || len(b) < 3 || b[0] != entryVersion {
		return Entry{}, fmt.Errorf("%w: entry header", ErrMalformed)
	}
	n := int(b[1])
	if n == 0 || len(b) < 2+n+1 {
		return Entry{}, fmt.Errorf("%w: entry account", ErrMalformed)
	}
	e := Entry{Account: string(b[2 : 2+n])}
	count := int(b[2+n])
	r := b[3+n:]
	if count > MaxDevices {
		return Entry{}, fmt.Errorf("%w: %d devices", ErrMalformed, count)
	}
	for range count {
		if len(r) < 6 {
			return Entry{}, fmt.Errorf("%w: truncated key", ErrMalformed)
		}
		k := Key{Device: binary.BigEndian.Uint32(r)}
		l := int(binary.BigEndian.Uint16(r[4:]))
		if l == 0 || l > MaxIdentity || len(r) < 6+l {
			return Entry{}, fmt.Errorf("%w: identity of %d bytes", ErrMalformed, l)
		}
		k.Identity = slices.Clone(r[6 : 6+l])
		if len(e.Keys) > 0 && e.Keys[len(e.Keys)-1].Device >= k.Device {
			return Entry{}, fmt.Errorf("%w: devices out of order", ErrMalformed)
		}
		e.Keys = append(e.Keys, k)
		r = r[6+l:]
	}
	if len(r) != 0 {
		return Entry{}, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(r))
	}
	return e, nil
}

// Equal reports whether two entries name the same account and keys.
func (e Entry) Equal(o Entry) bool {
	a, errA := e.Marshal()
	b, errB := o.Marshal()
	return errA == nil && errB == nil && string(a) == string(b)
}
