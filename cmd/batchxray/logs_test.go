package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLogsFlags(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name    string
		args    []string
		want    logsOptions
		wantErr string
	}{
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(t, nil, newLogsCmd, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.f = nil
			if d := cmp.Diff(tt.want, *got, cmp.AllowUnexported(logsOptions{})); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
		})
	}
}
