package waiter

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"
)

// script is a Check that returns scripted answers and records when it ran,
// so a test can see both the answers used and the backoff between them.
type script struct {
	clock   clockwork.Clock
	start   time.Time
	answers []bool
	failAt  int
	calls   []time.Duration
}

var errTerminal = errors.New("terminal")

func (s *script) check(context.Context) (bool, error) {
	s.calls = append(s.calls, s.clock.Now().Sub(s.start))
	i := len(s.calls) - 1
	if i == s.failAt {
		return false, errTerminal
	}
	if i >= len(s.answers) {
		return false, nil
	}
	return s.answers[i], nil
}

// drive runs wait in a goroutine and advances the fake clock by step each
// time wait blocks on it, until wait returns.
func drive(clock *clockwork.FakeClock, step time.Duration, wait func() error) error {
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	go func() {
		err = wait()
		cancel()
	}()
	for clock.BlockUntilContext(ctx, 1) == nil {
		clock.Advance(step)
	}
	return err
}

func run(t *testing.T, ctx context.Context, o Options, s *script) error {
	t.Helper()
	clock := clockwork.NewFakeClock()
	s.clock, s.start, o.Clock = clock, clock.Now(), clock
	return drive(clock, o.MaxDelay, func() error { return Wait(ctx, "the thing", o, s.check) })
}

func TestWait(t *testing.T) {
	o := Options{MinDelay: time.Second, MaxDelay: 4 * time.Second, MaxWait: 20 * time.Second}
	t.Run("done after backoff", func(t *testing.T) {
		s := &script{answers: []bool{false, false, false, false, true}, failAt: -1}
		if err := run(t, context.Background(), o, s); err != nil {
			t.Fatal(err)
		}
		if len(s.calls) != 5 {
			t.Errorf("polled %d times, want 5", len(s.calls))
		}
	})
	t.Run("terminal error ends the wait", func(t *testing.T) {
		s := &script{failAt: 2}
		if err := run(t, context.Background(), o, s); !errors.Is(err, errTerminal) {
			t.Fatalf("err = %v, want the terminal error", err)
		}
		if len(s.calls) != 3 {
			t.Errorf("polled %d times, want 3", len(s.calls))
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		s := &script{failAt: -1}
		if err := run(t, ctx, o, s); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("MaxWait required", func(t *testing.T) {
		if err := Wait(context.Background(), "x", Options{}, func(context.Context) (bool, error) { return true, nil }); err == nil {
			t.Fatal("Wait without MaxWait succeeded")
		}
	})
}

// TestDelays checks the schedule of polls: doubling from MinDelay, capped at
// MaxDelay, and cut short by MaxWait, which ends in a TimeoutError.
func TestDelays(t *testing.T) {
	clock := clockwork.NewFakeClock()
	start := clock.Now()
	var at []time.Duration
	check := func(context.Context) (bool, error) {
		at = append(at, clock.Now().Sub(start))
		return false, nil
	}
	err := drive(clock, time.Second, func() error {
		return Wait(context.Background(), "the thing", Options{MinDelay: time.Second, MaxDelay: 4 * time.Second, MaxWait: 12 * time.Second, Clock: clock}, check)
	})
	var te *TimeoutError
	if !errors.As(err, &te) || !te.TimedOut() {
		t.Fatalf("err = %v, want a TimeoutError", err)
	}
	want := []time.Duration{0, 1 * time.Second, 3 * time.Second, 7 * time.Second, 11 * time.Second, 12 * time.Second}
	if diff := cmp.Diff(want, at); diff != "" {
		t.Errorf("poll times (-want +got):\n%s", diff)
	}
}

// TestSleepOption: an injected Sleep gets every wait, the backoff doubling
// to MaxDelay and the last one cut to what is left of MaxWait.
func TestSleepOption(t *testing.T) {
	clock := clockwork.NewFakeClock()
	var sleeps []time.Duration
	o := Options{MinDelay: time.Second, MaxDelay: 4 * time.Second, MaxWait: 10 * time.Second, Clock: clock,
		Sleep: func(_ context.Context, d time.Duration) error {
			sleeps = append(sleeps, d)
			clock.Advance(d)
			return nil
		}}
	err := Wait(context.Background(), "thing", o, func(context.Context) (bool, error) { return false, nil })
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a *TimeoutError", err)
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 3 * time.Second}, sleeps); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestBackoff(t *testing.T) {
	var got []time.Duration
	for attempt := range 6 {
		got = append(got, Backoff(attempt, time.Second, 10*time.Second))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
}

// TestChangedResetsBackoff: a poll that saw a change starts the backoff
// again from MinDelay; polls that saw none keep doubling to MaxDelay.
func TestChangedResetsBackoff(t *testing.T) {
	clock := clockwork.NewFakeClock()
	var sleeps []time.Duration
	polls := 0
	changedAt := map[int]bool{4: true, 5: true}
	o := Options{MinDelay: time.Second, MaxDelay: 4 * time.Second, MaxWait: time.Hour, Clock: clock,
		Sleep: func(_ context.Context, d time.Duration) error {
			sleeps = append(sleeps, d)
			clock.Advance(d)
			return nil
		},
		Changed: func() bool { return changedAt[polls] },
	}
	err := Wait(context.Background(), "thing", o, func(context.Context) (bool, error) {
		polls++
		return polls == 8, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Polls 1-3 see nothing: 1, 2, 4 s. Polls 4 and 5 see a change: 1 s
	// each. Then nothing again: 2, 4 s.
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, time.Second, time.Second, 2 * time.Second, 4 * time.Second}
	if diff := cmp.Diff(want, sleeps); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}
