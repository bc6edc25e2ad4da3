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
	// MinDelay is the delay after the first poll; it doubles up to MaxDelay.
	MinDelay time.Duration
	// MaxDelay caps the delay between polls.
	MaxDelay time.Duration
	// MaxWait bounds the whole wait; it is required.
	MaxWait time.Duration
	// Clock is the clock to wait on (default the real one).
	Clock clockwork.Clock
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
	deadline := o.Clock.Now().Add(o.MaxWait)
	delay := o.MinDelay
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		left := deadline.Sub(o.Clock.Now())
		if left <= 0 {
			return &TimeoutError{What: what, MaxWait: o.MaxWait}
		}
		d := min(delay, left)
		t := o.Clock.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.Chan():
		}
		delay = min(delay*2, o.MaxDelay)
	}
}
