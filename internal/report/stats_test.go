package report

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// bruteRank is the percentile by its definition: the smallest value such
// that at least p% of all values are at or below it, found by trying each.
func bruteRank(values []float64, p float64) float64 {
	best, found := 0.0, false
	for _, c := range values {
		atOrBelow := 0
		for _, v := range values {
			if v <= c {
				atOrBelow++
			}
		}
		if float64(atOrBelow)*100 >= p*float64(len(values)) && (!found || c < best) {
			best, found = c, true
		}
	}
	return best
}

func TestPercentileMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		n := 1 + r.IntN(200)
		values := make([]float64, n)
		for i := range values {
			// Repeated values too, as durations rounded to the ms are.
			values[i] = float64(r.IntN(50)) * r.Float64()
		}
		sorted := slices.Sorted(slices.Values(values))
		for _, p := range []float64{1, 25, 50, 90, 95, 99, 100, 100 * r.Float64()} {
			if p == 0 {
				continue
			}
			if got, want := Percentile(sorted, p), bruteRank(values, p); got != want {
				t.Fatalf("trial %d: p%.3f of %d values = %v, brute force %v", trial, p, n, got, want)
			}
		}
	}
}

func TestDistribution(t *testing.T) {
	d := distribution([]float64{4, 1, 3, 2, 10}, histogramBins)
	if d.Count != 5 || d.P50Seconds != 3 || d.P95Seconds != 10 || d.MaxSeconds != 10 || d.TotalSeconds != 20 {
		t.Fatalf("distribution = %+v", d)
	}
	total := 0
	for _, b := range d.Histogram {
		total += b.Count
	}
	if total != 5 || len(d.Histogram) != histogramBins || d.Histogram[len(d.Histogram)-1].ToSeconds < 10 {
		t.Fatalf("histogram = %+v", d.Histogram)
	}
	if e := distribution(nil, histogramBins); e.Count != 0 || e.Histogram != nil {
		t.Fatalf("empty distribution = %+v", e)
	}
}
