package ui

import (
	"bytes"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// TestLiveOnTerminal: the line is redrawn on each change and each tick,
// lines go above it, and Close leaves nothing drawn. The bubble's clock
// makes the ticks exact.
func TestLiveOnTerminal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		n := 0
		l := NewLive(&buf, true, time.Second, func(frame int) string { return fmt.Sprintf("n=%d f=%d", n, frame) })
		l.Update(func() { n = 1 })
		l.Println("above")
		time.Sleep(time.Second)
		synctest.Wait()
		l.Close()
		l.Println("after")
		want := "n=1 f=0" + clearLine + "above\nn=1 f=0" + clearLine + "n=1 f=1" + clearLine + "after\n"
		if got := buf.String(); got != want {
			t.Errorf("output = %q, want %q", got, want)
		}
	})
}

// TestLiveOffTerminal: nothing is drawn, lines pass through.
func TestLiveOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	drawn := false
	l := NewLive(&buf, false, time.Second, func(int) string { drawn = true; return "live" })
	l.Update(nil, "one", "two")
	l.Close()
	if got, want := buf.String(), "one\ntwo\n"; got != want || drawn {
		t.Errorf("output = %q (drawn %v), want %q and no draw", got, drawn, want)
	}
}
