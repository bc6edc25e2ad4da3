package batch

import (
	"errors"
	"fmt"
	"path"

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
}

// imageFS is what the stand-in keeps of an image it read, by digest.
type imageFS struct {
	fs     *imagefs.FS
	config v1.Config
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
	return container{argv: argv, imageEnv: cfg.Env, checked: true}, nil
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
	f := &imageFS{fs: fsys, config: cf.Config}
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
