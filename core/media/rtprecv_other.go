//go:build !(linux && (amd64 || arm64))

package media

// readLoopMMsg is the recvmmsg reader, Linux only; elsewhere readLoop reads packet by packet.
func (p *RTPPort) readLoopMMsg() bool { return false }
