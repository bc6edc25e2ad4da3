// Package ecr is the stand-in's Amazon ECR: the control plane in ECR's JSON
// 1.1 protocol, and a real OCI registry (go-containerregistry's
// pkg/registry) that the stand-in mounts at /v2/ on its own address, so
// images pushed with any registry client can be pulled back and inspected.
//
// The registry is wrapped, not patched: the wrapper asks for the Basic
// credentials GetAuthorizationToken hands out (user AWS, the token's
// password, until it expires), refuses a repository that does not exist
// with the registry protocol's NAME_UNKNOWN as ECR does, refuses to move a
// tag in an IMMUTABLE repository, and watches each manifest PUT that
// succeeds to keep the image index that ListImages, DescribeImages,
// BatchGetImage and BatchDeleteImage answer from. Blob uploads are the
// wrapper's own (blobs.go), into the inner registry's blob store, so that
// one upload's body holds up no other. Deleting images
// (BatchDeleteImage, DeleteRepository with force, or a manifest DELETE)
// deletes their manifests in the registry too.
//
// One deviation from AWS, and the only way a client can push to the
// stand-in: once the stand-in knows its own endpoint, repositoryUri and
// GetAuthorizationToken's proxyEndpoint name that host and port, not
// <account>.dkr.ecr.<region>.amazonaws.com. A client must take the registry
// host from repositoryUri (or proxyEndpoint), not build it from the account
// and region.
package ecr
