package clientscan

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/cloudflare/circl/group"

	"scanlab"
	"scanlab/clientscan/psi"
	"scanlab/e2ee"
	"scanlab/textscan"
)

// providerTypes are the types that hold, or lead to, the provider's state.
var providerTypes = []reflect.Type{
	reflect.TypeFor[*Mode](), reflect.TypeFor[*Server](), reflect.TypeFor[*provider](),
	reflect.TypeFor[*keychain](), reflect.TypeFor[*psi.Provider](), reflect.TypeFor[*psi.Server](),
}

// scalarType is the type of the blinding secret α.
var scalarType = reflect.TypeFor[group.Scalar]()

// walk visits every value reachable from v through pointers, interfaces,
// struct fields (exported or not), slices, arrays and maps, once each, and
// reports the first value whose type is one of the provider's, implements
// group.Scalar, or is a function held by a struct of this module (a
// closure the walk cannot see into; the standard library's, such as a
// hash constructor, are let through).
func walk(v reflect.Value, path string, seen map[any]bool) error {
	if !v.IsValid() {
		return nil
	}
	t := v.Type()
	for _, bad := range providerTypes {
		if t == bad {
			return fmt.Errorf("%s is a %s", path, t)
		}
	}
	if t.Kind() != reflect.Interface && t.Implements(scalarType) {
		return fmt.Errorf("%s is a %s: a scalar like α", path, t)
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice:
		if v.IsNil() {
			return nil
		}
		key := [2]any{v.Pointer(), t}
		if seen[key] {
			return nil
		}
		seen[key] = true
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		return walk(v.Elem(), path, seen)
	case reflect.Struct:
		for i := range t.NumField() {
			fv := v.Field(i)
			if fv.Kind() == reflect.Func && !fv.IsNil() && strings.HasPrefix(t.PkgPath(), "scanlab") && !topLevel(fv) {
				return fmt.Errorf("%s.%s is a function (%s): a closure could hold anything", path, t.Field(i).Name, fv.Type())
			}
			if err := walk(fv, path+"."+t.Field(i).Name, seen); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if k := t.Elem().Kind(); k <= reflect.Complex128 || k == reflect.String {
			return nil // no references inside
		}
		for i := range v.Len() {
			if err := walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), seen); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := walk(it.Key(), path+"[key]", seen); err != nil {
				return err
			}
			if err := walk(it.Value(), path+"[value]", seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// topLevel reports whether a function value is a package-level function
// (such as time.Now, a device's default clock), which holds no state:
// closures ("….func1") and method values ("…-fm") may.
func topLevel(fv reflect.Value) bool {
	f := runtime.FuncForPC(fv.Pointer())
	if f == nil {
		return false
	}
	name := f.Name()
	return !strings.Contains(name, ".func") && !strings.HasSuffix(name, "-fm")
}

// TestDeviceHoldsOnlyPublished walks everything a device holds, in every
// variant, and finds none of the provider's state: no Mode, Server,
// provider, keychain, psi.Provider or psi.Server, no scalar like α, and no
// function that could close over one. It fails if a Device keeps a
// reference to its Mode, as it once did.
func TestDeviceHoldsOnlyPublished(t *testing.T) {
	f := newFixture(t, 1, 2)
	for _, o := range []Options{
		{List: f.hashes},
		{List: f.hashes, Match: MatchVariant{Chunks: 8}, DeviceText: textscan.Rules()},
		{List: f.hashes, ListVariant: ListPlain},
		{List: f.hashes, Overfit: newFixture(t, 3).hashes, Behaviour: func(scanlab.UserID) Behaviour { return SyntheticOnly }},
	} {
		name := fmt.Sprintf("list=%s/match=%s/overfit=%v", o.withDefaults().ListVariant, o.Match, o.Overfit != nil)
		t.Run(name, func(t *testing.T) {
			m := fullMode(t, o)
			d := deviceOf(t, m, "alice", e2ee.NewMemoryDirectory())
			// Use it, so that lazily built state exists.
			serverOf(t, m, nil)
			d.Seal(scanlab.Message{ID: "m", From: "alice", To: "alice", Content: img(f.data[0])})
			if err := walk(reflect.ValueOf(d), "device", map[any]bool{}); err != nil {
				t.Fatal(err)
			}
			if d.pub == nil || (o.ListVariant != ListPlain) != (d.keys != nil) {
				t.Fatalf("device holds published %v, keys %v", d.pub != nil, d.keys != nil)
			}
		})
	}
	// The walk itself finds the provider's state where it is.
	m := fullMode(t, Options{List: f.hashes})
	if err := walk(reflect.ValueOf(m), "mode", map[any]bool{}); err == nil {
		t.Fatal("the walk finds nothing in the Mode itself")
	}
	if err := walk(reflect.ValueOf(struct{ p *psi.Provider }{m.prov.psi}), "x", map[any]bool{}); err == nil {
		t.Fatal("the walk finds no psi.Provider")
	}
}

// TestAccountKeysShared: an account's devices share its PSI keys, so their
// matches count towards one threshold: two devices of alice sending t+1
// matching images between them reveal the account, and a voucher
// identifier counts once whichever device sent it. With keys per device the
// shares would belong to two polynomials and nothing would be revealed.
func TestAccountKeysShared(t *testing.T) {
	const th = 3
	f := newFixture(t, seeds(1, th+1)...)
	m := fullMode(t, Options{List: f.hashes, Threshold: th, SyntheticRate: -1})
	dir := e2ee.NewMemoryDirectory()
	phone, laptop := deviceOf(t, m, "alice", dir), deviceOf(t, m, "alice", dir)
	deviceOf(t, m, "bob", dir)
	if phone.keys != laptop.keys {
		t.Fatal("two devices of one account hold different keys")
	}
	srv := serverOf(t, m, nil)
	for i := range th + 1 {
		d := phone
		if i%2 == 1 {
			d = laptop
		}
		e, err := d.Seal(scanlab.Message{ID: fmt.Sprint("shared-", i), From: "alice", To: "bob", Content: img(f.data[i])})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Accept(&e); err != nil {
			t.Fatal(err)
		}
	}
	if v := srv.Account("alice"); !v.Revealed || v.Real != th+1 {
		t.Fatalf("t+1 matches from two devices of one account: %+v", v)
	}
	if st := srv.Stats(); st.Detections != th+1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestPerServerState: each server of a mode keeps its own account state,
// with no prefix or shared store: matches accepted by one server do not
// count on another, and both can process the same account.
func TestPerServerState(t *testing.T) {
	const th = 2
	f := newFixture(t, seeds(1, th+1)...)
	m := fullMode(t, Options{List: f.hashes, Threshold: th, SyntheticRate: -1})
	dir := e2ee.NewMemoryDirectory()
	alice := deviceOf(t, m, "alice", dir)
	deviceOf(t, m, "bob", dir)
	a, b := serverOf(t, m, nil), serverOf(t, m, nil)
	for i := range th + 1 {
		e, err := alice.Seal(scanlab.Message{ID: fmt.Sprint("split-", i), From: "alice", To: "bob", Content: img(f.data[i])})
		if err != nil {
			t.Fatal(err)
		}
		srv := a
		if i == th {
			srv = b
		}
		if _, err := srv.Accept(&e); err != nil {
			t.Fatal(err)
		}
	}
	va, vb := a.Account("alice"), b.Account("alice")
	if va.Matches != th || vb.Matches != 1 || va.Revealed || vb.Revealed {
		t.Fatalf("server a %+v, server b %+v", va, vb)
	}
}
