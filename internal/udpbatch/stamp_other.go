//go:build !linux

package udpbatch

import (
	"net"
	"time"
)

// KernelStamps is a no-op off Linux: datagrams carry no kernel arrival time.
func KernelStamps(*net.UDPConn) {}

// KernelStamp finds no stamp off Linux.
func KernelStamp([]byte) time.Time { return time.Time{} }
