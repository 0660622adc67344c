package dialplan

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core"
)

// TestVanillaRoutes checks the routes FreeSWITCH's vanilla dialplan gives.
func TestVanillaRoutes(t *testing.T) {
	dp := vanilla(t)
	tuesday := time.Date(2026, 11, 24, 10, 30, 0, 0, time.UTC)
	cases := []struct {
		ctx, dest string
		vars      map[string]string
		exts      []string
		last      string
	}{
		{"default", "9196", nil, []string{"tod_example", "echo"}, "Action echo()"},
		{"default", "9664", nil, []string{"tod_example", "hold_music"}, "ANTI-Action playback(local_stream://moh)"},
		{"default", "9664", map[string]string{"rtp_has_crypto": "AES_CM_128_HMAC_SHA1_80"}, []string{"tod_example", "global", "hold_music"}, "Action playback(local_stream://moh)"},
		{"default", "1000", nil, []string{"tod_example", "Local_Extension"}, "Action bridge(loopback/app=voicemail:default ${domain_name} ${dialed_extension})"},
		{"default", "3000", nil, []string{"tod_example", "nb_conferences"}, "Action conference(3000-${domain_name}@default)"},
		{"default", "*98", nil, []string{"tod_example", "vmain"}, "Action voicemail(check default ${domain_name})"},
		{"default", "6001", nil, []string{"tod_example", "valet_park"}, "Action valet_park(valet_parking_lot 6001)"},
		{"default", "5000", nil, []string{"tod_example", "ivr_demo"}, "Action ivr(demo_ivr)"},
		{"default", "9170", nil, []string{"tod_example", "Talking Clock Time"}, "Action hangup()"},
		{"default", "55555", nil, []string{"tod_example", "acknowledge_call"}, "Action playback(local_stream://moh)"},
		{"public", "5551212", nil, []string{"outside_call", "public_did"}, "Action transfer(1000 XML default)"},
		{"public", "1001", nil, []string{"outside_call", "public_extensions"}, "Action transfer(1001 XML default)"},
	}
	for _, tc := range cases {
		ch := newFake()
		ch.now = tuesday
		ch.vars["tod_tz_offset"] = "0"
		for k, v := range tc.vars {
			ch.vars[k] = v
		}
		r, err := dp.Hunt(context.Background(), ch, Hunt{Context: tc.ctx, Dest: tc.dest})
		if err != nil {
			t.Errorf("%s %s: %v", tc.ctx, tc.dest, err)
			continue
		}
		if !reflect.DeepEqual(r.Extensions, tc.exts) {
			t.Errorf("%s %s: extensions %q want %q", tc.ctx, tc.dest, r.Extensions, tc.exts)
		}
		a := r.Actions[len(r.Actions)-1]
		k := "Action"
		if a.Anti {
			k = "ANTI-Action"
		}
		if got := k + " " + a.App + "(" + a.Data + ")"; got != tc.last {
			t.Errorf("%s %s: last action %q want %q", tc.ctx, tc.dest, got, tc.last)
		}
	}
	// features has no catch-all and no continue extension.
	ch := newFake()
	if _, err := dp.Hunt(context.Background(), ch, Hunt{Context: "features", Dest: "nothing"}); !errors.Is(err, core.ErrNoRoute) {
		t.Errorf("features nothing: %v", err)
	}
}

func BenchmarkHunt(b *testing.B) {
	dp := vanilla(b)
	for _, dest := range []string{"9664", "55555"} {
		b.Run(dest, func(b *testing.B) {
			ch := newFake()
			ch.vars["tod_tz_offset"] = "0"
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dp.Hunt(ctx, ch, Hunt{Dest: dest}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestConcurrentHunts shares one compiled dialplan between goroutines (run
// with -race).
func TestConcurrentHunts(t *testing.T) {
	dp := vanilla(t)
	dests := []string{"1000", "9664", "6001", "*98", "55555", "3001"}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func(g int) {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 50; i++ {
				ch := newFake()
				ch.vars["timezone"] = "America/New_York"
				ch.vars["sip_refer_to"] = "<sip:callpark@x;orbit=1>"
				if _, err := dp.Hunt(context.Background(), ch, Hunt{Dest: dests[(g+i)%len(dests)], Trace: func(slog.Level, string) {}}); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// FuzzHuntVanilla hunts vanilla's contexts for arbitrary destinations and
// caller data: a hunt must never panic.
func FuzzHuntVanilla(f *testing.F) {
	f.Add("default", "9664", "AES_CM_128_HMAC_SHA1_80", "-5")
	f.Add("public", "5551212", "", "")
	f.Add("features", "*0\x00\xff", "x", "America/New_York")
	f.Fuzz(func(t *testing.T, ctx, dest, crypto, tz string) {
		dp := vanilla(t)
		ch := newFake()
		ch.vars["rtp_has_crypto"] = crypto
		ch.vars["tod_tz_offset"] = tz
		ch.vars["timezone"] = tz
		ch.vars["sip_to_params"] = dest
		dp.Hunt(context.Background(), ch, Hunt{Context: ctx, Dest: dest, Trace: func(slog.Level, string) {}})
	})
}
