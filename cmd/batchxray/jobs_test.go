package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestJobsFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    jobsOptions
		wantErr string
	}{
		{name: "defaults", want: jobsOptions{since: 24 * time.Hour}},
		{name: "every flag", args: []string{"--since", "72h", "--status", "failed", "--name", "nightly-"}, want: jobsOptions{since: 72 * time.Hour, status: "FAILED", name: "nightly-"}},
		{name: "zero since", args: []string{"--since", "0s"}, wantErr: "invalid --since 0s: must be positive"},
		{name: "unknown status", args: []string{"--status", "DONE"}, wantErr: `invalid --status "DONE": want one of SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED, FAILED`},
		{name: "an argument", args: []string{"job-id"}, wantErr: `unknown command "job-id" for "jobs"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *jobsOptions
			cmd := newJobsCmd(&factory{}, func(_ context.Context, o *jobsOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&strings.Builder{})
			cmd.SetErr(&strings.Builder{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.since != tt.want.since || got.status != tt.want.status || got.name != tt.want.name {
				t.Errorf("options %+v, want %+v", *got, tt.want)
			}
		})
	}
}
