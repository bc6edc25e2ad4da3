package report

import (
	"math"
	"slices"
)

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted
// values: the smallest value with at least p% of the values at or below
// it. It is always one of the values, never an interpolation; 0 for none.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// p*n first, so that 95% of 20 is 19 exactly, not 19.000000000000004.
	rank := int(math.Ceil(p * float64(n) / 100))
	return sorted[min(max(rank, 1), n)-1]
}

// Distribution sums up durations in seconds: how many, nearest-rank p50
// and p95, the largest and the total, and a histogram.
type Distribution struct {
	Count        int     `json:"count"`
	P50Seconds   float64 `json:"p50Seconds"`
	P95Seconds   float64 `json:"p95Seconds"`
	MaxSeconds   float64 `json:"maxSeconds"`
	TotalSeconds float64 `json:"totalSeconds"`
	// Histogram splits [0, max] into equal bins; empty when there are no
	// values.
	Histogram []Bin `json:"histogram,omitempty"`
}

// Bin is one bar of a histogram: the values v with From <= v < To (the
// last bin includes To).
type Bin struct {
	FromSeconds float64 `json:"fromSeconds"`
	ToSeconds   float64 `json:"toSeconds"`
	Count       int     `json:"count"`
}

// histogramBins is how many bars a histogram has.
const histogramBins = 8

// distribution sums up values (seconds); it sorts them in place. bins 0
// means no histogram.
func distribution(values []float64, bins int) Distribution {
	slices.Sort(values)
	d := Distribution{Count: len(values)}
	if len(values) == 0 {
		return d
	}
	for _, v := range values {
		d.TotalSeconds += v
	}
	d.P50Seconds, d.P95Seconds = Percentile(values, 50), Percentile(values, 95)
	d.MaxSeconds = values[len(values)-1]
	if bins > 0 {
		d.Histogram = histogram(values, bins)
	}
	return d
}

func histogram(sorted []float64, bins int) []Bin {
	top := niceCeil(sorted[len(sorted)-1])
	width := top / float64(bins)
	hs := make([]Bin, bins)
	for i := range hs {
		hs[i] = Bin{FromSeconds: float64(i) * width, ToSeconds: float64(i+1) * width}
	}
	for _, v := range sorted {
		i := bins - 1
		if width > 0 {
			i = min(int(v/width), bins-1)
		}
		hs[i].Count++
	}
	return hs
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, so bin edges are
// round numbers; at least a millisecond.
func niceCeil(v float64) float64 {
	if v < 0.008 {
		return 0.008
	}
	// Eight bins of a round width: the width is what is rounded.
	w := v / histogramBins
	p := math.Pow(10, math.Floor(math.Log10(w)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p*histogramBins >= v {
			return m * p * histogramBins
		}
	}
	return 10 * p * histogramBins
}
