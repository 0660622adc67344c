//go:build linux

package udpbatch

import (
	"net"
	"syscall"
	"time"
	"unsafe"
)

// KernelStamps asks the kernel to stamp each datagram's arrival on c, so the measured transit
// does not include how late the (low-priority) load generator got round to reading it.
func KernelStamps(c *net.UDPConn) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	})
}

// KernelStamp finds SCM_TIMESTAMPNS in control messages c.
func KernelStamp(c []byte) time.Time {
	for len(c) >= syscall.SizeofCmsghdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&c[0]))
		l := int(h.Len)
		if l < syscall.SizeofCmsghdr || l > len(c) {
			break
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SO_TIMESTAMPNS && l >= syscall.SizeofCmsghdr+16 {
			ts := (*syscall.Timespec)(unsafe.Pointer(&c[syscall.SizeofCmsghdr]))
			return time.Unix(ts.Sec, ts.Nsec)
		}
		c = c[(l+7)&^7:]
	}
	return time.Time{}
}
