package sip

// The 2xx of a re-INVITE is retransmitted by the UAS core until its ACK arrives (RFC 3261
// 13.3.1.4). That ACK is a transaction of its own, so the INVITE's server transaction never sees
// it: onAck hands it to the retransmitting onReInvite through the call.

// expectReinviteAck registers the re-INVITE with CSeq seq as the one whose 2xx is being
// retransmitted and returns the channel its ACK closes. A newer re-INVITE supersedes an older
// one still unacknowledged: that one's answer is stale and must not go out again.
func (c *call) expectReinviteAck(seq uint32) <-chan struct{} {
	ch := make(chan struct{})
	c.mu.Lock()
	if c.reAck != nil {
		close(c.reAck)
	}
	c.reAck, c.reAckSeq = ch, seq
	c.mu.Unlock()
	return ch
}

// ackReinvite delivers the ACK of the re-INVITE with CSeq seq; it reports whether one was waiting.
func (c *call) ackReinvite(seq uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reAck == nil || c.reAckSeq != seq {
		return false
	}
	close(c.reAck)
	c.reAck = nil
	return true
}

// doneReinvite forgets the re-INVITE with CSeq seq once its retransmissions stopped.
func (c *call) doneReinvite(seq uint32) {
	c.mu.Lock()
	if c.reAck != nil && c.reAckSeq == seq {
		close(c.reAck)
		c.reAck = nil
	}
	c.mu.Unlock()
}
