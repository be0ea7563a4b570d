package psi

import (
	"crypto/rand"
	"encoding/binary"
	"math/big"
	"math/bits"
)

// Arithmetic in the two prime fields the protocol needs. These are modular
// helpers, not ciphers.
//
//   - F_ℓ with ℓ = 2^64 − 59, the largest 64-bit prime, for the detectable
//     hash function (paper §3, "(s,t)-detectable hash function").
//   - F_p with p = 2^255 − 19 for Shamir secret sharing of the account key
//     (paper §3, "Shamir secret sharing"; any prime above 2^128 will do).

// ell is ℓ = 2^64 − 59.
const ell uint64 = 1<<64 - 59

func fAdd(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return s + 59 // a+b−ℓ = s + 2^64 − ℓ
	}
	if s >= ell {
		s -= ell
	}
	return s
}

func fSub(a, b uint64) uint64 {
	if a >= b {
		return a - b
	}
	return a + (ell - b)
}

func fMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	_, rem := bits.Div64(hi, lo, ell) // hi < ℓ because a, b < ℓ
	return rem
}

func fInv(a uint64) uint64 {
	// a^(ℓ−2) by square and multiply; a must be non-zero.
	r, e := uint64(1), ell-2
	for e > 0 {
		if e&1 == 1 {
			r = fMul(r, a)
		}
		a = fMul(a, a)
		e >>= 1
	}
	return r
}

// fReduce maps 16 uniform bytes to F_ℓ (statistical distance below 2^−64).
func fReduce(b []byte) uint64 {
	hi := binary.BigEndian.Uint64(b[:8]) % ell
	lo := binary.BigEndian.Uint64(b[8:16])
	_, rem := bits.Div64(hi, lo, ell)
	return rem
}

// fRandom returns a uniform element of F_ℓ from crypto/rand.
func fRandom() uint64 {
	var b [16]byte
	rand.Read(b[:])
	return fReduce(b[:])
}

// shamirPrime is p = 2^255 − 19.
var shamirPrime = func() *big.Int {
	p := new(big.Int).Lsh(big.NewInt(1), 255)
	return p.Sub(p, big.NewInt(19))
}()

// scalarSize is the encoded size of an F_p element, in bytes.
const scalarSize = 32

// pReduce maps uniform bytes (64 of them: statistical distance below 2^−256)
// to F_p.
func pReduce(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	return x.Mod(x, shamirPrime)
}

// pRandom returns a uniform element of F_p from crypto/rand.
func pRandom() *big.Int {
	var b [64]byte
	rand.Read(b[:])
	return pReduce(b[:])
}

// pBytes encodes x < p in 32 big-endian bytes.
func pBytes(x *big.Int) []byte {
	return x.FillBytes(make([]byte, scalarSize))
}

// pParse decodes 32 big-endian bytes, rejecting values ≥ p.
func pParse(b []byte) (*big.Int, bool) {
	x := new(big.Int).SetBytes(b)
	return x, x.Cmp(shamirPrime) < 0
}

// shamirEval evaluates secret + Σ coeffs[i]·x^(i+1) mod p.
func shamirEval(secret *big.Int, coeffs []*big.Int, x *big.Int) *big.Int {
	y := new(big.Int)
	for i := len(coeffs) - 1; i >= 0; i-- {
		y.Add(y, coeffs[i])
		y.Mul(y, x)
		y.Mod(y, shamirPrime)
	}
	y.Add(y, secret)
	return y.Mod(y, shamirPrime)
}

// lagrangeAtZero interpolates the polynomial through the points (xs[i],
// ys[i]), which must have distinct non-zero xs, and returns its value at 0.
func lagrangeAtZero(xs, ys []*big.Int) (*big.Int, bool) {
	sum := new(big.Int)
	num, den, t := new(big.Int), new(big.Int), new(big.Int)
	for i := range xs {
		num.SetInt64(1)
		den.SetInt64(1)
		for j := range xs {
			if j == i {
				continue
			}
			num.Mul(num, xs[j]).Mod(num, shamirPrime)
			t.Sub(xs[j], xs[i]).Mod(t, shamirPrime)
			den.Mul(den, t).Mod(den, shamirPrime)
		}
		if den.ModInverse(den, shamirPrime) == nil {
			return nil, false // repeated x
		}
		t.Mul(ys[i], num).Mod(t, shamirPrime)
		t.Mul(t, den).Mod(t, shamirPrime)
		sum.Add(sum, t).Mod(sum, shamirPrime)
	}
	return sum, true
}
