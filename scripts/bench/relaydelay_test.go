package main

import (
	"math"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

func hist(count uint64, cum ...uint64) *dto.Histogram {
	bounds := []float64{0.001, 0.002, 0.005}
	h := &dto.Histogram{SampleCount: proto.Uint64(count)}
	for i, c := range cum {
		h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: proto.Float64(bounds[i]), CumulativeCount: proto.Uint64(c)})
	}
	return h
}

// TestQuantileMs: the quantile is taken over what was counted between the scrapes, not since start.
func TestQuantileMs(t *testing.T) {
	for _, c := range []struct {
		name          string
		before, after *dto.Histogram
		want          float64
	}{
		{"all fast", hist(0, 0, 0, 0), hist(100, 100, 100, 100), 1},
		{"tail in the 2-5 ms bucket", hist(0, 0, 0, 0), hist(100, 98, 98, 100), 5},
		{"slow packets before the window do not count", hist(100, 0, 0, 100), hist(200, 100, 100, 200), 1},
		{"tail above the last bound", hist(0, 0, 0, 0), hist(100, 90, 90, 90), math.Inf(1)},
	} {
		if got := quantileMs(c.before, c.after, 0.99); got != c.want {
			t.Errorf("%s: p99 = %v ms, want %v", c.name, got, c.want)
		}
	}
	if got := quantileMs(hist(5, 5, 5, 5), hist(5, 5, 5, 5), 0.99); !math.IsNaN(got) {
		t.Errorf("nothing counted: p99 = %v, want NaN", got)
	}
	if got := quantileMs(nil, hist(5, 5, 5, 5), 0.99); !math.IsNaN(got) {
		t.Errorf("no first scrape: p99 = %v, want NaN", got)
	}
}
