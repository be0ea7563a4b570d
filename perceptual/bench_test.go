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
		PDQ(img)
	}
}

// BenchmarkPDQDihedral512 is BenchmarkPDQ512 with all eight dihedral hashes.
func BenchmarkPDQDihedral512(b *testing.B) {
	img := decodeVector(b, filepath.Join(vectorDir, "decoded"), "bridge-mods/square-512x512.png")
	b.ReportAllocs()
	for b.Loop() {
		PDQDihedral(img)
	}
}
