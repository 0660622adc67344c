// Package udpbatch batches UDP datagrams for the load generators (scripts/mediaload,
// scripts/loadgen): one sendmmsg or recvmmsg call moves many datagrams, so a generator's own
// socket work stays small next to the switch it measures, and each received datagram carries
// the kernel's arrival time (SO_TIMESTAMPNS), so measured spacing does not include how late the
// generator got round to reading it. On Linux/amd64 it uses the batch syscalls; elsewhere it
// falls back to one datagram per call with the same API. KernelStamp (the SCM_TIMESTAMPNS
// parser) is also core/media/rtp's, for the arrival times of relayed packets.
//
//	b := udpbatch.New(64, 1500)
//	b.SetDst(0, to, n) // fill b.Bufs[0][:n] first
//	b.Send(conn, 1)
//	k, err := b.Recv(conn) // b.Packet(i), b.Stamp(i) for i < k
package udpbatch
