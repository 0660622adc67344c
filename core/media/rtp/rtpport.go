package rtp

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goswitch/goswitch/core/media"
	"github.com/goswitch/goswitch/core/media/audio"
	pionrtp "github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// RTPConfig configures an RTP port. Zero values are FreeSWITCH's defaults where it has them.
type RTPConfig struct {
	Clock        media.Clock   // shared media clock; nil = a private one owned by the port
	NoLatch      bool          // disable symmetric RTP (do not learn the remote from packets)
	Timeout      time.Duration // rtp_timeout_sec: no RTP for this long -> OnTimeout (0 = off)
	HoldTimeout  time.Duration // rtp_hold_timeout_sec, used while Direction is not sendrecv
	OnTimeout    func()        // called once (from the receive side) for MEDIA_TIMEOUT
	RTCPInterval time.Duration // sender/receiver report period; 0 = 5 s, < 0 = no reports
	DTMFDuration time.Duration // default digit length for SendDTMF (FreeSWITCH: 2000 samples)
	InbandDTMF   bool          // detect in-band DTMF on the decoded audio (start_dtmf)
	// OnRelayed, if set, is called on the receive side after each audio packet this port relayed
	// to its bridged peer, with the packet's arrival time: time.Since(arrival) is the delay the
	// engine added (measurements such as scripts/mediaload). It must be cheap and not block.
	OnRelayed func(arrival time.Time)
	Log       *slog.Logger
}

// PortStats are a port's counters (uuid_dump, rtp stats variables).
type PortStats struct {
	PacketsIn, PacketsOut, BytesIn, BytesOut uint64
	DecryptErrors, Dropped, DTMFIn           uint64
	Jitter                                   JitterStats // playout buffer (terminated media only)
	RTCPIn, RTCPBytesIn                      uint64      // RTCP datagrams received
	// Accepted packets by kind: audio (and its payload bytes), RFC 3389 CN, RFC 4733 events.
	// MediaBytesOut is the payload sent other than CN (RFC 4733 events included).
	MediaIn, MediaBytesIn, CNIn, EventsIn, MediaBytesOut, CNOut uint64

	// Reception per RFC 3550 (relayed or terminated), as in our RTCP report blocks.
	Lost          int64         // cumulative packets lost (negative when duplicates arrive)
	FractionLost  uint8         // lost in the last RTCP interval, in 1/256
	RxJitter      time.Duration // interarrival jitter
	ExtHighestSeq uint32        // extended highest sequence number received

	// What the far end's RTCP report blocks say about the stream we send.
	RemoteLost         int64
	RemoteFractionLost uint8
	RemoteJitter       time.Duration
	RTT                time.Duration // from LSR/DLSR; 0 until a report echoes one of our SRs
}

// RTPPort is a SIP leg's media: an even RTP port with RTCP on +1, symmetric latching, SRTP,
// a jitter buffer and codec pipeline when media is terminated, and packet relay when bridged to
// another RTPPort. See the package documentation for the call sequence an endpoint uses.
type RTPPort struct {
	cfg     RTPConfig
	conn    *net.UDPConn
	rtcp    *net.UDPConn
	local   netip.AddrPort
	release func()
	clk     media.Clock
	ownClk  *media.SoftClock
	log     *slog.Logger

	closed    atomic.Bool
	closeOnce sync.Once
	wg        sync.WaitGroup

	mu          sync.Mutex // negotiated settings and lifecycle
	codec       media.CodecInfo
	tePT        uint8
	cnTxPT      uint8 // RFC 3389 PT to send silence as; 0 = CN not negotiated or suppress_cng
	dtmfMode    media.DTMFMode
	infoSender  func(media.DTMF) error
	dtmfHook    func() bool                  // SetDTMFGate: a hook wants digits before the bridged leg
	dtmfDeliver func(media.DTMF) (kept bool) // OnDTMF, or SetDTMFGate\'s deliver: says whether the digit stays
	dtmfPeer    media.Port
	keyLocal    *SRTPKey // current SDES keys, to recognise a re-INVITE that repeats them
	keyRemote   *SRTPKey
	signaled    netip.AddrPort // remote address from the SDP, before latching
	dir         media.Direction
	tickCancel  func()
	tickPeriod  time.Duration
	rtcpCancel  func()

	stream     atomic.Pointer[media.TermStream]
	remote     atomic.Pointer[netip.AddrPort]
	remoteRTCP atomic.Pointer[netip.AddrPort]
	latched    atomic.Bool
	lastRecv   atomic.Int64
	timedOut   atomic.Bool
	holdTO     atomic.Bool
	canTx      atomic.Bool
	inband     atomic.Bool
	genInband  atomic.Bool  // SetInbandDTMFGenerate
	idleDiv    atomic.Int32 // SetIdleSilence: 0 off, -1 zero, >0 noise divisor
	inCallback atomic.Int32
	clockRate  atomic.Uint32 // RTP clock of the audio codec, for RFC 4733 durations
	rxSSRC     atomic.Uint32
	dec        atomic.Pointer[srtp.Context]
	rtcpDec    atomic.Pointer[srtp.Context]
	jb         atomic.Pointer[JitterBuffer]
	peer       atomic.Pointer[relayLink]
	inCN       atomic.Bool
	cnLevel    atomic.Uint32
	teRecvPT   atomic.Uint32 // telephone-event PT accepted on receive
	audioPT    atomic.Uint32
	demux      atomic.Pointer[DemuxFunc] // SetDemux: STUN/DTLS on the RTP socket (WebRTC)
	rtcpMux    atomic.Bool               // SetRTCPMux: RTCP shares the RTP socket (RFC 5761)
	onClose    atomic.Pointer[func()]    // OnClose: the WebRTC transport ends with the port

	// Reader goroutine (or InjectPacket) only; injMu makes the two exclusive. Uncontended in
	// normal operation, so it costs a few nanoseconds per packet.
	injMu  sync.Mutex
	rxHdr  pionrtp.Header
	dtmfRx dtmfReceiver

	// Send side: everything below is guarded by smu (relay, clock tick and DTMF all send).
	smu      sync.Mutex
	seq      sequencer
	enc      *srtp.Context
	txHdr    pionrtp.Header
	txBuf    []byte
	dtmfTx   dtmfSender
	inbandTx *audio.ToneGenerator
	encoder  media.Encoder
	decoder  media.Decoder
	codecImp media.CodecInfo
	encPCM   []int16
	decPCM   []int16
	rsPCM    []int16
	payBuf   []byte
	encRS    *media.Resampler
	decRS    *media.Resampler
	detector *audio.InbandDetector
	dtmfOut  []media.DTMF // in-band digits detected during the tick, reported after it

	// Write-direction taps on a relayed leg (record_session on a bridged call).
	txTapJB    *JitterBuffer
	tapDecoder media.Decoder
	tapPCM     []int16
	tapPay     []byte
	tapRS      *media.Resampler
	cn         *audio.ComfortNoise
	rtpTSNow   uint32
	lastSR     uint32
	lastSRAt   time.Time

	cnTx          cnSender      // comfort noise send state
	idleNoise     audio.Noise   // SetIdleSilence's noise (smu)
	delayStripe   uint8         // this port's stripe of the relay-delay histogram
	lastTick      time.Time     // deadline of the previous tick, to count frames a late clock skipped
	lastTickPtime time.Duration // the ptime lastTick was counted in

	pl pollState // the receive side on a shared poll shard, where the platform has them

	stPktIn, stPktOut, stBytesIn, stBytesOut, stDecErr, stDropped, stDTMF atomic.Uint64
	stRTCPIn, stRTCPBytesIn                                               atomic.Uint64
	// By payload type (countRx, sendLocked): FreeSWITCH's media/cng/dtmf packet counts.
	stMediaIn, stMediaBytesIn, stCNIn, stEventsIn, stMediaBytesOut, stCNOut atomic.Uint64

	rxStats RTPStats // RFC 3550 receiver statistics: reader updates, RTCP timer reports

	rrMu     sync.Mutex // the far end's last report block about our stream (RTCP reader)
	rrRemote remoteReport
}

const maxPacket = 1500

// ListenRTP binds an RTP/RTCP socket pair on ip. port 0 picks any free even port pair;
// otherwise port must be even and port+1 free.
func ListenRTP(ip netip.Addr, port int, cfg RTPConfig) (*RTPPort, error) {
	if port != 0 {
		return bindPair(ip, port, cfg)
	}
	for range 64 {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return nil, err
		}
		p := c.LocalAddr().(*net.UDPAddr).AddrPort().Port()
		c.Close()
		if p%2 == 1 || p == 65535 {
			p--
		}
		if pp, err := bindPair(ip, int(p), cfg); err == nil {
			return pp, nil
		}
	}
	return nil, errors.New("media: no free even port pair")
}

func bindPair(ip netip.Addr, port int, cfg RTPConfig) (*RTPPort, error) {
	if port%2 != 0 {
		return nil, fmt.Errorf("media: RTP port %d is odd", port)
	}
	c1, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
	if err != nil {
		return nil, err
	}
	c2, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port+1))))
	if err != nil {
		c1.Close()
		return nil, err
	}
	return newRTPPort(c1, c2, cfg), nil
}

func newRTPPort(c1, c2 *net.UDPConn, cfg RTPConfig) *RTPPort {
	if cfg.DTMFDuration == 0 {
		cfg.DTMFDuration = 250 * time.Millisecond // 2000 samples at 8 kHz
	}
	if cfg.RTCPInterval == 0 {
		cfg.RTCPInterval = 5 * time.Second
	}
	p := &RTPPort{cfg: cfg, conn: c1, rtcp: c2, local: c1.LocalAddr().(*net.UDPAddr).AddrPort(),
		clk: cfg.Clock, log: cfg.Log, seq: newSequencer(), txBuf: make([]byte, maxPacket+64), idleNoise: audio.NewNoise(0)}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.clk == nil {
		p.ownClk = media.NewSoftClock(1)
		p.clk = p.ownClk
	}
	p.codec = media.CodecInfo{Name: "PCMU", PT: 0, ClockRate: 8000, SampleRate: 8000, Channels: 1, Ptime: 20 * time.Millisecond}
	p.delayStripe = uint8(nextStripe.Add(1))
	p.audioPT.Store(0)
	p.canTx.Store(true)
	p.inband.Store(cfg.InbandDTMF)
	p.lastRecv.Store(time.Now().UnixNano())
	p.jb.Store(NewJitterBuffer(JitterConfig{Rate: 8000, Ptime: 20 * time.Millisecond}))
	if !p.startPolling() {
		p.wg.Add(2)
		go p.readLoop()
		go p.readRTCP()
	}
	return p
}

// LocalAddr is the bound RTP address (put it in the SDP).
func (p *RTPPort) LocalAddr() netip.AddrPort { return p.local }

// LocalRTCPAddr is the bound RTCP address (RTP port + 1).
func (p *RTPPort) LocalRTCPAddr() netip.AddrPort {
	return netip.AddrPortFrom(p.local.Addr(), p.local.Port()+1)
}

// SetRemote sets where to send RTP (from the SDP c=/m= lines) with RTCP at rtcp, or at
// port+1 when rtcp is the zero value. Latching, unless disabled, may still move it to the
// source of the first valid packet. A zero or 0.0.0.0 address means "hold": send nothing.
func (p *RTPPort) SetRemote(addr, rtcp netip.AddrPort) {
	if !rtcp.IsValid() && addr.IsValid() {
		rtcp = netip.AddrPortFrom(addr.Addr(), addr.Port()+1)
	}
	p.mu.Lock()
	// A re-INVITE repeating the same (often private, NATed) address keeps the latched one:
	// re-latching would send to the useless SDP address until the next packet arrives.
	keep := p.signaled == addr && p.latched.Load() && !p.cfg.NoLatch
	p.signaled = addr
	if p.rtcpCancel == nil && p.cfg.RTCPInterval > 0 && !p.closed.Load() {
		// Reports run whether the leg is terminated or relayed.
		p.rtcpCancel = p.clk.Every(p.cfg.RTCPInterval, p.sendReport)
	}
	p.mu.Unlock()
	p.lastRecv.Store(time.Now().UnixNano())
	if keep {
		return
	}
	p.remote.Store(&addr)
	p.remoteRTCP.Store(&rtcp)
	p.latched.Store(false)
}

// Remote returns the current remote RTP address (after latching).
func (p *RTPPort) Remote() netip.AddrPort {
	if a := p.remote.Load(); a != nil {
		return *a
	}
	return netip.AddrPort{}
}

// SetCodec sets the negotiated audio codec (with its PT and ptime) and the telephone-event
// payload type (0 = none negotiated, DTMF then goes in-band). It may be called again after a
// re-INVITE; the outgoing SSRC and sequence continue.
func (p *RTPPort) SetCodec(ci media.CodecInfo, telephoneEventPT uint8) error {
	impl, err := media.CodecFor(ci)
	if err != nil {
		return err
	}
	ci = media.MergeInfo(ci, impl.Info())
	if ci.Ptime == 0 {
		ci.Ptime = impl.Info().Ptime
	}
	if ci.Ptime == 0 {
		ci.Ptime = 20 * time.Millisecond
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.smu.Lock()
	old := p.codec
	p.codec, p.tePT = ci, telephoneEventPT
	if !old.Same(ci) || old.PT != ci.PT {
		p.encoder, p.decoder = nil, nil // rebuilt on the next tick; same codec keeps its state
	}
	p.smu.Unlock()
	p.audioPT.Store(uint32(ci.PT))
	p.teRecvPT.Store(uint32(telephoneEventPT))
	p.clockRate.Store(uint32(ci.ClockRate))
	if old.ClockRate != ci.ClockRate || old.Ptime != ci.Ptime || !old.Same(ci) {
		p.jb.Store(NewJitterBuffer(JitterConfig{Rate: ci.ClockRate, Ptime: ci.Ptime}))
	}
	if p.tickCancel != nil && p.tickPeriod != ci.Ptime {
		p.tickCancel()
		p.tickCancel = nil
		p.ensureTickLocked()
	}
	if !old.Same(ci) || old.PT != ci.PT || old.Ptime != ci.Ptime {
		// relink reads both ports' codecs, so it runs once p.mu is released.
		p.mu.Unlock()
		p.relink()
		p.mu.Lock()
	}
	return nil
}

// SetComfortNoise enables RFC 3389 comfort noise on the send side with payload type pt (13 for
// CN/8000) when the SDP negotiated CN and suppress_cng is not set; 0 turns it off (the default).
// While on, a terminated leg with only silence to send (nothing written, or frames that are
// FrameSilence or digital zero) sends one CN packet at the start of the silence and repeats it
// every cnRefresh frames, instead of silence frames. Relayed legs forward the far end's CN as
// before. An endpoint calls it next to SetCodec after every offer/answer (the SIP endpoint does,
// with the CN its SDP negotiated).
func (p *RTPPort) SetComfortNoise(pt uint8) {
	p.mu.Lock()
	p.cnTxPT = pt
	p.mu.Unlock()
}

// Codec returns the negotiated audio codec.
func (p *RTPPort) Codec() media.CodecInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.codec
}

// TelephoneEventPT returns the negotiated telephone-event payload type (0 = none).
func (p *RTPPort) TelephoneEventPT() uint8 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tePT
}

// SetSRTP installs SDES keys: local encrypts what we send, remote decrypts what we receive
// (with a 64-packet replay window). Both nil switches back to plain RTP. Calling it again
// (re-INVITE with new keys) replaces the contexts.
func (p *RTPPort) SetSRTP(local, remote *SRTPKey) error {
	if (local == nil) != (remote == nil) {
		return errors.New("media: SetSRTP needs both keys or neither")
	}
	p.mu.Lock()
	same := sameKey(p.keyLocal, local) && sameKey(p.keyRemote, remote)
	p.mu.Unlock()
	if same {
		// A re-INVITE repeating the keys must not reset the contexts: that would drop the
		// rollover counter and replay window and break the stream after 65536 packets.
		return nil
	}
	var enc, dec, rdec *srtp.Context
	if local != nil {
		var err error
		if enc, err = local.NewContext(false); err != nil {
			return err
		}
		if dec, err = remote.NewContext(true); err != nil {
			return err
		}
		if rdec, err = remote.NewContext(true); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.keyLocal, p.keyRemote = cloneKey(local), cloneKey(remote)
	p.mu.Unlock()
	p.smu.Lock()
	p.enc = enc
	p.smu.Unlock()
	p.dec.Store(dec)
	p.rtcpDec.Store(rdec)
	return nil
}

func sameKey(a, b *SRTPKey) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Suite.Name == b.Suite.Name && string(a.Key) == string(b.Key) && string(a.Salt) == string(b.Salt) &&
		string(a.MKI) == string(b.MKI)
}

func cloneKey(k *SRTPKey) *SRTPKey {
	if k == nil {
		return nil
	}
	c := *k
	c.Key, c.Salt, c.MKI = append([]byte(nil), k.Key...), append([]byte(nil), k.Salt...), append([]byte(nil), k.MKI...)
	return &c
}

// Secure reports whether SRTP is active.
func (p *RTPPort) Secure() bool { return p.dec.Load() != nil }

// SetDirection applies the negotiated direction: we send only when it allows (hold = sendonly
// or inactive from the far end's view), and the hold timeout applies while not sendrecv.
func (p *RTPPort) SetDirection(d media.Direction) {
	p.mu.Lock()
	p.dir = d
	p.mu.Unlock()
	p.holdTO.Store(d != media.SendRecv)
	p.canTx.Store(d.CanSend())
	p.lastRecv.Store(time.Now().UnixNano())
}

// Direction returns the current direction.
func (p *RTPPort) Direction() media.Direction {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dir
}

// callback runs user code (OnTimeout, OnDTMF) from one of the port's goroutines. Such code may
// hang up and Close the port; Close then must not wait for the goroutine it is running on.
func (p *RTPPort) callback(fn func()) {
	p.inCallback.Add(1)
	defer p.inCallback.Add(-1)
	fn()
}

// Stream starts the terminated-media path (jitter buffer, decoder, encoder on the clock).
func (p *RTPPort) Stream() media.Stream {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.stream.Load(); s != nil {
		return s
	}
	s := media.NewTermStream(p.codec.PCMRate(), p.codec.Interval())
	if p.closed.Load() {
		s.Close()
	}
	p.stream.Store(s)
	p.ensureTickLocked()
	return s
}

func (p *RTPPort) ensureTickLocked() {
	if p.tickCancel != nil || p.closed.Load() {
		return
	}
	p.tickPeriod = p.codec.Interval()
	p.tickCancel = p.clk.Every(p.tickPeriod, p.tick)
	if p.rtcpCancel == nil && p.cfg.RTCPInterval > 0 {
		p.rtcpCancel = p.clk.Every(p.cfg.RTCPInterval, p.sendReport)
	}
}

// Stats returns the port's counters.
func (p *RTPPort) Stats() PortStats {
	st := PortStats{PacketsIn: p.stPktIn.Load(), PacketsOut: p.stPktOut.Load(), BytesIn: p.stBytesIn.Load(),
		BytesOut: p.stBytesOut.Load(), DecryptErrors: p.stDecErr.Load(), Dropped: p.stDropped.Load(),
		DTMFIn: p.stDTMF.Load(), Jitter: p.jb.Load().Stats()}
	st.RTCPIn, st.RTCPBytesIn = p.stRTCPIn.Load(), p.stRTCPBytesIn.Load()
	st.MediaIn, st.MediaBytesIn, st.CNIn = p.stMediaIn.Load(), p.stMediaBytesIn.Load(), p.stCNIn.Load()
	st.EventsIn, st.MediaBytesOut, st.CNOut = p.stEventsIn.Load(), p.stMediaBytesOut.Load(), p.stCNOut.Load()
	rate := p.clockRate.Load()
	if rx, ok := p.rxStats.Snapshot(); ok {
		st.Lost, st.FractionLost, st.ExtHighestSeq = int64(rx.TotalLost), rx.FractionLost, rx.ExtHighest
		st.RxJitter = rtpDuration(rx.Jitter, rate)
	}
	p.rrMu.Lock()
	rr := p.rrRemote
	p.rrMu.Unlock()
	st.RemoteLost, st.RemoteFractionLost, st.RTT = rr.lost, rr.fraction, rr.rtt
	st.RemoteJitter = rtpDuration(rr.jitter, rate)
	return st
}

// Close stops the goroutines and releases the sockets (back to the allocator, which keeps the
// numbers out of use for a while so a new call never inherits the old call's packets).
func (p *RTPPort) Close() error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		if fn := p.onClose.Load(); fn != nil {
			(*fn)()
		}
		if l := p.peer.Load(); l != nil && l.stop != nil {
			l.stop()
		}
		p.mu.Lock()
		if p.tickCancel != nil {
			p.tickCancel()
		}
		if p.rtcpCancel != nil {
			p.rtcpCancel()
		}
		p.mu.Unlock()
		if s := p.stream.Load(); s != nil {
			s.Close()
		}
		p.stopPolling()
		if p.inCallback.Load() > 0 {
			// Called from one of our own callbacks, perhaps while a reader is inside this
			// port's receive path: finish once it is out.
			go p.closeSockets()
		} else {
			p.closeSockets()
		}
	})
	return nil
}

// closeSockets ends the receive side and gives the port back. The injMu barrier comes first:
// a poll shard reads the socket by descriptor number under injMu, so the number must not be
// closed (and perhaps reused by a new socket) while it does.
func (p *RTPPort) closeSockets() {
	p.injMu.Lock()
	//lint:ignore SA2001 barrier: wait for a read of this port still in progress
	p.injMu.Unlock()
	p.conn.Close()
	p.closeFD()
	p.rtcp.Close()
	p.wg.Wait()
	// A tick may still be finishing; take the send lock so it is done before we return.
	p.smu.Lock()
	//lint:ignore SA2001 barrier: wait for a tick still holding the send lock
	p.smu.Unlock()
	if p.ownClk != nil {
		p.ownClk.Close()
	}
	if p.release != nil {
		p.release()
	}
}

// String describes the pipeline ("rtp(127.0.0.1:20000 PCMU pt=0) -> jitter(40ms) -> srtp").
func (p *RTPPort) String() string {
	p.mu.Lock()
	c, te := p.codec, p.tePT
	p.mu.Unlock()
	s := fmt.Sprintf("rtp(%s<->%s %s te=%d)", p.local, p.Remote(), c, te)
	if p.Secure() {
		s += " -> srtp"
	}
	if l := p.peer.Load(); l != nil {
		s += " -> relay"
		if l.to == p {
			s += "(echo)"
		} else if l.rp != nil {
			s += "(" + l.rp.String() + ")"
		} else if l.tc != nil {
			s += "(" + l.tc.String() + ")"
		}
	} else if p.stream.Load() != nil {
		s += " -> " + p.jb.Load().String() + " -> decode -> stream -> encode"
	}
	return s
}
