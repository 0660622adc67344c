package sip

import "github.com/emiago/sipgo/sip"

// drainACK takes the ACK of a non-2xx final response to an INVITE. sipgo hands that ACK to
// the transaction's unbuffered Acks channel, and when nobody is receiving it starts a goroutine
// that waits until the transaction ends: over UDP Timer I, 5 s after the ACK. Every challenged
// INVITE (407) leaves one, so at 800 calls/s four thousand goroutines sat parked with their
// ACKs; receiving it here ends the wait at once.
func drainACK(tx sip.ServerTransaction) {
	go func() {
		select {
		case <-tx.Acks():
		case <-tx.Done():
		}
	}()
}
