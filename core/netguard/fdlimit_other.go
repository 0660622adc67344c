//go:build !unix

package netguard

// FDLimit returns 0: unknown on this platform.
func FDLimit() int { return 0 }
