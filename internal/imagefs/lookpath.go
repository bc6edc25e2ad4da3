package imagefs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// NotFoundError is an executable the image does not hold: the reason a
// container runtime refuses to start the container.
type NotFoundError struct {
	// Name is the executable as the command names it.
	Name string
	// PATH is the search path used, when Name has no slash.
	PATH string
	// Reason is why a name with a slash did not do.
	Reason string
}

func (e *NotFoundError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("exec: %q: %s", e.Name, e.Reason)
	}
	return fmt.Sprintf("exec: %q: executable file not found in $PATH (%s)", e.Name, e.PATH)
}

// Unwrap makes errors.Is(err, ErrNotExist) true.
func (e *NotFoundError) Unwrap() error { return ErrNotExist }

// PathFromEnv is the PATH an image's environment (its config's Env, KEY=VALUE
// lines, the last one winning) gives a container: DefaultPath when it sets
// none.
func PathFromEnv(env []string) string {
	p, found := "", false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			p, found = v, true
		}
	}
	if !found {
		return DefaultPath
	}
	return p
}

// LookPath finds the executable a container would run for name, as the
// runtime does: a name with a slash is taken as it is (relative to workdir
// when relative), any other is searched in the PATH of env. It returns the
// path found (unresolved, as the PATH entry spells it) or a *NotFoundError.
// An executable is a regular file, after symlinks, with an execute bit.
func (f *FS) LookPath(name string, env []string, workdir string) (string, error) {
	if workdir == "" {
		workdir = "/"
	}
	if name == "" {
		return "", &NotFoundError{Name: name, Reason: "no command"}
	}
	if strings.Contains(name, "/") {
		p := name
		if !path.IsAbs(p) {
			p = path.Join(workdir, p)
		}
		if err := f.executable(p); err != nil {
			return "", &NotFoundError{Name: name, Reason: err.Error()}
		}
		return name, nil
	}
	search := PathFromEnv(env)
	for _, dir := range strings.Split(search, ":") {
		if dir == "" {
			dir = "."
		}
		if !path.IsAbs(dir) {
			dir = path.Join(workdir, dir)
		}
		p := path.Join(dir, name)
		if f.executable(p) == nil {
			return p, nil
		}
	}
	return "", &NotFoundError{Name: name, PATH: search}
}

var errNotExecutable = errors.New("permission denied (not an executable file)")

func (f *FS) executable(p string) error {
	e, err := f.Stat(p)
	var perr *fs.PathError
	switch {
	case errors.As(err, &perr) && !errors.Is(err, fs.ErrNotExist):
		return perr.Err // a symlink loop, a file used as a directory
	case err != nil:
		return errors.New("no such file or directory")
	}
	if e.Kind != File || e.Mode&0o111 == 0 {
		return errNotExecutable
	}
	return nil
}

// Executables returns the names in directory dir (its symlinks followed)
// that LookPath would accept there, sorted: what a search of dir can find.
// A dir that is not a directory of the image has none.
func (f *FS) Executables(dir string) []string {
	d, err := f.Stat(dir)
	if err != nil || d.Kind != Dir {
		return nil
	}
	prefix := strings.TrimSuffix(d.Path, "/") + "/"
	var out []string
	for p := range f.entries {
		name, ok := strings.CutPrefix(p, prefix)
		if !ok || name == "" || strings.Contains(name, "/") {
			continue
		}
		if f.executable(p) == nil {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
