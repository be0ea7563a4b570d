package golden

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFirstDiff(t *testing.T) {
	tests := []struct{ got, want, out string }{
		{"a\nb", "a\nb", "(no difference in lines)"},
		{"a\nb", "a\nc", "line 2:\n got: b\nwant: c"},
		{"a", "a\nb", "line 2:\n got: \nwant: b"},
	}
	for _, tt := range tests {
		if out := FirstDiff(tt.got, tt.want); out != tt.out {
			t.Errorf("FirstDiff(%q, %q) = %q, want %q", tt.got, tt.want, out, tt.out)
		}
	}
}

// Check passes on equal bytes and fails on different ones.
func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Check(t, path, []byte("same\n"))
	inner := &testing.T{}
	done := make(chan bool)
	go func() {
		defer close(done)
		Check(recorder{inner}, path, []byte("other\n"))
	}()
	<-done
	if !inner.Failed() {
		t.Error("Check accepted different bytes")
	}
}

// recorder lets Check report into a testing.T that is not running.
type recorder struct{ *testing.T }

func (r recorder) Helper()                           {}
func (r recorder) Errorf(format string, args ...any) { r.Fail() }
func (r recorder) Fatalf(format string, args ...any) { r.Fail() }
func (r recorder) Fatal(args ...any)                 { r.Fail() }
