package main

import (
	"os"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// waitFileTimeout bounds how long waitfile waits for a background command.
const waitFileTimeout = 30 * time.Second

// cmdWaitFile is the script command `waitfile FILE [VAR]`: it waits until
// FILE exists and is not empty (a background `batchxray local --ready-file
// FILE` writes it once serving) and sets VAR to its content, trimmed. The
// file is written by another process, so polling it is the only way to
// learn that it is there.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitfile FILE [VAR]")
	}
	path := ts.MkAbs(args[0])
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(waitFileTimeout)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			if len(args) == 2 {
				ts.Setenv(args[1], strings.TrimSpace(string(b)))
			}
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			ts.Fatalf("waitfile: %s did not appear within %v", args[0], waitFileTimeout)
		}
	}
}
