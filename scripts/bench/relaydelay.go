package main

import (
	"bufio"
	"context"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// relayHist is goswitch's goswitch_rtp_relay_delay_seconds histogram as scraped: cumulative
// counts by upper bound (seconds), +Inf included.
type relayHist map[float64]float64

// scrapeRelayDelay reads the relay-delay histogram from goswitch's /metrics (nil if it has none).
func scrapeRelayDelay(ctx context.Context, base string) relayHist {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	h := relayHist{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), `goswitch_rtp_relay_delay_seconds_bucket{le="`)
		if !ok {
			continue
		}
		le, val, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		b, err1 := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
		v, err2 := strconv.ParseFloat(val, 64)
		if err1 == nil && err2 == nil {
			h[b] = v
		}
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

// quantileMs is the upper bound (ms) of the bucket holding the q quantile of what was counted
// between before and after; NaN without data, +Inf when it lies above the last bound.
func quantileMs(before, after relayHist, q float64) float64 {
	if after == nil {
		return math.NaN()
	}
	bounds := make([]float64, 0, len(after))
	for b := range after {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	total := after[math.Inf(1)] - before[math.Inf(1)]
	if total <= 0 {
		return math.NaN()
	}
	for _, b := range bounds {
		if after[b]-before[b] >= q*total {
			return b * 1000
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
		if before != nil {
			res = quantileMs(before, scrapeRelayDelay(ctx, base), 0.99)
		}
	}()
	return out
}
