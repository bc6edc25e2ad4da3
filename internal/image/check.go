package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/batchxray/batchxray/internal/imagefs"
)

// ImageCheck is what CheckImage found about an image given with --image,
// which must already hold batchxray.
type ImageCheck struct {
	// Ref is the image.
	Ref string
	// Checked is false when the image could not be read; Reason says why.
	Checked bool
	Reason  string
	// Path is where `batchxray` resolves on the image's PATH, "" if not.
	Path string
	// PATH is the image's search path.
	PATH string
	// Entrypoint is the image's; a command is passed to it as arguments.
	Entrypoint []string
}

// OK says whether the job definition's `batchxray job` will start in the
// image: batchxray is on its PATH and no entrypoint takes the command as
// its arguments.
func (c *ImageCheck) OK() bool {
	return c.Checked && c.Path != "" && len(c.Entrypoint) == 0
}

// String is one line: what was found and, when the image will not do, what
// to do.
func (c *ImageCheck) String() string {
	switch {
	case !c.Checked:
		return fmt.Sprintf("%s not checked for batchxray: %s", c.Ref, c.Reason)
	case c.Path == "":
		return fmt.Sprintf("%s has no batchxray on its PATH (%s): pass --base-image %s to add it, or copy a linux batchxray into the image's /usr/local/bin", c.Ref, c.PATH, c.Ref)
	case len(c.Entrypoint) > 0:
		return fmt.Sprintf("%s has batchxray at %s, but its entrypoint %q would get `batchxray job` as arguments: pass --base-image %s, or clear the entrypoint", c.Ref, c.Path, strings.Join(c.Entrypoint, " "), c.Ref)
	}
	return fmt.Sprintf("%s has batchxray at %s", c.Ref, c.Path)
}

// CheckImage reads ref's image for linux/arch, where it can, and looks
// `batchxray` up on its PATH as the container runtime will (layers in
// order, whiteouts applied, symlinks followed). It reads every layer. An
// image it cannot read is not an error (Checked is false: the registry
// may let only the compute environment read it); a bad reference
// (*RefError) or an image with nothing for arch (*ArchError) are.
func CheckImage(ctx context.Context, ref, arch string, creds *Credentials, rt http.RoundTripper) (*ImageCheck, error) {
	c := &ImageCheck{Ref: ref}
	img, _, err := client{creds: creds, transport: rt}.platformImage(ctx, ref, arch)
	var rerr *ReadError
	switch {
	case errors.As(err, &rerr):
		c.Reason = rerr.Error()
		return c, nil
	case err != nil:
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		c.Reason = "read its config: " + err.Error()
		return c, nil
	}
	fs, err := imagefs.FromImage(img)
	if err != nil {
		c.Reason = "read its layers: " + err.Error()
		return c, nil
	}
	c.Checked = true
	c.PATH = imagefs.PathFromEnv(cf.Config.Env)
	c.Entrypoint = cf.Config.Entrypoint
	if p, err := fs.LookPath("batchxray", cf.Config.Env, cf.Config.WorkingDir); err == nil {
		c.Path = p
	}
	return c, nil
}
