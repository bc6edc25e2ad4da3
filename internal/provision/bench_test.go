package provision_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/batchxray/batchxray/internal/image"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/provision"
)

// The benchmarks run up and down against the stand-in with a real
// endpoint's round trip on every API call, and compare the wall time with
// the critical path: the longest chain of calls that must follow one
// another in Provisioner.Up or Down, times the latency, plus Batch's
// creation delays on that chain. A ratio near 1 says the time goes where it
// must; above it is overhead: polling that sees a state late, steps that
// wait for others they do not need.
//
// IAM propagation is 0 here: the compute environment is never refused or
// stranded INVALID, so the chain is the same on every run
// (TestUpWaitsForIAMPropagation covers the other case). The job image is
// pushed to the stand-in's registry at /v2/, which the latency does not
// touch; the image is a tiny binary, so the push is a few loopback round
// trips, except in the cases with a binary of a real batchxray's size,
// whose push takes seconds of compression and hashing as a real one does.
const benchLatency = 50 * time.Millisecond

// pollEnd is how long after a call starts a CREATING, UPDATING or DELETING
// state that lasts delay the waiter's poll first sees it over: the first
// poll is handled one latency after the call, each next one a latency
// after the waiter's sleep, which starts at MinDelay and doubles up to
// MaxDelay.
func pollEnd(lat, delay time.Duration, w provision.WaitOptions) time.Duration {
	t, sleep := lat, w.MinDelay
	for t < delay {
		t += sleep + lat
		sleep = min(2*sleep, w.MaxDelay)
	}
	return t
}

// upCritical is Up's critical path from nothing, given how long each wait
// for Batch takes: the compute environment's chain. What it needs comes
// first, and the instance role and profile are the longest of it: GetRole,
// CreateRole, two AttachRolePolicy; GetInstanceProfile,
// CreateInstanceProfile, AddRoleToInstanceProfile: 7 calls (the security
// group's are 4, the launch template's 2). Then the compute environment:
// Describe, Create, the wait; then the queue likewise. The job definition's
// chain beside it is at most 5 calls (the bucket's) and 2 for the job
// definition, plus the push, which the latency does not touch.
func upCritical(lat, wait time.Duration) time.Duration {
	return 7*lat + 2*(2*lat+wait)
}

// downCritical is Down's critical path for a full stack: the queue
// (Describe, Update to DISABLED, the wait, Delete, the wait until gone),
// beside which the compute environment is disabled (Describe, Update, the
// wait), and then the compute environment's Delete and wait until gone;
// then the parallel deletions, whose longest is the bucket's 4 calls
// (GetBucketTagging, ListObjectVersions, ListObjectsV2, DeleteBucket); then
// IAM, whose longest chain is the instance profile (Get,
// RemoveRoleFromInstanceProfile, Delete) and then the instance role (Get,
// ListAttached, two Detach, ListRolePolicies, Delete): 9 calls (the job
// role beside them takes 5).
func downCritical(lat, wait time.Duration) time.Duration {
	return (3*lat + 2*wait) + (lat + wait) + 4*lat + 9*lat
}

// benchCase is one creation delay. The waits are the CLI's: how well the
// poll schedule meets the delay is part of what is measured.
type benchCase struct {
	name  string
	delay time.Duration
	// binary is the size of the job binary pushed as the image (0: 64 bytes).
	binary int
}

// jobBinary is an ELF header and size bytes that do not compress, as a
// real binary hardly does.
func jobBinary(size int) []byte {
	b := fakeELF()
	r := rand.NewChaCha8([32]byte{})
	pad := make([]byte, size)
	_, _ = r.Read(pad)
	return append(b, pad...)
}

func (c benchCase) opts() localaws.Options {
	return localaws.Options{Latency: benchLatency, ComputeEnvironmentDelay: c.delay, IAMPropagation: 0}
}

// pushTimer is an Observer that adds up how long the job image's step took:
// GetAuthorizationToken and the push.
type pushTimer struct {
	mu    sync.Mutex
	start time.Time
	total time.Duration
}

func (t *pushTimer) observe(e provision.Event) {
	if e.Kind != "job image" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !e.Done {
		t.start = time.Now()
		return
	}
	t.total += time.Since(t.start)
}

// report adds the ratios to the critical path, pure (Batch's delays as they
// are) and as the poll schedule allows, and the calls made.
func report(b *testing.B, wall time.Duration, critical func(lat, wait time.Duration) time.Duration, c benchCase, calls, mutating int) {
	n := float64(b.N)
	pure := critical(benchLatency, max(c.delay, benchLatency))
	polled := critical(benchLatency, pollEnd(benchLatency, c.delay, provision.DefaultWaits))
	b.ReportMetric(wall.Seconds()/n/pure.Seconds(), "wall/critical")
	b.ReportMetric(wall.Seconds()/n/polled.Seconds(), "wall/polled")
	b.ReportMetric(float64(pure.Milliseconds()), "critical-ms")
	b.ReportMetric(float64(calls)/n, "calls/op")
	b.ReportMetric(float64(mutating)/n, "mutating/op")
}

func countCalls(srv *localaws.Server) (calls, mutating int) {
	for _, c := range srv.Calls() {
		calls++
		if c.Mutating() {
			mutating++
		}
	}
	return calls, mutating
}

// BenchmarkUp creates a whole stack from nothing on a fresh stand-in.
func BenchmarkUp(b *testing.B) {
	for _, c := range []benchCase{
		{name: "ce=2s", delay: 2 * time.Second},
		{name: "ce=3s", delay: 3 * time.Second},
		{name: "ce=2s/image=64MiB", delay: 2 * time.Second, binary: 64 << 20},
	} {
		b.Run(c.name, func(b *testing.B) {
			var bin []byte
			if c.binary > 0 {
				bin = jobBinary(c.binary)
			}
			b.ResetTimer()
			var wall time.Duration
			var calls, mutating int
			var push pushTimer
			for range b.N {
				b.StopTimer()
				s := newStack(b, c.opts())
				if bin != nil {
					s.spec.Publisher = &image.Publisher{Binary: bin, Arch: "amd64", CABundle: []byte("ca")}
				}
				p := provision.New(s.cfg, s.names, provision.Options{Waits: provision.DefaultWaits, Observer: push.observe})
				b.StartTimer()
				start := time.Now()
				if _, err := p.Up(context.Background(), s.spec, false); err != nil {
					b.Fatal(err)
				}
				wall += time.Since(start)
				n, m := countCalls(s.srv)
				calls, mutating = calls+n, mutating+m
			}
			report(b, wall, upCritical, c, calls, mutating)
			b.ReportMetric(float64(push.total.Milliseconds())/float64(b.N), "image-ms")
		})
	}
}

// BenchmarkDown removes a whole stack that up has just created.
func BenchmarkDown(b *testing.B) {
	c := benchCase{name: "ce=2s", delay: 2 * time.Second}
	b.Run(c.name, func(b *testing.B) {
		var wall time.Duration
		var calls, mutating int
		for range b.N {
			b.StopTimer()
			s := newStack(b, c.opts())
			p := provision.New(s.cfg, s.names, provision.Options{Waits: provision.DefaultWaits})
			if _, err := p.Up(context.Background(), s.spec, false); err != nil {
				b.Fatal(err)
			}
			s.srv.ResetCalls()
			b.StartTimer()
			start := time.Now()
			if _, err := p.Down(context.Background()); err != nil {
				b.Fatal(err)
			}
			wall += time.Since(start)
			n, m := countCalls(s.srv)
			calls, mutating = calls+n, mutating+m
		}
		report(b, wall, downCritical, c, calls, mutating)
	})
}
