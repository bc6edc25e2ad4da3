package main

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"os/exec"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/batchxray/batchxray/internal/localaws"
)

// sharedDelay is the shared stand-ins' --compute-environment-delay: the
// resources still walk CREATING → VALID, as in AWS, only sooner.
const sharedDelay = 100 * time.Millisecond

// stacksPerStandIn bounds the stacks one shared stand-in (one AWS account)
// carries, well below the account quotas a stack counts against (X-Ray's
// 25 sampling rules, Batch's 50 compute environments and job queues).
const stacksPerStandIn = 10

// sharedStandIns are the stand-ins that the scripts share, started on first
// use in-process and closed after the last test (see TestMain).
var sharedStandIns standInPool

// standInPool hands out stand-ins by stack: a stack is claimed at most once
// on each, so no script sees another's resources, and a script that names
// the same stack as another gets a stand-in of its own.
type standInPool struct {
	mu  sync.Mutex
	all []*sharedStandIn
}

type sharedStandIn struct {
	srv *localaws.Server
	hs  *httptest.Server
	// stacks are the stack names scripts have claimed.
	stacks map[string]bool
}

// claim returns the endpoint of a stand-in on which no other script has
// claimed stack, starting one when every running one has.
func (p *standInPool) claim(stack string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.all {
		if !s.stacks[stack] && len(s.stacks) < stacksPerStandIn {
			s.stacks[stack] = true
			return s.hs.URL, nil
		}
	}
	s, err := startSharedStandIn()
	if err != nil {
		return "", err
	}
	s.stacks[stack] = true
	p.all = append(p.all, s)
	return s.hs.URL, nil
}

// close stops every stand-in and the jobs still running on them.
func (p *standInPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, s := range p.all {
		s.hs.Close()
		errs = append(errs, s.srv.Close())
	}
	p.all = nil
	return errors.Join(errs...)
}

// startSharedStandIn serves a stand-in as `batchxray local
// --compute-environment-delay 100ms` would, on a free loopback port with its
// X-Ray daemon on another.
func startSharedStandIn() (*sharedStandIn, error) {
	// Jobs run the batchxray that testscript put first in PATH (this test
	// binary under that name), not os.Args[0], which is the test binary
	// under its own name and would run the tests.
	exe, err := exec.LookPath("batchxray")
	if err != nil {
		return nil, fmt.Errorf("start a shared stand-in: %w", err)
	}
	srv := localaws.New(localaws.Options{ComputeEnvironmentDelay: sharedDelay, Executable: exe})
	hs := httptest.NewServer(srv)
	srv.SetEndpoint(hs.URL)
	if _, err := srv.StartDaemon("127.0.0.1:0"); err != nil {
		hs.Close()
		return nil, errors.Join(err, srv.Close())
	}
	return &sharedStandIn{srv: srv, hs: hs, stacks: map[string]bool{}}, nil
}

// cmdStandIn is the script command `standin STACK`: it points the script at
// a shared stand-in with STACK as its stack, setting ENDPOINT (the
// stand-in's URL), the AWS variables a script would export from `batchxray
// local`'s banner, and BATCHXRAY_STACK. No other script uses STACK on that
// stand-in. A script that needs its own stand-in starts `batchxray local`
// in the background instead: one with other flags, one that checks the
// stand-in's own output. Pushes to one stand-in go on in parallel, as
// to ECR.
func cmdStandIn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: standin STACK")
	}
	endpoint, err := sharedStandIns.claim(args[0])
	ts.Check(err)
	for k, v := range map[string]string{
		"ENDPOINT":              endpoint,
		"AWS_ENDPOINT_URL":      endpoint,
		"AWS_REGION":            "us-east-1",
		"AWS_ACCESS_KEY_ID":     "local",
		"AWS_SECRET_ACCESS_KEY": "local",
		"BATCHXRAY_STACK":       args[0],
	} {
		ts.Setenv(k, v)
	}
}
