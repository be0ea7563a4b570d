package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"scanlab/internal/golden"
	"scanlab/perceptual"
)

const hashDir = "testdata/hash"

func testFile(name string) string { return filepath.Join(hashDir, name) }

// TestHashGolden runs "scanlab hash" through run and compares its exit
// status, stdout and stderr with testdata/hash/NAME.golden.
func TestHashGolden(t *testing.T) {
	wee, small, q0122, webp := testFile("wee.jpg"), testFile("small.jpg"), testFile("q0122.jpg"), testFile("blue-purple-pink.lossy.webp")
	list := testFile("list.txt")
	tests := []struct {
		name string
		args []string
	}{
		{"pdq", []string{wee, small, q0122, webp}},
		{"pdq-512", []string{"--algo", "pdq-512", wee, small, q0122, webp}},
		{"dihedral", []string{"-a", "pdq-512", "--dihedral", wee}},
		{"phash", []string{"--algo", "phash", wee, q0122}},
		{"dhash", []string{"--algo=dhash", wee, q0122}},
		{"bad-files", []string{wee, testFile("notimage.txt"), testFile("truncated.jpg"), testFile("missing.jpg"), testFile("notimage.gif"), q0122}},
		{"max-pixels", []string{"--max-pixels", "1000", wee, small}},
		{"match", []string{"--match", list, wee, small, q0122, webp, testFile("wee-rot90.png")}},
		{"match-dihedral", []string{"-m", list, "-d", "-t", "40", wee, q0122, testFile("wee-rot90.png")}},
		{"match-min-quality", []string{"--match", list, "--min-quality", "50", wee, small}},
		{"match-bad-list", []string{"--match", testFile("badlist.txt"), wee}},
		{"match-missing-list", []string{"--match", testFile("nolist.txt"), wee}},
		{"usage-no-files", nil},
		{"usage-algo", []string{"--algo", "md5", wee}},
		{"usage-dihedral-phash", []string{"--algo", "phash", "--dihedral", wee}},
		{"usage-threshold", []string{"--match", list, "--threshold", "300", wee}},
		{"usage-threshold-without-match", []string{"--threshold", "10", wee}},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(append([]string{"hash"}, tt.args...)...)
			got := fmt.Sprintf("exit %d\n-- stdout --\n%s-- stderr --\n%s", code, stdout, stderr)
			golden.Check(t, testFile(tt.name+".golden"), []byte(got))
		})
	}
}

// TestHashBehaviour checks properties the golden files only record.
func TestHashBehaviour(t *testing.T) {
	wee, q0122 := testFile("wee.jpg"), testFile("q0122.jpg")

	// A bad file is reported with its name, the others are hashed, and
	// the exit status is 1.
	stdout, stderr, code := runCLI("hash", wee, testFile("notimage.txt"), q0122)
	if code != 1 || strings.Count(stdout, "\n") != 2 ||
		!strings.Contains(stderr, "scanlab: error: "+testFile("notimage.txt")+": ") ||
		!strings.Contains(stderr, "1 of 3 files could not be hashed") {
		t.Errorf("bad file: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}

	// The output of the command is a hash list: reading it back gives the
	// hashes, qualities and file names.
	stdout, _, code = runCLI("hash", wee, q0122)
	l, err := perceptual.ReadList(strings.NewReader(stdout))
	if code != 0 || err != nil || l.Len() != 2 || l.Labels[0] != wee || l.Labels[1] != q0122 || l.Qualities[0] != 100 {
		t.Fatalf("output as a list: exit %d, %v, %+v", code, err, l)
	}

	// Matching a file against the list made from it finds it at distance
	// 0, labelled with its own file name.
	lp := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(lp, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = runCLI("hash", "--match", lp, q0122)
	if code != 0 || !strings.HasPrefix(stdout, "0,orig,"+l.Hashes[1].String()+","+q0122+","+q0122+"\n") {
		t.Errorf("self match: exit %d, %q", code, stdout)
	}

	// --dihedral prints eight lines per file, the first being the plain
	// hash of the same flavour.
	plain, _, _ := runCLI("hash", "--algo", "pdq-512", wee)
	dih, _, _ := runCLI("hash", "--algo", "pdq-512", "--dihedral", wee)
	if lines := strings.Split(strings.TrimSpace(dih), "\n"); len(lines) != 8 || lines[0]+"\n" != plain {
		t.Errorf("dihedral output %q, plain %q", dih, plain)
	}

	// Help works.
	stdout, _, code = runCLI("help", "hash")
	if code != 0 || !strings.Contains(stdout, "--dihedral") {
		t.Errorf("help: exit %d", code)
	}
}
