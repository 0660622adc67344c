//go:build !(linux && (amd64 || arm64))

package rtp

import "net/netip"

// pollState is empty where there are no poll shards: each port runs its own reader goroutine.
type pollState struct{}

func (p *RTPPort) startPolling() bool { return false }
func (p *RTPPort) stopPolling()       {}

func (p *RTPPort) closeFD() {}

// writeTo sends one datagram on the RTP socket.
func (p *RTPPort) writeTo(pkt []byte, to netip.AddrPort) error {
	_, err := p.conn.WriteToUDPAddrPort(pkt, to)
	return err
}
