package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/report"
)

func TestReportFlags(t *testing.T) {
	def := reportOptions{since: 6 * time.Hour, slowest: report.DefaultSlowest, concurrency: report.DefaultConcurrency}
	with := func(change func(o *reportOptions)) reportOptions {
		o := def
		change(&o)
		return o
	}
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		want    reportOptions
		wantErr string
	}{
		{name: "defaults", want: def},
		{name: "window and filters", args: []string{"--since", "24h", "--name", "etl-", "--status", "failed,SUCCEEDED", "--slowest", "3"},
			want: with(func(o *reportOptions) {
				o.since, o.name, o.statuses, o.slowest = 24*time.Hour, "etl-", []string{"FAILED", "SUCCEEDED"}, 3
			})},
		{name: "jobs", args: []string{"--jobs", "a,b", "--html", dir + "/r.html", "--concurrency", "2"},
			want: with(func(o *reportOptions) { o.jobs, o.html, o.concurrency = []string{"a", "b"}, dir+"/r.html", 2 })},
		{name: "zero since", args: []string{"--since", "0s"}, wantErr: "invalid --since 0s"},
		{name: "since and jobs", args: []string{"--since", "1h", "--jobs", "a"}, wantErr: "--since and --jobs"},
		{name: "bad status", args: []string{"--status", "DONE"}, wantErr: `invalid --status "DONE"`},
		{name: "no slowest", args: []string{"--slowest", "0"}, wantErr: "invalid --slowest 0"},
		{name: "too concurrent", args: []string{"--concurrency", "500"}, wantErr: "invalid --concurrency 500"},
		{name: "html nowhere", args: []string{"--html", dir + "/nope/r.html"}, wantErr: "its directory does not exist"},
		{name: "an argument", args: []string{"job"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(t, nil, newReportCmd, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.clock == nil {
				t.Error("no clock for the gatherer")
			}
			got.f, got.clock = nil, nil
			if d := cmp.Diff(tt.want, *got, cmp.AllowUnexported(reportOptions{})); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
		})
	}
}
