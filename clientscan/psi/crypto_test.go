package psi

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

// TestSealOpen checks the committing AEAD: it round-trips, and flipping any
// bit, changing the label or changing the key makes it fail.
func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	msg := []byte("sixteen byte key and then some")
	ct := seal(key, labelRCT, msg)
	if len(ct) != len(msg)+sealOverhead {
		t.Fatalf("ciphertext of %d bytes, want %d", len(ct), len(msg)+sealOverhead)
	}
	pt, err := open(key, labelRCT, ct)
	if err != nil || !bytes.Equal(pt, msg) {
		t.Fatalf("open = %q, %v", pt, err)
	}
	for i := range len(ct) * 8 {
		bad := bytes.Clone(ct)
		bad[i/8] ^= 1 << (i % 8)
		if _, err := open(key, labelRCT, bad); err == nil {
			t.Fatalf("opened with bit %d flipped", i)
		}
	}
	if _, err := open(key, labelCT, ct); err == nil {
		t.Fatal("opened under another label")
	}
	other := bytes.Clone(key)
	other[31] ^= 1
	if _, err := open(other, labelRCT, ct); err == nil {
		t.Fatal("opened under another key")
	}
	if _, err := open(key, labelRCT, ct[:sealOverhead-1]); err == nil {
		t.Fatal("opened a short ciphertext")
	}
}

// TestKeyCommitment checks random-key robustness: among many keys a
// ciphertext opens only under the one that made it.
func TestKeyCommitment(t *testing.T) {
	keys := make([][]byte, 200)
	for i := range keys {
		keys[i] = make([]byte, 32)
		rand.Read(keys[i])
	}
	ct := seal(keys[17], labelCT, []byte("rkey"))
	for i, k := range keys {
		_, err := open(k, labelCT, ct)
		if (err == nil) != (i == 17) {
			t.Fatalf("key %d: err = %v", i, err)
		}
	}
}

// TestNoNonceReuse checks that nonces never repeat: under one key (the
// account's adkey encrypts every associated data) and across all the
// ciphertexts of many vouchers.
func TestNoNonceReuse(t *testing.T) {
	nonceOf := func(ct []byte) string { return string(ct[commitSize : commitSize+gcmNonceSize]) }
	seen := map[string]bool{}
	key := make([]byte, 32)
	for range 20000 {
		n := nonceOf(seal(key, labelADCT, nil))
		if seen[n] {
			t.Fatal("nonce repeated under one key")
		}
		seen[n] = true
	}

	p := Params{Threshold: 2, ADSize: 16}
	list := elements("list", 4)
	s := newTestServer(t, list, p)
	tbl := download(t, s)
	a := newTestAccount(t, p)
	seen = map[string]bool{}
	check := func(ct []byte) {
		n := nonceOf(ct)
		if seen[n] {
			t.Fatal("nonce repeated across vouchers")
		}
		seen[n] = true
	}
	for i := range 100 {
		var v *Voucher
		var err error
		if i%2 == 0 {
			v, err = a.Voucher(tbl, id(i%10), list[i%4], []byte("ad")) // ids repeat on purpose
		} else {
			v, err = a.Synthetic(tbl, id(i%10))
		}
		if err != nil {
			t.Fatal(err)
		}
		check(v.ct[0][:])
		check(v.ct[1][:])
		check(v.rct)
		// The adct nonce, inside rct, when the server can open it.
		if n, inner, _ := s.tryPairs(v); n == 1 {
			rec, err := parseInner(inner, s.p)
			if err != nil {
				t.Fatal(err)
			}
			check(rec.adct)
		}
	}
}

// TestShamir checks that t+1 shares give the secret and t shares do not
// determine it (every secret is consistent with them).
func TestShamir(t *testing.T) {
	const th = 5
	secret := pRandom()
	coeffs := make([]*big.Int, th)
	for i := range coeffs {
		coeffs[i] = pRandom()
	}
	xs, ys := make([]*big.Int, th+1), make([]*big.Int, th+1)
	for i := range xs {
		xs[i] = pRandom()
		ys[i] = shamirEval(secret, coeffs, xs[i])
	}
	got, ok := lagrangeAtZero(xs, ys)
	if !ok || got.Cmp(secret) != 0 {
		t.Fatal("t+1 shares did not reconstruct the secret")
	}
	got, ok = lagrangeAtZero(xs[:th], ys[:th])
	if !ok || got.Cmp(secret) == 0 {
		t.Fatal("t shares reconstructed the secret")
	}
	xs[1] = xs[0]
	if _, ok := lagrangeAtZero(xs, ys); ok {
		t.Fatal("repeated x accepted")
	}
}

// TestDetect checks the detectable hash function directly: t real outputs
// among s synthetic ones are not detected, t+1 are, exactly, whatever their
// positions.
func TestDetect(t *testing.T) {
	for _, tc := range []struct{ t, s, real, synthetic int }{
		{3, 9, 3, 9}, {3, 9, 4, 9}, {3, 9, 4, 0}, {3, 9, 12, 9}, {30, 90, 30, 90}, {30, 90, 31, 90}, {30, 90, 31, 20}, {1, 1, 2, 1},
	} {
		key := newDHFKey(tc.s, tc.t)
		var rs [][]uint64
		isReal := map[int]bool{}
		// Interleave: synthetic outputs first and between real ones.
		for i := 0; len(rs) < tc.real+tc.synthetic; i++ {
			if i%2 == 1 && len(isReal) < tc.real || len(rs)-len(isReal) >= tc.synthetic {
				isReal[len(rs)] = true
				rs = append(rs, key.eval(fRandom()))
				continue
			}
			r := make([]uint64, tc.s+1)
			for j := range r {
				r[j] = fRandom()
			}
			rs = append(rs, r)
		}
		got, span := detect(rs, tc.t)
		if tc.real <= tc.t {
			if got != nil {
				t.Errorf("%+v: detected %v", tc, got)
			}
			continue
		}
		if len(got) != tc.real || span == nil {
			t.Errorf("%+v: detected %d, want %d", tc, len(got), tc.real)
		}
		for _, i := range got {
			if !isReal[i] {
				t.Errorf("%+v: synthetic output %d detected as real", tc, i)
			}
		}
		if !span.contains(dhfColumn(key.eval(fRandom()), tc.t)) {
			t.Errorf("%+v: a later real output is not in the span", tc)
		}
	}
}

// TestFieldArithmetic checks F_ℓ against math/big.
func TestFieldArithmetic(t *testing.T) {
	l := new(big.Int).SetUint64(ell)
	vals := []uint64{0, 1, 2, 58, 59, ell - 1, ell - 2, 1 << 63, ell / 2}
	for range 200 {
		vals = append(vals, fRandom())
	}
	for _, a := range vals {
		for _, b := range vals[:20] {
			A, B := new(big.Int).SetUint64(a), new(big.Int).SetUint64(b)
			check := func(name string, got uint64, want *big.Int) {
				want.Mod(want, l)
				if got != want.Uint64() {
					t.Fatalf("%s(%d, %d) = %d, want %d", name, a, b, got, want)
				}
			}
			check("add", fAdd(a, b), new(big.Int).Add(A, B))
			check("sub", fSub(a, b), new(big.Int).Sub(A, B))
			check("mul", fMul(a, b), new(big.Int).Mul(A, B))
		}
		if a != 0 && fMul(a, fInv(a)) != 1 {
			t.Fatalf("inverse of %d", a)
		}
	}
}

// TestNoKeysInFormat checks that printing an Account or a Server with fmt
// shows none of their secrets.
func TestNoKeysInFormat(t *testing.T) {
	p := Params{Threshold: 2, ADSize: 16}
	s := newTestServer(t, elements("list", 3), p)
	a := newTestAccount(t, p)
	alpha, _ := s.sec.alpha.MarshalBinary()
	secrets := []string{
		fmt.Sprintf("%x", a.fkey[:8]), fmt.Sprintf("%x", a.adKey[:8]), a.secret.String()[:20], a.secret.Text(16)[:16],
		fmt.Sprintf("%x", alpha[:8]), fmt.Sprintf("%x", s.sec.seed[:8]),
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, a) + fmt.Sprintf(format, s.Provider) + fmt.Sprintf(format, s.Server)
		for _, secret := range secrets {
			if strings.Contains(out, secret) {
				t.Fatalf("%s prints a secret: %s", format, out)
			}
		}
	}
}
