package main

import (
	"testing"
	"time"
)

func TestLogsFlags(t *testing.T) {
	day := 24 * time.Hour
	tests := []flagCase[logsOptions]{
		{name: "latest", args: []string{"a"}, want: logsOptions{id: "a", index: -1, maxWait: day}},
		{name: "every flag", args: []string{"--attempt", "2", "--index", "0", "--since", "10m", "--tail", "5", "-f", "--max-wait", "1h", "a"},
			want: logsOptions{id: "a", attempt: 2, index: 0, since: 10 * time.Minute, tail: 5, follow: true, maxWait: time.Hour}},
		{name: "no id", args: nil, wantErr: "accepts 1 arg"},
		{name: "bad attempt", args: []string{"--attempt", "-1", "a"}, wantErr: "invalid --attempt -1"},
		{name: "bad index", args: []string{"--index", "-2", "a"}, wantErr: "invalid --index -2"},
		{name: "bad tail", args: []string{"--tail", "-3", "a"}, wantErr: "invalid --tail -3"},
		{name: "bad since", args: []string{"--since", "-1m", "a"}, wantErr: "invalid --since -1m0s"},
		{name: "bad max wait", args: []string{"--max-wait", "0s", "a"}, wantErr: "invalid --max-wait 0s"},
	}
	testFlags(t, newLogsCmd, tests, false)
}
