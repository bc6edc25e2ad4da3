package provision_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/provision"
)

// cancelAfter is an HTTP client that cancels the up it serves once the
// stand-in has answered an operation, as a user's Ctrl-C would.
type cancelAfter struct {
	inner  aws.HTTPClient
	path   string
	cancel context.CancelFunc
	seen   bool
	mu     sync.Mutex
}

func (c *cancelAfter) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.inner.Do(r)
	if err == nil && strings.EqualFold(r.URL.Path, c.path) {
		c.mu.Lock()
		c.seen = true
		c.mu.Unlock()
		c.cancel()
	}
	return resp, err
}

// An up interrupted while the compute environment is created leaves it to
// go INVALID (its instance profile had not propagated): the next up
// recreates it, as the create path does, and the stack is whole.
func TestUpRepairsAnEnvironmentLeftInvalid(t *testing.T) {
	s := newStack(t, localaws.Options{IAMPropagation: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut := &cancelAfter{inner: s.cfg.HTTPClient, path: "/v1/createcomputeenvironment", cancel: cancel}
	cfg := s.cfg.Copy()
	cfg.HTTPClient = cut
	interrupted := provision.New(cfg, s.names, provision.Options{Waits: provision.WaitOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxWait: 10 * time.Second}})
	if _, err := interrupted.Up(ctx, s.spec, false); err == nil {
		t.Fatal("the interrupted up succeeded")
	}
	if !cut.seen {
		t.Fatal("up was not interrupted after CreateComputeEnvironment")
	}
	// What the interrupted up left goes INVALID once it settles (the next
	// up's plan waits for that).
	if ce := describeCE(t, s); ce == nil || (ce.Status != batchtypes.CEStatusCreating && ce.Status != batchtypes.CEStatusInvalid) {
		t.Fatalf("the interrupted up left the compute environment %+v, want it CREATING or INVALID", ce)
	}

	rs, err := s.provisioner().Up(context.Background(), s.spec, false)
	if err != nil {
		t.Fatalf("up after the interrupted one: %v", err)
	}
	if a := actions(rs)["compute environment "+s.names.ComputeEnvironment]; a != provision.Update {
		t.Errorf("compute environment: %s, want update (recreated)", a)
	}
	if ce := describeCE(t, s); ce.Status != batchtypes.CEStatusValid {
		t.Errorf("compute environment after up: %s (%s), want VALID", ce.Status, aws.ToString(ce.StatusReason))
	}
}

// Two ups of one stack at once both succeed: a resource the other is
// still creating is waited for, not judged, and one the other created
// first is planned again.
func TestTwoUpsAtOnce(t *testing.T) {
	s := newStack(t, localaws.Options{ComputeEnvironmentDelay: 200 * time.Millisecond})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.provisioner().Up(context.Background(), s.spec, false)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("up %d: %v", i+1, err)
		}
	}
	rs, err := s.provisioner().Up(context.Background(), s.spec, false)
	if err != nil {
		t.Fatal(err)
	}
	for k, a := range actions(rs) {
		if a != provision.Unchanged {
			t.Errorf("after both ups, %s: %s, want unchanged", k, a)
		}
	}
}
