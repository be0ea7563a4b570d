package perceptual

import (
	"path/filepath"
	"testing"
)

// BenchmarkPDQ512 hashes an already decoded 512×512 photo (decoding
// excluded), the size the reference's own timings use.
func BenchmarkPDQ512(b *testing.B) {
	img := decodeVector(b, filepath.Join(vectorDir, "decoded"), "bridge-mods/square-512x512.png")
	b.ReportAllocs()
	for b.Loop() {
		PDQ512(img) // the same as PDQ at this size
	}
}

// BenchmarkPDQDihedral512 is BenchmarkPDQ512 with all eight dihedral hashes.
func BenchmarkPDQDihedral512(b *testing.B) {
	img := decodeVector(b, filepath.Join(vectorDir, "decoded"), "bridge-mods/square-512x512.png")
	b.ReportAllocs()
	for b.Loop() {
		PDQ512Dihedral(img)
	}
}

// BenchmarkHash1600x1004 hashes a decoded 1600×1004 photo with each
// algorithm: PDQ at full resolution (Meta's production flavour), PDQ512
// (squashed to 512×512 first), and the baselines.
func BenchmarkHash1600x1004(b *testing.B) {
	img := decodeVector(b, filepath.Join(vectorDir, "decoded"), "reg-test-input/dih/bridge-1-original.png")
	for _, algo := range []struct {
		name string
		hash func()
	}{
		{"pdq", func() { PDQ(img) }},
		{"pdq-512", func() { PDQ512(img) }},
		{"phash", func() { PHash(img) }},
		{"dhash", func() { DHash(img) }},
	} {
		b.Run("algo="+algo.name, func(b *testing.B) {
			for b.Loop() {
				algo.hash()
			}
		})
	}
}
