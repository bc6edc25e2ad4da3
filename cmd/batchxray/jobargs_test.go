package main

import (
	"context"
	"strings"
	"testing"

	"github.com/batchxray/batchxray/internal/ui"
)

// TestEmptyJobID: `trace ""` and `status ""` are usage errors, exit 2,
// with one line naming the mistake, before any call is made.
func TestEmptyJobID(t *testing.T) {
	for _, args := range [][]string{{"trace", ""}, {"status", ""}, {"status", "a", " "}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ios, _, _, errOut := ui.Test()
			f := &factory{IOStreams: ios, Globals: &globalOptions{}}
			f.AWSConfig = nil // a call would panic: none may be made
			if code := execute(context.Background(), f, args); code != exitUsage {
				t.Errorf("exit = %d, want %d", code, exitUsage)
			}
			first, _, _ := strings.Cut(errOut.String(), "\n")
			if !strings.Contains(first, "invalid job ID") || !strings.Contains(first, "empty") {
				t.Errorf("stderr's first line = %q, want the empty job ID named", first)
			}
		})
	}
}
