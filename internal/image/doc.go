// Package image builds the job image without Docker and pushes it, with
// go-containerregistry:
//
//   - Publisher: batchxray's own image, an empty base holding the binary
//     for the compute environment's architecture and a CA bundle, tagged by
//     the binary's digest so an unchanged binary pushes nothing;
//   - BasePublisher: the user's image (`up --base-image REF`, ko's base
//     image idea) plus one layer with the binary, its entrypoint prefixed
//     with `batchxray job --`, tagged by the base's and the binary's
//     digests, its layers mounted, not sent, when REF is in the same
//     registry;
//   - SourcePublisher: one platform of a published job image (Release,
//     written as an OCI layout by `make release`) copied into the stack's
//     repository, for a machine whose own binary cannot go into the image;
//   - CheckImage: whether an image given with `--image` holds batchxray on
//     its PATH (through package imagefs).
//
// Registries are logged in to by Credentials: the stack's login, ECR's
// GetAuthorizationToken for ECR registries, else the docker config. Bad
// input fails with a *RefError, *ReadError or *ArchError, one line each,
// matched with errors.Is against ErrBadReference, ErrBaseUnreadable and
// ErrWrongArchitecture.
package image
