//go:build !linux

package budget

// physicalMemory returns 0 (unknown) where the platform has no cheap query.
func physicalMemory() int64 { return 0 }
