// Package imagefs answers questions about an image's filesystem without
// unpacking it: the layers merged in order with their whiteouts applied
// (`.wh.NAME` hides NAME below, `.wh..wh..opq` hides a directory's lower
// contents), symlinks followed inside the image's root, and an executable
// looked up on the PATH of the image's environment as a container runtime
// does.
//
// It is a neutral leaf: it imports only the standard library and
// go-containerregistry, so both the client side (internal/image, checking
// `up --image REF`) and the local stand-in (internal/localaws, deciding
// whether a container can start) may use it without either importing the
// other. Keep it that way: no AWS, no batchxray packages.
package imagefs
