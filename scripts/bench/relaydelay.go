package main

import (
	"context"
	"math"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeRelayDelay reads goswitch_rtp_relay_delay_seconds from goswitch's /metrics (nil if it
// has none).
func scrapeRelayDelay(ctx context.Context, base string) *dto.Histogram {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil
	}
	f := fams["goswitch_rtp_relay_delay_seconds"]
	if f == nil || len(f.GetMetric()) == 0 {
		return nil
	}
	return f.GetMetric()[0].GetHistogram()
}

// quantileMs is the upper bound (ms) of the bucket holding the q quantile of what was counted
// between before and after (same buckets); NaN without data, +Inf above the last bound.
func quantileMs(before, after *dto.Histogram, q float64) float64 {
	if before == nil || after == nil {
		return math.NaN()
	}
	total := float64(after.GetSampleCount() - before.GetSampleCount())
	if total <= 0 {
		return math.NaN()
	}
	b0 := before.GetBucket()
	for i, b := range after.GetBucket() {
		n := b.GetCumulativeCount()
		if i < len(b0) {
			n -= b0[i].GetCumulativeCount()
		}
		if float64(n) >= q*total {
			return b.GetUpperBound() * 1000
		}
	}
	return math.Inf(1)
}

// watchRelayDelay scrapes the histogram after wait and again secs later, and sends the p99 of the
// relay delays in between (ms, a bucket bound) on the returned channel.
func watchRelayDelay(ctx context.Context, base string, wait time.Duration, secs int) <-chan float64 {
	out := make(chan float64, 1)
	go func() {
		res := math.NaN()
		defer func() { out <- res }()
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		before := scrapeRelayDelay(ctx, base)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(secs) * time.Second):
		}
		res = quantileMs(before, scrapeRelayDelay(ctx, base), 0.99)
	}()
	return out
}
