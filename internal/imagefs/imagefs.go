package imagefs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultPath is the PATH a container runtime (Docker, containerd, ECS)
// gives a Linux container whose image sets none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// maxSymlinks is how many symlinks one lookup follows before giving up, as
// Linux does (ELOOP).
const maxSymlinks = 40

// Whiteout markers (OCI image spec, "Representing Changes").
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// Kind is what a path is.
type Kind int

// The kinds of entries.
const (
	Dir Kind = iota + 1
	File
	Symlink
	Other // device, fifo
)

// Entry is one path of the merged filesystem: its metadata, not its
// contents.
type Entry struct {
	// Path is absolute and clean; after Stat it is the path with every
	// symlink resolved.
	Path string
	Kind Kind
	// Mode holds the permission bits.
	Mode fs.FileMode
	// Target is a symlink's target as the layer wrote it.
	Target string
	Size   int64
}

// FS is the merged view of an image's layers. The zero value is not
// usable; New returns an empty one.
type FS struct {
	entries map[string]*Entry
}

// ErrNotExist is what Stat, Lstat and LookPath errors wrap when a path is
// not in the image.
var ErrNotExist = fs.ErrNotExist

// New returns an empty filesystem (a root directory only).
func New() *FS {
	return &FS{entries: map[string]*Entry{"/": {Path: "/", Kind: Dir, Mode: 0o755}}}
}

// FromImage merges the image's layers, bottom first. It reads every layer.
func FromImage(img v1.Image) (*FS, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("image layers: %w", err)
	}
	return FromLayers(layers)
}

// FromLayers merges layers, bottom first.
func FromLayers(layers []v1.Layer) (*FS, error) {
	f := New()
	for i, l := range layers {
		if err := applyLayer(f, l); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return f, nil
}

func applyLayer(f *FS, l v1.Layer) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }()
	return f.Apply(rc)
}

// Apply merges one layer, an uncompressed tar stream, on top of what f
// holds. The layer's whiteouts hide only what lower layers hold, whatever
// their order in the tar.
func (f *FS) Apply(r io.Reader) error {
	type item struct {
		path string
		hdr  *tar.Header
	}
	var items []item
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		p := clean(h.Name)
		if p == "/" {
			continue
		}
		items = append(items, item{p, h})
	}
	// Whiteouts first: they are about the layers below this one.
	for _, it := range items {
		dir, base := path.Split(it.path)
		dir = f.realDir(path.Clean(dir))
		switch {
		case base == opaqueMarker:
			f.removeBelow(dir)
		case strings.HasPrefix(base, whiteoutPrefix):
			f.remove(path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix)))
		}
	}
	for _, it := range items {
		dir, base := path.Split(it.path)
		if strings.HasPrefix(base, whiteoutPrefix) {
			continue
		}
		p := path.Join(f.realDir(path.Clean(dir)), base)
		h := it.hdr
		e := &Entry{Path: p, Mode: fs.FileMode(h.Mode) & fs.ModePerm, Size: h.Size}
		switch h.Typeflag {
		case tar.TypeDir:
			e.Kind = Dir
		case tar.TypeReg:
			e.Kind = File
		case tar.TypeSymlink:
			e.Kind, e.Target, e.Size = Symlink, h.Linkname, 0
		case tar.TypeLink:
			// A hard link is the same file under another name.
			e.Kind = File
			if t, ok := f.entries[clean(h.Linkname)]; ok {
				e.Kind, e.Mode, e.Size, e.Target = t.Kind, t.Mode, t.Size, t.Target
			}
		default:
			e.Kind = Other
		}
		f.put(e)
	}
	return nil
}

// put adds e, creating missing parents as the runtime does, and replacing
// what was at its path: a directory over a directory merges, anything else
// hides the lower subtree.
func (f *FS) put(e *Entry) {
	if old, ok := f.entries[e.Path]; ok && (old.Kind != Dir || e.Kind != Dir) {
		f.remove(e.Path)
	}
	for d := path.Dir(e.Path); d != "/"; d = path.Dir(d) {
		if _, ok := f.entries[d]; ok {
			break
		}
		f.entries[d] = &Entry{Path: d, Kind: Dir, Mode: 0o755}
	}
	f.entries[e.Path] = e
}

// remove deletes p and everything below it.
func (f *FS) remove(p string) {
	if p == "/" {
		f.removeBelow(p)
		return
	}
	delete(f.entries, p)
	f.removeBelow(p)
}

// removeBelow deletes everything below directory p, keeping p.
func (f *FS) removeBelow(p string) {
	prefix := strings.TrimSuffix(p, "/") + "/"
	for k := range f.entries {
		if strings.HasPrefix(k, prefix) {
			delete(f.entries, k)
		}
	}
}

// realDir is directory d with its symlinks resolved, as an unpacker writing
// into the root would see it; d itself when it does not resolve.
func (f *FS) realDir(d string) string {
	if d == "/" {
		return d
	}
	e, err := f.walk(d, true)
	if err != nil || e.Kind != Dir {
		return d
	}
	return e.Path
}

// Lstat returns the entry at p, not following a final symlink.
func (f *FS) Lstat(p string) (Entry, error) {
	e, err := f.walk(p, false)
	if err != nil {
		return Entry{}, err
	}
	return *e, nil
}

// Stat returns the entry at p, following every symlink; its Path is the
// resolved path.
func (f *FS) Stat(p string) (Entry, error) {
	e, err := f.walk(p, true)
	if err != nil {
		return Entry{}, err
	}
	return *e, nil
}

// Paths returns every path, sorted: for tests and debugging.
func (f *FS) Paths() []string {
	out := make([]string, 0, len(f.entries))
	for k := range f.entries {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// walk resolves p from the root component by component, following
// symlinks inside the image's root (an absolute target starts again at the
// image's root, `..` stops there), and the final one when followLast.
func (f *FS) walk(p string, followLast bool) (*Entry, error) {
	cur := "/"
	rest := split(p)
	hops := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		e, ok := f.entries[next]
		if !ok {
			return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
		}
		if e.Kind == Symlink && (len(rest) > 0 || followLast) {
			if hops++; hops > maxSymlinks {
				return nil, &fs.PathError{Op: "stat", Path: p, Err: errTooManyLinks}
			}
			if path.IsAbs(e.Target) {
				cur = "/"
			}
			rest = append(split(e.Target), rest...)
			continue
		}
		if len(rest) > 0 && e.Kind != Dir {
			return nil, &fs.PathError{Op: "stat", Path: p, Err: errNotDir}
		}
		cur = next
	}
	return f.entries[cur], nil
}

var (
	errTooManyLinks = errors.New("too many levels of symbolic links")
	errNotDir       = errors.New("not a directory")
)

func split(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// clean makes a tar name ("./usr/bin/", "usr/bin") an absolute clean path.
func clean(name string) string {
	return path.Clean("/" + name)
}
