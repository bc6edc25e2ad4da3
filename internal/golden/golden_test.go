package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that keeps whether the test failed.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

func TestAssert(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "out.golden"), []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, got string
		fail            bool
	}{
		{"equal", "out.golden", "same\n", false},
		{"differs", "out.golden", "other\n", true},
		{"missing", "none.golden", "x", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			AssertString(r, tc.file, tc.got)
			if r.failed != tc.fail {
				t.Errorf("AssertString(%q, %q) failed = %v, want %v", tc.file, tc.got, r.failed, tc.fail)
			}
		})
	}
}

func TestUpdateWrites(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	*update = true
	t.Cleanup(func() { *update = false })
	AssertString(t, "sub/new.golden", "written\n")
	got, err := os.ReadFile(filepath.Join("testdata", "sub", "new.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "written\n" {
		t.Errorf("-update wrote %q, want %q", got, "written\n")
	}
}
