package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/batchxray/batchxray/internal/imagefs"
)

// Images reads the images in the stand-in's own registry.
type Images interface {
	// Image returns the image ref names; ours is false when ref is in a
	// registry the stand-in cannot read, and err a pull that failed.
	Image(ref string) (img v1.Image, ours bool, err error)
}

// container is what an attempt's container runs, decided from its image as
// Docker decides it.
type container struct {
	argv []string
	// imageEnv is the image's environment; checked says the image was
	// read (it is in the stand-in's registry) and argv[0] is in it.
	imageEnv []string
	checked  bool
	// path is the PATH a checked container's processes search, set last
	// in their environment: the effective PATH's directories mapped into
	// the image's host view (see viewDir), so that what the image does not
	// hold is not found on the host either.
	path string
}

// imageFS is what the stand-in keeps of an image it read, by digest.
type imageFS struct {
	fs     *imagefs.FS
	config v1.Config
	// view is the image's host view, a directory under the service's
	// viewRoot ("" until a container of the image runs); viewed are the
	// image's directories linked in it so far.
	view   string
	viewed map[string]bool
	digest string
}

// Why ECS fails an attempt whose container cannot start: the reason is
// CannotStartContainerError or CannotPullContainerError with the runtime's
// words ("Troubleshooting Amazon ECS CannotStartContainerError errors",
// Amazon ECS Developer Guide).
const (
	runtimeStartFailed = "CannotStartContainerError: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: "
	pullFailed         = "CannotPullContainerError: "
)

// containerFor builds the attempt's argv by Docker's rules: the image's
// entrypoint, then the command (the submit's override, else the job
// definition's, already in j.command), else the image's own command. The
// executable must exist in the image's filesystem, on its PATH, or the
// container does not start; the error is the container's reason. An image
// the stand-in cannot read runs the command as it is.
func (s *Service) containerFor(j *job) (container, error) {
	ref := j.d.Container.Image
	var img v1.Image
	ours := false
	if s.cfg.Images != nil {
		var err error
		img, ours, err = s.cfg.Images.Image(ref)
		if err != nil {
			return container{}, errors.New(pullFailed + err.Error())
		}
	}
	if !ours {
		return container{argv: j.command}, nil
	}
	fsys, err := s.readImage(img)
	if err != nil {
		return container{}, fmt.Errorf("%s%s: %v", pullFailed, ref, err)
	}
	cfg := fsys.config
	cmd := j.command
	if len(cmd) == 0 {
		cmd = cfg.Cmd
	}
	argv := append(append([]string(nil), cfg.Entrypoint...), cmd...)
	if len(argv) == 0 {
		return container{}, errors.New("CannotStartContainerError: Error response from daemon: No command specified")
	}
	env := append(append([]string(nil), cfg.Env...), envList(j.env)...)
	if _, err := fsys.fs.LookPath(argv[0], env, cfg.WorkingDir); err != nil {
		return container{}, errors.New(runtimeStartFailed + execError(argv[0], err) + ": unknown")
	}
	search, err := s.viewPath(fsys, imagefs.PathFromEnv(env), cfg.WorkingDir)
	if err != nil {
		return container{}, fmt.Errorf("%s%s: the stand-in's view of the image: %v", pullFailed, ref, err)
	}
	// `batchxray job -- /abs/CMD` execs CMD by its path, which the host's
	// filesystem would answer: the path is taken in the image's view.
	if i := wrappedCommand(argv); i > 0 && strings.Contains(argv[i], "/") {
		if argv[i], err = s.viewFile(fsys, argv[i], env, cfg.WorkingDir); err != nil {
			return container{}, fmt.Errorf("%s%s: the stand-in's view of the image: %v", pullFailed, ref, err)
		}
	}
	return container{argv: argv, imageEnv: cfg.Env, checked: true, path: search}, nil
}

// wrappedCommand is the index in argv of the command that `batchxray job
// [flags] -- CMD…` runs, or 0 when argv is not that.
func wrappedCommand(argv []string) int {
	if len(argv) < 3 || hostName(argv[0]) != "batchxray" || argv[1] != "job" {
		return 0
	}
	for i := 2; i < len(argv)-1; i++ {
		if argv[i] == "--" {
			return i + 1
		}
	}
	return 0
}

// The host view of an image is how the stand-in makes a container's
// processes find only what the image holds while they run on the host: a
// directory tree mirroring the image's directories, where each executable
// of the image is a link to the host's program of the same name (batchxray
// to this binary). A checked container's PATH names the view's directories
// instead of the host's, so `batchxray job -- sh` on an image without a
// shell fails in batchxray job's own exec, as it would on AWS, and a shell
// in the image finds only the image's commands. An executable the host does
// not have is left out: it could not run here.

// viewPath maps the directories of search (a PATH, relative entries from
// workdir) into fsys's view, linking each one's executables on first use.
func (s *Service) viewPath(fsys *imageFS, search, workdir string) (string, error) {
	if workdir == "" {
		workdir = "/"
	}
	dirs := strings.Split(search, ":")
	for i, d := range dirs {
		if d == "" {
			d = "."
		}
		if !path.IsAbs(d) {
			d = path.Join(workdir, d)
		}
		host, err := s.viewDir(fsys, path.Clean(d))
		if err != nil {
			return "", err
		}
		dirs[i] = host
	}
	return strings.Join(dirs, string(filepath.ListSeparator)), nil
}

// viewDir makes dir of the image a directory of its view holding a link
// for each executable the image has there, and returns its host path.
func (s *Service) viewDir(fsys *imageFS, dir string) (string, error) {
	root, err := s.viewOf(fsys)
	if err != nil {
		return "", err
	}
	host := filepath.Join(root, filepath.FromSlash(dir))
	if fsys.viewed[dir] {
		return host, nil
	}
	if err := os.MkdirAll(host, 0o755); err != nil {
		return "", err
	}
	for _, name := range fsys.fs.Executables(dir) {
		if err := s.linkHostProgram(filepath.Join(host, name), name); err != nil {
			return "", err
		}
	}
	fsys.viewed[dir] = true
	return host, nil
}

// viewFile is the host path of name, a command with a slash, in fsys's
// view: a link to the host's program when the image holds it, nothing
// (so that exec fails) when it does not.
func (s *Service) viewFile(fsys *imageFS, name string, env []string, workdir string) (string, error) {
	root, err := s.viewOf(fsys)
	if err != nil {
		return "", err
	}
	p := name
	if !path.IsAbs(p) {
		p = path.Join(workdir, p)
	}
	host := filepath.Join(root, filepath.FromSlash(path.Clean("/"+p)))
	if _, err := fsys.fs.LookPath(name, env, workdir); err != nil {
		return host, nil
	}
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return "", err
	}
	return host, s.linkHostProgram(host, path.Base(p))
}

// viewOf is the root of fsys's view, made on first use.
func (s *Service) viewOf(fsys *imageFS) (string, error) {
	if fsys.view != "" {
		return fsys.view, nil
	}
	if s.viewRoot == "" {
		d, err := os.MkdirTemp("", "batchxray-local-images-")
		if err != nil {
			return "", err
		}
		s.viewRoot = d
	}
	fsys.view = filepath.Join(s.viewRoot, strings.TrimPrefix(fsys.digest, "sha256:")[:16])
	fsys.viewed = map[string]bool{}
	return fsys.view, nil
}

// removeViews removes every image's host view.
func (s *Service) removeViews() {
	if s.viewRoot != "" {
		_ = os.RemoveAll(s.viewRoot)
	}
}

// linkHostProgram links at the host's program named name, unless the
// host has none or at already exists.
func (s *Service) linkHostProgram(at, name string) error {
	target := s.cfg.Executable
	if name != "batchxray" {
		p, err := exec.LookPath(name)
		if err != nil {
			return nil
		}
		if target, err = filepath.Abs(p); err != nil {
			return nil
		}
	}
	if err := os.Symlink(target, at); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// execError words a missing executable as runc does.
func execError(name string, err error) string {
	var nf *imagefs.NotFoundError
	if errors.As(err, &nf) && nf.Reason != "" {
		return fmt.Sprintf("exec: %q: %s", name, nf.Reason)
	}
	return fmt.Sprintf("exec: %q: executable file not found in $PATH", name)
}

// readImage merges the image's layers once per digest.
func (s *Service) readImage(img v1.Image) (*imageFS, error) {
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	if f, ok := s.images[d.String()]; ok {
		return f, nil
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read the image's config: %w", err)
	}
	fsys, err := imagefs.FromImage(img)
	if err != nil {
		return nil, err
	}
	f := &imageFS{fs: fsys, config: cf.Config, digest: d.String()}
	s.images[d.String()] = f
	return f, nil
}

// hostName is the program the stand-in runs on its host for a checked
// container's argv[0]: batchxray is this binary, anything else is found
// by name on the host's PATH.
func hostName(argv0 string) string {
	return path.Base(argv0)
}

func envList(kvs []keyValuePair) []string {
	out := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, kv.Name+"="+kv.Value)
	}
	return out
}

// notCheckedNote is the first line of the log of a job whose image the
// stand-in cannot read.
func notCheckedNote(ref string) string {
	return "batchxray local: the image " + ref + " is not in this stand-in's registry, so it was not checked: the command runs on this machine as it is"
}
