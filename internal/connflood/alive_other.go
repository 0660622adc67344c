//go:build !unix

package connflood

import (
	"net"
	"syscall"
)

func alive(net.Conn) bool { return true }

func reuseAddr(string, string, syscall.RawConn) error { return nil }
