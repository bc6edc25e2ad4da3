package waiter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
)

// Options shape the polling. MaxWait is required.
type Options struct {
	// MinDelay is the delay after the first poll (and, with Changed, after
	// every poll that saw a change); it doubles up to MaxDelay.
	MinDelay time.Duration
	// MaxDelay caps the delay between polls.
	MaxDelay time.Duration
	// MaxWait bounds the whole wait; it is required.
	MaxWait time.Duration
	// Clock is the clock to wait on (default the real one).
	Clock clockwork.Clock
	// Sleep waits between polls (default Sleep on Clock); tests replace it
	// to record the waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Changed, when set, is asked after every poll that did not end the
	// wait: true (what is waited for moved on) starts the backoff again
	// from MinDelay, so the polls slow down only while nothing changes.
	Changed func() bool
}

// TimeoutError is returned when MaxWait runs out before the condition held.
type TimeoutError struct {
	What    string
	MaxWait time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: still not done after %s", e.What, e.MaxWait)
}

// TimedOut marks the error for the exit code 124.
func (e *TimeoutError) TimedOut() bool { return true }

// Check is one poll: done true ends the wait; an error ends it too and is
// returned as it is (a typed terminal failure, or a call that failed).
type Check func(ctx context.Context) (done bool, err error)

// Wait polls check until it is done, fails, the context ends, or MaxWait
// runs out. what names the wait in the timeout error.
func Wait(ctx context.Context, what string, o Options, check Check) error {
	if o.MaxWait <= 0 {
		return errors.New("waiter: MaxWait is required")
	}
	if o.MinDelay <= 0 {
		o.MinDelay = time.Second
	}
	if o.MaxDelay < o.MinDelay {
		o.MaxDelay = o.MinDelay
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) error { return Sleep(ctx, o.Clock, d) }
	}
	deadline := o.Clock.Now().Add(o.MaxWait)
	delay := o.MinDelay
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		if o.Changed != nil && o.Changed() {
			delay = o.MinDelay
		}
		left := deadline.Sub(o.Clock.Now())
		if left <= 0 {
			return &TimeoutError{What: what, MaxWait: o.MaxWait}
		}
		if err := o.Sleep(ctx, min(delay, left)); err != nil {
			return err
		}
		delay = min(delay*2, o.MaxDelay)
	}
}

// Sleep waits d on clock, or until ctx ends, whose error it returns.
func Sleep(ctx context.Context, clock clockwork.Clock, d time.Duration) error {
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.Chan():
		return nil
	}
}

// Backoff is the delay before retry number attempt (0 for the first):
// minDelay doubled attempt times, capped at maxDelay. It is the same
// progression Wait polls with, for calls retried a number of times rather
// than for a time.
func Backoff(attempt int, minDelay, maxDelay time.Duration) time.Duration {
	d := minDelay
	for i := 0; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}
