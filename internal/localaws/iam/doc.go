// Package iam is the stand-in's IAM: roles with their trust, managed and
// inline policies and tags, instance profiles, and AWS managed policies to
// attach. It speaks IAM's query protocol and keeps IAM's documented rules and
// error codes (name syntax and lengths, EntityAlreadyExists, NoSuchEntity,
// DeleteConflict, one role per instance profile, well-formed policy
// documents).
//
// IAM is eventually consistent: a role or instance profile just created is
// not yet usable by other services. RoleVisible and InstanceProfileVisible
// model that with a propagation delay for the services that consume IAM
// (Batch sends a compute environment INVALID when its instance profile is
// not visible yet).
package iam
