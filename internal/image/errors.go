package image

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for the kinds of bad input, so a command can map them to an
// exit code (errors.Is): ErrBadReference and ErrWrongArchitecture are the
// user's input (usage, exit 2), ErrBaseUnreadable is a registry or
// credential problem (exit 1).
var (
	ErrBadReference      = errors.New("invalid image reference")
	ErrBaseUnreadable    = errors.New("image cannot be read")
	ErrWrongArchitecture = errors.New("image is for another architecture")
)

// RefError is an image reference that does not parse.
type RefError struct {
	Ref string
	Err error
}

func (e *RefError) Error() string {
	return fmt.Sprintf("invalid image reference %q: %s", e.Ref, oneLine(e.Err))
}

// Is makes errors.Is(err, ErrBadReference) true.
func (e *RefError) Is(target error) bool { return target == ErrBadReference }

// Unwrap returns the parser's error.
func (e *RefError) Unwrap() error { return e.Err }

// ReadError is an image its registry would not give: it names the
// registry and the credential that was tried.
type ReadError struct {
	Ref        string
	Registry   string
	Credential string
	Err        error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("cannot read image %s from registry %s with %s: %s", e.Ref, e.Registry, e.Credential, oneLine(e.Err))
}

// Is makes errors.Is(err, ErrBaseUnreadable) true.
func (e *ReadError) Is(target error) bool { return target == ErrBaseUnreadable }

// Unwrap returns the registry's error.
func (e *ReadError) Unwrap() error { return e.Err }

// ArchError is an image with nothing for the compute environment's
// architecture.
type ArchError struct {
	Ref string
	// Want is linux/amd64 or linux/arm64.
	Want string
	// Have are the platforms the image has.
	Have []string
	// Index is whether the image is an index (multi-platform).
	Index bool
}

func (e *ArchError) Error() string {
	if e.Index {
		return fmt.Sprintf("image %s has no %s image (it has %s): the compute environment needs %s", e.Ref, e.Want, strings.Join(e.Have, ", "), e.Want)
	}
	return fmt.Sprintf("image %s is for %s only, but the compute environment is %s: pick a %s image or an index that has one", e.Ref, strings.Join(e.Have, ", "), e.Want, e.Want)
}

// Is makes errors.Is(err, ErrWrongArchitecture) true.
func (e *ArchError) Is(target error) bool { return target == ErrWrongArchitecture }

// oneLine keeps a registry's multi-line error on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
