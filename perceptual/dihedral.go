package perceptual

// Transform names one of the eight symmetries of the square (the dihedral
// group D4) that [PDQDihedral] hashes for.
type Transform int

// The transforms in the order the PDQ reference tool prints their hashes
// (pdq-photo-hasher --pdqdih). Rotations are counter-clockwise as the
// reference labels them; FlipX mirrors top to bottom, FlipY left to right,
// FlipPlus1 and FlipMinus1 mirror about the two diagonals.
const (
	Original Transform = iota
	Rotate90
	Rotate180
	Rotate270
	FlipX
	FlipY
	FlipPlus1
	FlipMinus1
)

var transformNames = [8]string{"orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1"}

// String returns the reference's short name: "orig", "rot90", "rot180",
// "rot270", "flipx", "flipy", "flipplus1" or "flipminus1".
func (t Transform) String() string {
	if t < 0 || int(t) >= len(transformNames) {
		return "unknown"
	}
	return transformNames[t]
}

// Dihedral holds the eight dihedral PDQ hashes of one image, indexed by
// [Transform]: d[Rotate90] is (up to a few bits, see below) the hash the
// image would have after that transform. Matching an image against a list
// with all eight finds rotated and mirrored copies, which plain PDQ misses
// (110–128 bits apart on Meta's test images).
//
// The hashes are not exactly invariant: hashing a rotated file differs by a
// few bits (8–18 on Meta's test images) from rotating the original's DCT,
// because the 64×64 sampling grid does not commute with the rotation
// (facebook/ThreatExchange pdq/README.md, "Note on Dihedral PDQ Hashes").
type Dihedral [8]Hash

// MinDistance returns the smallest distance from h to any of the eight
// hashes in d and the transform that achieves it (the first on ties).
func (d *Dihedral) MinDistance(h Hash) (dist int, t Transform) {
	dist = Bits + 1
	for i := range d {
		if x := Distance(d[i], h); x < dist {
			dist, t = x, Transform(i)
		}
	}
	return dist, t
}

// transformDCT writes into dst the 16×16 DCT block of the image under t,
// computed from the block src of the original. Transposing the image
// transposes the block; mirroring it negates the coefficients of odd
// frequency along the mirrored axis (DCT basis functions of odd index are
// antisymmetric). This is the table in the reference's pdqhashing.cpp.
func transformDCT(t Transform, src, dst *[256]float32) {
	for i := 0; i < 16; i++ {
		for j := 0; j < 16; j++ {
			v := src[i*16+j]
			var neg, xpose bool
			switch t {
			case Original:
			case Rotate90:
				neg, xpose = j&1 == 0, true
			case Rotate180:
				neg = (i+j)&1 == 1
			case Rotate270:
				neg, xpose = i&1 == 0, true
			case FlipX:
				neg = i&1 == 0
			case FlipY:
				neg = j&1 == 0
			case FlipPlus1:
				xpose = true
			case FlipMinus1:
				neg, xpose = (i+j)&1 == 1, true
			}
			if neg {
				v = -v
			}
			if xpose {
				dst[j*16+i] = v
			} else {
				dst[i*16+j] = v
			}
		}
	}
}
