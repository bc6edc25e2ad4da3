package traces

import (
	"fmt"
	"testing"
)

// bigTrace is one segment with n subsegments: groups of 40 under "batch"
// subsegments, each an S3 call with an HTTP call under it, some failing, so
// that nesting, collapsing and marks all take part.
func bigTrace(n int) *Trace {
	base := seconds(at(40))
	root := Document{ID: "root", Name: "BatchJob", StartTime: base, EndTime: base + 600}
	made := 0
	for b := 0; made < n; b++ {
		batch := Document{ID: fmt.Sprintf("b%d", b), Name: fmt.Sprintf("batch-%d", b), StartTime: base + float64(b)*2, EndTime: base + float64(b)*2 + 1.9}
		made++
		for i := 0; i < 40 && made < n; i++ {
			s := batch.StartTime + float64(i)*0.045
			call := Document{ID: fmt.Sprintf("b%d-%d", b, i), Name: "S3", Namespace: "aws", StartTime: s, EndTime: s + 0.04,
				AWS: map[string]any{"operation": "PutObject"}, Fault: i%97 == 0, Error: i%31 == 0}
			if i%7 == 0 {
				call.AWS["operation"] = fmt.Sprintf("Op%d", i)
			}
			made++
			if made < n {
				call.Subsegments = []Document{{ID: fmt.Sprintf("h%d-%d", b, i), Name: "attempt", StartTime: s, EndTime: s + 0.03}}
				made++
			}
			batch.Subsegments = append(batch.Subsegments, call)
		}
		root.Subsegments = append(root.Subsegments, batch)
	}
	return NewTrace("1-big", []Document{root})
}

func BenchmarkRender5000(b *testing.B) {
	tr := bigTrace(5000)
	n := 0
	tr.Walk(func(*Span, int) { n++ })
	v := View{Job: nightlyJob(), Traces: []*Trace{tr}}
	v.Job.StoppedAt = at(700)
	for _, color := range []bool{false, true} {
		b.Run(fmt.Sprintf("color=%v", color), func(b *testing.B) {
			b.ReportAllocs()
			o := Options{Width: 160, Color: color, Now: at(3600)}
			var out string
			for b.Loop() {
				out = Render(v, o)
			}
			b.ReportMetric(float64(n), "spans")
			b.ReportMetric(float64(len(out)), "bytes/op-output")
		})
	}
	b.Run("collapse=off", func(b *testing.B) {
		b.ReportAllocs()
		o := Options{Width: 160, Color: true, Now: at(3600), Collapse: -1}
		for b.Loop() {
			Render(v, o)
		}
	})
}
