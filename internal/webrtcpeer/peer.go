// Package webrtcpeer is the browser stand-in of the WebRTC tests: a pion/webrtc PeerConnection
// (a full ICE agent, DTLS, SRTP, as Chrome's stack does them) on loopback, sending a PCMU tone
// and measuring the tone it receives. Tests only: nothing in goswitch's binaries imports it.
package webrtcpeer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	_ "github.com/goswitch/goswitch/codecs/g711" // PCMU for the tone
	gsmedia "github.com/goswitch/goswitch/core/media"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// Peer is one PeerConnection with one PCMU audio track each way.
type Peer struct {
	PC    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticSample

	mu       sync.Mutex
	cond     *sync.Cond
	rx       []int16 // decoded audio received, the last few seconds
	rxPkts   int
	closed   bool
	conn     chan struct{}
	connOnce sync.Once
	failed   chan struct{}
	failOnce sync.Once

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Options tune a Peer.
type Options struct {
	// AnswerActive makes the peer answer a=setup:active (DTLS client), as Chrome does; pion's
	// default answer is passive.
	AnswerActive bool
	// FailAfter, if set, is how long ICE may go without a working pair before the connection
	// fails (pion's default is 25 s), for tests that expect no connection.
	FailAfter time.Duration
}

// New makes a peer restricted to IPv4 loopback host candidates, PCMU only.
func New(opts Options) (*Peer, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1},
		PayloadType:        0,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	// goswitch's SDP declares no a=ssrc (its SSRC is the relayed stream's); browsers take the
	// one audio stream of the section, and this makes pion do the same.
	se.SetHandleUndeclaredSSRCWithoutAnswer(true)
	if opts.FailAfter > 0 {
		se.SetICETimeouts(opts.FailAfter/2, opts.FailAfter, opts.FailAfter/4)
	}
	if opts.AnswerActive {
		if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient); err != nil {
			return nil, err
		}
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000},
		"audio", "webrtcpeer")
	if err != nil {
		pc.Close()
		return nil, err
	}
	if _, err := pc.AddTrack(track); err != nil {
		pc.Close()
		return nil, err
	}
	p := &Peer{PC: pc, track: track, conn: make(chan struct{}), failed: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			p.connOnce.Do(func() { close(p.conn) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			p.failOnce.Do(func() { close(p.failed) })
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { p.readTrack(tr) })
	return p, nil
}

func (p *Peer) readTrack(tr *webrtc.TrackRemote) {
	c, _ := gsmedia.LookupCodec("PCMU", 8000, 1)
	dec := c.NewDecoder()
	pcm := make([]int16, 1024)
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		n, err := dec.Decode(pcm, pkt.Payload)
		if err != nil {
			continue
		}
		p.mu.Lock()
		p.rx = append(p.rx, pcm[:n]...)
		if len(p.rx) > 8000*4 {
			p.rx = append(p.rx[:0], p.rx[len(p.rx)-8000*2:]...)
		}
		p.rxPkts++
		p.mu.Unlock()
		p.cond.Broadcast()
	}
}

// gathered waits for ICE gathering, so the SDP carries every candidate (no trickle over SIP).
func (p *Peer) gathered(ctx context.Context) (string, error) {
	select {
	case <-webrtc.GatheringCompletePromise(p.PC):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return p.PC.LocalDescription().SDP, nil
}

// Offer makes the peer's offer (complete, with candidates), as a browser calling out.
func (p *Peer) Offer(ctx context.Context) (string, error) {
	o, err := p.PC.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	if err := p.PC.SetLocalDescription(o); err != nil {
		return "", err
	}
	return p.gathered(ctx)
}

// SetAnswer applies the far end's answer to our offer.
func (p *Peer) SetAnswer(sdp string) error {
	return p.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
}

// Answer answers the far end's offer, as a browser called by goswitch.
func (p *Peer) Answer(ctx context.Context, offer string) (string, error) {
	if err := p.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", err
	}
	a, err := p.PC.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	if err := p.PC.SetLocalDescription(a); err != nil {
		return "", err
	}
	return p.gathered(ctx)
}

// WaitConnected waits for ICE and DTLS to be up.
func (p *Peer) WaitConnected(ctx context.Context) error {
	select {
	case <-p.conn:
		return nil
	case <-p.failed:
		return errors.New("webrtcpeer: connection failed")
	case <-ctx.Done():
		return fmt.Errorf("webrtcpeer: not connected: %w (state %s)", ctx.Err(), p.PC.ConnectionState())
	}
}

// Failed is closed when the connection failed or closed.
func (p *Peer) Failed() <-chan struct{} { return p.failed }

// SendTone sends a continuous PCMU tone of hz until Close, paced at 20 ms like a microphone.
func (p *Peer) SendTone(hz float64) {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	c, _ := gsmedia.LookupCodec("PCMU", 8000, 1)
	enc := c.NewEncoder()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		pcm := make([]int16, 160)
		n := 0
		for {
			for i := range pcm {
				pcm[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(n)/8000))
				n++
			}
			buf := make([]byte, 160)
			k, _ := enc.Encode(buf, pcm)
			_ = p.track.WriteSample(media.Sample{Data: buf[:k], Duration: 20 * time.Millisecond})
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// ToneLevel is the share of the last 200 ms of received audio's energy at hz (1 = pure tone),
// with how many packets arrived so far.
func (p *Peer) ToneLevel(hz float64) (float64, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.rx) < 1600 {
		return 0, p.rxPkts
	}
	return toneShare(p.rx[len(p.rx)-1600:], hz, 8000), p.rxPkts
}

// WaitTone waits until the received audio is mostly a tone of hz.
func (p *Peer) WaitTone(ctx context.Context, hz float64) error {
	stop := context.AfterFunc(ctx, func() { p.cond.Broadcast() })
	defer stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if len(p.rx) >= 1600 && toneShare(p.rx[len(p.rx)-1600:], hz, 8000) > 0.6 {
			return nil
		}
		if ctx.Err() != nil || p.closed {
			share := 0.0
			if len(p.rx) >= 1600 {
				share = toneShare(p.rx[len(p.rx)-1600:], hz, 8000)
			}
			return fmt.Errorf("webrtcpeer: no %.0f Hz tone (%d packets, share %.2f): %v", hz, p.rxPkts, share, ctx.Err())
		}
		p.cond.Wait()
	}
}

// Received is how many RTP packets arrived.
func (p *Peer) Received() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rxPkts
}

// Close ends the tone and the PeerConnection.
func (p *Peer) Close() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
	_ = p.PC.Close()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cond.Broadcast()
}

// toneShare is Goertzel's power at f over the total power of pcm (1 for a pure tone).
func toneShare(pcm []int16, f float64, rate int) float64 {
	w := 2 * math.Pi * f / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2, energy float64
	for _, v := range pcm {
		x := float64(v)
		s := x + coeff*s1 - s2
		s2, s1 = s1, s
		energy += x * x
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(len(pcm)) * energy)
}
