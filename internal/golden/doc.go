// Package golden compares test output with golden files under a package's
// testdata directory, and rewrites them when the tests run with -update.
//
// It is the one golden helper of the repository: every rendered output that
// a test pins byte for byte goes through Assert.
package golden
