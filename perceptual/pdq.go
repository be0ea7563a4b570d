package perceptual

import (
	"image"
	"math"
	"sync"
)

// PDQ hashing as the reference computes it: facebook/ThreatExchange
// pdq/cpp/hashing/pdqhashing.cpp, pdq/cpp/downscaling/downscaling.cpp and
// pdq/cpp/hashing/torben.cpp, described in the PDQ paper (hashing/hashing.pdf
// in the same repository, formerly pdqhash-2017-10-09.pdf). Every step below
// keeps the reference's float32 arithmetic and its order of operations, so
// identical pixels give an identical hash and quality.

const (
	// minDim is the smallest width or height the reference hashes; smaller
	// images get the zero hash and quality 0.
	minDim = 5
	// cliDim is the side of the square the reference tool squashes larger
	// images to before hashing (DOWNSAMPLE_DIMS in pdq/cpp/io/pdqio.cpp).
	cliDim = 512
	// jaroszPasses is the number of (rows, columns) box-filter passes: two
	// make a tent filter.
	jaroszPasses = 2
)

// dctMatrix is the reference's 16×64 DCT-II matrix D, float32, row-major:
// D[i][j] = √(2/64)·cos(π/128·(i+1)·(2j+1)) for i = 0..15, so the DC row is
// left out. The scale is rounded to float32 first and the product is formed
// in double precision, then rounded, as in the reference.
var dctMatrix = func() (d [16 * 64]float32) {
	scale := float32(math.Sqrt(2.0 / 64.0))
	for i := 0; i < 16; i++ {
		for j := 0; j < 64; j++ {
			d[i*64+j] = float32(float64(scale) * math.Cos((math.Pi/2.0/64.0)*float64(i+1)*float64(2*j+1)))
		}
	}
	return d
}()

// pdqState holds the scratch space of one hash computation. States are
// recycled through statePool, so hashing allocates nothing once warm.
type pdqState struct {
	buf1, buf2 []float32        // full-size luma and filter buffers
	cols       []float32        // numRows × 64: the last column pass, only the decimated columns
	sums       []float32        // running sums of the column pass, one per lane
	xs, ys     []int            // index tables for luma extraction
	a          [64 * 64]float32 // the decimated 64×64 image
	t          [16 * 64]float32 // D·A
	b          [16 * 16]float32 // D·A·Dᵀ
	aux        [16 * 16]float32 // a dihedral variant of b
}

var statePool = sync.Pool{New: func() any { return new(pdqState) }}

// maxPooled is the largest buffer, in elements, a state keeps between
// uses: the buffers of a 4-megapixel image. Larger ones are dropped rather
// than held by the pool.
const maxPooled = 4 << 20

// getState takes a state from the pool; putState returns it.
func getState() *pdqState { return statePool.Get().(*pdqState) }

func putState(st *pdqState) {
	if cap(st.buf1) > maxPooled || cap(st.buf2) > maxPooled {
		st.buf1, st.buf2, st.cols = nil, nil, nil
	}
	if cap(st.xs) > maxPooled || cap(st.ys) > maxPooled || cap(st.sums) > maxPooled {
		st.xs, st.ys, st.sums = nil, nil, nil
	}
	statePool.Put(st)
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// lumaFor fills st.buf1 with the luma of img, squashed to 512×512 first if
// cli is set and a side exceeds 512, and returns its size.
func (st *pdqState) lumaFor(img image.Image, cli bool) (rows, cols int) {
	b := img.Bounds()
	cols, rows = b.Dx(), b.Dy()
	st.xs = grow(st.xs, cols)
	st.ys = grow(st.ys, rows)
	if cli && (cols > cliDim || rows > cliDim) {
		st.xs = squash(grow(st.xs, cliDim), cols)
		st.ys = squash(grow(st.ys, cliDim), rows)
		cols, rows = cliDim, cliDim
	} else {
		identity(st.xs)
		identity(st.ys)
	}
	st.buf1 = grow(st.buf1, rows*cols)
	fillLuma(st.buf1, img, st.xs, st.ys)
	return rows, cols
}

// jaroszWindow is the reference's box window for shrinking n samples to 64:
// ⌈n/128⌉, half a 64th of the side because two passes are run.
func jaroszWindow(n int) int { return (n + 2*64 - 1) / (2 * 64) }

// boxPhases returns the lengths of the four phases of the reference's
// box1DFloat for a vector of n samples and a window of w: accumulate only,
// write with a growing window, write with the full window (add and
// subtract), write with a shrinking window.
func boxPhases(n, w int) (p1, p2, p3, p4 int) {
	half := (w + 2) / 2
	return half - 1, w - half + 1, n - w, half - 1
}

// boxRows runs the reference's 1-D box filter along every row of in
// (rows×cols) into out. Four rows are filtered together so their running
// sums form independent dependency chains; each row still sees exactly the
// reference's sequence of float32 additions, subtractions and divisions.
//
// If divide is false, out receives the running sums without the division
// (the caller divides the few it needs with boxDivisor); the stored sums are
// bit for bit the reference's dividends.
func boxRows(in, out []float32, rows, cols, window int, divide bool) {
	p1, p2, p3, p4 := boxPhases(cols, window)
	r := 0
	for ; r+4 <= rows; r += 4 {
		a0, a1, a2, a3 := in[r*cols:(r+1)*cols], in[(r+1)*cols:(r+2)*cols], in[(r+2)*cols:(r+3)*cols], in[(r+3)*cols:(r+4)*cols]
		o0, o1, o2, o3 := out[r*cols:(r+1)*cols], out[(r+1)*cols:(r+2)*cols], out[(r+2)*cols:(r+3)*cols], out[(r+3)*cols:(r+4)*cols]
		var s0, s1, s2, s3 float32
		ri, li, oi, n := 0, 0, 0, 0
		for k := 0; k < p1; k++ {
			s0 += a0[ri]
			s1 += a1[ri]
			s2 += a2[ri]
			s3 += a3[ri]
			ri++
			n++
		}
		for k := 0; k < p2; k++ {
			s0 += a0[ri]
			s1 += a1[ri]
			s2 += a2[ri]
			s3 += a3[ri]
			n++
			if divide {
				f := float32(n)
				o0[oi], o1[oi], o2[oi], o3[oi] = s0/f, s1/f, s2/f, s3/f
			} else {
				o0[oi], o1[oi], o2[oi], o3[oi] = s0, s1, s2, s3
			}
			ri++
			oi++
		}
		f := float32(n)
		if divide {
			for k := 0; k < p3; k++ {
				s0 += a0[ri]
				s1 += a1[ri]
				s2 += a2[ri]
				s3 += a3[ri]
				s0 -= a0[li]
				s1 -= a1[li]
				s2 -= a2[li]
				s3 -= a3[li]
				o0[oi], o1[oi], o2[oi], o3[oi] = s0/f, s1/f, s2/f, s3/f
				li++
				ri++
				oi++
			}
		} else {
			for k := 0; k < p3; k++ {
				s0 += a0[ri]
				s1 += a1[ri]
				s2 += a2[ri]
				s3 += a3[ri]
				s0 -= a0[li]
				s1 -= a1[li]
				s2 -= a2[li]
				s3 -= a3[li]
				o0[oi], o1[oi], o2[oi], o3[oi] = s0, s1, s2, s3
				li++
				ri++
				oi++
			}
		}
		for k := 0; k < p4; k++ {
			s0 -= a0[li]
			s1 -= a1[li]
			s2 -= a2[li]
			s3 -= a3[li]
			n--
			if divide {
				f := float32(n)
				o0[oi], o1[oi], o2[oi], o3[oi] = s0/f, s1/f, s2/f, s3/f
			} else {
				o0[oi], o1[oi], o2[oi], o3[oi] = s0, s1, s2, s3
			}
			li++
			oi++
		}
	}
	for ; r < rows; r++ {
		box1D(in[r*cols:(r+1)*cols], out[r*cols:(r+1)*cols], window, divide)
	}
}

// box1D is the single-vector form of boxRows.
func box1D(a, o []float32, window int, divide bool) {
	p1, p2, p3, p4 := boxPhases(len(a), window)
	var s float32
	ri, li, oi, n := 0, 0, 0, 0
	for k := 0; k < p1; k++ {
		s += a[ri]
		ri++
		n++
	}
	for k := 0; k < p2; k++ {
		s += a[ri]
		n++
		o[oi] = s
		if divide {
			o[oi] = s / float32(n)
		}
		ri++
		oi++
	}
	for k := 0; k < p3; k++ {
		s += a[ri]
		s -= a[li]
		o[oi] = s
		if divide {
			o[oi] = s / float32(n)
		}
		li++
		ri++
		oi++
	}
	for k := 0; k < p4; k++ {
		s -= a[li]
		n--
		o[oi] = s
		if divide {
			o[oi] = s / float32(n)
		}
		li++
		oi++
	}
}

// boxDivisor returns the divisor the reference's box filter applies to
// output i of a vector of n samples with window w: the number of samples in
// the (edge-clipped) window.
func boxDivisor(i, n, w int) int {
	p1, p2, p3, _ := boxPhases(n, w)
	switch {
	case i < p2:
		return p1 + 1 + i
	case i < p2+p3:
		return p1 + p2
	default:
		return p1 + p2 - (i - p2 - p3 + 1)
	}
}

// boxCols runs the reference's 1-D box filter down the columns of in
// (rows×cols) listed in lanes, writing column lanes[l] of the result to
// out[r*len(lanes)+l]. All lanes advance together row by row, so memory is
// read along rows while each column sees the reference's exact sequence of
// operations. sums must hold len(lanes) elements. If lanes is nil every
// column is filtered and out has the layout of in.
func boxCols(in, out, sums []float32, rows, cols, window int, lanes []int) {
	p1, p2, p3, p4 := boxPhases(rows, window)
	width := cols
	if lanes != nil {
		width = len(lanes)
	}
	sums = sums[:width]
	clear(sums)
	// add adds row r of in to the sums, sub subtracts it.
	add := func(r int) {
		row := in[r*cols : r*cols+cols]
		if lanes == nil {
			for l, v := range row {
				sums[l] += v
			}
			return
		}
		for l, c := range lanes {
			sums[l] += row[c]
		}
	}
	sub := func(r int) {
		row := in[r*cols : r*cols+cols]
		if lanes == nil {
			for l, v := range row {
				sums[l] -= v
			}
			return
		}
		for l, c := range lanes {
			sums[l] -= row[c]
		}
	}
	write := func(r, n int) {
		f := float32(n)
		o := out[r*width : r*width+width]
		for l, s := range sums {
			o[l] = s / f
		}
	}
	ri, li, oi, n := 0, 0, 0, 0
	for k := 0; k < p1; k++ {
		add(ri)
		ri++
		n++
	}
	for k := 0; k < p2; k++ {
		add(ri)
		n++
		write(oi, n)
		ri++
		oi++
	}
	for k := 0; k < p3; k++ {
		add(ri)
		sub(li)
		write(oi, n)
		li++
		ri++
		oi++
	}
	for k := 0; k < p4; k++ {
		sub(li)
		n--
		write(oi, n)
		li++
		oi++
	}
}

// decimationIndex is the reference's sample position for output i of 64
// over n inputs: the input under the centre of the output cell, computed in
// double precision as the reference does.
func decimationIndex(i, n int) int {
	return int((float64(i) + 0.5) * float64(n) / 64)
}

// downsample blurs the luma in st.buf1 (rows×cols) with the Jarosz tent
// filter and decimates it into st.a, or copies it when it is already 64×64
// and skip64 is set (the reference's single-hash path does that skip; its
// dihedral path does not).
//
// The result equals the reference's jaroszFilterFloat followed by
// decimateFloat bit for bit. The reference filters every pixel in all four
// passes; here the second row pass divides only the 64 columns the
// decimation reads, and the second column pass runs only on those columns.
// The running sums, which carry the rounding history, are still formed over
// every pixel.
func (st *pdqState) downsample(rows, cols int, skip64 bool) {
	if skip64 && rows == 64 && cols == 64 {
		copy(st.a[:], st.buf1[:64*64])
		return
	}
	wAlongRows := jaroszWindow(cols)
	wAlongCols := jaroszWindow(rows)
	st.buf2 = grow(st.buf2, rows*cols)
	st.sums = grow(st.sums, max(cols, 64))
	var lanes, rowIdx [64]int
	for i := range 64 {
		lanes[i] = decimationIndex(i, cols)
		rowIdx[i] = decimationIndex(i, rows)
	}
	for pass := 0; pass < jaroszPasses-1; pass++ {
		boxRows(st.buf1, st.buf2, rows, cols, wAlongRows, true)
		boxCols(st.buf2, st.buf1, st.sums, rows, cols, wAlongCols, nil)
	}
	// Last pass: running sums along rows, divided only where read.
	boxRows(st.buf1, st.buf2, rows, cols, wAlongRows, false)
	st.divideColumns(rows, cols, wAlongRows, lanes[:])
	st.cols = grow(st.cols, rows*64)
	boxCols(st.buf2, st.cols, st.sums, rows, cols, wAlongCols, lanes[:])
	for i, r := range rowIdx {
		copy(st.a[i*64:i*64+64], st.cols[r*64:r*64+64])
	}
}

// divideColumns divides the running sums in the listed columns of st.buf2
// by their window sizes, once per distinct column, row by row so memory is
// read in order.
func (st *pdqState) divideColumns(rows, cols, window int, lanes []int) {
	var cs [64]int
	var div [64]float32
	n, prev := 0, -1
	for _, c := range lanes { // lanes is non-decreasing
		if c != prev {
			cs[n], div[n] = c, float32(boxDivisor(c, cols, window))
			n++
			prev = c
		}
	}
	for r := 0; r < rows; r++ {
		row := st.buf2[r*cols : r*cols+cols]
		for i, c := range cs[:n] {
			row[c] /= div[i]
		}
	}
}

// quality is the reference's image-domain quality metric on the 64×64
// downsample: the sum of |⌊(u−v)·100/255⌋| over vertically and horizontally
// adjacent pairs, in float32 and truncated toward zero, divided by 90 and
// capped at 100.
func (st *pdqState) quality() int {
	a := &st.a
	sum := 0
	for i := 0; i < 63; i++ {
		for j := 0; j < 64; j++ {
			d := int((a[i*64+j] - a[(i+1)*64+j]) * 100 / 255)
			sum += abs(d)
		}
	}
	for i := 0; i < 64; i++ {
		for j := 0; j < 63; j++ {
			d := int((a[i*64+j] - a[i*64+j+1]) * 100 / 255)
			sum += abs(d)
		}
	}
	return min(sum/90, 100)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// dct computes st.b = D·st.a·Dᵀ, the 16×16 block of DCT coefficients
// (1..16)×(1..16). Each coefficient is a float32 sum over k = 0..63 in
// increasing order, as in the reference's dct64To16; the loops are
// reordered so the inner loop runs along memory, which leaves each sum's
// order of additions unchanged.
func (st *pdqState) dct() {
	d, a, t := &dctMatrix, &st.a, &st.t
	for i := 0; i < 16; i++ {
		ti := t[i*64 : i*64+64 : i*64+64]
		clear(ti)
		for k := 0; k < 64; k++ {
			dik := d[i*64+k]
			ak := a[k*64 : k*64+64 : k*64+64]
			for j, v := range ak {
				ti[j] += float32(dik * v)
			}
		}
	}
	for i := 0; i < 16; i++ {
		ti := t[i*64 : i*64+64 : i*64+64]
		for j := 0; j < 16; j++ {
			dj := d[j*64 : j*64+64 : j*64+64]
			var s float32
			for k, v := range ti {
				s += float32(v * dj[k])
			}
			st.b[i*16+j] = s
		}
	}
}

// torben returns the median of m by Torben Mogensen's method (N. Devillard's
// public-domain implementation, as in the reference's torben.cpp), returning
// exactly the value the reference returns, ties included; for 256 values that
// is the lower of the two middle ones.
func torben(m []float32) float32 {
	n := len(m)
	lo, hi := m[0], m[0]
	for _, v := range m[1:] {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	var less, greater, equal int
	var guess, maxlt, mingt float32
	for {
		guess = (lo + hi) / 2
		less, greater, equal = 0, 0, 0
		maxlt, mingt = lo, hi
		for _, v := range m {
			if v < guess {
				less++
				if v > maxlt {
					maxlt = v
				}
			} else if v > guess {
				greater++
				if v < mingt {
					mingt = v
				}
			} else {
				equal++
			}
		}
		if less <= (n+1)/2 && greater <= (n+1)/2 {
			break
		} else if less > greater {
			hi = maxlt
		} else {
			lo = mingt
		}
	}
	switch {
	case less >= (n+1)/2:
		return maxlt
	case less+equal >= (n+1)/2:
		return guess
	default:
		return mingt
	}
}

// bitsOf sets bit 16i+j of the hash when coefficient (i, j) of b exceeds the
// median of b.
func bitsOf(b *[256]float32) Hash {
	med := torben(b[:])
	var h Hash
	for k, v := range b {
		if v > med {
			h.setBit(k)
		}
	}
	return h
}

// hashLuma hashes the luma already in st.buf1 and returns the hash and
// quality; images under 5 pixels on a side get the zero hash and quality 0.
func (st *pdqState) hashLuma(rows, cols int) (Hash, int) {
	if rows < minDim || cols < minDim {
		return Hash{}, 0
	}
	st.downsample(rows, cols, true)
	q := st.quality()
	st.dct()
	return bitsOf(&st.b), q
}

// dihedralLuma is hashLuma for all eight dihedral hashes. Like the
// reference's pdqDihedralHash256esFromFloatLuma it filters even a 64×64
// input, so for that size its first hash can differ from hashLuma's in a
// few low-order float32 bits and, rarely, in a hash bit.
func (st *pdqState) dihedralLuma(rows, cols int) (Dihedral, int) {
	var d Dihedral
	if rows < minDim || cols < minDim {
		return d, 0
	}
	st.downsample(rows, cols, false)
	q := st.quality()
	st.dct()
	for t := range d {
		transformDCT(Transform(t), &st.b, &st.aux)
		d[t] = bitsOf(&st.aux)
	}
	return d, q
}

// PDQ returns the PDQ hash and quality (0..100) of img at full resolution,
// as Meta's production hashers compute it (python-threatexchange and
// Hasher-Matcher-Actioner through pdqhash-python, and the Java PDQHasher):
// no pre-resize, float32 luma, Jarosz tent filter, 64×64 decimation, 16×16
// DCT, median threshold.
//
// EXIF orientation is not applied and alpha is ignored, as in the
// reference. An image narrower or shorter than 5 pixels gives the zero hash
// and quality 0. Meta advises not to match hashes of quality below
// [MinQuality].
//
// The cost grows linearly with the pixel count; [PDQ512] is the reference
// tool's variant with a bounded cost.
func PDQ(img image.Image) (h Hash, quality int) {
	st := getState()
	defer putState(st)
	rows, cols := st.lumaFor(img, false)
	return st.hashLuma(rows, cols)
}

// PDQ512 returns the PDQ hash and quality of img as the reference
// command-line tool pdq-photo-hasher computes them: an image wider or taller
// than 512 pixels is first squashed to exactly 512×512 by nearest-neighbour
// sampling (output (x, y) takes source (⌊x·W/512⌋, ⌊y·H/512⌋); the aspect
// ratio is not kept, and a side under 512 is stretched), then hashed as by
// [PDQ]. Images with both sides at most 512 hash as in [PDQ].
//
// PDQ512 and PDQ differ by 0–10 bits on Meta's test images.
func PDQ512(img image.Image) (h Hash, quality int) {
	st := getState()
	defer putState(st)
	rows, cols := st.lumaFor(img, true)
	return st.hashLuma(rows, cols)
}

// PDQDihedral returns the eight dihedral PDQ hashes of img (see [Dihedral])
// at full resolution, and the quality. They come from sign changes and a
// transpose of one DCT, so they cost little more than [PDQ].
func PDQDihedral(img image.Image) (d Dihedral, quality int) {
	st := getState()
	defer putState(st)
	rows, cols := st.lumaFor(img, false)
	return st.dihedralLuma(rows, cols)
}

// PDQ512Dihedral is [PDQDihedral] with the 512×512 squash of [PDQ512]: the
// reference tool's --pdqdih output.
func PDQ512Dihedral(img image.Image) (d Dihedral, quality int) {
	st := getState()
	defer putState(st)
	rows, cols := st.lumaFor(img, true)
	return st.dihedralLuma(rows, cols)
}
