package imagefs

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// ent is one tar entry of a test layer: "d name", "f name mode", "l name
// target" (symlink), "h name target" (hard link).
type ent struct {
	kind   byte
	name   string
	mode   int64
	target string
}

func dir(name string) ent              { return ent{'d', name, 0o755, ""} }
func exe(name string) ent              { return ent{'f', name, 0o755, ""} }
func file(name string) ent             { return ent{'f', name, 0o644, ""} }
func link(name, target string) ent     { return ent{'l', name, 0o777, target} }
func hardlink(name, target string) ent { return ent{'h', name, 0, target} }
func whiteout(dir, name string) ent    { return file(strings.TrimSuffix(dir, "/") + "/.wh." + name) }
func opaque(dir string) ent            { return file(strings.TrimSuffix(dir, "/") + "/.wh..wh..opq") }
func layerOf(t *testing.T, es ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Mode: e.mode}
		switch e.kind {
		case 'd':
			h.Typeflag = tar.TypeDir
		case 'f':
			h.Typeflag, h.Size = tar.TypeReg, 2
		case 'l':
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.target
		case 'h':
			h.Typeflag, h.Linkname = tar.TypeLink, e.target
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("#!"))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func merged(t *testing.T, layers ...[]byte) *FS {
	t.Helper()
	f := New()
	for _, l := range layers {
		if err := f.Apply(bytes.NewReader(l)); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestLookPath(t *testing.T) {
	debian := layerOf(t, dir("usr/"), dir("usr/bin/"), exe("usr/bin/sh"), file("usr/bin/README"), link("bin", "usr/bin"), dir("etc/"), file("etc/passwd"))
	tests := []struct {
		name    string
		layers  [][]byte
		cmd     string
		env     []string
		workdir string
		want    string // "" means not found
	}{
		{"on PATH", [][]byte{debian}, "sh", []string{"PATH=/usr/bin"}, "", "/usr/bin/sh"},
		{"first PATH entry wins", [][]byte{debian, layerOf(t, exe("usr/local/bin/sh"))}, "sh", []string{"PATH=/usr/local/bin:/usr/bin"}, "", "/usr/local/bin/sh"},
		{"not on PATH", [][]byte{debian}, "sh", []string{"PATH=/opt/bin"}, "", ""},
		{"no PATH: the runtime's default", [][]byte{debian}, "sh", []string{"HOME=/root"}, "", "/usr/bin/sh"},
		{"last PATH in env wins", [][]byte{debian}, "sh", []string{"PATH=/usr/bin", "PATH=/opt"}, "", ""},
		{"through a symlinked directory", [][]byte{debian}, "sh", []string{"PATH=/bin"}, "", "/bin/sh"},
		{"not executable", [][]byte{debian}, "README", []string{"PATH=/usr/bin"}, "", ""},
		{"a directory is not an executable", [][]byte{debian}, "bin", []string{"PATH=/usr"}, "", ""},
		{"whiteout hides it", [][]byte{debian, layerOf(t, whiteout("usr/bin", "sh"))}, "sh", []string{"PATH=/usr/bin"}, "", ""},
		{"whiteout of a parent hides it", [][]byte{debian, layerOf(t, whiteout("/", "usr"))}, "sh", []string{"PATH=/usr/bin:/bin"}, "", ""},
		{"whiteout then re-added in the same layer", [][]byte{debian, layerOf(t, exe("usr/bin/sh"), whiteout("usr/bin", "sh"))}, "sh", []string{"PATH=/usr/bin"}, "", "/usr/bin/sh"},
		{"opaque directory hides the lower layers", [][]byte{debian, layerOf(t, opaque("usr/bin"), exe("usr/bin/bash"))}, "sh", []string{"PATH=/usr/bin"}, "", ""},
		{"opaque directory keeps its own layer", [][]byte{debian, layerOf(t, exe("usr/bin/bash"), opaque("usr/bin"))}, "bash", []string{"PATH=/usr/bin"}, "", "/usr/bin/bash"},
		{"a file over a directory hides it", [][]byte{debian, layerOf(t, file("usr/bin"))}, "sh", []string{"PATH=/usr/bin"}, "", ""},
		{"relative symlink", [][]byte{layerOf(t, exe("bin/busybox"), link("bin/sh", "busybox"))}, "sh", []string{"PATH=/bin"}, "", "/bin/sh"},
		{"absolute symlink stays in the image", [][]byte{layerOf(t, exe("opt/tool/run"), link("usr/local/bin/run", "/opt/tool/run"))}, "run", []string{"PATH=/usr/local/bin"}, "", "/usr/local/bin/run"},
		{"dot-dot stops at the root", [][]byte{layerOf(t, exe("opt/run"), link("usr/bin/run", "../../../../opt/run"))}, "run", []string{"PATH=/usr/bin"}, "", "/usr/bin/run"},
		{"dangling symlink", [][]byte{layerOf(t, link("bin/sh", "/nowhere/sh"))}, "sh", []string{"PATH=/bin"}, "", ""},
		{"symlink loop", [][]byte{layerOf(t, link("bin/a", "b"), link("bin/b", "a"))}, "a", []string{"PATH=/bin"}, "", ""},
		{"symlink to a non-executable", [][]byte{layerOf(t, file("etc/x"), link("bin/x", "/etc/x"))}, "x", []string{"PATH=/bin"}, "", ""},
		{"hard link keeps the mode", [][]byte{layerOf(t, exe("bin/busybox"), hardlink("bin/sh", "bin/busybox"))}, "sh", []string{"PATH=/bin"}, "", "/bin/sh"},
		{"upper layer writes through a symlinked parent", [][]byte{debian, layerOf(t, exe("bin/tool"))}, "tool", []string{"PATH=/usr/bin"}, "", "/usr/bin/tool"},
		{"whiteout through a symlinked parent", [][]byte{debian, layerOf(t, whiteout("bin", "sh"))}, "sh", []string{"PATH=/usr/bin"}, "", ""},
		{"a name with a slash is not searched", [][]byte{debian}, "/usr/bin/sh", []string{"PATH=/opt"}, "", "/usr/bin/sh"},
		{"a missing absolute name", [][]byte{debian}, "/usr/bin/bash", nil, "", ""},
		{"a relative name with a slash is from the workdir", [][]byte{debian, layerOf(t, exe("app/bin/run"))}, "bin/run", nil, "/app", "bin/run"},
		{"a relative PATH entry is from the workdir", [][]byte{debian, layerOf(t, exe("app/bin/run"))}, "run", []string{"PATH=bin"}, "/app", "/app/bin/run"},
		{"implicit parent directories", [][]byte{layerOf(t, exe("usr/local/bin/batchxray"))}, "batchxray", nil, "", "/usr/local/bin/batchxray"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := merged(t, tt.layers...)
			got, err := f.LookPath(tt.cmd, tt.env, tt.workdir)
			if tt.want == "" {
				var nf *NotFoundError
				if !errors.As(err, &nf) || !errors.Is(err, ErrNotExist) {
					t.Fatalf("LookPath(%q) = %q, %v; want a *NotFoundError (paths: %v)", tt.cmd, got, err, f.Paths())
				}
				if !strings.Contains(err.Error(), tt.cmd) {
					t.Errorf("error %q does not name %q", err, tt.cmd)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("LookPath(%q) = %q, %v; want %q (paths: %v)", tt.cmd, got, err, tt.want, f.Paths())
			}
		})
	}
}

func TestNotFoundErrorNamesThePATH(t *testing.T) {
	_, err := New().LookPath("sh", []string{"PATH=/a:/b"}, "/")
	if got, want := err.Error(), `exec: "sh": executable file not found in $PATH (/a:/b)`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestLookPathSaysWhyANameWithASlashFails(t *testing.T) {
	f := merged(t, layerOf(t, file("etc/x"), link("bin/a", "b"), link("bin/b", "a")))
	for name, want := range map[string]string{
		"/bin/a":   "too many levels of symbolic links",
		"/etc/x":   "permission denied",
		"/etc/x/y": "not a directory",
		"/nowhere": "no such file or directory",
	} {
		if _, err := f.LookPath(name, nil, "/"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LookPath(%q) = %v, want %q", name, err, want)
		}
	}
}

func TestStatResolvesSymlinks(t *testing.T) {
	f := merged(t, layerOf(t, exe("usr/bin/python3.12"), link("usr/bin/python3", "python3.12"), link("usr/local/bin/python", "/usr/bin/python3")))
	e, err := f.Stat("/usr/local/bin/python")
	if err != nil || e.Path != "/usr/bin/python3.12" || e.Kind != File {
		t.Fatalf("Stat = %+v, %v; want the file /usr/bin/python3.12", e, err)
	}
	l, err := f.Lstat("/usr/local/bin/python")
	if err != nil || l.Kind != Symlink || l.Target != "/usr/bin/python3" {
		t.Fatalf("Lstat = %+v, %v; want the symlink itself", l, err)
	}
	if _, err := f.Stat("/usr/bin/python3.12/x"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Stat under a file = %v, want not a directory", err)
	}
}

func TestFromImageMergesLayersInOrder(t *testing.T) {
	var layers []v1.Layer
	for _, b := range [][]byte{
		layerOf(t, exe("bin/sh")),
		layerOf(t, whiteout("bin", "sh"), exe("bin/bash")),
	} {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	f, err := FromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.LookPath("sh", nil, "/"); err == nil {
		t.Errorf("sh found after the top layer's whiteout; paths %v", f.Paths())
	}
	if p, err := f.LookPath("bash", nil, "/"); err != nil || p != "/bin/bash" {
		t.Errorf("LookPath(bash) = %q, %v", p, err)
	}
}

func TestExecutablesListsWhatASearchOfTheDirectoryFinds(t *testing.T) {
	f := merged(t,
		layerOf(t, dir("usr/"), dir("usr/bin/"), exe("usr/bin/sh"), exe("usr/bin/ls"), file("usr/bin/README"), dir("usr/bin/sub/"), exe("usr/bin/sub/deep"), link("bin", "usr/bin"), link("usr/bin/dangling", "/nowhere"), link("usr/bin/bash", "sh")),
		layerOf(t, whiteout("usr/bin", "ls")),
	)
	for _, d := range []string{"/usr/bin", "/bin", "/bin/"} {
		if got, want := f.Executables(d), []string{"bash", "sh"}; !slices.Equal(got, want) {
			t.Errorf("Executables(%q) = %q, want %q", d, got, want)
		}
	}
	for _, d := range []string{"/nowhere", "/usr/bin/sh"} {
		if got := f.Executables(d); got != nil {
			t.Errorf("Executables(%q) = %q, want none", d, got)
		}
	}
}
