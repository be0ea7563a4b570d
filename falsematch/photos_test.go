package falsematch

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var (
	update  = flag.Bool("update", false, "rewrite realphotos.tsv from every source found")
	debRoot = flag.String("debroot", "/", "where the Debian packages are installed or extracted, for -update")
)

// testRoots finds the sources a developer machine or CI has: the repository,
// the Go toolchain, the x/image module and the project's shared data.
func testRoots(t *testing.T) Roots {
	t.Helper()
	goEnv := func(args ...string) string {
		out, err := exec.Command("go", args...).Output()
		if err != nil {
			t.Logf("go %s: %v", strings.Join(args, " "), err)
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return Roots{
		Repo:   repo,
		GOROOT: goEnv("env", "GOROOT"),
		XImage: goEnv("list", "-m", "-f", "{{.Dir}}", "golang.org/x/image"),
		Shared: filepath.Join(repo, "..", "shared", "data", "pdq"),
		Debian: *debRoot,
	}
}

// TestRealPhotosFile checks the committed hash file against the photographs
// this machine has: every file found is hashed again and must give exactly
// the committed record. With -update it rewrites the file instead.
func TestRealPhotosFile(t *testing.T) {
	if testing.Short() {
		t.Skip("study-sized: runs without -short")
	}
	roots := testRoots(t)
	if !*update {
		roots.Debian = "" // the packages are not expected here; the committed records stand for them
	}
	photos, skipped, err := HashSources(roots)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range skipped {
		t.Logf("skipped %s %s: %s", s.Source, s.File, s.Reason)
	}
	if *update {
		var b bytes.Buffer
		if err := WritePhotos(&b, photos); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("realphotos.tsv", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d records", len(photos))
		return
	}
	committed, err := RealPhotos()
	if err != nil {
		t.Fatal(err)
	}
	bySHA := map[string]Photo{}
	for _, p := range committed {
		bySHA[p.SHA256] = p
	}
	if len(photos) < 20 {
		t.Fatalf("only %d photographs found in the repository and toolchain", len(photos))
	}
	for _, p := range photos {
		t.Run("file="+p.Source+"/"+p.File, func(t *testing.T) {
			c, ok := bySHA[p.SHA256]
			if !ok {
				t.Fatalf("not in realphotos.tsv: run go test -run TestRealPhotosFile -update")
			}
			if c != p {
				t.Fatalf("hashed again: %+v\ncommitted:      %+v", p, c)
			}
		})
	}
}

func TestRealPhotosCommitted(t *testing.T) {
	photos, err := RealPhotos()
	if err != nil {
		t.Fatal(err)
	}
	scenes, sources := map[string]bool{}, map[string]bool{}
	for _, p := range photos {
		scenes[p.Scene] = true
		sources[strings.Fields(p.Source)[0]] = true
	}
	if len(scenes) < 70 || len(sources) < 10 {
		t.Fatalf("%d records, %d scenes from %d sources: the file is incomplete", len(photos), len(scenes), len(sources))
	}
}

func TestReadPhotosBadInput(t *testing.T) {
	good := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\t80\t10\t20\tscene\tsrc\tf.jpg\tCC0\t0123456789abcdef"
	field := func(i int, v string) string {
		f := strings.Split(good, "\t")
		f[i] = v
		return strings.Join(f, "\t")
	}
	cases := map[string]string{
		"fields=8":      good[:strings.LastIndexByte(good, '\t')],
		"hash=short":    field(0, "0123"),
		"hash=nothex":   field(0, strings.Repeat("g", 64)),
		"quality=101":   field(1, "101"),
		"quality=-1":    field(1, "-1"),
		"width=0":       field(2, "0"),
		"height=huge":   field(3, "99999999999999999999"),
		"scene=empty":   field(4, ""),
		"file=padded":   field(6, " f.jpg"),
		"licence=ctrl":  field(7, "CC\x010"),
		"sha=upper":     field(8, "0123456789ABCDEF"),
		"sha=short":     field(8, "0123"),
		"line=long":     good + strings.Repeat("x", MaxPhotoLine),
		"utf8=invalid":  field(4, "\xff"),
		"records=limit": strings.Repeat(good+"\n", MaxPhotoRecord+1),
	}
	for name, in := range cases {
		t.Run("case="+name, func(t *testing.T) {
			_, err := ReadPhotos(strings.NewReader("# header\n" + in + "\n"))
			if !errors.Is(err, ErrPhotoSyntax) {
				t.Fatalf("got %v", err)
			}
			if name != "records=limit" && !strings.Contains(err.Error(), "line 2") {
				t.Fatalf("error does not name the line: %v", err)
			}
		})
	}
	if ps, err := ReadPhotos(strings.NewReader(good + "\r\n\n# c\n" + good)); err != nil || len(ps) != 2 {
		t.Fatalf("good input: %v, %d records", err, len(ps))
	}
}

func FuzzReadPhotos(f *testing.F) {
	f.Add(realPhotosTSV)
	f.Add("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\t80\t10\t20\ts\tsrc\tf\tl\t0123456789abcdef\n")
	f.Add("#\n\n\t\t\t\n")
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := ReadPhotos(strings.NewReader(in))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WritePhotos(&b, ps); err != nil {
			t.Fatal(err)
		}
		again, err := ReadPhotos(&b)
		if err != nil || fmt.Sprint(again) != fmt.Sprint(ps) {
			t.Fatalf("round trip: %v\n%v\n%v", err, ps, again)
		}
	})
}

func FuzzEmbeddedJPEG(f *testing.F) {
	f.Add([]byte("PzlF\n0.1\nx\n\xff\xd8\xff\xe0rest\x89PNG\r\n\x1a\nmap"))
	f.Add([]byte("PzlF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		jpg, err := embeddedJPEG(data)
		if err == nil && (!bytes.HasPrefix(jpg, []byte{0xff, 0xd8, 0xff}) || len(jpg) > len(data)) {
			t.Fatalf("bad slice %q of %q", jpg, data)
		}
	})
}
