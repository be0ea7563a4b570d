package psi

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
	"sync"

	"github.com/cloudflare/circl/group"
)

// Labels that separate the uses of the committing AEAD.
const (
	labelCT   = "ct"   // ct_j = Enc(H'(S_j), rkey)
	labelRCT  = "rct"  // rct = Enc(rkey, (r, adct, share))
	labelADCT = "adct" // adct = Enc(adkey, ad)
)

// rkeySize is the size of the per-voucher key rkey, in bytes.
const rkeySize = 32

// ctSize is the size of each ct_j, in bytes.
const ctSize = sealOverhead + rkeySize

// Account is the device side of one account, shared by all of the user's
// devices (paper §4, client setup): the associated-data key adkey, its
// Shamir polynomial of degree Threshold, the PRF key fkey, the
// detectable-hash key hkey and the synthetic-voucher schedule with its
// secret budget. Sharing it is what makes the threshold count per account:
// vouchers from two devices with separate keys would carry shares of two
// different polynomials and never reconstruct either key. An Account holds
// nothing of the provider's and never learns whether an element matched. It
// is safe for concurrent use.
type Account struct {
	p      Params
	secret *big.Int   // Shamir secret σ; adkey = HKDF(σ)
	coeffs []*big.Int // a_1..a_t of σ + a_1·x + … + a_t·x^t
	adKey  []byte
	fkey   [32]byte
	hkey   dhfKey

	mu        sync.Mutex
	sched     *schedule
	synthetic int
}

// NewAccount creates an account's keys and draws its synthetic budget
// (uniform on {0, …, MaxSynthetic}) from p.Coins.
func NewAccount(p Params) (*Account, error) {
	p, err := p.normalize()
	if err != nil {
		return nil, err
	}
	coins := p.Coins
	if coins == nil {
		coins = rand.Reader
	}
	a := &Account{p: p, secret: pRandom(), hkey: newDHFKey(p.MaxSynthetic, p.Threshold)}
	if a.sched, err = newSchedule(p.calibration(), coins); err != nil {
		return nil, err
	}
	a.coeffs = make([]*big.Int, p.Threshold)
	for i := range a.coeffs {
		a.coeffs[i] = pRandom()
	}
	a.adKey = adKeyFromSecret(a.secret)
	rand.Read(a.fkey[:])
	return a, nil
}

// String describes the account without its keys, so that logging an Account
// never leaks them.
func (a *Account) String() string {
	return fmt.Sprintf("psi.Account{threshold: %d, synthetic rate: %g}", a.p.Threshold, a.p.SyntheticRate)
}

// GoString is String, for %#v.
func (a *Account) GoString() string { return a.String() }

// adKeyFromSecret derives the associated-data key from the Shamir secret.
func adKeyFromSecret(secret *big.Int) []byte {
	k, err := hkdf.Key(sha256.New, pBytes(secret), nil, "scanlab psi adkey v1", 32)
	if err != nil {
		panic("psi: hkdf: " + err.Error())
	}
	return k
}

// Synthetics returns how many synthetic vouchers the account has sent in
// place of real ones (not counting [Account.Synthetic] calls).
func (a *Account) Synthetics() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.synthetic
}

// coin decides whether the next voucher is synthetic (see [schedule]).
func (a *Account) coin() (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	synthetic, err := a.sched.next()
	if synthetic {
		a.synthetic++
	}
	return synthetic, err
}

// Choose returns a number in [0, n) derived from id with the account's PRF
// key: the same id always gives the same choice, and the server, without
// the key, cannot predict or recompute it. A device uses it to pick which
// of several elements of one image to test, so that a retried voucher tests
// the same one. n must be positive.
func (a *Account) Choose(id []byte, n int) int {
	b, err := hkdf.Expand(sha256.New, a.fkey[:], "scanlab psi choice v1\x00"+string(id), 16)
	if err != nil {
		panic("psi: hkdf: " + err.Error())
	}
	// 128 bits reduced mod n: bias below n/2^64.
	hi := binary.BigEndian.Uint64(b) % uint64(n)
	_, rem := bits.Div64(hi, binary.BigEndian.Uint64(b[8:]), uint64(n))
	return int(rem)
}

// prfOut is F(fkey, id) = (x, z, x', r) of the paper (§4): the Shamir
// x-coordinate, the dummy share value, the DHF input and the dummy DHF
// output, all from HMAC-SHA256 (HKDF-Expand with fkey as the key).
type prfOut struct {
	x, z  *big.Int
	xp    uint64
	dummy []uint64
}

func (a *Account) prf(id []byte) prfOut {
	expand := func(label string, n int) []byte {
		b, err := hkdf.Expand(sha256.New, a.fkey[:], "scanlab psi prf v1 "+label+"\x00"+string(id), n)
		if err != nil {
			panic("psi: hkdf: " + err.Error()) // n ≤ 16·MaxSyntheticLimit < 255·32
		}
		return b
	}
	o := prfOut{x: pReduce(expand("x", 64)), z: pReduce(expand("z", 64)), xp: fReduce(expand("x'", 16))}
	if o.x.Sign() == 0 {
		o.x.SetInt64(1) // x = 0 would hand out the secret; probability 2^−255
	}
	d := expand("r", 16*a.p.MaxSynthetic)
	o.dummy = make([]uint64, a.p.MaxSynthetic)
	for i := range o.dummy {
		o.dummy[i] = fReduce(d[16*i:])
	}
	return o
}

func checkID(id []byte) error {
	if len(id) == 0 || len(id) > MaxIDSize {
		return fmt.Errorf("%w: %d bytes, want 1 to %d", ErrBadID, len(id), MaxIDSize)
	}
	return nil
}

// Voucher makes the safety voucher for one element (paper §4): with
// probability SyntheticRate it is a synthetic voucher instead (see
// [Account.Synthetic]); otherwise it is a real voucher whose associated data
// the server can open only for a matching element and only once the account
// has more than Threshold real matches. id is the voucher identifier, which
// the server sees (1 to MaxIDSize bytes, unique per image; reusing an id
// yields the same Shamir share); element is the set element (e.g. a 32-byte
// PDQ hash); ad is the associated data, at most ADSize bytes (e.g. the hash
// and a low-resolution visual derivative).
//
// Cost: one hash-to-curve, eight scalar multiplications and three AES-GCM
// encryptions; see BenchmarkVoucher.
func (a *Account) Voucher(t *Table, id, element, ad []byte) (*Voucher, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if len(ad) > a.p.ADSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrADTooLong, len(ad), a.p.ADSize)
	}
	synthetic, err := a.coin()
	if err != nil {
		return nil, err
	}
	if synthetic {
		return a.synthetic1(t, id)
	}
	return a.real(t, id, element, ad)
}

// Synthetic makes a synthetic voucher for id (paper §4): its dummy share and
// detectable-hash output are pseudorandom, and exactly one of its two (Q, ct)
// pairs opens on the server, as for a real match. Honest devices call it only
// through [Account.Voucher]; calling it directly models a modified client
// that hides its real matches (paper §4.4: correctness against a malicious
// client is not guaranteed).
func (a *Account) Synthetic(t *Table, id []byte) (*Voucher, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	return a.synthetic1(t, id)
}

func (a *Account) padAD(ad []byte) []byte {
	pt := make([]byte, 4+a.p.ADSize)
	binary.BigEndian.PutUint32(pt, uint32(len(ad)))
	copy(pt[4:], ad)
	return pt
}

// openAD decrypts and unpads an associated-data ciphertext.
func openAD(key, adct []byte) ([]byte, error) {
	pt, err := open(key, labelADCT, adct)
	if err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(pt)
	if uint64(n) > uint64(len(pt)-4) {
		return nil, errOpen
	}
	return pt[4 : 4+n], nil
}

func (a *Account) real(t *Table, id, element, ad []byte) (*Voucher, error) {
	adct := seal(a.adKey, labelADCT, a.padAD(ad))
	f := a.prf(id)
	share := shamirEval(a.secret, a.coeffs, f.x)
	r := a.hkey.eval(f.xp)
	rkey := make([]byte, rkeySize)
	rand.Read(rkey)
	v := &Voucher{id: append([]byte(nil), id...)}
	v.rct = seal(rkey, labelRCT, encodeInner(r, f.x, share, adct))

	hy := hashToCurve(t.nonceH, element)
	w1, w2 := positions(t.nonceH1, t.nonceH2, element, t.Slots())
	for j, w := range [2]int{w1, w2} {
		pw, err := t.slot(w)
		if err != nil {
			return nil, fmt.Errorf("table slot %d: %w", w, err)
		}
		// Q = β·H(y) + γ·G and S = β·P_w + γ·L: S = α·Q when P_w = α·H(y),
		// and (Q, S) is a random pair otherwise.
		var q, s group.Element
		for q == nil || q.IsIdentity() || s.IsIdentity() {
			beta := group.P256.RandomNonZeroScalar(rand.Reader)
			gamma := group.P256.RandomNonZeroScalar(rand.Reader)
			q = group.P256.NewElement().Mul(hy, beta)
			q.Add(q, group.P256.NewElement().MulGen(gamma))
			s = group.P256.NewElement().Mul(pw, beta)
			s.Add(s, group.P256.NewElement().Mul(t.l, gamma))
		}
		v.q[j] = [PointSize]byte(encodePoint(q))
		v.ct[j] = [ctSize]byte(seal(encodePoint(s), labelCT, rkey))
	}
	shuffle(v)
	return v, nil
}

func (a *Account) synthetic1(t *Table, id []byte) (*Voucher, error) {
	ckey := make([]byte, 32)
	rand.Read(ckey)
	adct := seal(ckey, labelADCT, make([]byte, 4+a.p.ADSize))
	f := a.prf(id)
	r := append([]uint64{f.xp}, f.dummy...)
	rkey := make([]byte, rkeySize)
	rand.Read(rkey)
	v := &Voucher{id: append([]byte(nil), id...)}
	v.rct = seal(rkey, labelRCT, encodeInner(r, f.x, f.z, adct))

	// Pair 1 always opens: Q = β·G, S = β·L = α·Q. Pair 2 is a random pair.
	beta := group.P256.RandomNonZeroScalar(rand.Reader)
	q1 := group.P256.NewElement().MulGen(beta)
	s1 := group.P256.NewElement().Mul(t.l, beta)
	q2 := group.P256.NewElement().MulGen(group.P256.RandomNonZeroScalar(rand.Reader))
	s2 := group.P256.NewElement().MulGen(group.P256.RandomNonZeroScalar(rand.Reader))
	v.q[0] = [PointSize]byte(encodePoint(q1))
	v.ct[0] = [ctSize]byte(seal(encodePoint(s1), labelCT, rkey))
	v.q[1] = [PointSize]byte(encodePoint(q2))
	v.ct[1] = [ctSize]byte(seal(encodePoint(s2), labelCT, rkey))
	shuffle(v)
	return v, nil
}

// shuffle swaps the two pairs with probability one half.
func shuffle(v *Voucher) {
	var b [1]byte
	rand.Read(b[:])
	if b[0]&1 == 1 {
		v.q[0], v.q[1] = v.q[1], v.q[0]
		v.ct[0], v.ct[1] = v.ct[1], v.ct[0]
	}
}

// encodeInner lays out rct's plaintext: r as (s+1) big-endian uint64, the
// share (x, y) as two 32-byte field elements, then adct.
func encodeInner(r []uint64, x, y *big.Int, adct []byte) []byte {
	out := make([]byte, 0, 8*len(r)+2*scalarSize+len(adct))
	for _, e := range r {
		out = binary.BigEndian.AppendUint64(out, e)
	}
	out = append(out, pBytes(x)...)
	out = append(out, pBytes(y)...)
	return append(out, adct...)
}

// parseInner decodes rct's plaintext for the server's parameters.
func parseInner(b []byte, p Params) (matchRecord, error) {
	if len(b) != innerSize(p) {
		return matchRecord{}, fmt.Errorf("%w: inner plaintext of %d bytes", ErrMalformed, len(b))
	}
	var m matchRecord
	m.r = make([]uint64, p.MaxSynthetic+1)
	for i := range m.r {
		m.r[i] = binary.BigEndian.Uint64(b[8*i:])
		if m.r[i] >= ell {
			return matchRecord{}, fmt.Errorf("%w: detectable hash value out of range", ErrMalformed)
		}
	}
	b = b[8*len(m.r):]
	var okX, okY bool
	m.x, okX = pParse(b[:scalarSize])
	m.y, okY = pParse(b[scalarSize : 2*scalarSize])
	if !okX || !okY || m.x.Sign() == 0 {
		return matchRecord{}, fmt.Errorf("%w: share out of range", ErrMalformed)
	}
	m.adct = append([]byte(nil), b[2*scalarSize:]...)
	return m, nil
}
