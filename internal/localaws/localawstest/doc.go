// Package localawstest starts the stand-in in-process for tests, with an
// aws.Config that reaches it over real HTTP.
package localawstest
