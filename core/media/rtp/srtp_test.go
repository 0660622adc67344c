package rtp_test

import (
	"context"
	"testing"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	"github.com/goswitch/goswitch/core/media/rtp"
	pionrtp "github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/zaf/g711"
)

// TestSRTPInteropEverySuite keys a port and a bare pion peer independently (each side only knows
// the other's SDES key) and checks media flows both ways, replays are refused and a bad tag is
// dropped.
func TestSRTPInteropEverySuite(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	for _, suite := range rtp.SRTPSuites {
		t.Run(suite.Name, func(t *testing.T) {
			portKey, _ := rtp.NewSRTPKey(suite)
			phoneKey, _ := rtp.NewSRTPKey(suite)
			port := newPort(t, clk, pcmu, 0)
			if err := port.SetSRTP(&portKey, &phoneKey); err != nil {
				t.Fatal(err)
			}
			phone := newRawPeer(t)
			port.SetRemote(phone.addr(), netipZero)
			// The phone's own contexts, built only from the SDES material.
			var enc, dec *srtp.Context
			var err error
			opts := []srtp.ContextOption{}
			if suite.NoAuth {
				opts = append(opts, srtp.SRTPAuthenticationTagLength(0))
			}
			if enc, err = srtp.CreateContext(phoneKey.Key, phoneKey.Salt, suite.Profile, opts...); err != nil {
				t.Fatal(err)
			}
			if dec, err = srtp.CreateContext(portKey.Key, portKey.Salt, suite.Profile, opts...); err != nil {
				t.Fatal(err)
			}
			// Phone -> port: a 1 kHz tone in PCMU, encrypted.
			g, _ := audio.NewToneGenerator("%(2000,0,1000)", 8000)
			pcm := make([]int16, 160)
			payload := make([]byte, 160)
			done := make(chan struct{})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			go func() {
				defer close(done)
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for i := 0; ctx.Err() == nil && i < 100; i++ {
					media.ReadFull(g, pcm)
					for j, s := range pcm {
						payload[j] = g711.EncodeUlawFrame(s)
					}
					pkt := &pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 77}, Payload: payload}
					b, _ := pkt.Marshal()
					out, err := enc.EncryptRTP(nil, b, nil)
					if err != nil {
						return
					}
					phone.conn.WriteToUDPAddrPort(out, port.LocalAddr())
					select {
					case <-tick.C:
					case <-ctx.Done():
						return
					}
				}
			}()
			var f media.Frame
			for {
				if err := port.Stream().ReadFrame(ctx, &f); err != nil {
					t.Fatalf("never decrypted the tone: %v (stats %+v)", err, port.Stats())
				}
				if energy(f.PCM) > 1e6 {
					break
				}
			}
			// Port -> phone.
			go media.Play(ctx, port.Stream(), audio.NewSilence(8000, 200, 50))
			buf := make([]byte, 1500)
			phone.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			n, _, err := phone.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				t.Fatal(err)
			}
			var h pionrtp.Header
			plain, err := dec.DecryptRTP(nil, buf[:n], &h)
			if err != nil {
				t.Fatalf("phone cannot decrypt our packet: %v", err)
			}
			if len(plain)-h.MarshalSize() != 160 || h.PayloadType != 0 {
				t.Fatalf("decrypted %d bytes pt %d", len(plain), h.PayloadType)
			}
			cancel()
			<-done
			pkt := &pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1000, Timestamp: 160000, SSRC: 77}, Payload: payload}
			b, _ := pkt.Marshal()
			replay, _ := enc.EncryptRTP(nil, b, nil)
			phone.conn.WriteToUDPAddrPort(replay, port.LocalAddr())
			// Replay protection: the same packet again is refused (needs authentication).
			before := port.Stats().DecryptErrors
			phone.conn.WriteToUDPAddrPort(replay, port.LocalAddr())
			tampered := append([]byte(nil), replay...)
			tampered[len(tampered)-1] ^= 0xff
			phone.conn.WriteToUDPAddrPort(tampered, port.LocalAddr())
			if !suite.NoAuth {
				deadline := time.Now().Add(2 * time.Second)
				for port.Stats().DecryptErrors < before+2 && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				if got := port.Stats().DecryptErrors - before; got < 2 {
					t.Fatalf("replayed/tampered packets accepted: %d errors", got)
				}
			}
		})
	}
}

// TestSRTPRelayBetweenLegs bridges an SRTP leg and a plain leg: packets are decrypted with one
// key and sent in clear on the other side, and the reverse.
func TestSRTPRelayBetweenLegs(t *testing.T) {
	clk := media.NewSoftClock(1)
	defer clk.Close()
	suite, _ := rtp.LookupSRTPSuite("AES_CM_128_HMAC_SHA1_80")
	k1, _ := rtp.NewSRTPKey(suite)
	k2, _ := rtp.NewSRTPKey(suite)
	phoneA, legA := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	legB, phoneB := newPort(t, clk, pcmu, 101), newPort(t, clk, pcmu, 101)
	connect(phoneA, legA)
	connect(legB, phoneB)
	if err := phoneA.SetSRTP(&k1, &k2); err != nil {
		t.Fatal(err)
	}
	if err := legA.SetSRTP(&k2, &k1); err != nil {
		t.Fatal(err)
	}
	stop, _ := media.Bridge(legA, legB)
	defer stop()
	hearTone(t, phoneA, phoneB)
	hearTone(t, phoneB, phoneA)
	// Re-key (re-INVITE) on both ends of leg A: media keeps flowing.
	k3, _ := rtp.NewSRTPKey(suite)
	phoneA.SetSRTP(&k1, &k3)
	legA.SetSRTP(&k3, &k1)
	hearTone(t, phoneB, phoneA)
}
