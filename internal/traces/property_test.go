package traces

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/batchxray/batchxray/internal/jobs"
)

// randomDocument makes a segment with a random tree under it: random names
// (long ones and wide characters among them), flags, remote calls, zero
// lengths, unfinished spans and runs of alike siblings.
func randomDocument(rng *rand.Rand, id *int, depth int, start, end float64) Document {
	*id++
	names := []string{"S3", "example.com", "work", "a-really-long-subsegment-name-that-goes-on-and-on-and-on", "処理データ", "dns", "x"}
	d := Document{ID: fmt.Sprintf("%016x", *id), Name: names[rng.IntN(len(names))], StartTime: start, EndTime: end}
	switch rng.IntN(4) {
	case 0:
		d.Namespace = "aws"
		d.AWS = map[string]any{"operation": []string{"PutObject", "GetObject", "ListObjectsV2WithAVeryLongOperationName"}[rng.IntN(3)]}
	case 1:
		d.Namespace = "remote"
		d.HTTP = &HTTP{Request: &HTTPRequest{Method: "GET", URL: "https://" + d.Name + "/p"}, Response: &HTTPResponse{Status: []int{200, 404, 429, 500}[rng.IntN(4)]}}
	}
	d.Error, d.Fault, d.Throttle = rng.IntN(8) == 0, rng.IntN(10) == 0, rng.IntN(12) == 0
	if d.Fault && rng.IntN(2) == 0 {
		d.Cause = &Cause{Exceptions: []Exception{{Message: strings.Repeat("something went badly wrong ", 1+rng.IntN(8)), Type: "*errors.errorString"}}}
	}
	switch rng.IntN(15) {
	case 0:
		d.EndTime, d.InProgress = 0, true
	case 1:
		d.EndTime = d.StartTime
	}
	if depth < 6 && end > start && *id < 300 {
		n := rng.IntN(4)
		if rng.IntN(6) == 0 {
			n = 6 + rng.IntN(20) // a run that collapses
		}
		for i := 0; i < n; i++ {
			a := start + rng.Float64()*(end-start)
			b := a + rng.Float64()*(end-a)
			d.Subsegments = append(d.Subsegments, randomDocument(rng, id, depth+1, a, b))
		}
	}
	return d
}

func TestRenderNeverExceedsWidth(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 2026))
	for i := 0; i < 300; i++ {
		base := seconds(at(rng.Float64() * 600))
		length := []float64{0.002, 0.3, 7, 95, 4000}[rng.IntN(5)]
		id := 0
		var traces []*Trace
		for n := rng.IntN(3); n >= 0; n-- {
			traces = append(traces, NewTrace(fmt.Sprintf("1-%d", n), []Document{randomDocument(rng, &id, 0, base, base+length)}))
		}
		end := time.Unix(0, int64((base+length)*1e9)).Add(time.Duration(rng.IntN(3)) * time.Second)
		job := jobs.Job{ID: strings.Repeat("j", rng.IntN(90)), Name: "job-with-a-name-" + strings.Repeat("n", rng.IntN(80)),
			Status: []jobs.State{jobs.Succeeded, jobs.Failed, jobs.Running, jobs.Runnable}[rng.IntN(4)], CreatedAt: at(0),
			StatusReason: strings.Repeat("reason ", rng.IntN(30))}
		if job.Status != jobs.Runnable {
			job.StartedAt = time.Unix(0, int64(base*1e9))
			job.Attempts = []jobs.Attempt{{StartedAt: job.StartedAt, ExitCode: intp(rng.IntN(2)), Reason: strings.Repeat("why ", rng.IntN(40))}}
		}
		if job.Status == jobs.Succeeded || job.Status == jobs.Failed {
			job.StoppedAt, job.Attempts[0].StoppedAt = end, end
		}
		v := View{Job: job, Traces: traces}
		if rng.IntN(5) == 0 {
			v.Children = []ChildTrace{{Job: job, Traces: traces}, {Job: jobs.Job{ID: "c", Status: jobs.Pending, ArrayIndex: intp(rng.IntN(10000))}}}
		}
		o := Options{
			Width: 40 + rng.IntN(161), Color: rng.IntN(2) == 0, Now: end.Add(time.Duration(rng.IntN(100)) * time.Second),
			Depth: rng.IntN(4), ErrorsOnly: rng.IntN(4) == 0, Collapse: rng.IntN(8) - 1,
			MinDuration: time.Duration(rng.IntN(3)) * time.Duration(length*float64(time.Second)/10),
		}
		out := Render(v, o)
		t.Run(fmt.Sprintf("case %d width %d", i, o.Width), func(t *testing.T) { checkWidths(t, out, o.Width) })
	}
}
