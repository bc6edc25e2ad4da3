// Package sts is the stand-in's AWS Security Token Service: GetCallerIdentity,
// which tools call first to learn the account they act in. Every caller is
// the account's root user, since the stand-in checks no credentials.
package sts
