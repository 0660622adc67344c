//go:build unix

package netguard

import "syscall"

// FDLimit returns the process's soft RLIMIT_NOFILE, or 0 when unknown.
func FDLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur > 1<<30 {
		return 0
	}
	return int(r.Cur)
}
